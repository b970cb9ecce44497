/**
 * The scenario families of the generated rule unit tests: each builds the input series of one kind of alert
 * (a windowed counter rate, a target going down, a gauge below its floor...) and the checks that it fires when
 * it should, with its labels and value, not before, and that it resolves. The registry of built-in alerts
 * (built-in-alerts.ts) picks the family of each alert.
 *
 * Every expected time and value comes from a model of what Prometheus computes (rule-test-model.ts), run on
 * the very series written into the test; the series are designed so that the outcome does not sit on a
 * boundary (see the comments on each design). promtool checks the model against the real engine.
 */
import { posix } from "node:path";
import { apiRoutes, metricNames, requestDurationBuckets } from "../../service/metrics-contract";
import { jobs, type RuleGroup } from "../names";
import { alertedLatencyQuantile } from "../promql/queries";
import { prometheusSyntheticSeries, stackMetricNames } from "../promql/upstream-metrics";
import type { Endpoints } from "../runtime/endpoints";
import { renderedPaths } from "../runtime/layout";
import { durationMs, formatDuration } from "../settings/duration";
import type { BuiltInAlert } from "./built-in-alerts";
import { ruleFilesGlob } from "./config";
import {
  counterIncrease,
  counterPhases,
  evaluateAlert,
  filter,
  instantValue,
  type Segment,
  samplesOf,
  singleBucketQuantile,
  type TestSeries,
} from "./rule-test-model";

/** One expectation: at `at`, the alert fires with these labels and this value, or does not fire. */
export interface AlertCheck {
  readonly at: number;
  readonly firing?: { readonly labels: Readonly<Record<string, string>>; readonly value: number };
}

export interface TestGroup {
  readonly name: string;
  readonly alert: BuiltInAlert;
  readonly intervalMs: number;
  readonly series: readonly TestSeries[];
  readonly checks: readonly AlertCheck[];
}

export interface TestContext {
  readonly scrapeIntervalMs: number;
  readonly endpoints: Endpoints;
  readonly evaluationMs: number;
}

export function firstPrometheus(endpoints: Endpoints): string {
  const first = endpoints.prometheus[0];
  if (first === undefined) throw new Error("the endpoints list no Prometheus replica");
  return first;
}

/** The `rule_group` label Prometheus gives a group of the alert rules: the rule file as the config names it. */
export function ruleGroupLabel(group: RuleGroup): string {
  return `${posix.dirname(ruleFilesGlob)}/${posix.basename(renderedPaths.alertRules)};${group}`;
}

/** Greatest common divisor of durations in ms. */
function gcd(...values: number[]): number {
  return values.reduce((a, b) => {
    let x = a;
    let y = b;
    while (y !== 0) [x, y] = [y, x % y];
    return x;
  });
}

/**
 * Sample interval of a test on a counter over `windowMs`: it divides the evaluation interval, so that every
 * evaluation falls on a sample, and the window, so that every window holds the same number of samples; and it
 * is no longer than the scrape interval, the spacing Prometheus really sees.
 */
function counterSampleInterval(context: TestContext, windowMs: number): number {
  return gcd(context.scrapeIntervalMs, context.evaluationMs, windowMs);
}

/** Samples needed to cover `ms`. */
function samplesFor(ms: number, intervalMs: number): number {
  return Math.ceil(ms / intervalMs);
}

/**
 * The sample grid of a windowed-rate test: idle for a window, busy for a window plus `for` plus two
 * evaluations, then idle for a window plus two evaluations so that the alert resolves.
 */
function windowedPhases(context: TestContext, window: string, alertFor: string) {
  const windowMs = durationMs(window);
  const intervalMs = counterSampleInterval(context, windowMs);
  const perWindow = windowMs / intervalMs;
  return {
    windowMs,
    intervalMs,
    perWindow,
    idle: perWindow + 1,
    busy: perWindow + samplesFor(durationMs(alertFor) + 2 * context.evaluationMs, intervalMs) + 1,
    after: perWindow + samplesFor(2 * context.evaluationMs, intervalMs) + 1,
  };
}

function pick(labels: Readonly<Record<string, string>>, names: readonly string[]): Record<string, string> {
  return Object.fromEntries(names.map((name) => [name, labels[name] ?? ""]));
}

/**
 * Checks for an alert that must fire: the evaluation before it fires (not yet), the one at which it fires (with
 * its value), and the first one at which it no longer fires.
 */
function firesAndResolves(
  alert: BuiltInAlert,
  context: TestContext,
  horizonMs: number,
  labels: Readonly<Record<string, string>>,
  condition: (at: number) => number | undefined,
): AlertCheck[] {
  const steps = evaluateAlert(condition, context.evaluationMs, durationMs(alert.for), horizonMs);
  const firingIndex = steps.findIndex((step) => step.state === "firing");
  const firing = steps[firingIndex];
  const resolved = steps.slice(firingIndex + 1).find((step) => step.state === "inactive");
  if (!firing || firing.value === undefined || !resolved) {
    throw new Error(
      `the generated unit test of ${alert.name} does not ${firing ? "resolve" : "fire"} within ${formatDuration(horizonMs)}`,
    );
  }
  const before = steps[firingIndex - 1];
  return [
    ...(before ? [{ at: before.at }] : []),
    { at: firing.at, firing: { labels, value: firing.value } },
    { at: resolved.at },
  ];
}

/** Checks for an alert that must never fire; `times` are the evaluations to assert it on. */
function neverFires(
  alert: BuiltInAlert,
  context: TestContext,
  horizonMs: number,
  condition: (at: number) => number | undefined,
  times: readonly number[],
): AlertCheck[] {
  const steps = evaluateAlert(condition, context.evaluationMs, durationMs(alert.for), horizonMs);
  const firing = steps.find((step) => step.state === "firing");
  if (firing) {
    throw new Error(
      `the generated unit test of ${alert.name} expects no alert, but it would fire at ${formatDuration(firing.at)}`,
    );
  }
  const onEvaluation = (at: number) => Math.floor(at / context.evaluationMs) * context.evaluationMs;
  return [...new Set(times.map(onEvaluation))].filter((at) => at <= horizonMs).map((at) => ({ at }));
}

/** The time of the last sample of the longest series. */
function horizon(series: readonly TestSeries[], intervalMs: number): number {
  const length = Math.max(...series.map((s) => s.segments.reduce((total, { count }) => total + count, 0)));
  return (length - 1) * intervalMs;
}

/**
 * HighRequestVolume, three ways.
 *
 * increase() does not count the requests in the window: it takes the difference between the first and last
 * samples inside the window, which span one sample interval less than the window, and scales it up to the
 * whole window (here by m / (m - 1) with m samples per window). For a constant request rate that scaling is
 * exact, so the tests drive the app at constant rates: `maxRequests + 1` and `maxRequests - 1` requests per
 * window, one request above and below the threshold, far more than any rounding. A burst would not do: the
 * same scaling turns a burst of `maxRequests - 1` requests between two samples into more than `maxRequests`.
 *
 * The counter starts at a value far above `maxRequests`, as on any long-lived process, where comparing the raw
 * counter with the threshold would fire from the start.
 */
export function requestVolumeTests(
  alert: BuiltInAlert,
  context: TestContext,
  { maxRequests, window }: { readonly maxRequests: number; readonly window: string },
): TestGroup[] {
  const { windowMs, intervalMs, perWindow, idle, busy, after } = windowedPhases(context, window, alert.for);
  const forMs = durationMs(alert.for);
  const longLivedCount = 1000 * (maxRequests + 1);
  const labels = {
    job: jobs.app,
    instance: context.endpoints.app,
    method: "GET",
    route: apiRoutes.items,
    status_code: "200",
  };
  const series = (segments: Segment[]): TestSeries => ({
    metric: metricNames.requestsTotal,
    labels,
    segments,
  });
  const condition =
    (s: TestSeries) =>
    (at: number): number | undefined =>
      filter(counterIncrease(samplesOf(s, intervalMs), at, windowMs), (value) => value > maxRequests);

  const atRate = (requestsPerWindow: number): Segment[] =>
    counterPhases(longLivedCount, [
      { step: 0, count: idle },
      { step: requestsPerWindow / perWindow, count: busy },
      { step: 0, count: after },
    ]);

  const above = series(atRate(maxRequests + 1));
  const aboveHorizon = horizon([above], intervalMs);
  const aboveChecks = firesAndResolves(alert, context, aboveHorizon, { job: jobs.app }, condition(above));

  const below = series(atRate(maxRequests - 1));
  const belowHorizon = horizon([below], intervalMs);
  const belowChecks = neverFires(alert, context, belowHorizon, condition(below), [
    ...aboveChecks.map((check) => check.at),
    (idle + busy - 1) * intervalMs,
  ]);

  // The app restarts in the middle of steady traffic just below the threshold: its counter drops to 0 and
  // counts on. increase() adds the value before the drop, so the window still holds the true count; a raw
  // counter comparison would fire before the restart and go silent after it.
  const perSampleBelow = (maxRequests - 1) / perWindow;
  const beforeRestart = 2 * perWindow;
  const afterRestart = 2 * perWindow + samplesFor(forMs, intervalMs) + 1;
  const restart = series([
    { start: longLivedCount, step: perSampleBelow, count: beforeRestart },
    { start: 0, step: perSampleBelow, count: afterRestart },
  ]);
  const restartAt = beforeRestart * intervalMs;
  const restartHorizon = horizon([restart], intervalMs);
  const restartChecks = neverFires(alert, context, restartHorizon, condition(restart), [
    restartAt - context.evaluationMs,
    restartAt,
    restartAt + context.evaluationMs,
    restartAt + windowMs / 2,
    restartAt + windowMs,
    restartHorizon,
  ]);

  return [
    {
      name: `${alert.name}: ${maxRequests + 1} requests per ${window} fire after ${alert.for}, then resolve`,
      alert,
      intervalMs,
      series: [above],
      checks: [{ at: 0 }, ...aboveChecks],
    },
    {
      name: `${alert.name}: ${maxRequests - 1} requests per ${window} do not fire`,
      alert,
      intervalMs,
      series: [below],
      checks: belowChecks,
    },
    {
      name: `${alert.name}: an app restart (counter reset) does not fire`,
      alert,
      intervalMs,
      series: [restart],
      checks: restartChecks,
    },
  ];
}

/** `up == 0` alerts: the target answers, stops answering for `for` and two evaluations more, then answers. */
export function targetDownTest(
  alert: BuiltInAlert,
  context: TestContext,
  job: (typeof jobs)[keyof typeof jobs],
  down: string,
  alive: readonly string[],
): TestGroup {
  const intervalMs = context.evaluationMs;
  const downSamples = samplesFor(durationMs(alert.for), intervalMs) + 2;
  const upSeries = (instance: string, segments: Segment[]): TestSeries => ({
    metric: prometheusSyntheticSeries.up,
    labels: { job, instance },
    segments,
  });
  const dead = upSeries(down, [
    { start: 1, step: 0, count: 2 },
    { start: 0, step: 0, count: downSamples },
    { start: 1, step: 0, count: 2 },
  ]);
  const total = 4 + downSamples;
  const series = [
    dead,
    ...alive.map((instance) => upSeries(instance, [{ start: 1, step: 0, count: total }])),
  ];
  const deadSamples = samplesOf(dead, intervalMs);
  const checks = firesAndResolves(
    alert,
    context,
    horizon(series, intervalMs),
    { job, instance: down },
    (at) => filter(instantValue(deadSamples, at), (value) => value === 0),
  );
  return {
    name: `${alert.name}: ${down} stops answering scrapes for ${alert.for}, then answers again`,
    alert,
    intervalMs,
    series,
    checks,
  };
}

/** Error ratio: idle, then a constant share of 5xx answers, then idle; above and below the threshold. */
export function errorRateTests(
  alert: BuiltInAlert,
  context: TestContext,
  { maxRatio, window }: { readonly maxRatio: number; readonly window: string },
): TestGroup[] {
  const { windowMs, intervalMs, perWindow, idle, busy, after } = windowedPhases(context, window, alert.for);
  const requestsPerSample = 10;
  // Far from zero, so that increase() never extrapolates towards the counters' zero point.
  const longLivedCount = 1000 * requestsPerSample * perWindow;
  const labels = (status: string) => ({
    job: jobs.app,
    instance: context.endpoints.app,
    method: "GET",
    route: apiRoutes.items,
    status_code: status,
  });
  const counter = (status: string, perSample: number): TestSeries => ({
    metric: metricNames.requestsTotal,
    labels: labels(status),
    segments: counterPhases(longLivedCount, [
      { step: 0, count: idle },
      { step: perSample, count: busy },
      { step: 0, count: after },
    ]),
  });
  const scenario = (errorShare: number) => {
    const ok = counter("200", requestsPerSample * (1 - errorShare));
    const failed = counter("500", requestsPerSample * errorShare);
    const okSamples = samplesOf(ok, intervalMs);
    const failedSamples = samplesOf(failed, intervalMs);
    const condition = (at: number) => {
      const errors = counterIncrease(failedSamples, at, windowMs, true);
      const successes = counterIncrease(okSamples, at, windowMs, true);
      if (errors === undefined || successes === undefined) return undefined;
      // Series are summed in label order; the sum of two values does not depend on it.
      return filter(errors / (successes + errors), (ratio) => ratio > maxRatio);
    };
    return { series: [ok, failed], condition, horizonMs: horizon([ok, failed], intervalMs) };
  };
  // Halfway between the threshold and 100% errors, and half the threshold: both far from it.
  const above = scenario((maxRatio + 1) / 2);
  const below = scenario(maxRatio / 2);
  const aboveChecks = firesAndResolves(alert, context, above.horizonMs, { job: jobs.app }, above.condition);
  return [
    {
      name: `${alert.name}: a 5xx share above ${maxRatio} over ${window} fires after ${alert.for}, then resolves`,
      alert,
      intervalMs,
      series: above.series,
      checks: aboveChecks,
    },
    {
      name: `${alert.name}: a 5xx share below ${maxRatio} does not fire`,
      alert,
      intervalMs,
      series: below.series,
      checks: neverFires(
        alert,
        context,
        below.horizonMs,
        below.condition,
        aboveChecks.map((check) => check.at),
      ),
    },
  ];
}

/**
 * Latency: idle, then every request in one bucket of the histogram, then idle. histogram_quantile()
 * interpolates within the bucket, so the slow case uses the first bucket whose estimate lies above the
 * threshold and the fast case the last bucket that ends at or below it.
 */
export function latencyTests(
  alert: BuiltInAlert,
  context: TestContext,
  { p95Seconds, window }: { readonly p95Seconds: number; readonly window: string },
): TestGroup[] {
  const { windowMs, intervalMs, perWindow, idle, busy, after } = windowedPhases(context, window, alert.for);
  const requestsPerSample = 10;
  const longLivedCount = 1000 * requestsPerSample * perWindow;
  const bounds = [...requestDurationBuckets, Number.POSITIVE_INFINITY];
  const lowerOf = (index: number) => (index === 0 ? 0 : (bounds[index - 1] ?? 0));
  const largestFinite = Math.max(...requestDurationBuckets);

  const scenario = (bucket: number) => {
    const upper = bounds[bucket] ?? Number.POSITIVE_INFINITY;
    const lower = upper === Number.POSITIVE_INFINITY ? largestFinite : lowerOf(bucket);
    const series: TestSeries[] = bounds.map((bound) => {
      const perSample = bound >= upper ? requestsPerSample : 0;
      return {
        metric: `${metricNames.requestDurationSeconds}_bucket`,
        labels: {
          job: jobs.app,
          instance: context.endpoints.app,
          method: "GET",
          route: apiRoutes.slow,
          status_code: "200",
          le: bound === Number.POSITIVE_INFINITY ? "+Inf" : String(bound),
        },
        segments: counterPhases(longLivedCount, [
          { step: 0, count: idle },
          { step: perSample, count: busy },
          { step: 0, count: after },
        ]),
      };
    });
    const infSeries = series[series.length - 1];
    if (!infSeries) throw new Error("the request duration histogram has no buckets");
    const infSamples = samplesOf(infSeries, intervalMs);
    const condition = (at: number) => {
      const observations = counterIncrease(infSamples, at, windowMs, true);
      if (observations === undefined || observations === 0) return undefined;
      return filter(
        singleBucketQuantile(alertedLatencyQuantile, lower, upper, observations),
        (quantile) => quantile > p95Seconds,
      );
    };
    return { series, condition, horizonMs: horizon(series, intervalMs), lower, upper };
  };

  const estimate = (index: number) => {
    const upper = bounds[index] ?? Number.POSITIVE_INFINITY;
    if (upper === Number.POSITIVE_INFINITY) return largestFinite;
    const lower = lowerOf(index);
    return lower + (upper - lower) * alertedLatencyQuantile;
  };
  const slowBucket = bounds.findIndex((_, index) => estimate(index) > p95Seconds);
  const slow = scenario(slowBucket === -1 ? bounds.length - 1 : slowBucket);
  const slowChecks = firesAndResolves(alert, context, slow.horizonMs, { job: jobs.app }, slow.condition);
  const groups: TestGroup[] = [
    {
      name: `${alert.name}: requests between ${slow.lower}s and ${slow.upper}s fire after ${alert.for}, then resolve`,
      alert,
      intervalMs,
      series: slow.series,
      checks: slowChecks,
    },
  ];
  const fastBucket = bounds.findLastIndex((bound) => bound <= p95Seconds);
  if (fastBucket !== -1) {
    const fast = scenario(fastBucket);
    groups.push({
      name: `${alert.name}: requests between ${fast.lower}s and ${fast.upper}s do not fire`,
      alert,
      intervalMs,
      series: fast.series,
      checks: neverFires(
        alert,
        context,
        fast.horizonMs,
        fast.condition,
        slowChecks.map((check) => check.at),
      ),
    });
  }
  return groups;
}

/** The Watchdog fires from the first evaluation on and never stops. */
export function watchdogTest(alert: BuiltInAlert, context: TestContext): TestGroup {
  const later = 10 * context.evaluationMs;
  const condition = () => 1;
  const steps = evaluateAlert(condition, context.evaluationMs, 0, later);
  return {
    name: `${alert.name}: fires from the first evaluation and keeps firing`,
    alert,
    intervalMs: context.evaluationMs,
    series: [],
    checks: steps
      .filter((step) => step.at === 0 || step.at === later)
      .map((step) => ({ at: step.at, firing: { labels: {}, value: step.value ?? 1 } })),
  };
}

/** A failure counter: zero, then one failure per sample for `for` and two evaluations more, then no more. */
export function counterFailureTest(
  alert: BuiltInAlert,
  context: TestContext,
  window: string,
  metric: {
    name: string;
    labels: Readonly<Record<string, string>>;
    alertLabels: readonly string[];
    what: string;
  },
): TestGroup {
  const windowMs = durationMs(window);
  const intervalMs = counterSampleInterval(context, windowMs);
  const perWindow = windowMs / intervalMs;
  const quiet = 2;
  const failing = samplesFor(durationMs(alert.for) + 2 * context.evaluationMs, intervalMs) + 1;
  const after = perWindow + samplesFor(2 * context.evaluationMs, intervalMs) + 1;
  const series: TestSeries = {
    metric: metric.name,
    labels: metric.labels,
    segments: counterPhases(0, [
      { step: 0, count: quiet },
      { step: 1, count: failing },
      { step: 0, count: after },
    ]),
  };
  const samples = samplesOf(series, intervalMs);
  return {
    name: `${alert.name}: ${metric.what} for ${alert.for}, then recovers`,
    alert,
    intervalMs,
    series: [series],
    checks: firesAndResolves(
      alert,
      context,
      horizon([series], intervalMs),
      pick(metric.labels, metric.alertLabels),
      (at) => filter(counterIncrease(samples, at, windowMs), (value) => value > 0),
    ),
  };
}

/** The Alertmanager count of a Prometheus drops to zero for `for` and two evaluations, then comes back. */
export function notConnectedTest(alert: BuiltInAlert, context: TestContext): TestGroup {
  const intervalMs = context.evaluationMs;
  const instance = firstPrometheus(context.endpoints);
  const disconnected = samplesFor(durationMs(alert.for), intervalMs) + 2;
  const series: TestSeries = {
    metric: stackMetricNames.alertmanagersDiscovered,
    labels: { job: jobs.prometheus, instance },
    segments: [
      { start: 1, step: 0, count: 2 },
      { start: 0, step: 0, count: disconnected },
      { start: 1, step: 0, count: 2 },
    ],
  };
  const samples = samplesOf(series, intervalMs);
  return {
    name: `${alert.name}: ${instance} loses its Alertmanager for ${alert.for}, then finds it again`,
    alert,
    intervalMs,
    series: [series],
    checks: firesAndResolves(
      alert,
      context,
      horizon([series], intervalMs),
      { job: jobs.prometheus, instance },
      (at) => filter(instantValue(samples, at), (value) => value < 1),
    ),
  };
}
