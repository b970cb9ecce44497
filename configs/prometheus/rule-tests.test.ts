import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import { parse } from "yaml";
import { requireBinaries } from "../../test-support/binaries";
import { loopbackEndpoints, renderToDisk, runTool } from "../../test-support/promtool";
import { dockerEndpoints } from "../runtime/docker-endpoints";
import { renderedPaths } from "../runtime/layout";
import { loadSettings } from "../settings/load";
import { alertNames } from "./built-in-alerts";
import {
  counterIncrease,
  evaluateAlert,
  expandSegments,
  formatG4,
  humanize,
  humanizeDuration,
  humanizePercentage,
  seriesValues,
} from "./rule-test-model";
import { renderAlertRuleTests } from "./rule-tests";
import { renderAlertRules } from "./rules";

interface TestFile {
  rule_files: string[];
  evaluation_interval: string;
  tests: {
    name: string;
    interval: string;
    input_series: { series: string; values: string }[];
    alert_rule_test: {
      eval_time: string;
      alertname: string;
      exp_alerts: { exp_labels: Record<string, string>; exp_annotations: Record<string, string> }[];
    }[];
  }[];
}

function testFile(input: object = {}): TestFile {
  const { settings } = loadSettings(input);
  return parse(renderAlertRuleTests(settings, dockerEndpoints(settings))) as TestFile;
}

/** Shortened as the end-to-end tests run the stack. */
const fastSettings = {
  scrape: { interval: "1s", timeout: "1s", evaluationInterval: "1s" },
  alerts: {
    highRequestVolume: { maxRequests: 60, window: "4s", for: "2s" },
    instanceDown: { for: "3s" },
    prometheusDown: { for: "3s" },
  },
};

describe("renderAlertRuleTests", () => {
  it("loads the rule file relative to itself", () => {
    expect(testFile().rule_files).to.deep.equal(["../rules/alerts.yml"]);
    expect(renderedPaths.alertRuleTests.replace("tests/alerts.test.yml", "rules/alerts.yml")).to.equal(
      renderedPaths.alertRules,
    );
  });

  it("evaluates at the rules' evaluation interval", () => {
    expect(testFile({ scrape: { evaluationInterval: "3s" } }).evaluation_interval).to.equal("3s");
  });

  it("tests every enabled built-in alert firing and not firing", () => {
    const file = testFile();
    for (const name of Object.values(alertNames)) {
      const checks = file.tests
        .flatMap((test) => test.alert_rule_test)
        .filter((check) => check.alertname === name);
      expect(
        checks.some((check) => check.exp_alerts.length > 0),
        `${name} fires in a test`,
      ).to.equal(true);
      if (name !== alertNames.watchdog) {
        expect(
          checks.some((check) => check.exp_alerts.length === 0),
          `${name} is silent in a test`,
        ).to.equal(true);
      }
    }
  });

  it("leaves out the tests of disabled alerts", () => {
    const file = testFile({ alerts: { highLatency: { enabled: false } } });
    const tested = new Set(
      file.tests.flatMap((test) => test.alert_rule_test.map((check) => check.alertname)),
    );
    expect(tested.has(alertNames.highLatency)).to.equal(false);
    expect(tested.has(alertNames.highErrorRate)).to.equal(true);
  });

  it("tests HighRequestVolume at maxRequests + 1 and maxRequests - 1 requests per window, and across a restart", () => {
    const names = testFile({ alerts: { highRequestVolume: { maxRequests: 800 } } })
      .tests.map((test) => test.name)
      .filter((name) => name.startsWith(alertNames.highRequestVolume));
    expect(names).to.have.length(3);
    expect(names[0]).to.include("801 requests per 1m fire");
    expect(names[1]).to.include("799 requests per 1m do not fire");
    expect(names[2]).to.include("restart");
  });

  it("expects the value a person reads in the description", () => {
    const fired = testFile()
      .tests.find((test) => test.name.startsWith(alertNames.highRequestVolume))
      ?.alert_rule_test.find((check) => check.exp_alerts.length > 0);
    expect(fired?.exp_alerts[0]?.exp_annotations.description).to.include(
      "served 501 requests in the last 1m",
    );
    expect(fired?.eval_time).to.equal("2m5s");
  });

  describe("with promtool", () => {
    let promtool: string;

    before(function () {
      ({ promtool } = requireBinaries(this, "promtool"));
    });

    const variants: [string, object][] = [
      ["the defaults", {}],
      ["the end-to-end tests' short intervals", fastSettings],
      [
        "an evaluation interval apart from the scrape interval, and no `for`",
        {
          scrape: { interval: "7s", timeout: "5s", evaluationInterval: "3s" },
          alerts: {
            highRequestVolume: { maxRequests: 3, window: "35s", for: "0s" },
            highErrorRate: { maxRatio: 0.5, window: "28s", for: "0s" },
            instanceDown: { for: "0s" },
          },
        },
      ],
      [
        "a long window, a large threshold and one replica",
        {
          alerts: {
            highRequestVolume: { maxRequests: 12344, window: "10m", for: "2m" },
            highLatency: { p95Seconds: 0.3, window: "2m", for: "13s" },
            ruleEvaluationFailures: { window: "1m", for: "5m" },
          },
          prometheus: { replicas: 1 },
        },
      ],
      ["a latency threshold only the +Inf bucket exceeds", { alerts: { highLatency: { p95Seconds: 9.99 } } }],
      ["a latency threshold below every bucket", { alerts: { highLatency: { p95Seconds: 0.001 } } }],
    ];

    for (const [name, input] of variants) {
      it(`passes its generated tests with ${name}`, async () => {
        const { settings } = loadSettings(input);
        const dir = renderToDisk(settings, loopbackEndpoints(settings.prometheus.replicas));
        try {
          const result = await runTool(promtool, ["test", "rules", renderedPaths.alertRuleTests], dir.path);
          expect(result.exitCode, result.output).to.equal(0);
        } finally {
          dir.remove();
        }
      });
    }

    // The tests must be able to fail: run them against rules rendered from different settings.
    for (const [name, tested, deployed, failing] of [
      [
        "a threshold one request higher",
        {},
        { alerts: { highRequestVolume: { maxRequests: 501 } } },
        "HighRequestVolume: 501 requests per 1m fire",
      ],
      ["a longer `for`", {}, { alerts: { instanceDown: { for: "20s" } } }, "InstanceDown"],
      [
        "a lower error ratio",
        {},
        { alerts: { highErrorRate: { maxRatio: 0.02 } } },
        "a 5xx share below 0.05",
      ],
    ] as const) {
      it(`fails when the rules have ${name} than the tests expect`, async () => {
        const testedSettings = loadSettings(tested).settings;
        const dir = renderToDisk(testedSettings, loopbackEndpoints(2));
        try {
          writeFileSync(
            join(dir.path, renderedPaths.alertRules),
            renderAlertRules(loadSettings(deployed).settings),
          );
          const result = await runTool(promtool, ["test", "rules", renderedPaths.alertRuleTests], dir.path);
          expect(result.exitCode).to.equal(1);
          expect(result.output).to.include(failing);
        } finally {
          dir.remove();
        }
      });
    }
  });
});

describe("rule-test-model", () => {
  it("prints %.4g exactly as Go does", () => {
    // Go: fmt.Sprintf("%.4g", v) for each v.
    const goPrints: [number, string][] = [
      [501, "501"],
      [100, "100"],
      [0.5, "0.5"],
      [1e4, "1e+04"],
      [1e-5, "1e-05"],
      [0.0001, "0.0001"],
      [1234.5, "1234"],
      [1235.5, "1236"],
      [100.25, "100.2"],
      [455.45454545, "455.5"],
      [0.000123456, "0.0001235"],
      [-3.25, "-3.25"],
    ];
    for (const [value, text] of goPrints) expect(formatG4(value), String(value)).to.equal(text);
  });

  it("humanizes values as Prometheus's templates do", () => {
    expect(humanize(0)).to.equal("0");
    expect(humanize(501)).to.equal("501");
    expect(humanize(12345)).to.equal("12.35k");
    expect(humanize(0.25)).to.equal("250m");
    expect(humanizePercentage(0.525)).to.equal("52.5%");
    expect(humanizeDuration(0.7375)).to.equal("737.5ms");
    expect(humanizeDuration(10)).to.equal("10s");
    expect(humanizeDuration(90)).to.equal("1m 30s");
  });

  it("writes series in promtool's notation and expands them the same way", () => {
    const segments = [
      { start: 5, step: 0, count: 3 },
      { start: 6, step: 1.5, count: 3 },
      { start: 0, step: 0, count: 1 },
    ];
    expect(seriesValues(segments)).to.equal("5x2 6+1.5x2 0");
    expect(expandSegments(segments)).to.deep.equal([5, 5, 5, 6, 7.5, 9, 0]);
  });

  it("extrapolates increase() to the window, and adds the value before a counter reset", () => {
    // +2 every 5s. The window (0s, 60s] holds the 12 samples from 5s to 60s: 11 steps, 22, over 55s of the
    // 60s window; extrapolated to the window, 22 x 60 / 55 = 24, a rate of 0.4/s.
    const steady = Array.from({ length: 13 }, (_, i) => ({ t: i * 5000, v: 1000 + 2 * i }));
    expect(counterIncrease(steady, 60_000, 60_000)).to.be.closeTo(24, 1e-9);
    expect(counterIncrease(steady, 60_000, 60_000, true)).to.be.closeTo(0.4, 1e-12);
    // The app restarts after 25s: 1002 to 1010 before, 0 to 12 after, 20 in all.
    const reset = steady.map((sample, i) => (i < 6 ? sample : { t: sample.t, v: 2 * (i - 6) }));
    expect(counterIncrease(reset, 60_000, 60_000)).to.be.closeTo((1010 - 1002 + 12) * (60 / 55), 1e-9);
    expect(counterIncrease(steady.slice(0, 1), 60_000, 60_000)).to.equal(undefined);
  });

  it("fires an alert once active for `for`, and resolves it as soon as the condition stops", () => {
    const condition = (at: number) => (at >= 10 && at < 40 ? 1 : undefined);
    const states = evaluateAlert(condition, 5, 10, 45).map((step) => step.state);
    expect(states).to.deep.equal([
      "inactive",
      "inactive",
      "pending",
      "pending",
      "firing",
      "firing",
      "firing",
      "firing",
      "inactive",
      "inactive",
    ]);
  });
});
