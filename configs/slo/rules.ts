/**
 * `rules/slo.yml`: for each enabled SLO, the error ratio over every window the alerts read, the four
 * `ErrorBudgetBurn` alerts of configs/slo/windows.ts, and `SLOMetricsAbsent`, so that an SLO whose series vanished
 * (a renamed metric, a bucket boundary that moved) cannot silently measure nothing. A file of its own beside
 * alerts.yml: the replicas load both through `rules/*.yml`.
 *
 * Only the shortest window reads the service's series: one group records each job's request and bad-request
 * rates over it, and the longer windows are sums over time of those two recorded series, as Sloth derives its
 * 30-day ratio from its 5-minute one. A longer window thus reads one series a job, not every route's, and the
 * weighting by requests keeps it the share of bad requests. Each recording group is evaluated a tenth of its
 * shortest window apart (at most a minute, and never more often than the alerts); the alerts themselves at the
 * stack's evaluation interval.
 */
import { metricNames } from "../../service/metrics-contract";
import { annotationKeys, sloAlertNames } from "../names";
import { runbookAnchor, runbookPath } from "../prometheus/rules";
import { bucketLabel, jobsSelector, serverErrorSelector } from "../promql/queries";
import { prometheusSyntheticSeries } from "../promql/upstream-metrics";
import { durationMs, formatDuration } from "../settings/duration";
import { httpContractJobs } from "../settings/monitored-jobs";
import type { Settings } from "../settings/schema";
import { type SloName, sloNames } from "../settings/slo";
import { generatedYaml } from "../yaml";
import {
  alertWindowsMs,
  type BurnRatePair,
  effectivePairs,
  effectiveWindowMs,
  shortestWindowMs,
} from "./windows";

/** Label that tells the SLOs' series and alerts apart. */
export const sloLabel = "slo";

/** Severity of SLOMetricsAbsent: a blind SLO is a ticket; an app that is down pages as InstanceDown. */
export const absentSeverity = "warning";

/** An enabled SLO with everything its rules, tests and dashboard need. */
export interface Objective {
  readonly name: SloName;
  readonly objective: number;
  /** The window as the settings write it, such as 30d. */
  readonly window: string;
  /** The window in effect, after `slo.timeCompression`. */
  readonly windowMs: number;
  readonly pairs: readonly BurnRatePair[];
  /** What the SLO promises, for people: "99% of requests without a 5xx over 30d". */
  readonly promise: string;
  /** Per job, the rate of the requests the SLO counts over a window, from the service's own series. */
  readonly requestRate: (window: string) => string;
  /**
   * Per job, the rate of bad requests over a window, from the service's series and `requests`, the recorded
   * request rate over the same window; 0, not nothing, for a job without a bad request.
   */
  readonly badRate: (window: string, requests: string) => string;
  /** The selector of every job the SLO holds for. */
  readonly jobs: string;
  /** The series the SLO is computed from, each a selector over every job it holds for. */
  readonly sources: readonly string[];
  /** Key of the threshold alert that watches the same requests (alerts.<key>), which the SLO alert inhibits. */
  readonly thresholdTwin: "highErrorRate" | "highLatency";
}

/**
 * The enabled SLOs, in settings order. Each holds for every job with the HTTP contract (the demo app, and the
 * targets and services that declare it), one series per job; none while no job has it.
 */
export function objectives(settings: Settings): Objective[] {
  let made = objectivesOf.get(settings);
  if (made === undefined) {
    made = makeObjectives(settings);
    objectivesOf.set(settings, made);
  }
  return made;
}

/** The rules, the Alertmanager config and the dashboards all read the objectives: made once per settings. */
const objectivesOf = new WeakMap<Settings, Objective[]>();

function makeObjectives(settings: Settings): Objective[] {
  const contractJobs = httpContractJobs(settings).map((job) => job.job);
  if (contractJobs.length === 0) return [];
  const selector = jobsSelector(contractJobs);
  return sloNames.flatMap((name): Objective[] => {
    const slo = settings.slo[name];
    if (!slo.enabled) return [];
    const common = {
      name,
      jobs: selector,
      objective: slo.objective,
      window: slo.window,
      windowMs: effectiveWindowMs(settings, slo.window),
      pairs: effectivePairs(settings, slo.window),
    };
    const percent = `${Number((slo.objective * 100).toPrecision(10))}%`;
    if (name === "availability") {
      return [
        {
          ...common,
          promise: `${percent} of requests without a 5xx over ${slo.window}`,
          requestRate: (window) => requestRate(metricNames.requestsTotal, selector, window),
          badRate: (window, requests) =>
            `${requestRate(metricNames.requestsTotal, serverErrorSelector(selector), window)} or on(job) ${requests} * 0`,
          sources: [`${metricNames.requestsTotal}{${selector}}`],
          thresholdTwin: "highErrorRate",
        },
      ];
    }
    const { thresholdSeconds } = settings.slo.latency;
    const bucket = `${metricNames.requestDurationSeconds}_bucket`;
    const within = (bound: number) => `${selector},le="${bucketLabel(bound)}"`;
    return [
      {
        ...common,
        promise: `${percent} of requests within ${thresholdSeconds} s over ${slo.window}`,
        requestRate: (window) => requestRate(bucket, within(Number.POSITIVE_INFINITY), window),
        badRate: (window, requests) =>
          `${requests} - on(job) ${requestRate(bucket, within(thresholdSeconds), window)}`,
        sources: [thresholdSeconds, Number.POSITIVE_INFINITY].map((bound) => `${bucket}{${within(bound)}}`),
        thresholdTwin: "highLatency",
      },
    ];
  });
}

/** One SLO's series of a recorded metric: `<record>{slo="<name>"}`. */
function ofObjective(record: string, objective: Objective): string {
  return `${record}{${sloLabel}="${objective.name}"}`;
}

/** `sum by (job) (rate(<metric>{<selector>}[<window>]))`. */
function requestRate(metric: string, selector: string, window: string): string {
  return `sum by (job) (rate(${metric}{${selector}}[${window}]))`;
}

/** `job:slo_requests:rate5m`: each job's recorded request rate over the shortest window, one series per SLO. */
export function requestRateRecord(windowMs: number): string {
  return `job:slo_requests:rate${formatDuration(windowMs)}`;
}

/** `job:slo_errors:rate5m`: each job's recorded bad-request rate over the shortest window, one series per SLO. */
export function badRateRecord(windowMs: number): string {
  return `job:slo_errors:rate${formatDuration(windowMs)}`;
}

/**
 * The share of bad requests of one SLO over a window longer than the shortest, from the two rates recorded over
 * the shortest: their sums over the window, so each moment weighs as many requests as it had. The
 * rules record it for the alerts' windows; the dashboards query it for the SLO's own window.
 */
export function errorRatioFromRecords(settings: Settings, objective: Objective, windowMs: number): string {
  const shortestMs = shortestWindowMs(settings);
  const window = formatDuration(windowMs);
  const bad = ofObjective(badRateRecord(shortestMs), objective);
  const requests = ofObjective(requestRateRecord(shortestMs), objective);
  return `sum_over_time(${bad}[${window}]) / sum_over_time(${requests}[${window}])`;
}

/** `job:slo_errors_per_request:ratio_rate5m`: the recorded error ratio over a window, one series per SLO. */
export function errorRatioRecord(windowMs: number): string {
  return `job:slo_errors_per_request:ratio_rate${formatDuration(windowMs)}`;
}

/** The recorded error ratio of one SLO over a window. */
export function recordedErrorRatio(objective: Objective, windowMs: number): string {
  return ofObjective(errorRatioRecord(windowMs), objective);
}

/** PromQL for the burn rate of one SLO over a window: its recorded error ratio divided by the budget. */
export function burnRate(objective: Objective, windowMs: number): string {
  return `${recordedErrorRatio(objective, windowMs)} / (1 - ${objective.objective})`;
}

/**
 * How long the series may be missing before SLOMetricsAbsent fires: as long as a total outage takes to trip the
 * fastest page, whose long window must reach its factor times the budget (Pyrra's AbsentDuration). Missing
 * longer than that, the page could have missed an outage. Whole seconds, rounded up.
 */
export function absentFor(objective: Objective): string {
  const fastest = objective.pairs[0];
  if (!fastest) throw new Error(`the ${objective.name} SLO has no burn-rate pair`);
  const ms = fastest.factor * (1 - objective.objective) * fastest.longMs;
  return formatDuration(Math.ceil(ms / 1000) * 1000);
}

export interface RecordingRule {
  readonly record: string;
  readonly expr: string;
  readonly labels: Readonly<Record<string, string>>;
}

export interface SloAlertRule {
  readonly alert: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
}

export interface SloRuleGroup {
  readonly name: string;
  readonly objective: Objective;
  /** How often Prometheus evaluates the group; promtool's tests evaluate every group at their own interval. */
  readonly intervalMs: number;
  readonly recording: readonly RecordingRule[];
  readonly alerting: readonly SloAlertRule[];
}

/** Labels of the ErrorBudgetBurn alert of a pair, which routes, inhibition and e-mail read. */
export function burnAlertLabels(objective: Objective, pair: BurnRatePair): Record<string, string> {
  return { severity: pair.severity, [sloLabel]: objective.name, long: pair.long, short: pair.short };
}

function runbookLink(settings: Settings, alertName: string): string {
  return `${settings.runbook.url ?? runbookPath}#${runbookAnchor(alertName)}`;
}

/** `{{ $value }}` as the e-mail shows it, the same template every alert of the stack uses. */
export const valueTemplate = "{{ $value | humanize }}";

/**
 * The share of the SLO window's budget that burning at `$value` for the long window spends: B × L / W. Go
 * templates cannot multiply, so the template asks Prometheus; `%g` writes the value's shortest exact text.
 */
function budgetShareTemplate(pair: BurnRatePair, windowMs: number): string {
  const query = `printf "%g * ${pair.longMs / 1000} / ${windowMs / 1000}" $value | query`;
  return `{{ with ${query} }}{{ . | first | value | humanizePercentage }}{{ end }}`;
}

/** The summary of a pair: one line, no variables. W / factor = L × 100 / share whatever the window. */
export function burnSummary(objective: Objective, pair: BurnRatePair): string {
  const pace = pair.severity === "critical" ? "fast" : "steadily";
  const exhaustion = formatDuration((pair.longMs * 100) / pair.budgetPercent);
  return `The ${objective.name} SLO is burning its error budget ${pace}: at this pace all of it is gone within ${exhaustion}.`;
}

function burnDescription(objective: Objective, pair: BurnRatePair): string {
  const window = formatDuration(objective.windowMs);
  return (
    `Over both the last ${pair.long} and the last ${pair.short}, the ${objective.name} SLO (${objective.promise}) ` +
    `burned its error budget ${valueTemplate} times as fast as the objective allows; this alert fires above ${pair.factor}. ` +
    `At that pace ${pair.long} spends ${budgetShareTemplate(pair, objective.windowMs)} of the ${window} budget.`
  );
}

export function absentSummary(objective: Objective): string {
  return `The ${objective.name} SLO measures nothing: the series it is computed from are missing.`;
}

/**
 * The jobs that Prometheus scrapes but that lack a series the SLO is computed from, one result per job with its
 * `job` label, in one expression whatever the number of jobs. The recorded bad-request rate stands for the
 * series: it exists for a job exactly while each of them had two samples within the shortest window, and reading
 * it costs one series a job instead of every route's. Every monitored job is a static target, so its `up` exists
 * while Prometheus runs.
 */
export function silentJobs(objective: Objective, recordedBadRate: string): string {
  return `group by (job) (${prometheusSyntheticSeries.up}{${objective.jobs}}) unless on(job) ${recordedBadRate}`;
}

function absentDescription(objective: Objective): string {
  return (
    `Job {{ $labels.job }} has had no series of ${objective.sources.join(" and ")} for ${absentFor(objective)}, so the ${objective.name} ` +
    `SLO (${objective.promise}) cannot burn its budget and its ${sloAlertNames.errorBudgetBurn} pages cannot fire.`
  );
}

/**
 * A recorded series must be written again well within Prometheus's 5-minute lookback (`--query.lookback-delta`),
 * or an instant query between two evaluations finds it stale; a minute leaves room for a late evaluation.
 */
const longestRecordingIntervalMs = 60_000;

/** The alerts read no record more than this many of their evaluations old. */
const evaluationsPerRecording = 12;

/**
 * How often a group that records windows from `shortestMs` up is evaluated: ten times per shortest window, at
 * most once a minute and once every 12 evaluations of the alerts, in whole evaluation intervals of the stack and
 * never more often than one. A 5-minute rate moves little in 30 s; what the alerts lose is at most that long in
 * noticing a change of it.
 */
export function recordingIntervalMs(settings: Settings, shortestMs: number): number {
  const evaluationMs = durationMs(settings.scrape.evaluationInterval);
  const wanted = Math.min(
    shortestMs / 10,
    longestRecordingIntervalMs,
    evaluationsPerRecording * evaluationMs,
  );
  return Math.max(1, Math.floor(wanted / evaluationMs)) * evaluationMs;
}

/**
 * The groups of the SLO rule file, three per enabled SLO, in the order each evaluation needs them: the rates
 * over the shortest window, the longer windows made of them, and the alerts that compare them.
 */
export function sloRuleGroups(settings: Settings): SloRuleGroup[] {
  const [shortestMs, ...longerMs] = alertWindowsMs(settings);
  if (shortestMs === undefined) return [];
  const shortest = formatDuration(shortestMs);
  const labels = (objective: Objective) => ({ [sloLabel]: objective.name });
  return objectives(settings).flatMap((objective) => {
    const recordedRequests = ofObjective(requestRateRecord(shortestMs), objective);
    const recordedBad = ofObjective(badRateRecord(shortestMs), objective);
    return [
      {
        name: `slo-${objective.name}-rates`,
        objective,
        intervalMs: recordingIntervalMs(settings, shortestMs),
        recording: [
          {
            record: requestRateRecord(shortestMs),
            expr: objective.requestRate(shortest),
            labels: labels(objective),
          },
          {
            record: badRateRecord(shortestMs),
            expr: objective.badRate(shortest, recordedRequests),
            labels: labels(objective),
          },
          {
            record: errorRatioRecord(shortestMs),
            expr: `${recordedBad} / ${recordedRequests}`,
            labels: labels(objective),
          },
        ],
        alerting: [],
      },
      {
        name: `slo-${objective.name}-windows`,
        objective,
        intervalMs: recordingIntervalMs(settings, longerMs[0] ?? shortestMs),
        recording: longerMs.map((windowMs) => ({
          record: errorRatioRecord(windowMs),
          expr: errorRatioFromRecords(settings, objective, windowMs),
          labels: labels(objective),
        })),
        alerting: [],
      },
      {
        name: `slo-${objective.name}`,
        objective,
        intervalMs: durationMs(settings.scrape.evaluationInterval),
        recording: [],
        alerting: [
          ...objective.pairs.map((pair) => ({
            alert: sloAlertNames.errorBudgetBurn,
            expr: `${burnRate(objective, pair.longMs)} > ${pair.factor} and ${burnRate(objective, pair.shortMs)} > ${pair.factor}`,
            labels: burnAlertLabels(objective, pair),
            annotations: {
              [annotationKeys.summary]: burnSummary(objective, pair),
              [annotationKeys.description]: burnDescription(objective, pair),
              [annotationKeys.value]: valueTemplate,
              [annotationKeys.runbookUrl]: runbookLink(settings, sloAlertNames.errorBudgetBurn),
            },
          })),
          {
            alert: sloAlertNames.metricsAbsent,
            expr: silentJobs(objective, recordedBad),
            for: absentFor(objective),
            labels: { severity: absentSeverity, [sloLabel]: objective.name },
            annotations: {
              [annotationKeys.summary]: absentSummary(objective),
              [annotationKeys.description]: absentDescription(objective),
              [annotationKeys.value]: valueTemplate,
              [annotationKeys.runbookUrl]: runbookLink(settings, sloAlertNames.metricsAbsent),
            },
          },
        ],
      },
    ];
  });
}

/** The alert rules of one SLO. */
export function sloAlertRules(settings: Settings, name: SloName): SloAlertRule[] {
  return sloRuleGroups(settings)
    .filter((group) => group.objective.name === name)
    .flatMap((group) => group.alerting);
}

/** Every expression of the rule file, for the PromQL lint that renderAll runs before writing anything. */
export function sloRuleExpressions(groups: readonly SloRuleGroup[]): { origin: string; expr: string }[] {
  return groups.flatMap((group) => [
    ...group.recording.map((rule) => ({
      origin: `recording rule ${rule.record} (${group.name})`,
      expr: rule.expr,
    })),
    ...group.alerting.map((rule) => ({
      origin: `alert rule ${rule.alert} (${group.name})`,
      expr: rule.expr,
    })),
  ]);
}

export function renderSloRules(settings: Settings): string {
  return renderSloRuleFile(sloRuleGroups(settings));
}

/** The rule file of groups already made, so that a render lints and writes the same rules. */
export function renderSloRuleFile(groups: readonly SloRuleGroup[]): string {
  return generatedYaml({
    groups: groups.map((group) => ({
      name: group.name,
      interval: formatDuration(group.intervalMs),
      rules: [
        ...group.recording,
        ...group.alerting.map(({ for: duration, ...rule }) => ({
          alert: rule.alert,
          expr: rule.expr,
          ...(duration === undefined || durationMs(duration) === 0 ? {} : { for: duration }),
          labels: rule.labels,
          annotations: rule.annotations,
        })),
      ],
    })),
  });
}
