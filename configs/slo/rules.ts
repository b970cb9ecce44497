/**
 * `rules/slo.yml`: for each enabled SLO, one recording rule per window the alerts read (the SLO's error ratio
 * over it), the four `ErrorBudgetBurn` alerts of configs/slo/windows.ts, and `SLOMetricsAbsent`, so that an
 * SLO whose series vanished (a renamed metric, a bucket boundary that moved) cannot silently measure nothing.
 * A file of its own beside alerts.yml: the replicas load both through `rules/*.yml`.
 */
import { metricNames } from "../../service/metrics-contract";
import { annotationKeys, sloAlertNames } from "../names";
import { runbookAnchor, runbookPath } from "../prometheus/rules";
import { bucketLabel, jobsSelector, serverErrorShare, slowRequestShare } from "../promql/queries";
import { prometheusSyntheticSeries } from "../promql/upstream-metrics";
import { durationMs, formatDuration } from "../settings/duration";
import { httpContractJobs } from "../settings/monitored-jobs";
import type { Settings } from "../settings/schema";
import { type SloName, sloNames } from "../settings/slo";
import { generatedYaml } from "../yaml";
import { alertWindowsMs, type BurnRatePair, effectivePairs, effectiveWindowMs } from "./windows";

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
  /** The share of bad requests over a window, from the service's own series. */
  readonly errorRatio: (window: string) => string;
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
          errorRatio: (window) => serverErrorShare(window, selector),
          sources: [`${metricNames.requestsTotal}{${selector}}`],
          thresholdTwin: "highErrorRate",
        },
      ];
    }
    const { thresholdSeconds } = settings.slo.latency;
    const bucket = (bound: number) =>
      `${metricNames.requestDurationSeconds}_bucket{${selector},le="${bucketLabel(bound)}"}`;
    return [
      {
        ...common,
        promise: `${percent} of requests within ${thresholdSeconds} s over ${slo.window}`,
        errorRatio: (window) => slowRequestShare(thresholdSeconds, window, selector),
        sources: [bucket(thresholdSeconds), bucket(Number.POSITIVE_INFINITY)],
        thresholdTwin: "highLatency",
      },
    ];
  });
}

/** `job:slo_errors_per_request:ratio_rate5m`: the recorded error ratio over a window, one series per SLO. */
export function errorRatioRecord(windowMs: number): string {
  return `job:slo_errors_per_request:ratio_rate${formatDuration(windowMs)}`;
}

/** The recorded error ratio of one SLO over a window. */
export function recordedErrorRatio(objective: Objective, windowMs: number): string {
  return `${errorRatioRecord(windowMs)}{${sloLabel}="${objective.name}"}`;
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
 * `job` label: what one absent() per job said, in one expression whatever the number of jobs (500 absent()
 * terms joined by `or` were more than the PromQL parser of the lint could take). Every monitored job is a
 * static target, so its `up` exists while Prometheus runs.
 */
export function silentJobs(objective: Objective): string {
  const present = objective.sources.map((source) => `group by (job) (${source})`).join(" and on(job) ");
  return `group by (job) (${prometheusSyntheticSeries.up}{${objective.jobs}}) unless on(job) (${present})`;
}

function absentDescription(objective: Objective): string {
  return (
    `Job {{ $labels.job }} has had no series of ${objective.sources.join(" and ")} for ${absentFor(objective)}, so the ${objective.name} ` +
    `SLO (${objective.promise}) cannot burn its budget and its ${sloAlertNames.errorBudgetBurn} pages cannot fire.`
  );
}

/** Every group of the SLO rule file, one per enabled SLO. */
export function sloRuleGroups(settings: Settings): SloRuleGroup[] {
  return objectives(settings).map((objective) => ({
    name: `slo-${objective.name}`,
    objective,
    recording: alertWindowsMs(settings).map((windowMs) => ({
      record: errorRatioRecord(windowMs),
      expr: objective.errorRatio(formatDuration(windowMs)),
      labels: { [sloLabel]: objective.name },
    })),
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
        expr: silentJobs(objective),
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
  }));
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
