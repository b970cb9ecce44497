/**
 * The scenario families of the generated rule unit tests: each builds the input series of one kind of alert
 * and the checks that it fires when it should, with its labels and value, not before, and that it resolves.
 * Each built-in alert's behaviour (built-in-alerts.ts) picks its family.
 *
 * The expectations are exact by construction, not by modelling Prometheus's arithmetic:
 * - Counters grow at a constant rate, on a sample grid that divides the evaluation interval and the window,
 *   from a value far above zero (as on a long-lived process). increase() over a window that holds only busy
 *   samples then extrapolates to exactly rate x window, and a ratio of two such counters, or a quantile of
 *   one histogram bucket, is exact as soon as the window holds one busy increase.
 * - Each expected value has at most four significant digits (rule-test-series.ts), so rounding noise cannot
 *   change its text.
 * - A time is asserted only where the outcome does not depend on how far into a window extrapolation reaches:
 *   not firing before the busy phase plus `for`, firing once a whole window plus `for` was busy, resolved once
 *   a whole window was idle. Gauges, ratios and "any failure" counters switch at a known sample, so their
 *   alerts are checked at the exact evaluation at which they fire.
 */
import { apiRoutes, metricNames, requestDurationBuckets } from "../../service/metrics-contract";
import { jobs, probeLabel } from "../names";
import { alertedLatencyQuantile } from "../promql/queries";
import { prometheusSyntheticSeries } from "../promql/upstream-metrics";
import { type Endpoints, firstReplica } from "../runtime/endpoints";
import { durationMs } from "../settings/duration";
import type { AlertCheck, BuiltInAlert, TestContext, TestGroup } from "./alert";
import { counterPhases, fourDigits, type Gap, type Segment, type TestSeries } from "./rule-test-series";

export function firstPrometheus(endpoints: Endpoints): string {
  const first = endpoints.prometheus[0];
  if (first === undefined) throw new Error("the endpoints list no Prometheus replica");
  return first;
}

function gcd(...values: number[]): number {
  return values.reduce((a, b) => {
    let x = a;
    let y = b;
    while (y !== 0) [x, y] = [y, x % y];
    return x;
  });
}

/** The first evaluation at or after `ms`. */
function evaluationAtOrAfter(context: TestContext, ms: number): number {
  return Math.ceil(ms / context.evaluationMs) * context.evaluationMs;
}

/** The last evaluation before `ms`. */
function evaluationBefore(context: TestContext, ms: number): number {
  return evaluationAtOrAfter(context, ms) - context.evaluationMs;
}

/** How long after becoming true a condition fires: the first evaluation at least `for` later. */
function forOnGrid(alert: BuiltInAlert, context: TestContext): number {
  return evaluationAtOrAfter(context, durationMs(alert.for));
}

/**
 * A counter test's timeline: idle for a window and a sample, busy until a whole window plus `for` has been
 * busy and one evaluation more, then idle until a whole window has been idle and one evaluation more. The
 * sample interval divides the scrape interval (the spacing Prometheus really sees), the evaluation interval (so
 * every evaluation falls on a sample) and the window (so every window holds the same number of samples).
 */
function counterTimeline(context: TestContext, window: string, alert: BuiltInAlert) {
  const windowMs = durationMs(window);
  const intervalMs = gcd(context.scrapeIntervalMs, context.evaluationMs, windowMs);
  const perWindow = windowMs / intervalMs;
  const busyFromMs = (perWindow + 1) * intervalMs;
  /** Firing with the value of a whole busy window, whenever the condition first held. */
  const fullWindowFiringMs = evaluationAtOrAfter(context, busyFromMs + windowMs) + forOnGrid(alert, context);
  const idleFromMs = fullWindowFiringMs + context.evaluationMs + intervalMs;
  const resolvedMs = evaluationAtOrAfter(context, idleFromMs + windowMs);
  const samples = (ms: number) => ms / intervalMs;
  return {
    windowMs,
    intervalMs,
    perWindow,
    busyFromMs,
    fullWindowFiringMs,
    idleFromMs,
    resolvedMs,
    /** Phases for counterPhases, with this many increases per sample while busy. */
    phases: (perSample: number) => [
      { step: 0, count: samples(busyFromMs) },
      { step: perSample, count: samples(idleFromMs - busyFromMs) },
      { step: 0, count: samples(resolvedMs - idleFromMs + context.evaluationMs) + 1 },
    ],
  };
}

/** Far above anything a test adds, so that increase() never extrapolates towards the counter's zero. */
const longLivedCount = 1e6;

/** The job and one instance a per-job alert's test writes its series for: the demo app's unless it names one. */
export function testTarget(alert: BuiltInAlert, context: TestContext): { job: string; instance: string } {
  const job = alert.target?.job ?? jobs.app;
  return { job, instance: alert.target?.addresses?.[0] ?? context.endpoints.app };
}

const requestLabels = (alert: BuiltInAlert, context: TestContext, route: string, status: string) => ({
  ...testTarget(alert, context),
  method: "GET",
  route,
  status_code: status,
});

/** A test's name: an alert on a probe or a machine names it, a per-job alert of a job other than the demo app its job. */
function testName(alert: BuiltInAlert, what: string): string {
  if (alert.probe !== undefined) return `${alert.name} (probe ${alert.probe.name}): ${what}`;
  if (alert.host !== undefined) return `${alert.name} (host ${alert.host}): ${what}`;
  const job = alert.target?.job;
  return job === undefined || job === jobs.app
    ? `${alert.name}: ${what}`
    : `${alert.name} (job ${job}): ${what}`;
}

function distinctTimes(checks: readonly AlertCheck[]): AlertCheck[] {
  return checks.filter((check, index) => checks.findIndex((other) => other.at === check.at) === index);
}

/** Checks that a scenario never fires: at the times another scenario fires or resolves, and at its end. */
function neverFiring(times: readonly number[]): AlertCheck[] {
  return distinctTimes(times.map((at) => ({ at })));
}

/**
 * HighRequestVolume: a rate just above `maxRequests` per window fires and resolves, one just below never
 * fires, nor does one just below across an app restart (a counter reset, which increase() adds back).
 * "Just above" is `maxRequests + 1`, "just below" `maxRequests - 1`, each rounded away from the threshold to
 * four significant digits.
 */
export function requestVolumeTests(
  alert: BuiltInAlert,
  context: TestContext,
  { maxRequests, window }: { readonly maxRequests: number; readonly window: string },
): TestGroup[] {
  const timeline = counterTimeline(context, window, alert);
  const { intervalMs, perWindow } = timeline;
  const above = fourDigits(maxRequests + 1, "up");
  const below = fourDigits(maxRequests - 1, "down");
  const series = (segments: Segment[]): TestSeries => ({
    metric: metricNames.requestsTotal,
    labels: requestLabels(alert, context, apiRoutes.items, "200"),
    segments,
  });
  const firing = windowedCounterChecks(
    alert,
    context,
    timeline,
    { job: testTarget(alert, context).job },
    above,
  );

  // The app restarts after two windows of steady traffic just below the threshold, and counts on from 0.
  const perSampleBelow = below / perWindow;
  const restartAtSample = 2 * perWindow;
  const restartMs = restartAtSample * intervalMs;
  const afterRestart = 2 * perWindow + Math.ceil(durationMs(alert.for) / intervalMs) + 1;
  const restartEndMs = (restartAtSample + afterRestart - 1) * intervalMs;
  return [
    {
      name: testName(alert, `${above} requests per ${window} fire after ${alert.for}, then resolve`),
      alert,
      intervalMs,
      series: [series(counterPhases(longLivedCount, timeline.phases(above / perWindow)))],
      checks: firing,
    },
    {
      name: testName(alert, `${below} requests per ${window} do not fire`),
      alert,
      intervalMs,
      series: [series(counterPhases(longLivedCount, timeline.phases(perSampleBelow)))],
      checks: neverFiring(firing.map((check) => check.at)),
    },
    {
      name: testName(alert, `an app restart (counter reset) does not fire`),
      alert,
      intervalMs,
      series: [
        series([
          { start: longLivedCount, step: perSampleBelow, count: restartAtSample },
          { start: 0, step: perSampleBelow, count: afterRestart },
        ]),
      ],
      checks: neverFiring(
        [
          restartMs - context.evaluationMs,
          restartMs,
          restartMs + context.evaluationMs,
          restartMs + timeline.windowMs / 2,
          restartMs + timeline.windowMs,
          restartEndMs,
        ].map((at) => Math.floor(at / context.evaluationMs) * context.evaluationMs),
      ),
    },
  ];
}

/**
 * An alert on increase() above a threshold, with `valuePerWindow` increases per window while busy: not firing
 * before the busy phase has lasted `for` (it cannot hold before the phase), firing with exactly that value
 * once a whole window and `for` were busy, resolved once a whole window was idle.
 */
function windowedCounterChecks(
  alert: BuiltInAlert,
  context: TestContext,
  timeline: ReturnType<typeof counterTimeline>,
  labels: Readonly<Record<string, string>>,
  valuePerWindow: number,
): AlertCheck[] {
  return distinctTimes([
    { at: 0 },
    { at: evaluationBefore(context, timeline.busyFromMs + durationMs(alert.for)) },
    { at: timeline.fullWindowFiringMs, firing: { labels, value: valuePerWindow } },
    { at: timeline.resolvedMs },
  ]);
}

/**
 * An alert on a ratio of counters (or a quantile of their buckets), which takes its busy value as soon as the
 * window holds one busy increase: it becomes true at the first evaluation of the busy phase, fires exactly
 * `for` later, and resolves once a whole window was idle.
 */
function windowedRatioChecks(
  alert: BuiltInAlert,
  context: TestContext,
  timeline: ReturnType<typeof counterTimeline>,
  labels: Readonly<Record<string, string>>,
  value: number,
): AlertCheck[] {
  const firesMs = evaluationAtOrAfter(context, timeline.busyFromMs) + forOnGrid(alert, context);
  return distinctTimes([
    { at: evaluationBefore(context, firesMs) },
    { at: firesMs, firing: { labels, value } },
    { at: timeline.fullWindowFiringMs, firing: { labels, value } },
    { at: timeline.resolvedMs },
  ]);
}

/** A share strictly between `low` and `high`, near their middle, with at most three significant digits. */
function shareBetween(low: number, high: number): number {
  const share = Number(((low + high) / 2).toPrecision(3));
  if (share <= low || share >= high) throw new Error(`no short share lies between ${low} and ${high}`);
  return share;
}

/** Requests per sample in the ratio and latency tests. */
const requestsPerSample = 10;

/** HighErrorRate: a constant 5xx share above `maxRatio` fires and resolves; one below never fires. */
export function errorRateTests(
  alert: BuiltInAlert,
  context: TestContext,
  { maxRatio, window }: { readonly maxRatio: number; readonly window: string },
): TestGroup[] {
  const timeline = counterTimeline(context, window, alert);
  const counters = (errorShare: number): TestSeries[] =>
    (
      [
        ["200", 1 - errorShare],
        ["500", errorShare],
      ] as const
    ).map(([status, share]) => ({
      metric: metricNames.requestsTotal,
      labels: requestLabels(alert, context, apiRoutes.items, status),
      segments: counterPhases(longLivedCount, timeline.phases(requestsPerSample * share)),
    }));
  const above = shareBetween(maxRatio, 1);
  const below = shareBetween(0, maxRatio);
  const firing = windowedRatioChecks(
    alert,
    context,
    timeline,
    { job: testTarget(alert, context).job },
    above,
  );
  return [
    {
      name: testName(
        alert,
        `a 5xx share above ${maxRatio} over ${window} fires after ${alert.for}, then resolves`,
      ),
      alert,
      intervalMs: timeline.intervalMs,
      series: counters(above),
      checks: firing,
    },
    {
      name: testName(alert, `a 5xx share below ${maxRatio} does not fire`),
      alert,
      intervalMs: timeline.intervalMs,
      series: counters(below),
      checks: neverFiring(firing.map((check) => check.at)),
    },
  ];
}

/**
 * HighLatency: every request in one bucket of the duration histogram. histogram_quantile() interpolates
 * within the bucket (lower + (upper - lower) x q; the largest finite bound for the +Inf bucket), so the slow
 * case uses the first bucket whose estimate lies above the threshold, and the fast case the last bucket that
 * ends at or below it (none when the threshold is below every bucket).
 */
export function latencyTests(
  alert: BuiltInAlert,
  context: TestContext,
  { p95Seconds, window }: { readonly p95Seconds: number; readonly window: string },
): TestGroup[] {
  const timeline = counterTimeline(context, window, alert);
  const bounds = [...requestDurationBuckets, Number.POSITIVE_INFINITY];
  const largestFinite = Math.max(...requestDurationBuckets);
  const lowerOf = (index: number) => (index === 0 ? 0 : (bounds[index - 1] ?? 0));
  const estimate = (index: number) => {
    const upper = bounds[index] ?? Number.POSITIVE_INFINITY;
    if (upper === Number.POSITIVE_INFINITY) return largestFinite;
    return lowerOf(index) + (upper - lowerOf(index)) * alertedLatencyQuantile;
  };
  const histogram = (bucket: number): TestSeries[] =>
    bounds.map((bound, index) => ({
      metric: `${metricNames.requestDurationSeconds}_bucket`,
      labels: {
        ...requestLabels(alert, context, apiRoutes.slow, "200"),
        le: bound === Number.POSITIVE_INFINITY ? "+Inf" : String(bound),
      },
      segments: counterPhases(longLivedCount, timeline.phases(index >= bucket ? requestsPerSample : 0)),
    }));
  const describe = (bucket: number) =>
    `requests between ${lowerOf(bucket)}s and ${bounds[bucket] === Number.POSITIVE_INFINITY ? "+Inf" : `${bounds[bucket]}s`}`;

  const foundSlow = bounds.findIndex((_, index) => estimate(index) > p95Seconds);
  const slow = foundSlow === -1 ? bounds.length - 1 : foundSlow;
  const firing = windowedRatioChecks(
    alert,
    context,
    timeline,
    { job: testTarget(alert, context).job },
    estimate(slow),
  );
  const groups: TestGroup[] = [
    {
      name: testName(alert, `${describe(slow)} fire after ${alert.for}, then resolve`),
      alert,
      intervalMs: timeline.intervalMs,
      series: histogram(slow),
      checks: firing,
    },
  ];
  const fast = bounds.findLastIndex((bound) => bound <= p95Seconds);
  if (fast !== -1) {
    groups.push({
      name: testName(alert, `${describe(fast)} do not fire`),
      alert,
      intervalMs: timeline.intervalMs,
      series: histogram(fast),
      checks: neverFiring(firing.map((check) => check.at)),
    });
  }
  return groups;
}

/**
 * A gauge that leaves its healthy value for `for` and two evaluations, sampled at every evaluation: the alert
 * becomes true at the first unhealthy sample, fires exactly `for` later, and resolves at the first healthy one.
 */
function gaugeDropTest(
  alert: BuiltInAlert,
  context: TestContext,
  gauge: {
    readonly metric: string;
    readonly labels: Readonly<Record<string, string>>;
    /** The gauge's value while healthy and while not: 1 and 0 unless given. */
    readonly healthy?: number;
    readonly unhealthy?: number;
  },
  alertLabels: Readonly<Record<string, string>>,
  others: readonly TestSeries[] = [],
): { series: TestSeries[]; checks: AlertCheck[] } {
  const { healthy = 1, unhealthy: unhealthyValue = 0 } = gauge;
  const evaluationMs = context.evaluationMs;
  const healthyBefore = 2;
  const unhealthy = forOnGrid(alert, context) / evaluationMs + 2;
  const dropMs = healthyBefore * evaluationMs;
  const firesMs = dropMs + forOnGrid(alert, context);
  return {
    series: [
      {
        metric: gauge.metric,
        labels: gauge.labels,
        segments: [
          { start: healthy, step: 0, count: healthyBefore },
          { start: unhealthyValue, step: 0, count: unhealthy },
          { start: healthy, step: 0, count: 2 },
        ],
      },
      ...others,
    ],
    checks: distinctTimes([
      { at: evaluationBefore(context, firesMs) },
      { at: firesMs, firing: { labels: alertLabels, value: unhealthyValue } },
      { at: dropMs + unhealthy * evaluationMs },
    ]),
  };
}

/** `up == 0`: the target answers, stops answering for `for` and two evaluations more, then answers. */
export function targetDownTest(
  alert: BuiltInAlert,
  context: TestContext,
  job: string,
  down: string,
  alive: readonly string[],
  /** Labels the scrape job sets on every target, which the alert keeps. */
  targetLabels: Readonly<Record<string, string>> = {},
): TestGroup {
  const upSeries = (instance: string) => ({
    metric: prometheusSyntheticSeries.up,
    labels: { job, instance, ...targetLabels },
  });
  const { series, checks } = gaugeDropTest(alert, context, upSeries(down), {
    job,
    instance: down,
    ...targetLabels,
  });
  const samples = series[0]?.segments.reduce((total, { count }) => total + count, 0) ?? 0;
  const others = alive.map((instance) => ({
    ...upSeries(instance),
    segments: [{ start: 1, step: 0, count: samples }],
  }));
  return {
    name: testName(alert, `${down} stops answering scrapes for ${alert.for}, then answers again`),
    alert,
    intervalMs: context.evaluationMs,
    series: [...series, ...others],
    checks,
  };
}

/** The Alertmanager count of a Prometheus drops to zero for `for` and two evaluations, then comes back. */
export function notConnectedTest(alert: BuiltInAlert, context: TestContext, metric: string): TestGroup {
  const instance = firstPrometheus(context.endpoints);
  const labels = { job: jobs.prometheus, instance };
  const { series, checks } = gaugeDropTest(alert, context, { metric, labels }, labels);
  return {
    name: testName(alert, `${instance} loses its Alertmanager for ${alert.for}, then finds it again`),
    alert,
    intervalMs: context.evaluationMs,
    series,
    checks,
  };
}

/**
 * A gauge of one Alertmanager replica moves from `healthy` to `unhealthy` for `for` and two evaluations, then
 * back: the cluster's members dropping below the replicas, or its failed peers rising above none.
 */
export function alertmanagerClusterTest(
  alert: BuiltInAlert,
  context: TestContext,
  gauge: {
    readonly metric: string;
    readonly healthy: number;
    readonly unhealthy: number;
    readonly what: string;
    /** Also every Alertmanager target's `up`, answering throughout: the count the rule compares with. */
    readonly withTargets?: boolean;
  },
): TestGroup {
  const instance = firstReplica(context.endpoints.alertmanagers, "Alertmanager");
  const labels = { job: jobs.alertmanager, instance };
  const dropped = gaugeDropTest(alert, context, { ...gauge, labels }, labels);
  const samples = (dropped.series[0]?.segments ?? []).reduce((total, segment) => total + segment.count, 0);
  const targets: TestSeries[] = gauge.withTargets
    ? context.endpoints.alertmanagers.map((target) => ({
        metric: prometheusSyntheticSeries.up,
        labels: { job: jobs.alertmanager, instance: target },
        segments: [{ start: 1, step: 0, count: samples }],
      }))
    : [];
  return {
    name: testName(alert, `${instance} ${gauge.what} for ${alert.for}, then recovers`),
    alert,
    intervalMs: context.evaluationMs,
    series: [...dropped.series, ...targets],
    checks: dropped.checks,
  };
}

/** The Watchdog fires from the first evaluation on and never stops. */
export function watchdogTest(alert: BuiltInAlert, context: TestContext): TestGroup {
  return {
    name: testName(alert, `fires from the first evaluation and keeps firing`),
    alert,
    intervalMs: context.evaluationMs,
    series: [],
    checks: [0, 10 * context.evaluationMs].map((at) => ({ at, firing: { labels: {}, value: 1 } })),
  };
}

/**
 * A failure counter of a long-running process: no failures, then failures at a constant rate, then none. Any
 * failure makes the condition (increase > 0) true, so the alert becomes true at the first evaluation of the
 * failing phase and fires exactly `for` later. At that moment the window holds j of its m - 1 increases, and
 * increase() extrapolates them by m / (m - 1) (a window of m samples spans m - 1 intervals; Prometheus's
 * extrapolatedRate extends it to the window's start, one interval away): the rate is chosen so that this
 * value is a short number of failures.
 */
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
  const timeline = counterTimeline(context, window, alert);
  const { intervalMs, perWindow } = timeline;
  const firesMs = evaluationAtOrAfter(context, timeline.busyFromMs) + forOnGrid(alert, context);
  const increases = Math.min((firesMs - timeline.busyFromMs) / intervalMs + 1, perWindow - 1);
  const failures = fourDigits(increases, "up");
  const perSample = (failures * (perWindow - 1)) / (increases * perWindow);
  const alertLabels = Object.fromEntries(metric.alertLabels.map((name) => [name, metric.labels[name] ?? ""]));
  return {
    name: testName(alert, `${metric.what} for ${alert.for}, then recovers`),
    alert,
    intervalMs,
    series: [
      {
        metric: metric.name,
        labels: metric.labels,
        segments: counterPhases(longLivedCount, timeline.phases(perSample)),
      },
    ],
    checks: distinctTimes([
      { at: evaluationBefore(context, firesMs) },
      { at: firesMs, firing: { labels: alertLabels, value: failures } },
      { at: timeline.resolvedMs },
    ]),
  };
}

/** A gauge that takes a new value at each start of what it describes, such as cAdvisor's container start time. */
export interface StartTimeGauge {
  readonly name: string;
  /** Labels of the series; the alert keeps them all. */
  readonly labels: Readonly<Record<string, string>>;
}

/** Where the start-time gauge of the restart tests begins: a start time in seconds since the epoch. */
const firstStartTime = 1_700_000_000;

/**
 * An alert on more than `maxRestarts` starts within `window`: after a window without one, the gauge takes a new
 * value at every sample (a crash loop) until the alert has fired and one evaluation more, then holds. The
 * condition is true from the sample of the (maxRestarts + 1)-th start, fires `for` later with the starts within
 * the window as its value, and resolves once the window holds maxRestarts of them. The same loop stopped after
 * maxRestarts starts never fires. The sample interval divides the scrape and evaluation intervals and the
 * window, as the counter tests' does.
 */
export function restartTests(
  alert: BuiltInAlert,
  context: TestContext,
  { maxRestarts, window }: { readonly maxRestarts: number; readonly window: string },
  gauge: StartTimeGauge,
): TestGroup[] {
  const windowMs = durationMs(window);
  const intervalMs = gcd(context.scrapeIntervalMs, context.evaluationMs, windowMs);
  const first = windowMs / intervalMs + 1;
  const firesMs =
    evaluationAtOrAfter(context, (first + maxRestarts) * intervalMs) + forOnGrid(alert, context);
  const last = Math.ceil((firesMs + context.evaluationMs) / intervalMs);
  /** Starts at samples from..to (each a change from the sample before) within (atMs - window, atMs]. */
  const startsWithin = (atMs: number, to: number) => {
    let count = 0;
    for (let sample = first; sample <= to; sample++) {
      if (sample * intervalMs <= atMs && (sample - 1) * intervalMs > atMs - windowMs) count++;
    }
    return count;
  };
  const resolvedMs = evaluationAtOrAfter(context, (last - maxRestarts - 1) * intervalMs + windowMs);
  const endMs = resolvedMs + context.evaluationMs;
  const series = (lastStart: number): TestSeries[] => {
    const starts = lastStart - first + 1;
    return [
      {
        metric: gauge.name,
        labels: gauge.labels,
        segments: [
          { start: firstStartTime, step: 0, count: first },
          { start: firstStartTime + 1, step: 1, count: starts },
          { start: firstStartTime + starts, step: 0, count: endMs / intervalMs + 1 - first - starts },
        ],
      },
    ];
  };
  const checks = distinctTimes([
    { at: evaluationBefore(context, firesMs) },
    { at: firesMs, firing: { labels: gauge.labels, value: startsWithin(firesMs, last) } },
    { at: resolvedMs },
  ]);
  return [
    {
      name: testName(
        alert,
        `a start every sample, fires after ${alert.for} past ${maxRestarts} starts, then resolves`,
      ),
      alert,
      intervalMs,
      series: series(last),
      checks,
    },
    {
      name: testName(alert, `${maxRestarts} starts in a row, then none: does not fire`),
      alert,
      intervalMs,
      series: series(first + maxRestarts - 1),
      checks: neverFiring(checks.map((check) => check.at)),
    },
  ];
}

/** A gauge ratio of two series, such as free over total bytes, as node exporter exposes them. */
export interface RatioSeries {
  readonly numerator: string;
  readonly denominator: string;
  /** Labels of both series; the alert keeps them all. */
  readonly labels: Readonly<Record<string, string>>;
  /** What the ratio is, for the tests' names: "free space", "available memory". */
  readonly what: string;
  /** Series the alert must ignore, held below the threshold throughout (a tmpfs, say). */
  readonly ignored?: readonly { readonly labels: Readonly<Record<string, string>>; readonly why: string }[];
}

/** The denominator of the ratio tests: large enough that a four-digit ratio times it is a whole number. */
const ratioTotal = 1e6;

/**
 * An alert on a gauge ratio falling below `minRatio`: from a comfortable value the ratio drops to just below
 * the threshold for `for` and two evaluations, then recovers. It becomes true at the first low sample, fires
 * exactly `for` later with the low ratio as its value, and resolves at the first recovered sample. The same
 * drop to just above the threshold never fires. "Just below" and "just above" are 1% of the threshold away,
 * rounded away from it to four significant digits, so each ratio is exact (numerator over 10^6).
 */
export function ratioBelowTests(
  alert: BuiltInAlert,
  context: TestContext,
  minRatio: number,
  ratio: RatioSeries,
): TestGroup[] {
  const below = fourDigits(minRatio * 0.99, "down");
  const above = fourDigits(minRatio * 1.01, "up");
  const comfortable = fourDigits((1 + minRatio) / 2, "up");
  const evaluationMs = context.evaluationMs;
  const before = 2;
  const low = forOnGrid(alert, context) / evaluationMs + 2;
  const after = 2;
  const dropMs = before * evaluationMs;
  const firesMs = dropMs + forOnGrid(alert, context);
  const recoveredMs = dropMs + low * evaluationMs;
  const pair = (labels: Readonly<Record<string, string>>, segments: Segment[]): TestSeries[] => [
    { metric: ratio.numerator, labels, segments },
    {
      metric: ratio.denominator,
      labels,
      segments: [{ start: ratioTotal, step: 0, count: before + low + after }],
    },
  ];
  const dropTo = (value: number): Segment[] => [
    { start: Math.round(comfortable * ratioTotal), step: 0, count: before },
    { start: Math.round(value * ratioTotal), step: 0, count: low },
    { start: Math.round(comfortable * ratioTotal), step: 0, count: after },
  ];
  const ignored = (ratio.ignored ?? []).flatMap(({ labels }) =>
    pair(labels, [{ start: Math.round(below * ratioTotal), step: 0, count: before + low + after }]),
  );
  const ignoring = (ratio.ignored ?? []).map(({ why }) => `; ${why} stays below it and is ignored`).join("");
  const checks = distinctTimes([
    { at: evaluationBefore(context, firesMs) },
    { at: firesMs, firing: { labels: ratio.labels, value: below } },
    { at: recoveredMs },
  ]);
  return [
    {
      name: testName(
        alert,
        `${ratio.what} at ${below}, just below ${minRatio}, fires after ${alert.for}, then resolves${ignoring}`,
      ),
      alert,
      intervalMs: evaluationMs,
      series: [...pair(ratio.labels, dropTo(below)), ...ignored],
      checks,
    },
    {
      name: testName(alert, `${ratio.what} at ${above}, just above ${minRatio}, does not fire`),
      alert,
      intervalMs: evaluationMs,
      series: pair(ratio.labels, dropTo(above)),
      checks: neverFiring([...checks.map((check) => check.at), dropMs + (low - 1) * evaluationMs]),
    },
  ];
}

/** A probe's series' labels: the `probe` job, the probed target as `instance`, and the probe's name. */
export function probeTestLabels(alert: BuiltInAlert): Record<string, string> {
  if (alert.probe === undefined) throw new Error(`${alert.name} is not an alert on a probe`);
  return { job: jobs.probe, instance: alert.probe.target, [probeLabel]: alert.probe.name };
}

/** `probe_success == 0`: the probe succeeds, fails for `for` and two evaluations more, then succeeds. */
export function probeFailedTest(alert: BuiltInAlert, context: TestContext, metric: string): TestGroup {
  const labels = probeTestLabels(alert);
  const { series, checks } = gaugeDropTest(alert, context, { metric, labels }, labels);
  return {
    name: testName(alert, `the probe fails, fires after ${alert.for}, then resolves`),
    alert,
    intervalMs: context.evaluationMs,
    series,
    checks,
  };
}

/** A level of a gauge test, held for some evaluations. */
export interface GaugeLevel {
  readonly level: number;
  /** Its first sample's index in the series, counted from 0 at time 0. */
  readonly firstSample: number;
  readonly count: number;
}

/** A gauge that crosses a threshold, and how its test writes and reads it. */
export interface ThresholdGauge {
  /** `above`: the alert fires over the threshold; `below`: under it. */
  readonly direction: "above" | "below";
  readonly threshold: number;
  /** What the gauge is, for the tests' names: "probe duration". */
  readonly what: string;
  /** Labels of the firing alert. */
  readonly labels: Readonly<Record<string, string>>;
  /** The input series that hold these levels, in order. */
  series(levels: readonly GaugeLevel[], intervalMs: number): TestSeries[];
  /** The alert's value at a level, as Prometheus computes it from the series. */
  valueAt(level: number): number;
}

/**
 * An alert on a gauge crossing a threshold: from a comfortable level the gauge moves just past the threshold
 * for `for` and two evaluations, then comes back. It becomes true at the first sample past it, fires exactly
 * `for` later, and resolves at the first sample back. The same move to just short of the threshold never
 * fires. "Just past" and "just short" are 1% of the threshold away, rounded away from it to four digits.
 */
export function thresholdGaugeTests(
  alert: BuiltInAlert,
  context: TestContext,
  gauge: ThresholdGauge,
): TestGroup[] {
  const over = gauge.direction === "above";
  const past = fourDigits(gauge.threshold * (over ? 1.01 : 0.99), over ? "up" : "down");
  const short = fourDigits(gauge.threshold * (over ? 0.99 : 1.01), over ? "down" : "up");
  const comfortable = fourDigits(gauge.threshold * (over ? 0.5 : 2), over ? "down" : "up");
  const evaluationMs = context.evaluationMs;
  const before = 2;
  const moved = forOnGrid(alert, context) / evaluationMs + 2;
  const after = 2;
  const moveMs = before * evaluationMs;
  const firesMs = moveMs + forOnGrid(alert, context);
  const backMs = moveMs + moved * evaluationMs;
  const levels = (level: number): GaugeLevel[] => [
    { level: comfortable, firstSample: 0, count: before },
    { level, firstSample: before, count: moved },
    { level: comfortable, firstSample: before + moved, count: after },
  ];
  const checks = distinctTimes([
    { at: evaluationBefore(context, firesMs) },
    { at: firesMs, firing: { labels: gauge.labels, value: gauge.valueAt(past) } },
    { at: backMs },
  ]);
  const side = over ? "above" : "below";
  const otherSide = over ? "below" : "above";
  return [
    {
      name: testName(
        alert,
        `${gauge.what} at ${past}, just ${side} ${gauge.threshold}, fires after ${alert.for}, then resolves`,
      ),
      alert,
      intervalMs: evaluationMs,
      series: gauge.series(levels(past), evaluationMs),
      checks,
    },
    {
      name: testName(alert, `${gauge.what} at ${short}, just ${otherSide} ${gauge.threshold}, does not fire`),
      alert,
      intervalMs: evaluationMs,
      series: gauge.series(levels(short), evaluationMs),
      checks: neverFiring([...checks.map((check) => check.at), moveMs + (moved - 1) * evaluationMs]),
    },
  ];
}

/** A counter whose rate over a window is what an alert compares with a ratio, and how the tests write it. */
export interface RatioRateCounter {
  readonly metric: string;
  /** Labels of the counter's series. */
  readonly labels: Readonly<Record<string, string>>;
  /** Labels of the firing alert. */
  readonly alertLabels: Readonly<Record<string, string>>;
  /** What the ratio is, for the tests' names: "CPU busy", "disk busy". */
  readonly what: string;
  /** The counter's rate (per second) at which the alert's value is `ratio`. */
  rateFor(ratio: number): number;
}

/**
 * An alert on a ratio from a counter's rate over `window` rising above `maxRatio`: the counter runs at a
 * comfortable rate, at one just past the threshold until a whole window and `for` were past it, then at the
 * comfortable rate again. Not firing before the phase has lasted `for`, firing with exactly the past value once a
 * whole window and `for` were past it, resolved once a whole window was back. The same phase just short of the
 * threshold never fires. "Just past" is 1% of the threshold above it (halfway to 1 when that is 1 or more),
 * "just short" 1% below, each rounded away from it to four significant digits.
 */
export function rateAboveTests(
  alert: BuiltInAlert,
  context: TestContext,
  { maxRatio, window }: { readonly maxRatio: number; readonly window: string },
  counter: RatioRateCounter,
): TestGroup[] {
  const timeline = counterTimeline(context, window, alert);
  const nearPast = fourDigits(maxRatio * 1.01, "up");
  const past = nearPast < 1 ? nearPast : shareBetween(maxRatio, 1);
  const short = fourDigits(maxRatio * 0.99, "down");
  const comfortable = fourDigits(maxRatio / 2, "down");
  const seconds = timeline.intervalMs / 1000;
  const series = (ratio: number): TestSeries[] => [
    {
      metric: counter.metric,
      labels: counter.labels,
      segments: counterPhases(
        longLivedCount,
        timeline.phases(1).map(({ count }, phase) => ({
          step: counter.rateFor(phase === 1 ? ratio : comfortable) * seconds,
          count,
        })),
      ),
    },
  ];
  const firing = windowedCounterChecks(alert, context, timeline, counter.alertLabels, past);
  return [
    {
      name: testName(
        alert,
        `${counter.what} at ${past}, just above ${maxRatio}, over ${window} fires after ${alert.for}, then resolves`,
      ),
      alert,
      intervalMs: timeline.intervalMs,
      series: series(past),
      checks: firing,
    },
    {
      name: testName(alert, `${counter.what} at ${short}, just below ${maxRatio}, does not fire`),
      alert,
      intervalMs: timeline.intervalMs,
      series: series(short),
      checks: neverFiring([
        ...firing.map((check) => check.at),
        evaluationBefore(context, timeline.idleFromMs),
      ]),
    },
  ];
}

/** A filesystem's free space, as the disk prediction tests write it. */
export interface FillingFilesystem {
  readonly metric: string;
  /** Labels of its series; the alert keeps them all. */
  readonly labels: Readonly<Record<string, string>>;
  /** A filesystem the alert must ignore, filling faster throughout (a tmpfs, say). */
  readonly ignored?: { readonly labels: Readonly<Record<string, string>>; readonly why: string };
}

/** Bytes the filesystem of the prediction tests loses per sample while it fills. */
const bytesPerSample = 2;

/**
 * An alert on free space predicted by predict_linear() to be below zero in `hours`: the free space falls by the
 * same bytes every sample, so the regression is exact whatever the window holds. Its time to full passes
 * below `hours` between two samples (half a sample either side); it fires exactly `for` later, and resolves at
 * the first sample after space is freed (a jump far above, which turns the regression upward). The same fall,
 * shifted so that half a sample more than `hours` is left at its last sample, never fires.
 */
export function predictedFullTests(
  alert: BuiltInAlert,
  context: TestContext,
  { hours }: { readonly hours: number },
  filesystem: FillingFilesystem,
): TestGroup[] {
  const evaluationMs = context.evaluationMs;
  const perSecond = bytesPerSample / (evaluationMs / 1000);
  /** The free space whose regression predicts exactly zero in `hours`, at this rate. */
  const fullIn = perSecond * hours * 3600;
  const before = 2;
  const forSamples = forOnGrid(alert, context) / evaluationMs;
  const falling = before + forSamples + 2;
  const after = 2;
  const crossMs = before * evaluationMs;
  const firesMs = crossMs + forOnGrid(alert, context);
  const freedMs = falling * evaluationMs;
  /** Falling from the sample at which `bytesPerSample / 2` beyond the zero prediction is left. */
  const fall = (halfSampleAt: number, sign: 1 | -1): Segment[] => [
    {
      start: fullIn + bytesPerSample * halfSampleAt + (sign * bytesPerSample) / 2,
      step: -bytesPerSample,
      count: falling,
    },
    { start: fullIn * 10, step: 0, count: after },
  ];
  const ignored = filesystem.ignored
    ? [
        {
          metric: filesystem.metric,
          labels: filesystem.ignored.labels,
          segments: [{ start: fullIn, step: -bytesPerSample * 10, count: falling + after }],
        },
      ]
    : [];
  const checks = distinctTimes([
    { at: evaluationBefore(context, firesMs) },
    { at: firesMs, firing: { labels: filesystem.labels, value: -bytesPerSample * (forSamples + 0.5) } },
    { at: freedMs },
  ]);
  const ignoring = filesystem.ignored ? `; ${filesystem.ignored.why} filling faster is ignored` : "";
  return [
    {
      name: testName(
        alert,
        `free space falling to full within just under ${hours}h fires after ${alert.for}, then resolves once freed${ignoring}`,
      ),
      alert,
      intervalMs: evaluationMs,
      series: [
        { metric: filesystem.metric, labels: filesystem.labels, segments: fall(before, -1) },
        ...ignored,
      ],
      checks,
    },
    {
      name: testName(alert, `free space falling to full in just over ${hours}h does not fire`),
      alert,
      intervalMs: evaluationMs,
      series: [{ metric: filesystem.metric, labels: filesystem.labels, segments: fall(falling - 1, 1) }],
      checks: neverFiring([...checks.map((check) => check.at), (falling - 1) * evaluationMs]),
    },
  ];
}

/** The containers an alert on missing containers expects, as their exporter's series show them. */
export interface ExpectedContainers {
  /** A series every running container has, of any value: that it is there is all the alert reads. */
  readonly metric: string;
  /** The label of the series that holds the container's name. */
  readonly nameLabel: string;
  readonly names: readonly string[];
  /** Labels of the exporter's target, on its `up` and on every container's series. */
  readonly targetLabels: Readonly<Record<string, string>>;
  /** Labels of the firing alert but the container's name. */
  readonly alertLabels: Readonly<Record<string, string>>;
}

/**
 * An alert on an expected container absent from its exporter's series while the exporter answers: one container
 * vanishes (its series goes stale) for `for` and two evaluations, then comes back. It becomes true at the first
 * missing sample, fires exactly `for` later with the container's name, and resolves when it is back. A container
 * that starts late, present from exactly `for` on, never fires: starting up is what `for` allows. Nor does
 * anything fire while the exporter does not answer (`up` 0, every series gone). None without containers.
 */
export function missingContainerTests(
  alert: BuiltInAlert,
  context: TestContext,
  containers: ExpectedContainers,
): TestGroup[] {
  const vanishing = containers.names[0];
  const late = containers.names.at(-1);
  if (vanishing === undefined || late === undefined) return [];
  const evaluationMs = context.evaluationMs;
  const forSamples = forOnGrid(alert, context) / evaluationMs;
  const before = 2;
  const gone = forSamples + 2;
  const total = before + gone + 2;
  const dropMs = before * evaluationMs;
  const firesMs = dropMs + forOnGrid(alert, context);
  const backMs = dropMs + gone * evaluationMs;
  const present = (count: number): Segment => ({ start: firstStartTime, step: 0, count });
  const missing = (count: number): Gap => ({ stale: true, count });
  const container = (name: string, segments: (Segment | Gap)[]): TestSeries => ({
    metric: containers.metric,
    labels: { ...containers.targetLabels, [containers.nameLabel]: name },
    segments,
  });
  const up = (segments: Segment[]): TestSeries => ({
    metric: prometheusSyntheticSeries.up,
    labels: containers.targetLabels,
    segments,
  });
  const checks = distinctTimes([
    { at: evaluationBefore(context, firesMs) },
    {
      at: firesMs,
      firing: { labels: { ...containers.alertLabels, [containers.nameLabel]: vanishing }, value: 1 },
    },
    { at: backMs },
  ]);
  const quiet = neverFiring([0, ...checks.map((check) => check.at), (total - 1) * evaluationMs]);
  /** Every container there throughout, but `odd`, and the exporter answering. */
  const allBut = (odd: string, segments: (Segment | Gap)[]): TestSeries[] => [
    ...containers.names.map((name) => container(name, name === odd ? segments : [present(total)])),
    up([{ start: 1, step: 0, count: total }]),
  ];
  return [
    {
      name: testName(alert, `${vanishing} is gone for ${alert.for}, fires, then resolves once it is back`),
      alert,
      intervalMs: evaluationMs,
      series: allBut(vanishing, [present(before), missing(gone), present(2)]),
      checks,
    },
    {
      name: testName(alert, `${late} starts ${alert.for} after the others: does not fire`),
      alert,
      intervalMs: evaluationMs,
      series: allBut(late, [missing(forSamples), present(total - forSamples)]),
      checks: quiet,
    },
    {
      name: testName(alert, "the exporter stops answering and every container's series goes: does not fire"),
      alert,
      intervalMs: evaluationMs,
      series: [
        ...containers.names.map((name) => container(name, [present(before), missing(total - before)])),
        up([
          { start: 1, step: 0, count: before },
          { start: 0, step: 0, count: total - before },
        ]),
      ],
      checks: quiet,
    },
  ];
}
