import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import { parse } from "yaml";
import { requireBinaries } from "../../test-support/binaries";
import { makeTempDir } from "../../test-support/cleanup";
import { runTool } from "../../test-support/promtool";
import { sloAlertNames } from "../names";
import { loadSettings } from "../validate";
import { absentFor, objectives, renderSloRules, sloAlertRules } from "./rules";

interface RuleFile {
  groups: {
    name: string;
    interval: string;
    rules: { record?: string; alert?: string; expr: string; for?: string; labels?: Record<string, string> }[];
  }[];
}

const rulesOf = (input: object = {}) => parse(renderSloRules(loadSettings(input).settings)) as RuleFile;

const e2eLike = {
  scrape: { interval: "1s", timeout: "1s", evaluationInterval: "1s" },
  slo: { timeCompression: 60 },
};

describe("renderSloRules", () => {
  it("reads the service's series over the shortest window only, and makes the longer windows of those rates", () => {
    const file = rulesOf();
    expect(file.groups.map((group) => [group.name, group.interval])).to.deep.equal([
      ["slo-availability-rates", "30s"],
      ["slo-availability-windows", "1m"],
      ["slo-availability", "5s"],
      ["slo-latency-rates", "30s"],
      ["slo-latency-windows", "1m"],
      ["slo-latency", "5s"],
    ]);
    const [availabilityRates, availabilityWindows, , latencyRates, latencyWindows] = file.groups;
    for (const rates of [availabilityRates, latencyRates]) {
      expect(rates?.rules.map((rule) => rule.record)).to.deep.equal([
        "job:slo_requests:rate5m",
        "job:slo_errors:rate5m",
        "job:slo_errors_per_request:ratio_rate5m",
      ]);
    }
    for (const windows of [availabilityWindows, latencyWindows]) {
      expect(windows?.rules.map((rule) => rule.record)).to.deep.equal(
        ["30m", "1h", "2h", "6h", "1d", "3d"].map((w) => `job:slo_errors_per_request:ratio_rate${w}`),
      );
      for (const rule of windows?.rules ?? []) expect(rule.expr).to.not.include("app_http");
    }
    expect(availabilityRates?.rules[1]?.expr).to.equal(
      'sum by (job) (rate(app_http_requests_total{job="app",status_code=~"5.."}[5m])) or on(job) job:slo_requests:rate5m{slo="availability"} * 0',
    );
    expect(latencyRates?.rules[0]?.expr).to.equal(
      'sum by (job) (rate(app_http_request_duration_seconds_bucket{job="app",le="+Inf"}[5m]))',
    );
    expect(latencyRates?.rules[1]?.expr).to.equal(
      'job:slo_requests:rate5m{slo="latency"} - on(job) sum by (job) (rate(app_http_request_duration_seconds_bucket{job="app",le="0.25"}[5m]))',
    );
    expect(availabilityWindows?.rules[1]?.expr).to.equal(
      'sum_over_time(job:slo_errors:rate5m{slo="availability"}[1h]) / sum_over_time(job:slo_requests:rate5m{slo="availability"}[1h])',
    );
  });

  it("evaluates each recording group ten times per shortest window it computes, within a minute, 12 evaluations and the stack's interval", () => {
    const groups = (input: object) => rulesOf(input).groups.map((group) => group.interval);
    expect(groups(e2eLike).slice(0, 3)).to.deep.equal(["1s", "3s", "1s"]);
    expect(groups({ scrape: { evaluationInterval: "15s" } }).slice(0, 3)).to.deep.equal(["30s", "1m", "15s"]);
    expect(groups({ scrape: { evaluationInterval: "2m" } }).slice(0, 3)).to.deep.equal(["2m", "2m", "2m"]);
    expect(
      groups({ scrape: { interval: "1s", timeout: "1s", evaluationInterval: "1s" } }).slice(0, 3),
    ).to.deep.equal(["12s", "12s", "1s"]);
  });

  it("selects a whole-second threshold's bucket as Prometheus 3 stores it", () => {
    const [latencyRates] = rulesOf({
      slo: { availability: { enabled: false }, latency: { thresholdSeconds: 1 } },
    }).groups;
    expect(latencyRates?.rules[1]?.expr).to.include('le="1.0"');
  });

  it("has one ErrorBudgetBurn per pair: severity, slo, long and short labels, the scaled factor on both windows", () => {
    const availability = rulesOf({ slo: { availability: { window: "60d" } } }).groups[2];
    const burns = availability?.rules.filter((rule) => rule.alert === sloAlertNames.errorBudgetBurn) ?? [];
    expect(burns.map((rule) => rule.labels)).to.deep.equal([
      { severity: "critical", slo: "availability", long: "1h", short: "5m" },
      { severity: "critical", slo: "availability", long: "6h", short: "30m" },
      { severity: "warning", slo: "availability", long: "1d", short: "2h" },
      { severity: "warning", slo: "availability", long: "3d", short: "6h" },
    ]);
    expect(burns[0]?.expr).to.equal(
      'job:slo_errors_per_request:ratio_rate1h{slo="availability"} / (1 - 0.99) > 28.8 and job:slo_errors_per_request:ratio_rate5m{slo="availability"} / (1 - 0.99) > 28.8',
    );
  });

  it("names the recording rules after the windows in effect when time is compressed", () => {
    const [rates, windows, availability] = rulesOf(e2eLike).groups;
    expect(
      [...(rates?.rules ?? []), ...(windows?.rules ?? [])].flatMap((rule) => rule.record ?? []),
    ).to.deep.equal([
      "job:slo_requests:rate5s",
      "job:slo_errors:rate5s",
      ...["5s", "30s", "1m", "2m", "6m", "24m", "1h12m"].map(
        (w) => `job:slo_errors_per_request:ratio_rate${w}`,
      ),
    ]);
    const burn = availability?.rules.find((rule) => rule.alert === sloAlertNames.errorBudgetBurn);
    expect(burn?.labels).to.include({ long: "1m", short: "5s" });
    expect(burn?.expr).to.include("> 14.4");
  });

  it("raises SLOMetricsAbsent after as long as a total outage takes to page", () => {
    const { settings } = loadSettings({});
    const [availability, latency] = objectives(settings);
    if (!availability || !latency) throw new Error("both SLOs are on by default");
    // 14.4 x 1% x 1h = 518.4 s; 14.4 x 2% x 1h = 1036.8 s.
    expect(absentFor(availability)).to.equal("8m39s");
    expect(absentFor(latency)).to.equal("17m17s");
    const absent = sloAlertRules(settings, "latency").find(
      (rule) => rule.alert === sloAlertNames.metricsAbsent,
    );
    expect(absent?.expr).to.equal(
      'group by (job) (up{job="app"}) unless on(job) job:slo_errors:rate5m{slo="latency"}',
    );
  });

  it("leaves out a disabled SLO, and writes an empty file when both are", () => {
    expect(rulesOf({ slo: { latency: { enabled: false } } }).groups.map((group) => group.name)).to.deep.equal(
      ["slo-availability-rates", "slo-availability-windows", "slo-availability"],
    );
    expect(
      rulesOf({ slo: { availability: { enabled: false }, latency: { enabled: false } } }).groups,
    ).to.deep.equal([]);
  });

  describe("with promtool", function () {
    this.timeout(60_000);
    let promtool: string;
    before(function () {
      ({ promtool } = requireBinaries(this, "promtool"));
    });

    for (const [name, input] of [
      ["the defaults", {}],
      ["compressed time", e2eLike],
      [
        "other windows, objectives and a threshold",
        {
          slo: {
            availability: { objective: 0.9995, window: "28d" },
            latency: { thresholdSeconds: 1, window: "7d" },
          },
        },
      ],
    ] as const) {
      it(`passes promtool check rules --lint=all with ${name}`, async () => {
        const dir = makeTempDir("slo-rules-");
        try {
          writeFileSync(join(dir.path, "slo.yml"), renderSloRules(loadSettings(input).settings));
          const result = await runTool(
            promtool,
            ["check", "rules", "--lint=all", "--lint-fatal", "slo.yml"],
            dir.path,
          );
          expect(result.exitCode, result.output).to.equal(0);
          expect(result.output).to.include("SUCCESS: 28 rules found");
        } finally {
          dir.remove();
        }
      });
    }
  });
});
