/**
 * The k6 load test's plan and options, derived from the same HighRequestVolume threshold the alert uses: a
 * warm-up below it, a spike above it held until the alert has fired and been sent, and a cool-down at the
 * warm-up rate held until the resolved notification has gone out. Changing `maxRequests` or `window` changes
 * the rates, so the demonstration stays honest. Also the one k6 command line the stack and `npm run loadtest`
 * both run.
 */
import {
  type LoadtestFile,
  type LoadtestOptions,
  loadtestEnv,
  type RampingArrivalRateScenario,
  requestsPerIteration,
} from "../../loadtest/contract";
import { maxSlowMs } from "../../service/metrics-contract";
import {
  alertFiringTiming,
  alertResolvedTiming,
  firingEmailTiming,
  resolvedEmailTiming,
} from "../prometheus/alert-timing";
import type { Endpoints, HostPort } from "../runtime/endpoints";
import { durationMs } from "../settings/duration";
import { SettingsError } from "../settings/error";
import {
  effectiveAlertSettings,
  httpContractJobs,
  loadtestJob,
  type MonitoredJob,
} from "../settings/monitored-jobs";
import type { Settings } from "../settings/schema";
import { k6PushInterval, k6TestIdTag, k6TrendStats, k6TrendStatsEnv } from "./k6-metrics";

/** The script, relative to the repository root. */
export const loadtestScriptPath = "loadtest/script.ts";

/**
 * Every file the script loads, relative to the repository root. k6 resolves the script's relative imports
 * itself, so wherever the script runs (a container, a temporary directory) these must sit in the same layout.
 */
export const loadtestScriptFiles = [
  loadtestScriptPath,
  "loadtest/contract.ts",
  "service/metrics-contract.ts",
];

/** k6 fails the run (exit code 99) when more than this share of requests fails, intended /api/error calls aside. */
const maxFailedRequestRatio = 0.01;

/** k6 exits with this code when a threshold failed. */
export const k6ThresholdsFailedExitCode = 99;

export type LoadtestPhaseName = "warmup" | "spike" | "cooldown";

export interface LoadtestPhase {
  /** Offset from the start of the run. */
  readonly startMs: number;
  readonly durationMs: number;
  /** Requests the service receives per HighRequestVolume `window`: k6's iteration target per `timeUnit`. */
  readonly requestsPerWindow: number;
  readonly requestsPerSecond: number;
}

export interface LoadtestPlan {
  /** `maxRequests / window`: above this request rate, sustained, HighRequestVolume fires. */
  readonly thresholdRequestsPerSecond: number;
  readonly phases: Readonly<Record<LoadtestPhaseName, LoadtestPhase>>;
  readonly totalMs: number;
  /**
   * k6's `timeUnit`: `requestsPerIteration` windows. An iteration target per this unit is then exactly a
   * request count per window, so the whole-number rates k6 accepts lose no precision.
   */
  readonly timeUnitMs: number;
  /** Latest time after the spike starts by which Prometheus has the alert firing. */
  readonly alertFiresWithinMs: number;
  /** Latest time after the spike ends by which Prometheus has resolved the alert. */
  readonly alertResolvesWithinMs: number;
  readonly preAllocatedVUs: number;
  readonly maxVUs: number;
  /** How long each /api/slow call takes. */
  readonly slowMs: number;
}

/**
 * Requests per HighRequestVolume window during the warm-up and the cool-down. Below the threshold rounds down
 * and above it (the spike) rounds up, so neither side of the threshold is blurred.
 */
function belowThresholdPerWindow(settings: Settings): number {
  return Math.floor(settings.loadtest.warmupFraction * loadtestThreshold(settings).maxRequests);
}

/** Requests per HighRequestVolume window during the spike. */
function aboveThresholdPerWindow(settings: Settings): number {
  return Math.ceil(settings.loadtest.spikeFactor * loadtestThreshold(settings).maxRequests);
}

/** The load-test job, which `loadSettings` has checked to exist while the load test is enabled. */
function targetJob(settings: Settings): MonitoredJob {
  const job = loadtestJob(settings);
  if (job === undefined) throw new SettingsError(loadtestProblems(settings));
  return job;
}

/** The HighRequestVolume settings of the job the load test drives: its shape follows them. */
function loadtestThreshold(settings: Settings) {
  return effectiveAlertSettings(settings.alerts, targetJob(settings).overrides, "highRequestVolume");
}

/**
 * Why no plan can be made from these settings, one line per problem, each starting with its key path; empty
 * when one can. `loadSettings` reports these with every other problem whenever the load test is enabled.
 */
export function loadtestProblems(settings: Settings): string[] {
  if (loadtestJob(settings) === undefined) {
    const candidates = httpContractJobs(settings).map((job) => job.job);
    return [
      `loadtest.target: "${settings.loadtest.target}" is not a monitored job with httpContract; ` +
        (candidates.length > 0 ? `choose one of ${candidates.join(", ")}, ` : "") +
        "or set loadtest.enabled to false",
    ];
  }
  if (belowThresholdPerWindow(settings) >= 1) return [];
  const { warmupFraction } = settings.loadtest;
  const { maxRequests } = loadtestThreshold(settings);
  return [
    `loadtest.warmupFraction: ${warmupFraction} × alerts.highRequestVolume.maxRequests (${maxRequests}) ` +
      "is less than one request per window; raise either so that the warm-up sends traffic, or set loadtest.enabled to false",
  ];
}

/**
 * Throws a SettingsError for settings that `loadtestProblems` rejects: `loadSettings` lets those through only
 * with the load test disabled, when nothing plans it.
 */
export function loadtestPlan(settings: Settings): LoadtestPlan {
  const problems = loadtestProblems(settings);
  if (problems.length > 0) throw new SettingsError(problems);
  const { loadtest } = settings;
  const job = targetJob(settings);
  const threshold = effectiveAlertSettings(settings.alerts, job.overrides, "highRequestVolume");
  const windowMs = durationMs(threshold.window);
  const belowPerWindow = belowThresholdPerWindow(settings);
  const abovePerWindow = aboveThresholdPerWindow(settings);

  const alertFiresWithinMs = alertFiringTiming(settings, threshold).latestMs;
  const alertResolvesWithinMs = alertResolvedTiming(settings, threshold).latestMs;
  const warmupMs = durationMs(loadtest.warmupDuration);
  const spikeMs =
    loadtest.spikeDuration !== undefined
      ? durationMs(loadtest.spikeDuration)
      : firingEmailTiming(settings, threshold).latestMs;
  const cooldownMs =
    loadtest.cooldownDuration !== undefined
      ? durationMs(loadtest.cooldownDuration)
      : resolvedEmailTiming(settings, threshold).latestMs;

  const phase = (startMs: number, phaseMs: number, requestsPerWindow: number): LoadtestPhase => ({
    startMs,
    durationMs: phaseMs,
    requestsPerWindow,
    requestsPerSecond: (requestsPerWindow * 1000) / windowMs,
  });
  const warmup = phase(0, warmupMs, belowPerWindow);
  const spike = phase(warmupMs, spikeMs, abovePerWindow);
  const cooldown = phase(warmupMs + spikeMs, cooldownMs, belowPerWindow);

  const { p95Seconds } = effectiveAlertSettings(settings.alerts, job.overrides, "highLatency");
  // A VU makes one request at a time: enough of them to hold the spike's rate even while every request takes
  // as long as HighLatency allows.
  const vusAtLatencyLimit = Math.ceil(spike.requestsPerSecond * p95Seconds);

  return {
    thresholdRequestsPerSecond: (threshold.maxRequests * 1000) / windowMs,
    phases: { warmup, spike, cooldown },
    totalMs: warmupMs + spikeMs + cooldownMs,
    timeUnitMs: requestsPerIteration * windowMs,
    alertFiresWithinMs,
    alertResolvesWithinMs,
    preAllocatedVUs: Math.max(1, Math.min(loadtest.maxVUs, vusAtLatencyLimit)),
    maxVUs: loadtest.maxVUs,
    // Slow enough to stand out in p99, rare enough (see slowEvery) to leave p95 under the HighLatency threshold.
    slowMs: Math.min(maxSlowMs, Math.round(2 * p95Seconds * 1000)),
  };
}

/** A duration as k6 (Go) parses it: 100000 → "1m40s". Prometheus's `d`, `w` and `y` are not Go units. */
export function k6Duration(ms: number): string {
  if (!Number.isInteger(ms) || ms < 0) throw new Error(`${ms} ms is not a whole, non-negative duration`);
  if (ms === 0) return "0s";
  const parts: [number, string][] = [
    [Math.floor(ms / 3_600_000), "h"],
    [Math.floor(ms / 60_000) % 60, "m"],
    [Math.floor(ms / 1000) % 60, "s"],
    [ms % 1000, "ms"],
  ];
  return parts
    .filter(([count]) => count > 0)
    .map(([count, unit]) => `${count}${unit}`)
    .join("");
}

/** The arrival-rate scenario: each level is reached by a 0s stage (a step) and held by a stage at that level. */
function scenario(plan: LoadtestPlan): RampingArrivalRateScenario {
  const { warmup, spike, cooldown } = plan.phases;
  const hold = (phase: LoadtestPhase) => [
    { duration: "0s", target: phase.requestsPerWindow },
    { duration: k6Duration(phase.durationMs), target: phase.requestsPerWindow },
  ];
  return {
    executor: "ramping-arrival-rate",
    startRate: warmup.requestsPerWindow,
    timeUnit: k6Duration(plan.timeUnitMs),
    stages: [...hold(warmup), ...hold(spike), ...hold(cooldown)],
    preAllocatedVUs: plan.preAllocatedVUs,
    maxVUs: plan.maxVUs,
  };
}

/** Name of the one scenario, as it appears in k6's `scenario` tag. */
const loadtestScenarioName = "request_volume";

function loadtestOptions(settings: Settings, plan: LoadtestPlan): LoadtestOptions {
  const p95Ms =
    Math.round(
      effectiveAlertSettings(settings.alerts, targetJob(settings).overrides, "highLatency").p95Seconds * 1e6,
    ) / 1e3;
  return {
    scenarios: { [loadtestScenarioName]: scenario(plan) },
    // The script marks /api/error's 500 as the expected answer, so http_req_failed counts only real failures.
    thresholds: {
      http_req_failed: [`rate<${maxFailedRequestRatio}`],
      http_req_duration: [`p(95)<${p95Ms}`],
      checks: [`rate>${1 - maxFailedRequestRatio}`],
    },
    summaryTrendStats: [...k6TrendStats],
  };
}

/** The options file (`renderedPaths.loadtestOptions`) the script opens. */
export function renderLoadtestOptions(settings: Settings, endpoints: Pick<Endpoints, "app">): string {
  const plan = loadtestPlan(settings);
  const file: LoadtestFile = {
    target: `http://${targetJob(settings).addresses?.[0] ?? endpoints.app}`,
    slowMs: plan.slowMs,
    options: loadtestOptions(settings, plan),
  };
  return `${JSON.stringify(file, null, 2)}\n`;
}

export interface K6RunInput {
  /** `loadtestScriptPath`, as the k6 process sees it. */
  readonly scriptPath: string;
  /** The rendered options file, as the k6 process sees it. */
  readonly optionsPath: string;
  /** Base URL of the service; unset means the target written in the options file. */
  readonly target?: string;
  /** Prometheus with the remote-write receiver enabled; unset means the metrics stay in k6's summary. */
  readonly remoteWrite?: HostPort;
  /** Value of the `testid` tag on every series this run writes. */
  readonly testId: string;
}

/** Arguments after the `k6` executable (the grafana/k6 image's entrypoint), and environment variables to add. */
export interface K6Command {
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
}

export function k6RunCommand(input: K6RunInput): K6Command {
  // Passed as --env rather than through the process environment, so `k6 inspect` and `k6 archive` (which do
  // not read the system environment by default) see the same script inputs as `k6 run`.
  const scriptEnv = [`${loadtestEnv.optionsFile}=${input.optionsPath}`];
  if (input.target !== undefined) scriptEnv.push(`${loadtestEnv.target}=${input.target}`);
  const output: string[] = [];
  const env: Record<string, string> = {};
  if (input.remoteWrite !== undefined) {
    output.push("--out", "experimental-prometheus-rw");
    env.K6_PROMETHEUS_RW_SERVER_URL = `http://${input.remoteWrite}/api/v1/write`;
    env.K6_PROMETHEUS_RW_TREND_STATS = k6TrendStatsEnv;
    env.K6_PROMETHEUS_RW_PUSH_INTERVAL = k6PushInterval;
    // Ends every series when the run ends, instead of Grafana drawing the last value for five more minutes.
    env.K6_PROMETHEUS_RW_STALE_MARKERS = "true";
  }
  return {
    args: [
      "run",
      "--no-usage-report",
      // No REST API: nothing drives a run from outside, and it would hold port 6565 on every host it runs on.
      // One argument: the Docker provider refuses an empty string anywhere in a container's command.
      "--address=",
      ...scriptEnv.flatMap((assignment) => ["--env", assignment]),
      "--tag",
      `${k6TestIdTag}=${input.testId}`,
      ...output,
      input.scriptPath,
    ],
    env,
  };
}
