import { getFunction, type PromQLFunction } from "@prometheus-io/codemirror-promql/dist/cjs/types";
import { parser } from "@prometheus-io/lezer-promql";
import { expect } from "chai";
import { requireBinaries } from "../../test-support/binaries";
import { promtoolRuleErrors } from "../../test-support/promtool";
import { dashboardPanelQueries } from "../grafana";
import { alertRules } from "../prometheus/rules";
import { loadSettings } from "../validate";
import { generatedYaml } from "../yaml";
import { assertPromql, PromqlError, promqlErrors } from "./lint";

/** Every expression the stack itself evaluates: the built-in rules and the dashboards' queries. */
function stackExpressions(): string[] {
  const { settings } = loadSettings({});
  return [
    ...alertRules(settings).map((rule) => rule.expr),
    ...dashboardPanelQueries(settings).map((query) => query.expr),
  ];
}

/** Valid rule expressions, each exercising a part of the type checks. */
const valid = [
  "sum by (job) (rate(x[5m])) / sum by (job) (rate(y[5m])) > 0.1",
  'absent(up{job="app"})',
  "predict_linear(node_x[1h], 3600) < 0",
  "histogram_quantile(0.9, sum by (le) (rate(b_bucket[5m])))",
  "max_over_time(up[5m:30s]) == 0",
  "vector(1)",
  "time() - x > 300",
  "1",
  "-1",
  "pi()",
  "scalar(up) > bool 1",
  "quantile(0.5, up)",
  'count_values("value", up)',
  "topk(3, up) unless -(up)",
  "sum without () (up)",
  "up == bool on(job) up",
  "up and on() up",
  'up > on(job) group_left(instance) sum by (job) (up{job!=""})',
  "x atan2 1",
  '{a=~".+"}',
  '{__name__="up"}',
  '{"up"}',
  'label_join(up, "a", ",", "b", "c")',
  'label_replace(up, "a", "$1", "instance", "(.*):.*")',
  "round(up)",
  "round(up, 0.5)",
  "day_of_week()",
  "clamp(up, 0, 1)",
  "histogram_fraction(0, 0.2, sum by (le) (rate(b_bucket[5m])))",
  "quantile_over_time(0.9, x[5m])",
  "rate(x[5m] offset 1m)",
  "rate(x[5m] @ 1700000000 offset 1m)",
  "up offset -5m",
  "up @ start()",
  "max_over_time(rate(x[5m])[10m:1m]) > 0",
  "absent_over_time(nonexistent[1m])",
  "rate(x[5m+1m])",
  "up == 0 # the app is down",
];

/** Expressions that parse but that Prometheus refuses or cannot evaluate as a rule, with what is said. */
const invalid: readonly (readonly [expr: string, says: string])[] = [
  ["rate(up) > 0", 'expected type range vector in call to function "rate", got instant vector'],
  ["up[5m]", "must evaluate to an instant vector or a scalar, got range vector"],
  ["rate(up[5m])[10m:]", "got range vector"],
  ['"text"', "got string"],
  ["histogram_quantile(up, up)", 'expected type scalar in call to function "histogram_quantile"'],
  ["histogram_quantile(0.9, up[5m])", "expected type instant vector in call to function"],
  ["vector(up)", 'expected type scalar in call to function "vector"'],
  ["absent(up[5m])", "got range vector"],
  ['label_replace(up, "a", "b", "c")', 'expected 5 argument(s) in call to "label_replace", got 4'],
  ["round(up, 1, 2)", "expected at most 2 argument(s)"],
  ["abs()", 'expected 1 argument(s) in call to "abs", got 0'],
  ["sum(up[5m])", "expected type instant vector in aggregation expression, got range vector"],
  ["avg(1)", "got scalar"],
  ["topk(up, up)", "expected type scalar in aggregation parameter"],
  ["count_values(1, up)", "expected type string in aggregation parameter, got scalar"],
  ["quantile(up)", "expected type scalar in aggregation parameter, got instant vector"],
  ["up[5m] + 1", "binary expression must contain only scalar and instant vector types"],
  ["time() > 1", "comparisons between scalars must use BOOL modifier"],
  ["up or 1", "set operator not allowed in binary scalar expression"],
  ["up + bool 1", "bool modifier can only be used on comparison operators"],
  ["up + on(job) 1", "vector matching only allowed between instant vectors"],
  ["up and on(job) group_left up", "no grouping allowed for set operations"],
  ["up == bool on(job) group_left(job) up", 'label "job" must not occur in ON and GROUP clause at once'],
  ["max_over_time(x[1m][2m:])", "subquery is only allowed on instant vector, got range vector"],
  ["{}", "at least one non-empty matcher"],
];

/**
 * Expressions that the UI's linter leaves to the server, with what Prometheus says: only `promtool check
 * rules` (or the stack's replicas, at start-up) refuses these. docs/alerts.md lists them as the checks that need
 * the tools.
 */
const refusedByPrometheusOnly: readonly (readonly [expr: string, says: string])[] = [
  ["sum(up, up)", "wrong number of arguments for aggregate expression provided, expected 1, got 2"],
  ["-up[5m]", "unary expression only allowed on expressions of type scalar or instant vector"],
  ["rate((x)[5m])", "ranges only allowed for vector selectors"],
  ["sum(x) offset 1m", "offset modifier must be preceded by"],
  ["x offset 1m offset 2m", "offset may not be set multiple times"],
  ["x @ 10 @ 20", "may not be set multiple times"],
  ["rate(x[5m]) @ start()", "@ modifier must be preceded by"],
  ["sum(x) smoothed", "smoothed modifier"],
  ["rate(x[5m:1m] smoothed)", "smoothed modifier"],
  ['{job=~".*"}', "at least one non-empty matcher"],
  ["mad_over_time(up[5m])", 'function "mad_over_time" is not enabled'],
  ['sort_by_label(up, "a")', 'function "sort_by_label" is not enabled'],
  ["limitk(2, up)", "limitk() is experimental"],
  ["up + fill(0) up", "binop fill modifiers are experimental and not enabled"],
];

/** Every function the linter knows, with its signature, from the term ids of the grammar. */
const linterFunctions = parser.nodeSet.types.flatMap((type) => {
  // getFunction is typed as total but answers undefined for a node that is not a function name.
  const signature: PromQLFunction | undefined = getFunction(type.id);
  return signature ? [signature] : [];
});

describe("promqlErrors", () => {
  for (const expr of [...valid, ...stackExpressions()]) {
    it(`accepts ${expr}`, () => {
      expect(promqlErrors(expr)).to.deep.equal([]);
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
      expect(promqlErrors(expr).join("; ")).to.include(found);
    });
  }

  for (const [expr, says] of invalid) {
    it(`rejects ${expr}: ${says}`, () => {
      const errors = promqlErrors(expr);
      expect(errors.join("; ")).to.include(says);
      for (const error of errors) expect(error).to.match(/^column \d+: /);
    });
  }

  describe("agrees with Prometheus (promtool)", function () {
    this.timeout(30_000);
    let promtool: string;

    before(function () {
      ({ promtool } = requireBinaries(this, "promtool"));
    });

    /**
     * What promtool says of each expression, each a recording rule (an alert would add labels that can
     * collide); undefined when it loads and evaluates.
     */
    async function promtoolSays(exprs: readonly string[]): Promise<(string | undefined)[]> {
      const name = (i: number) => `rule_${i}`;
      const file = generatedYaml({
        groups: [{ name: "under-test", rules: exprs.map((expr, i) => ({ record: name(i), expr })) }],
      });
      const errors = await promtoolRuleErrors(promtool, file);
      return exprs.map((_, i) => errors.get(name(i)));
    }

    it("loads and evaluates every expression it accepts", async () => {
      const exprs = [...valid, ...stackExpressions()];
      const verdicts = await promtoolSays(exprs);
      expect(
        exprs.flatMap((expr, i) => (verdicts[i] === undefined ? [] : [`${expr}: ${verdicts[i]}`])),
      ).to.deep.equal([]);
    });

    it("refuses or fails to evaluate every expression it rejects", async () => {
      const exprs = invalid.map(([expr]) => expr);
      const verdicts = await promtoolSays(exprs);
      expect(exprs.filter((_, i) => verdicts[i] === undefined)).to.deep.equal([]);
    });

    it("refuses what the linter leaves to it, saying so", async () => {
      const verdicts = await promtoolSays(refusedByPrometheusOnly.map(([expr]) => expr));
      refusedByPrometheusOnly.forEach(([expr, says], i) => {
        expect(verdicts[i], expr).to.be.a("string").that.includes(says);
      });
    });

    it("has the linter's signature for each function, or refuses it as experimental", async () => {
      // Selectors without a metric name before the braces, as info() wants its second argument.
      const sample = {
        vector: '{__name__="up"}',
        matrix: '{__name__="up"}[5m]',
        scalar: "1",
        string: '"a"',
        none: "",
      } as const;
      // The table names cosh and sinh "Cosh" and "Sinh"; only its messages use the names.
      const calls = linterFunctions.map(
        ({ name, argTypes }) => `${name.toLowerCase()}(${argTypes.map((type) => sample[type]).join(", ")})`,
      );
      expect(calls).to.include.members([
        'rate({__name__="up"}[5m])',
        'histogram_quantile(1, {__name__="up"})',
      ]);
      for (const call of calls) expect(promqlErrors(call), call).to.deep.equal([]);
      const verdicts = await promtoolSays(calls);
      calls.forEach((call, i) => {
        if (verdicts[i] !== undefined) expect(verdicts[i], call).to.match(/not enabled|experimental/);
      });
    });
  });
});

describe("assertPromql", () => {
  it("names the origin of every invalid expression", () => {
    const check = () =>
      assertPromql([
        { origin: "rule A", expr: "up == 0" },
        { origin: "rule B", expr: "up ==" },
        { origin: 'dashboard "D", panel "P"', expr: "sum(" },
        { origin: "rule C", expr: "rate(up)" },
      ]);
    expect(check).to.throw(PromqlError);
    try {
      check();
    } catch (error) {
      const { problems, message } = error as PromqlError;
      expect(problems.map((problem) => problem.origin)).to.deep.equal([
        "rule B",
        'dashboard "D", panel "P"',
        "rule C",
      ]);
      expect(message).to.include("rule B").and.include('panel "P"').and.not.include("rule A");
      expect(message).to.include("expected type range vector");
    }
  });
});
