import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import { parse } from "yaml";
import { requireBinaries } from "../../test-support/binaries";
import { dockerTestEndpoints, loopbackEndpoints, renderToDisk, runTool } from "../../test-support/promtool";
import { renderedPaths } from "../runtime/layout";
import { alertNames } from "../settings/alert-specs";
import { loadSettings } from "../validate";
import {
  counterPhases,
  fourDigits,
  humanize,
  humanizeDuration,
  humanizePercentage,
  seriesValues,
} from "./rule-test-series";
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
  return parse(renderAlertRuleTests(settings, dockerTestEndpoints(settings))) as TestFile;
}

/** Probes, so that the alerts on probes exist: one on the stack-wide settings, one that overrides all three. */
const probes = [
  { name: "site", http: { url: "https://example.com/" } },
  {
    name: "db",
    tcp: { address: "db.internal:5432" },
    alerts: {
      probeFailed: { for: "2m", severity: "warning" },
      probeSlow: { maxSeconds: 0.25 },
      probeCertificateExpiring: { minDays: 30, for: "0s" },
    },
  },
];

/**
 * The stack's own host on the stack-wide settings, and two machines that override host and container alerts:
 * each has a rule, and so a threshold, of its own.
 */
const machines = {
  host: { alerts: {} },
  hosts: [
    {
      name: "db-1",
      address: { nodeExporter: "10.0.0.5:9100", cadvisor: "10.0.0.5:8080" },
      alerts: {
        hostMemoryLow: { minAvailableRatio: 0.2 },
        hostCpuSaturated: { maxRatio: 0.75, for: "5m" },
        containerNearMemoryLimit: { maxRatio: 0.8, severity: "critical" },
      },
    },
    {
      name: "web.1",
      address: { nodeExporter: "10.0.0.6:9100" },
      alerts: { hostMemoryLow: { minAvailableRatio: 0.05 }, hostClockSkew: { maxSeconds: 0.5, for: "1m" } },
    },
  ],
};

/** Shortened as the end-to-end tests run the stack. */
const fastSettings = {
  scrape: { interval: "1s", timeout: "1s", evaluationInterval: "1s" },
  alerts: {
    highRequestVolume: { maxRequests: 60, window: "4s", for: "2s" },
    instanceDown: { for: "3s" },
    prometheusDown: { for: "3s" },
  },
  // As in e2eSettings: at one evaluation a second, the host alerts' hour-long `for` would cost promtool
  // thousands of steps; they are proven at the other variants' intervals.
  host: { enabled: false },
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
    const file = testFile({ probes });
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

  it("tests each probe alert on a probe of each rule: the shared one and the one with overrides", () => {
    const names = testFile({ probes })
      .tests.map((test) => test.name)
      .filter((name) => name.startsWith("Probe"));
    for (const probe of ["site", "db"]) {
      expect(names.filter((name) => name.startsWith(`ProbeFailed (probe ${probe})`))).to.have.length(1);
    }
    expect(names).to.include(
      "ProbeSlow (probe db): probe duration at 0.2525, just above 0.25, fires after 5m, then resolves",
    );
    expect(names).to.include("ProbeSlow (probe site): probe duration at 0.99, just below 1, does not fire");
    expect(names).to.include(
      "ProbeCertificateExpiring (probe site): days left at 13.86, just below 14, fires after 10m, then resolves",
    );
    expect(names).to.include(
      "ProbeCertificateExpiring (probe db): days left at 30.3, just above 30, does not fire",
    );
    expect(testFile().tests.filter((test) => test.name.startsWith("Probe"))).to.deep.equal([]);
  });

  it("tests each host alert on a machine of each rule: the shared one and each with overrides", () => {
    const names = testFile(machines).tests.map((test) => test.name);
    expect(names).to.include.members([
      "HostMemoryLow (host local): available memory at 0.099, just below 0.1, fires after 5m, then resolves",
      "HostMemoryLow (host db-1): available memory at 0.198, just below 0.2, fires after 5m, then resolves",
      "HostMemoryLow (host db-1): available memory at 0.202, just above 0.2, does not fire",
      "HostMemoryLow (host web.1): available memory at 0.0505, just above 0.05, does not fire",
      "HostCpuSaturated (host db-1): CPU busy at 0.7575, just above 0.75, over 5m fires after 5m, then resolves",
      "HostClockSkew (host web.1): clock behind by at 0.505, just above 0.5, fires after 1m, then resolves",
      "ContainerNearMemoryLimit (host db-1): memory working set over limit at 0.808, just above 0.8, fires after 5m, then resolves",
    ]);
    // A machine on the stack-wide settings shares the rule of the stack's own host, and is not tested again.
    expect(names.filter((name) => name.startsWith("HostDiskFillingUp ("))).to.deep.equal([
      "HostDiskFillingUp (host local): free space at 0.099, just below 0.1, fires after 5m, then resolves; a tmpfs stays below it and is ignored",
      "HostDiskFillingUp (host local): free space at 0.101, just above 0.1, does not fire",
    ]);
  });

  it("tests ContainerMissing on the stack's own containers, and not where it runs none", () => {
    const names = testFile()
      .tests.map((test) => test.name)
      .filter((name) => name.startsWith("ContainerMissing"));
    expect(names).to.deep.equal([
      "ContainerMissing (host local): watchtower-test-app is gone for 5m, fires, then resolves once it is back",
      "ContainerMissing (host local): watchtower-test-grafana starts 5m after the others: does not fire",
      "ContainerMissing (host local): the exporter stops answering and every container's series goes: does not fire",
    ]);
    const { settings } = loadSettings({});
    const loopback = parse(renderAlertRuleTests(settings, loopbackEndpoints(2))) as TestFile;
    expect(loopback.tests.filter((test) => test.name.startsWith("ContainerMissing"))).to.deep.equal([]);
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
    expect(fired?.eval_time).to.equal("2m15s");
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
      ["probes, one with overrides of each probe alert", { probes }],
      [
        "probes, with the end-to-end tests' short intervals and thresholds that do not print in four digits",
        {
          ...fastSettings,
          probes,
          alerts: {
            ...fastSettings.alerts,
            probeSlow: { maxSeconds: 0.3333 },
            probeCertificateExpiring: { minDays: 2.999 },
          },
        },
      ],
      [
        "host thresholds near their limits, and short windows, on other hosts than the stack's own",
        {
          host: { enabled: false },
          hosts: [{ name: "db-1", address: { nodeExporter: "10.0.0.5:9100", cadvisor: "10.0.0.5:8080" } }],
          alerts: {
            hostDiskWillFillIn: { hours: 0.5, window: "1h", for: "5m" },
            hostCpuSaturated: { maxRatio: 0.995, window: "2m", for: "1m" },
            hostDiskIoSaturated: { maxRatio: 0.3333, window: "1m", for: "0s" },
            hostClockSkew: { maxSeconds: 0.003333, for: "30s" },
          },
        },
      ],
      ["machines that override host and container alerts", machines],
      [
        "thresholds whose plain neighbours would not print in four digits",
        { alerts: { highErrorRate: { maxRatio: 0.0333 }, highRequestVolume: { maxRequests: 99999 } } },
      ],
    ];

    // The Docker stack's endpoints list its containers, which ContainerMissing expects.
    for (const [name, input] of [
      ["the Docker stack's containers", {}],
      [
        "the Docker stack's containers, a shorter `for` and evaluations apart from scrapes",
        { scrape: { evaluationInterval: "3s" }, alerts: { containerMissing: { for: "1m" } } },
      ],
    ] as const) {
      it(`passes its generated tests with ${name}`, async () => {
        const { settings } = loadSettings(input);
        const dir = renderToDisk(settings, dockerTestEndpoints(settings));
        try {
          const result = await runTool(promtool, ["test", "rules", renderedPaths.alertRuleTests], dir.path);
          expect(result.exitCode, result.output).to.equal(0);
        } finally {
          dir.remove();
        }
      });
    }

    it("fails when the rules have a shorter ContainerMissing `for` than the tests expect", async () => {
      const { settings } = loadSettings({});
      const dir = renderToDisk(settings, dockerTestEndpoints(settings));
      try {
        const shorter = loadSettings({ alerts: { containerMissing: { for: "4m" } } }).settings;
        writeFileSync(
          join(dir.path, renderedPaths.alertRules),
          renderAlertRules(shorter, dockerTestEndpoints(shorter)),
        );
        const result = await runTool(promtool, ["test", "rules", renderedPaths.alertRuleTests], dir.path);
        expect(result.exitCode).to.equal(1);
        expect(result.output).to.include("ContainerMissing (host local): watchtower-test-app is gone for 5m");
      } finally {
        dir.remove();
      }
    });

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
      [
        "a latency threshold on the next bucket",
        {},
        { alerts: { highLatency: { p95Seconds: 0.75 } } },
        "HighLatency",
      ],
      [
        "a machine's own memory threshold higher",
        machines,
        {
          ...machines,
          hosts: machines.hosts.map((host) =>
            host.name === "db-1"
              ? { ...host, alerts: { ...host.alerts, hostMemoryLow: { minAvailableRatio: 0.25 } } }
              : host,
          ),
        },
        "HostMemoryLow (host db-1): available memory at 0.202, just above 0.2, does not fire",
      ],
      [
        "a longer `for` on a failure counter",
        {},
        { alerts: { notificationsFailing: { for: "2m" } } },
        "AlertNotificationsFailing",
      ],
    ] as const) {
      it(`fails when the rules have ${name} than the tests expect`, async () => {
        const testedSettings = loadSettings(tested).settings;
        const dir = renderToDisk(testedSettings, loopbackEndpoints(2));
        try {
          writeFileSync(
            join(dir.path, renderedPaths.alertRules),
            renderAlertRules(loadSettings(deployed).settings, loopbackEndpoints(2)),
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

describe("rule-test-series", () => {
  it("prints the short values the tests expect as Prometheus's templates do", () => {
    expect(humanize(0)).to.equal("0");
    expect(humanize(501)).to.equal("501");
    expect(humanize(12350)).to.equal("12.35k");
    expect(humanize(0.25)).to.equal("250m");
    expect(humanizePercentage(0.525)).to.equal("52.5%");
    expect(humanizePercentage(0.025)).to.equal("2.5%");
    expect(humanizeDuration(0.7375)).to.equal("737.5ms");
    expect(humanizeDuration(0.00475)).to.equal("4.75ms");
    expect(humanizeDuration(4.875)).to.equal("4.875s");
    expect(humanizeDuration(10)).to.equal("10s");
  });

  it("refuses a value whose text would depend on rounding", () => {
    expect(() => humanize(12345)).to.throw(/more than four significant digits/);
    expect(() => humanizePercentage(0.516651)).to.throw(/more than four significant digits/);
    // Floating-point noise of the engine's arithmetic is not rounding.
    expect(humanize(501.00000000001)).to.equal("501");
  });

  it("rounds away from a threshold to four significant digits", () => {
    expect(fourDigits(501, "up")).to.equal(501);
    expect(fourDigits(12345, "up")).to.equal(12350);
    expect(fourDigits(12343, "down")).to.equal(12340);
    expect(fourDigits(3.00049, "up")).to.equal(3.001);
    expect(fourDigits(0, "down")).to.equal(0);
  });

  it("writes series in promtool's notation, each phase one step after the last sample", () => {
    const segments = counterPhases(5, [
      { step: 0, count: 3 },
      { step: 1.5, count: 3 },
      { step: 0, count: 1 },
    ]);
    expect(seriesValues(segments)).to.equal("5x2 6.5+1.5x2 9.5");
    // 0.1 added ten times is not 1 in floating point: the next phase starts from the sum promtool computes.
    const tenths = counterPhases(0, [
      { step: 0.1, count: 11 },
      { step: 0, count: 2 },
    ]);
    expect(tenths[1]?.start).to.equal(0.1 + 0.1 + 0.1 + 0.1 + 0.1 + 0.1 + 0.1 + 0.1 + 0.1 + 0.1);
  });
});
