/**
 * `tests/slo.test.yml`: promtool unit tests of rules/slo.yml, generated from the same settings. For each SLO
 * and each burn-rate pair, after clean traffic longer than every window: an error ratio 1.5 times the pair's
 * factor is not firing a fifth of a long window in and fires, at the pair's severity, once it fills the long
 * window; one half the factor never fires. Clean traffic fires nothing, a counter reset (an app restart) raises
 * no alert, and missing series raise SLOMetricsAbsent after its `for`, not before.
 *
 * Exact by construction rather than by modelling Prometheus to the bit: counters sampled at the same times, far
 * from zero, at constant rates. The shortest window's ratio is then the share of bad increments between the
 * samples in it, whatever rate()'s extrapolation, which scales both rates alike. A longer window sums those
 * rates over the evaluations within it (`windowRatio`), each weighted by its extrapolation: after the clean
 * traffic the windows that can fire hold only full ones, which weigh alike. Every pair, not only the one under test, is expected as that
 * arithmetic says; a firing one's value is the pair's ratio exactly, whose burn rate has at most four significant
 * digits and prints exactly. The checks sit at least 10% from any pair's threshold (rule-tests.test.ts asserts
 * it).
 *
 * Samples come every fifth of the shortest window, and rules are evaluated once per short window of the pair:
 * constant rates give the same ratios at any sampling, and a 3d window then takes hundreds of evaluations
 * instead of hundreds of thousands. promtool evaluates every group at the file's interval, in the
 * order the file lists them (`group_eval_order`): the rates, the windows made of them, then the alerts.
 */
import { posix } from "node:path";
import { apiRoutes, metricNames } from "../../service/metrics-contract";
import { jobs, sloAlertNames } from "../names";
import {
  counterPhases,
  humanize,
  humanizePercentage,
  type Segment,
  seriesValues,
} from "../prometheus/rule-test-series";
import { bucketLabel } from "../promql/queries";
import type { Endpoints } from "../runtime/endpoints";
import { renderedPaths } from "../runtime/layout";
import { durationMs, formatDuration } from "../settings/duration";
import { httpContractJobs } from "../settings/monitored-jobs";
import type { Settings } from "../settings/schema";
import { generatedYaml } from "../yaml";
import {
  burnAlertLabels,
  type Objective,
  objectives,
  type SloAlertRule,
  sloAlertRules,
  sloRuleGroups,
} from "./rules";
import { maxPageErrorShare } from "./settings";
import { alertWindowsMs, type BurnRatePair, shortestWindowMs } from "./windows";

/** Samples per shortest window. */
const samplesPerShortestWindow = 5;
/** Requests per sample: large, so that a share of them rounds to a whole number with no visible error. */
const requestsPerSample = 1_000_000_000_000;
/** Where every counter starts: far from zero, so that rate() never clips its extrapolation at zero. */
const counterBase = 1_000_000_000_000_000;
/** As far above the factor as validation leaves room for below 100% of requests failing. */
const aboveFactor = 1 / maxPageErrorShare;
const belowFactor = 0.5;

/** Bad requests per sample through consecutive phases; the counters restart from zero after `resetAfter` steps. */
interface Traffic {
  readonly intervalMs: number;
  readonly phases: readonly { readonly steps: number; readonly bad: number }[];
  /** No series of bad requests at all (clean traffic): the error ratio must still be 0, not empty. */
  readonly noBadSeries?: boolean;
  readonly resetAfter?: number;
}

interface ExpectedAlert {
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
}

interface Check {
  readonly atMs: number;
  readonly alertname: string;
  readonly alerts: readonly ExpectedAlert[];
  /** The smallest distance of any pair's burn rate, on either window, from its factor; share of the factor. */
  readonly margin?: number;
}

interface TestCase {
  readonly name: string;
  readonly intervalMs: number;
  readonly series: readonly { readonly selector: string; readonly segments: readonly Segment[] }[];
  readonly checks: readonly Check[];
}

/** Bad increments per step, step 1 being the increase from sample 0 to sample 1. */
function badPerStep(traffic: Traffic): number[] {
  return [0, ...traffic.phases.flatMap((phase) => Array.from({ length: phase.steps }, () => phase.bad))];
}

/** Bad increments up to each sample, from sample 0: a window's are a difference of two, whatever its length. */
function badSums(traffic: Traffic): number[] {
  let sums = badSumsOf.get(traffic);
  if (sums === undefined) {
    let total = 0;
    sums = badPerStep(traffic).map((bad) => {
      total += bad;
      return total;
    });
    badSumsOf.set(traffic, sums);
  }
  return sums;
}

const badSumsOf = new WeakMap<Traffic, number[]>();

/** When the rules are evaluated, and the shortest window, the one rate() reads the samples over. */
export interface Evaluation {
  readonly shortestMs: number;
  readonly everyMs: number;
}

/**
 * rate() over (at - window, at] of the bad and of all requests, as increments between the samples in it times
 * the extrapolation both share (Prometheus's extrapolatedRate: to each edge of the window when the samples
 * reach within 1.1 intervals of it, else half an interval); undefined with fewer than two samples.
 */
function shortestRates(traffic: Traffic, atMs: number, windowMs: number) {
  const badBefore = badSums(traffic);
  const interval = traffic.intervalMs;
  const first = Math.max(0, Math.floor((atMs - windowMs) / interval) + 1);
  const last = Math.min(badBefore.length - 1, Math.floor(atMs / interval));
  if (last - first < 1) return undefined;
  const sampledMs = (last - first) * interval;
  const edge = (gapMs: number) => (gapMs >= 1.1 * interval ? interval / 2 : gapMs);
  const extrapolation =
    (sampledMs + edge(first * interval - (atMs - windowMs)) + edge(atMs - last * interval)) / sampledMs;
  return {
    bad: extrapolation * ((badBefore[last] ?? 0) - (badBefore[first] ?? 0)),
    all: extrapolation * (last - first) * requestsPerSample,
  };
}

/**
 * The error ratio the rules give over (at - window, at]: over the shortest window, bad over all increments
 * between the samples in it; over a longer one, the sums of the shortest window's recorded rates at each
 * evaluation within it. Undefined when rate() returns nothing throughout.
 */
export function windowRatio(
  traffic: Traffic,
  atMs: number,
  windowMs: number,
  evaluation: Evaluation,
): number | undefined {
  const points =
    windowMs === evaluation.shortestMs
      ? [atMs]
      : Array.from(
          { length: Math.round(windowMs / evaluation.everyMs) },
          (_, index) => atMs - index * evaluation.everyMs,
        ).filter((at) => at >= 0);
  const rates = points.flatMap((at) => shortestRates(traffic, at, evaluation.shortestMs) ?? []);
  if (rates.length === 0) return undefined;
  const sum = (key: "bad" | "all") => rates.reduce((total, rate) => total + rate[key], 0);
  return sum("bad") / sum("all");
}

/** Where a burn rate is against a pair's factor, as a share of the factor: above it when positive. */
function relativeToFactor(objective: Objective, pair: BurnRatePair, ratio: number): number {
  return ratio / (1 - objective.objective) / pair.factor - 1;
}

/**
 * How safe a pair's outcome at `atMs` is from rounding: firing needs both windows above the factor, so a firing
 * pair is as safe as its nearer window; a silent one as its window furthest below (or entirely, without data).
 */
function decisionMargin(
  objective: Objective,
  pair: BurnRatePair,
  traffic: Traffic,
  atMs: number,
  evaluation: Evaluation,
): number {
  const long = windowRatio(traffic, atMs, pair.longMs, evaluation);
  const short = windowRatio(traffic, atMs, pair.shortMs, evaluation);
  if (long === undefined || short === undefined) return Number.POSITIVE_INFINITY;
  const sides = [relativeToFactor(objective, pair, long), relativeToFactor(objective, pair, short)];
  const below = sides.filter((side) => side < 0);
  return below.length === 0 ? Math.min(...sides) : Math.max(...below.map((side) => -side));
}

function ruleOf(objective: Objective, pair: BurnRatePair, settings: Settings): SloAlertRule {
  const rule = sloAlertRules(settings, objective.name).find(
    (candidate) => candidate.labels.long === pair.long,
  );
  if (!rule)
    throw new Error(
      `no ${sloAlertNames.errorBudgetBurn} rule of the ${objective.name} SLO over ${pair.long}`,
    );
  return rule;
}

/** The annotations a firing rule expands to, with its value printed as the templates print it. */
function expandedAnnotations(
  rule: SloAlertRule,
  value: number,
  labels: Readonly<Record<string, string>> = {},
  pair?: BurnRatePair,
  windowMs?: number,
) {
  const valueText = humanize(value);
  const expand = (template: string) => {
    let text = template.replaceAll("{{ $value | humanize }}", valueText);
    for (const [label, labelValue] of Object.entries(labels))
      text = text.replaceAll(`{{ $labels.${label} }}`, labelValue);
    if (pair && windowMs) {
      const share = (value * (pair.longMs / 1000)) / (windowMs / 1000);
      text = text.replace(/\{\{ with printf .*?\{\{ end \}\}/, humanizePercentage(share));
    }
    return text;
  };
  return Object.fromEntries(
    Object.entries(rule.annotations).map(([key, template]) => [key, expand(template)]),
  );
}

/** The ErrorBudgetBurn alerts of one SLO firing at `atMs` under `traffic`: every pair, as the arithmetic says. */
function expectedBurns(
  settings: Settings,
  objective: Objective,
  traffic: Traffic,
  atMs: number,
  evaluation: Evaluation,
): ExpectedAlert[] {
  const budget = 1 - objective.objective;
  return objective.pairs.flatMap((pair): ExpectedAlert[] => {
    const long = windowRatio(traffic, atMs, pair.longMs, evaluation);
    const short = windowRatio(traffic, atMs, pair.shortMs, evaluation);
    if (long === undefined || short === undefined) return [];
    if (!(long / budget > pair.factor && short / budget > pair.factor)) return [];
    return [
      {
        labels: { ...burnAlertLabels(objective, pair), job: jobs.app },
        annotations: expandedAnnotations(
          ruleOf(objective, pair, settings),
          long / budget,
          {},
          pair,
          objective.windowMs,
        ),
      },
    ];
  });
}

/** Runs of equal steps, as counterPhases takes them. */
function runs(perStep: readonly number[]): { step: number; count: number }[] {
  const merged: { step: number; count: number }[] = [];
  for (const step of perStep) {
    const last = merged.at(-1);
    if (last && last.step === step) last.count += 1;
    else merged.push({ step, count: 1 });
  }
  return merged;
}

/** The two series an SLO is computed from, good and all requests, as counters of `traffic`. */
function sliSeries(settings: Settings, objective: Objective, traffic: Traffic, endpoints: Endpoints) {
  const base = { job: jobs.app, instance: endpoints.app, method: "GET", route: apiRoutes.items };
  const counter = (perStep: (bad: number) => number): Segment[] => {
    const increments = badPerStep(traffic).slice(1).map(perStep);
    const split = traffic.resetAfter ?? increments.length;
    const before = counterPhases(counterBase, [{ step: 0, count: 1 }, ...runs(increments.slice(0, split))]);
    const after = increments.slice(split);
    // The app restarting: the counter starts again from zero and counts on; rate() adds what it lost.
    return after.length === 0 ? before : [...before, ...counterPhases(after[0] ?? 0, runs(after))];
  };
  const good = counter((bad) => requestsPerSample - bad);
  const all = counter(() => requestsPerSample);
  const bad = counter((perStep) => perStep);
  const selector = (metric: string, labels: Record<string, string>) =>
    `${metric}{${Object.entries(labels)
      .map(([label, value]) => `${label}=${JSON.stringify(value)}`)
      .join(",")}}`;
  if (objective.name === "availability") {
    return [
      { selector: selector(metricNames.requestsTotal, { ...base, status_code: "200" }), segments: good },
      ...(traffic.noBadSeries
        ? []
        : [
            { selector: selector(metricNames.requestsTotal, { ...base, status_code: "500" }), segments: bad },
          ]),
    ];
  }
  const bucket = `${metricNames.requestDurationSeconds}_bucket`;
  const withStatus = { ...base, status_code: "200" };
  return [
    {
      selector: selector(bucket, { ...withStatus, le: bucketLabel(settings.slo.latency.thresholdSeconds) }),
      segments: good,
    },
    {
      selector: selector(bucket, { ...withStatus, le: bucketLabel(Number.POSITIVE_INFINITY) }),
      segments: all,
    },
  ];
}

function badPerSample(ratio: number): number {
  return Math.round(ratio * requestsPerSample);
}

function steps(ms: number, intervalMs: number): number {
  return Math.round(ms / intervalMs);
}

/**
 * Above and below one pair's factor, after clean traffic that fills every window: their evaluations then all
 * count full windows of the shortest, as in a stack that has run for days, and a firing pair's value is a whole
 * fraction of the ratio. Evaluations are at least the shortest window apart, so every one after the traffic
 * turned bad counts only bad traffic, and the long window is full of it one long window later.
 */
function pairCases(
  settings: Settings,
  objective: Objective,
  index: number,
  endpoints: Endpoints,
  evaluation: Evaluation,
): TestCase[] {
  const pair = objective.pairs[index];
  if (!pair) return [];
  const intervalMs = evaluation.shortestMs / samplesPerShortestWindow;
  const onGrid = (ms: number) => Math.ceil(ms / evaluation.everyMs) * evaluation.everyMs;
  const cleanMs = onGrid(Math.max(...alertWindowsMs(settings)) + evaluation.shortestMs);
  const filledMs = pair.longMs;
  const threshold = pair.factor * (1 - objective.objective);
  const cases: [string, number, number[]][] = [
    [
      `${objective.name} burning above ${pair.factor} fires ${pair.long}/${pair.short} after its long window`,
      aboveFactor * threshold,
      [onGrid(pair.longMs / 5), filledMs],
    ],
    [
      `${objective.name} burning at half of ${pair.factor} never fires ${pair.long}/${pair.short}`,
      belowFactor * threshold,
      [filledMs, filledMs + onGrid(pair.longMs / 2)],
    ],
  ];
  return cases.map(([name, ratio, afterMs]) => {
    const cleanSteps = steps(cleanMs, intervalMs);
    const lastMs = cleanMs + Math.max(...afterMs);
    const traffic: Traffic = {
      intervalMs,
      phases: [
        { steps: cleanSteps, bad: 0 },
        { steps: steps(lastMs, intervalMs) - cleanSteps, bad: badPerSample(ratio) },
      ],
    };
    return {
      name,
      intervalMs,
      series: sliSeries(settings, objective, traffic, endpoints),
      checks: afterMs.map((after) => {
        const atMs = cleanMs + after;
        const margins = objective.pairs.map((each) =>
          decisionMargin(objective, each, traffic, atMs, evaluation),
        );
        return {
          atMs,
          alertname: sloAlertNames.errorBudgetBurn,
          alerts: expectedBurns(settings, objective, traffic, atMs, evaluation),
          margin: Math.min(...margins),
        };
      }),
    };
  });
}

/** Every SLO's series of `traffic` together, as the app exposes them. */
function allSliSeries(settings: Settings, traffic: Traffic, endpoints: Endpoints) {
  return objectives(settings).flatMap((objective) => sliSeries(settings, objective, traffic, endpoints));
}

/**
 * Clean traffic, and an app restart under a ratio below every factor: neither fires anything, and while every
 * SLO has its series SLOMetricsAbsent stays silent.
 */
function quietCases(
  settings: Settings,
  endpoints: Endpoints,
  evaluation: Evaluation,
  spanMs: number,
): TestCase[] {
  const intervalMs = evaluation.shortestMs / samplesPerShortestWindow;
  const every = evaluation.everyMs;
  const all = objectives(settings);
  const lowest = Math.min(
    ...all.flatMap((objective) => objective.pairs.map((pair) => pair.factor * (1 - objective.objective))),
  );
  const span = steps(spanMs, intervalMs);
  const clean: Traffic = { intervalMs, phases: [{ steps: 2 * span, bad: 0 }], noBadSeries: true };
  const restart: Traffic = {
    intervalMs,
    phases: [{ steps: 2 * span, bad: badPerSample(belowFactor * lowest) }],
    resetAfter: span,
  };
  const none = (atMs: number, alertname: string): Check => ({ atMs, alertname, alerts: [] });
  return [
    {
      name: "without a single bad request nothing fires, and every SLO measures something",
      intervalMs,
      series: allSliSeries(settings, clean, endpoints),
      checks: [
        ...[every, spanMs, 2 * spanMs].map((at) => none(at, sloAlertNames.errorBudgetBurn)),
        none(2 * spanMs, sloAlertNames.metricsAbsent),
      ],
    },
    {
      name: "an app restart (its counters reset) raises no alert",
      intervalMs,
      series: allSliSeries(settings, restart, endpoints),
      checks: [every, 2 * every, spanMs].map((offset) =>
        none(spanMs + offset, sloAlertNames.errorBudgetBurn),
      ),
    },
  ];
}

/** No series at all: each SLO's SLOMetricsAbsent is pending until its `for` has passed, then fires. */
function absentCase(settings: Settings, endpoints: Endpoints, intervalMs: number): TestCase {
  const all = objectives(settings);
  const contractJobs = httpContractJobs(settings).map((job) => job.job);
  const forMs = (objective: Objective) => {
    const rule = sloAlertRules(settings, objective.name).find(
      (candidate) => candidate.alert === sloAlertNames.metricsAbsent,
    );
    if (!rule?.for) throw new Error(`no ${sloAlertNames.metricsAbsent} rule of the ${objective.name} SLO`);
    return { rule, ms: Math.ceil(durationMs(rule.for) / intervalMs) * intervalMs };
  };
  const times = all.flatMap((objective) => {
    const { ms } = forMs(objective);
    return [ms - intervalMs, ms + intervalMs];
  });
  return {
    name: `${sloAlertNames.metricsAbsent} fires once the series are missing for its for duration`,
    intervalMs,
    // Every job is scraped (its `up` is there) but sends none of the SLO's series.
    series: contractJobs.map((job) => ({
      selector: `up{job="${job}",instance="${job === jobs.app ? endpoints.app : `${job}:8080`}"}`,
      segments: [{ start: 1, step: 0, count: Math.max(...times) / intervalMs + 1 }],
    })),
    checks: [...new Set(times)]
      .sort((a, b) => a - b)
      .map((atMs) => ({
        atMs,
        alertname: sloAlertNames.metricsAbsent,
        alerts: all.flatMap((objective) => {
          const { rule, ms } = forMs(objective);
          if (atMs < ms) return [];
          return contractJobs.map((job) => ({
            labels: { ...rule.labels, job },
            annotations: expandedAnnotations(rule, 1, { job }),
          }));
        }),
      })),
  };
}

export interface SloTestFile {
  /** Index of the burn-rate pair whose windows set the file's evaluation interval. */
  readonly pair: number;
  readonly evaluationMs: number;
  readonly cases: readonly TestCase[];
}

/**
 * One file per burn-rate pair, each evaluated once per short window of that pair (promtool has one
 * evaluation interval per file); the fastest pair's file also holds the quiet and the absence cases.
 */
export function sloTestFiles(settings: Settings, endpoints: Endpoints): SloTestFile[] {
  const all = objectives(settings);
  const first = all[0];
  if (!first) return [];
  const shortestMs = shortestWindowMs(settings);
  return first.pairs.map((pair, index) => {
    const evaluation = { shortestMs, everyMs: pair.shortMs };
    const pairTests = all.flatMap((objective) =>
      pairCases(settings, objective, index, endpoints, evaluation),
    );
    return {
      pair: index,
      evaluationMs: evaluation.everyMs,
      cases:
        index === 0
          ? [
              ...pairTests,
              ...quietCases(settings, endpoints, evaluation, pair.longMs),
              absentCase(settings, endpoints, evaluation.everyMs),
            ]
          : pairTests,
    };
  });
}

/** The rendered test files, by their layout path. */
export function renderSloRuleTests(settings: Settings, endpoints: Endpoints): Record<string, string> {
  return Object.fromEntries(
    sloTestFiles(settings, endpoints).map((file) => {
      const path = renderedPaths.sloRuleTests(file.pair);
      return [
        path,
        generatedYaml({
          rule_files: [posix.relative(posix.dirname(path), renderedPaths.sloRules)],
          evaluation_interval: formatDuration(file.evaluationMs),
          group_eval_order: sloRuleGroups(settings).map((group) => group.name),
          tests: file.cases.map((test) => ({
            name: test.name,
            interval: formatDuration(test.intervalMs),
            input_series: test.series.map((series) => ({
              series: series.selector,
              values: seriesValues(series.segments),
            })),
            alert_rule_test: test.checks.map((check) => ({
              eval_time: formatDuration(check.atMs),
              alertname: check.alertname,
              exp_alerts: check.alerts.map((alert) => ({
                exp_labels: alert.labels,
                exp_annotations: alert.annotations,
              })),
            })),
          })),
        }),
      ];
    }),
  );
}
