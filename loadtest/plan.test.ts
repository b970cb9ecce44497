import { expect } from "chai";
import { k6PushInterval, k6TestIdTag, k6TrendStatsEnv } from "../configs/loadtest/k6-metrics";
import { k6Duration, k6RunCommand, loadtestPlan, renderLoadtestOptions } from "../configs/loadtest/plan";
import { durationMs } from "../configs/settings/duration";
import { SettingsError } from "../configs/settings/load";
import { type Settings, type SettingsInput, settingsSchema } from "../configs/settings/schema";
import { loadSettings } from "../configs/validate";
import { maxSlowMs } from "../service/metrics-contract";
import { type LoadtestFile, loadtestEnv, requestsPerIteration } from "./contract";

function settings(input: SettingsInput = {}): Settings {
  return settingsSchema.parse(input);
}

function rendered(input: SettingsInput = {}): LoadtestFile {
  return JSON.parse(renderLoadtestOptions(settings(input), { app: "app:5002" })) as LoadtestFile;
}

describe("load test plan", () => {
  it("runs below, then above, then below the HighRequestVolume threshold", () => {
    const plan = loadtestPlan(settings());
    // Defaults: 500 requests per 1m, warm-up at half of that, spike at twice.
    expect(plan.thresholdRequestsPerSecond).to.be.closeTo(500 / 60, 1e-9);
    expect(plan.phases.warmup.requestsPerWindow).to.equal(250);
    expect(plan.phases.spike.requestsPerWindow).to.equal(1000);
    expect(plan.phases.cooldown.requestsPerWindow).to.equal(250);
    expect(plan.phases.spike.requestsPerSecond).to.be.closeTo(1000 / 60, 1e-9);
  });

  it("follows maxRequests and window, keeping each phase on its side of the threshold", () => {
    const cases = [
      { maxRequests: 500, window: "1m", warmupFraction: 0.5, spikeFactor: 2 },
      { maxRequests: 1200, window: "2m", warmupFraction: 0.999, spikeFactor: 1.001 },
      { maxRequests: 7, window: "30s", warmupFraction: 0.3, spikeFactor: 1.5 },
      { maxRequests: 100_000, window: "1h", warmupFraction: 0.25, spikeFactor: 20 },
    ];
    for (const { maxRequests, window, warmupFraction, spikeFactor } of cases) {
      const plan = loadtestPlan(
        settings({
          alerts: { highRequestVolume: { maxRequests, window } },
          loadtest: { warmupFraction, spikeFactor },
        }),
      );
      const label = `${maxRequests} per ${window}`;
      expect(plan.phases.warmup.requestsPerWindow, label).to.be.below(maxRequests);
      expect(plan.phases.cooldown.requestsPerWindow, label).to.be.below(maxRequests);
      expect(plan.phases.spike.requestsPerWindow, label).to.be.above(maxRequests);
      // Rounding never moves a rate by a whole request per window.
      expect(plan.phases.warmup.requestsPerWindow, label).to.be.closeTo(warmupFraction * maxRequests, 1);
      expect(plan.phases.spike.requestsPerWindow, label).to.be.closeTo(spikeFactor * maxRequests, 1);
      expect(plan.phases.spike.requestsPerSecond * durationMs(window), label).to.be.closeTo(
        plan.phases.spike.requestsPerWindow * 1000,
        1e-6,
      );
    }
  });

  it("holds the spike until the alert has fired and been sent, and the cool-down until it has resolved", () => {
    const plan = loadtestPlan(
      settings({
        scrape: { interval: "5s", evaluationInterval: "10s" },
        alerts: { highRequestVolume: { window: "2m", for: "30s" } },
        alertmanager: { groupWait: "20s", groupInterval: "3m" },
        loadtest: { warmupDuration: "45s" },
      }),
    );
    // The window, a scrape and one in flight, an evaluation; for firing, `for` and the evaluation rounding it.
    expect(plan.alertFiresWithinMs).to.equal(120_000 + 2 * 5_000 + 10_000 + 30_000 + 10_000);
    expect(plan.alertResolvesWithinMs).to.equal(120_000 + 2 * 5_000 + 10_000);
    expect(plan.phases.warmup).to.include({ startMs: 0, durationMs: 45_000 });
    expect(plan.phases.spike).to.include({ startMs: 45_000, durationMs: plan.alertFiresWithinMs + 20_000 });
    expect(plan.phases.cooldown).to.include({
      startMs: 45_000 + plan.phases.spike.durationMs,
      durationMs: plan.alertResolvesWithinMs + 180_000,
    });
    expect(plan.totalMs).to.equal(plan.phases.cooldown.startMs + plan.phases.cooldown.durationMs);
  });

  it("takes the spike and cool-down durations from the settings when they are set", () => {
    const plan = loadtestPlan(
      settings({ loadtest: { warmupDuration: "3s", spikeDuration: "8s", cooldownDuration: "2500ms" } }),
    );
    expect(
      [plan.phases.warmup, plan.phases.spike, plan.phases.cooldown].map((phase) => phase.durationMs),
    ).to.eql([3000, 8000, 2500]);
    expect(plan.totalMs).to.equal(13_500);
  });

  it("refuses a warm-up that would send less than one request per window, naming both settings", () => {
    expect(() =>
      loadtestPlan(
        settings({ alerts: { highRequestVolume: { maxRequests: 3 } }, loadtest: { warmupFraction: 0.2 } }),
      ),
    ).to.throw(
      SettingsError,
      /loadtest\.warmupFraction: 0\.2 × alerts\.highRequestVolume\.maxRequests \(3\)/,
    );
  });

  it("refuses a phase of zero length, naming the setting", () => {
    for (const key of ["warmupDuration", "spikeDuration", "cooldownDuration"] as const) {
      expect(() => loadSettings({ loadtest: { [key]: "0s" } })).to.throw(
        SettingsError,
        new RegExp(`loadtest\\.${key}`),
      );
    }
  });

  it("sizes the VU pool for the spike at the latency limit, within maxVUs", () => {
    // 1000 requests per minute at 0.5 s each keep 8.3 requests in flight.
    expect(loadtestPlan(settings()).preAllocatedVUs).to.equal(9);
    const capped = loadtestPlan(
      settings({ alerts: { highLatency: { p95Seconds: 10 } }, loadtest: { maxVUs: 20 } }),
    );
    expect(capped.preAllocatedVUs).to.equal(20);
    expect(capped.maxVUs).to.equal(20);
  });

  it("asks /api/slow for twice the latency threshold, within what the service accepts", () => {
    expect(loadtestPlan(settings()).slowMs).to.equal(1000);
    expect(loadtestPlan(settings({ alerts: { highLatency: { p95Seconds: 4 } } })).slowMs).to.equal(maxSlowMs);
  });
});

describe("load test options file", () => {
  it("targets the app endpoint and carries the slow-call duration", () => {
    const file = rendered();
    expect(file.target).to.equal("http://app:5002");
    expect(file.slowMs).to.equal(1000);
  });

  it("sets the iteration rate so the service sees the planned request rate", () => {
    const input: SettingsInput = { alerts: { highRequestVolume: { maxRequests: 90, window: "45s" } } };
    const plan = loadtestPlan(settings(input));
    const scenarios = Object.values(rendered(input).options.scenarios);
    expect(scenarios).to.have.lengthOf(1);
    const [scenario] = scenarios;
    if (!scenario) throw new Error("no scenario");
    const timeUnitMs = durationMs(scenario.timeUnit);
    const requestsPerSecond = (target: number) => (target * requestsPerIteration * 1000) / timeUnitMs;
    expect(scenario.executor).to.equal("ramping-arrival-rate");
    expect(requestsPerSecond(scenario.startRate)).to.be.closeTo(plan.phases.warmup.requestsPerSecond, 1e-9);
    // Each level is a 0s step followed by a hold at the same target.
    const holds = scenario.stages.filter((_, index) => index % 2 === 1);
    expect(scenario.stages.filter((_, index) => index % 2 === 0).map((stage) => stage.duration)).to.eql([
      "0s",
      "0s",
      "0s",
    ]);
    expect(holds.map((stage) => requestsPerSecond(stage.target))).to.eql([
      plan.phases.warmup.requestsPerSecond,
      plan.phases.spike.requestsPerSecond,
      plan.phases.cooldown.requestsPerSecond,
    ]);
    expect(holds.map((stage) => stage.duration)).to.eql(
      [plan.phases.warmup, plan.phases.spike, plan.phases.cooldown].map((phase) =>
        k6Duration(phase.durationMs),
      ),
    );
    expect(scenario).to.include({ preAllocatedVUs: plan.preAllocatedVUs, maxVUs: plan.maxVUs });
  });

  it("fails the run on more than 1% failed requests or checks, or p95 above the HighLatency threshold", () => {
    const { thresholds } = rendered({ alerts: { highLatency: { p95Seconds: 1.1 } } }).options;
    expect(thresholds).to.eql({
      http_req_failed: ["rate<0.01"],
      http_req_duration: ["p(95)<1100"],
      checks: ["rate>0.99"],
    });
  });
});

describe("k6Duration", () => {
  it("writes Go durations, which k6 parses, without Prometheus's day and week units", () => {
    expect(k6Duration(0)).to.equal("0s");
    expect(k6Duration(2500)).to.equal("2s500ms");
    expect(k6Duration(100_000)).to.equal("1m40s");
    expect(k6Duration(8 * 86_400_000 + 3_600_000)).to.equal("193h");
    expect(() => k6Duration(1.5)).to.throw(/1.5 ms/);
  });
});

describe("k6RunCommand", () => {
  it("runs the script with the options file, the target and a testid tag on every sample", () => {
    const command = k6RunCommand({
      scriptPath: "/loadtest/loadtest/script.ts",
      optionsPath: "/loadtest/options.json",
      target: "http://app:5002",
      testId: "up-42",
    });
    expect(command.args).to.eql([
      "run",
      "--no-usage-report",
      "--address=",
      "--env",
      `${loadtestEnv.optionsFile}=/loadtest/options.json`,
      "--env",
      `${loadtestEnv.target}=http://app:5002`,
      "--tag",
      `${k6TestIdTag}=up-42`,
      "/loadtest/loadtest/script.ts",
    ]);
    expect(command.env).to.eql({});
  });

  it("sends metrics by Prometheus remote write only when a receiver is given", () => {
    const command = k6RunCommand({
      scriptPath: "script.ts",
      optionsPath: "options.json",
      remoteWrite: "prometheus-0:9090",
      testId: "t",
    });
    expect(command.args.join(" ")).to.contain("--out experimental-prometheus-rw");
    expect(command.args.join(" ")).not.to.contain(loadtestEnv.target);
    expect(command.env).to.eql({
      K6_PROMETHEUS_RW_SERVER_URL: "http://prometheus-0:9090/api/v1/write",
      K6_PROMETHEUS_RW_TREND_STATS: k6TrendStatsEnv,
      K6_PROMETHEUS_RW_PUSH_INTERVAL: k6PushInterval,
      K6_PROMETHEUS_RW_STALE_MARKERS: "true",
    });
  });
});
