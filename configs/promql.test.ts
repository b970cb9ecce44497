import { expect } from "chai";
import { assertPromql, PromqlError, promqlSyntaxErrors } from "./promql";

describe("promqlSyntaxErrors", () => {
  for (const expr of [
    'up{job="app"} == 0',
    "vector(1)",
    'sum by (job) (increase(app_http_requests_total{job="app"}[1m])) > 500',
    "histogram_quantile(0.95, sum by (job, le) (rate(x_bucket[5m]))) > 0.5",
    "(a > 0) or (b > 0)",
  ]) {
    it(`accepts ${expr}`, () => {
      expect(promqlSyntaxErrors(expr)).to.deep.equal([]);
    });
  }

  for (const [expr, found] of [
    ["sum(rate(x[5m])", "ends too early"],
    ["up ==", "ends too early"],
    ["foo bar", 'unexpected "bar"'],
    ["rate(x[5m]) by (job)", "column 13"],
    ["   ", "empty"],
  ] as const) {
    it(`rejects ${JSON.stringify(expr)}, saying where`, () => {
      expect(promqlSyntaxErrors(expr).join("; ")).to.include(found);
    });
  }
});

describe("assertPromql", () => {
  it("names the origin of every expression that does not parse", () => {
    const check = () =>
      assertPromql([
        { origin: "rule A", expr: "up == 0" },
        { origin: "rule B", expr: "up ==" },
        { origin: 'dashboard "D", panel "P"', expr: "sum(" },
      ]);
    expect(check).to.throw(PromqlError);
    try {
      check();
    } catch (error) {
      const { problems, message } = error as PromqlError;
      expect(problems.map((problem) => problem.origin)).to.deep.equal(["rule B", 'dashboard "D", panel "P"']);
      expect(message).to.include("rule B").and.include('panel "P"').and.not.include("rule A");
    }
  });
});
