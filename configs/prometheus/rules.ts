/**
 * `rules/alerts.yml`: every alert of the stack, built from the settings, the shared queries and names, and the
 * service's metrics contract. The rule text holds no threshold, window or job name of its own. Each alert has a
 * `severity` label, a one-line `summary`, a `description` with the firing series' labels and value, and a
 * `runbook_url` to its section of RUNBOOK.md, made in one place (`runbookLink`), and its value on its own
 * (`value`), for the e-mail to show.
 */

import { alertNames, annotationKeys, jobs } from "../names";
import {
  alertedLatencyQuantile,
  errorRatio,
  jobSelector,
  latencyQuantile,
  requestsInWindow,
  targetUp,
} from "../promql/queries";
import { stackMetricNames } from "../promql/upstream-metrics";
import { durationMs } from "../settings/duration";
import type { Settings } from "../settings/schema";
import { generatedYaml } from "../yaml";

/** How a Prometheus template prints `$value`. */
export type ValueFormat = "humanize" | "humanizePercentage" | "humanizeDuration";

/**
 * A description as data: literal text, a label of the firing series, or its value. One definition yields the
 * Go template in the rule file and the expanded text the generated unit tests expect.
 */
export type DescriptionPart = string | { readonly label: string } | { readonly value: ValueFormat };

export const ruleGroups = {
  app: "app",
  stack: "monitoring-stack",
  custom: "custom",
} as const;

export type RuleGroup = (typeof ruleGroups)[keyof typeof ruleGroups];

/** The Watchdog is not an incident: it has a severity of its own that no receiver pages on. */
export const watchdogSeverity = "none";

/** A built-in alert, as configured by `settings.alerts[key]`. */
export interface BuiltInAlert {
  readonly key: keyof typeof alertNames;
  readonly name: string;
  readonly group: RuleGroup;
  readonly expr: string;
  readonly for: string;
  readonly severity: string;
  readonly summary: string;
  readonly description: readonly DescriptionPart[];
}

/** A rule as written to the rule file. */
export interface AlertRule {
  readonly name: string;
  readonly group: RuleGroup;
  readonly expr: string;
  readonly for: string;
  readonly labels: { readonly severity: string };
  /** Summary, description, the value as the description prints it (for e-mail), and the runbook link. */
  readonly annotations: Readonly<Record<AnnotationKey, string>>;
}

type AnnotationKey = (typeof annotationKeys)[keyof typeof annotationKeys];

/** The enabled built-in alerts, in rule-file order. */
export function builtInAlerts(settings: Settings): BuiltInAlert[] {
  const { alerts } = settings;
  const up = (job: (typeof jobs)[keyof typeof jobs]) => `${targetUp(job)} == 0`;
  const candidates: (BuiltInAlert & { readonly enabled: boolean })[] = [
    {
      key: "highRequestVolume",
      name: alertNames.highRequestVolume,
      group: ruleGroups.app,
      enabled: alerts.highRequestVolume.enabled,
      // increase() over the window rather than the raw counter: the counter only grows, so comparing it with a
      // threshold fires forever on a long-lived process and stops after every restart.
      expr: `${requestsInWindow(alerts.highRequestVolume.window)} > ${alerts.highRequestVolume.maxRequests}`,
      for: alerts.highRequestVolume.for,
      severity: alerts.highRequestVolume.severity,
      summary: "The app is serving more requests than its configured maximum.",
      description: [
        "Job ",
        { label: "job" },
        " served ",
        { value: "humanize" },
        ` requests in the last ${alerts.highRequestVolume.window}, more than the configured maximum.`,
      ],
    },
    {
      key: "instanceDown",
      name: alertNames.instanceDown,
      group: ruleGroups.app,
      enabled: alerts.instanceDown.enabled,
      expr: up(jobs.app),
      for: alerts.instanceDown.for,
      severity: alerts.instanceDown.severity,
      summary: "The app does not answer Prometheus's scrapes.",
      description: [
        { label: "instance" },
        " of job ",
        { label: "job" },
        ` has not answered a scrape for at least ${alerts.instanceDown.for} (up = `,
        { value: "humanize" },
        ").",
      ],
    },
    {
      key: "highErrorRate",
      name: alertNames.highErrorRate,
      group: ruleGroups.app,
      enabled: alerts.highErrorRate.enabled,
      expr: `${errorRatio(alerts.highErrorRate.window)} > ${alerts.highErrorRate.maxRatio}`,
      for: alerts.highErrorRate.for,
      severity: alerts.highErrorRate.severity,
      summary: "The app answers too many requests with a server error.",
      description: [
        { value: "humanizePercentage" },
        " of the requests to job ",
        { label: "job" },
        ` got a 5xx status over the last ${alerts.highErrorRate.window}, more than the configured maximum.`,
      ],
    },
    {
      key: "highLatency",
      name: alertNames.highLatency,
      group: ruleGroups.app,
      enabled: alerts.highLatency.enabled,
      expr: `${latencyQuantile(alertedLatencyQuantile, alerts.highLatency.window)} > ${alerts.highLatency.p95Seconds}`,
      for: alerts.highLatency.for,
      severity: alerts.highLatency.severity,
      summary: "The app responds slowly.",
      description: [
        `The ${alertedLatencyQuantile * 100}th percentile of request duration of job `,
        { label: "job" },
        " is ",
        { value: "humanizeDuration" },
        ` over the last ${alerts.highLatency.window}, more than the configured maximum.`,
      ],
    },
    {
      key: "prometheusDown",
      name: alertNames.prometheusDown,
      group: ruleGroups.stack,
      enabled: alerts.prometheusDown.enabled,
      // Every replica scrapes every replica, so a surviving one reports the others.
      expr: up(jobs.prometheus),
      for: alerts.prometheusDown.for,
      severity: alerts.prometheusDown.severity,
      summary: "A Prometheus replica does not answer its peers' scrapes.",
      description: [
        "Prometheus ",
        { label: "instance" },
        ` has not answered a scrape for at least ${alerts.prometheusDown.for} (up = `,
        { value: "humanize" },
        "); the other replicas still evaluate the alerts.",
      ],
    },
    {
      key: "alertmanagerDown",
      name: alertNames.alertmanagerDown,
      group: ruleGroups.stack,
      enabled: alerts.alertmanagerDown.enabled,
      expr: up(jobs.alertmanager),
      for: alerts.alertmanagerDown.for,
      severity: alerts.alertmanagerDown.severity,
      summary: "Alertmanager does not answer scrapes; no notification can be sent.",
      description: [
        "Alertmanager ",
        { label: "instance" },
        ` has not answered a scrape for at least ${alerts.alertmanagerDown.for} (up = `,
        { value: "humanize" },
        "); alerts are not delivered until it is back.",
      ],
    },
    {
      key: "watchdog",
      name: alertNames.watchdog,
      group: ruleGroups.stack,
      enabled: alerts.watchdog.enabled,
      expr: "vector(1)",
      for: "0s",
      severity: watchdogSeverity,
      summary: "Heartbeat of the alerting pipeline; this alert always fires.",
      // vector(1) has no labels to show.
      description: [
        "This alert always fires (value ",
        { value: "humanize" },
        ") so that a dead man's switch outside the stack notices when it stops arriving: then Prometheus, Alertmanager or the path between them is broken.",
      ],
    },
    {
      key: "ruleEvaluationFailures",
      name: alertNames.ruleEvaluationFailures,
      group: ruleGroups.stack,
      enabled: alerts.ruleEvaluationFailures.enabled,
      expr: `increase(${stackMetricNames.ruleEvaluationFailures}{${jobSelector(jobs.prometheus)}}[${alerts.ruleEvaluationFailures.window}]) > 0`,
      for: alerts.ruleEvaluationFailures.for,
      severity: alerts.ruleEvaluationFailures.severity,
      summary: "A Prometheus replica fails to evaluate alert rules.",
      description: [
        "Prometheus ",
        { label: "instance" },
        " failed ",
        { value: "humanize" },
        " evaluations of rule group ",
        { label: "rule_group" },
        ` in the last ${alerts.ruleEvaluationFailures.window}; alerts of that group may be missed.`,
      ],
    },
    {
      key: "notConnectedToAlertmanager",
      name: alertNames.notConnectedToAlertmanager,
      group: ruleGroups.stack,
      enabled: alerts.notConnectedToAlertmanager.enabled,
      expr: `${stackMetricNames.alertmanagersDiscovered}{${jobSelector(jobs.prometheus)}} < 1`,
      for: alerts.notConnectedToAlertmanager.for,
      severity: alerts.notConnectedToAlertmanager.severity,
      summary: "A Prometheus replica has no Alertmanager to send alerts to.",
      description: [
        "Prometheus ",
        { label: "instance" },
        " sends alerts to ",
        { value: "humanize" },
        " Alertmanagers; the alerts it evaluates reach nobody.",
      ],
    },
    {
      key: "notificationsFailing",
      name: alertNames.notificationsFailing,
      group: ruleGroups.stack,
      enabled: alerts.notificationsFailing.enabled,
      expr: notificationFailuresExpr(alerts.notificationsFailing.window),
      for: alerts.notificationsFailing.for,
      severity: alerts.notificationsFailing.severity,
      summary: "Alerts are not reaching Alertmanager, or notifications are not reaching people.",
      description: [
        { label: "instance" },
        " (job ",
        { label: "job" },
        ") failed ",
        { value: "humanize" },
        ` deliveries in the last ${alerts.notificationsFailing.window}.`,
      ],
    },
  ];
  return candidates.filter((alert) => alert.enabled).map(({ enabled: _enabled, ...alert }) => alert);
}

/**
 * Both halves of the pipeline: Prometheus handing alerts to Alertmanager, and Alertmanager delivering
 * notifications. Summed per instance so both sides carry the same labels.
 */
function notificationFailuresExpr(window: string): string {
  const failures = (metric: string, job: (typeof jobs)[keyof typeof jobs]) =>
    `sum by (job, instance) (increase(${metric}{${jobSelector(job)}}[${window}])) > 0`;
  return `(${failures(stackMetricNames.prometheusNotificationErrors, jobs.prometheus)}) or (${failures(stackMetricNames.alertmanagerNotificationsFailed, jobs.alertmanager)})`;
}

/** The Go template Prometheus expands. */
function descriptionTemplate(parts: readonly DescriptionPart[]): string {
  return parts
    .map((part) => {
      if (typeof part === "string") return part;
      if ("label" in part) return `{{ $labels.${part.label} }}`;
      return valueTemplate(part.value);
    })
    .join("");
}

function valueTemplate(format: ValueFormat): string {
  return `{{ $value | ${format} }}`;
}

/** How a built-in alert prints its value: as its description does. Custom alerts use `humanize`. */
export function valueFormatOf(parts: readonly DescriptionPart[]): ValueFormat {
  for (const part of parts) if (typeof part === "object" && "value" in part) return part.value;
  return "humanize";
}

/** Every rule of the rule file, built-in then custom, with runbook links. */
export function alertRules(settings: Settings): AlertRule[] {
  const { runbook } = settings;
  const builtIn = builtInAlerts(settings).map((alert) => ({
    name: alert.name,
    group: alert.group,
    expr: alert.expr,
    for: alert.for,
    severity: alert.severity,
    summary: alert.summary,
    description: descriptionTemplate(alert.description),
    valueFormat: valueFormatOf(alert.description),
  }));
  const custom = settings.alerts.custom.map((alert) => ({
    ...alert,
    group: ruleGroups.custom,
    valueFormat: "humanize" as const,
  }));
  return [...builtIn, ...custom].map((rule) => ({
    name: rule.name,
    group: rule.group,
    expr: rule.expr,
    for: rule.for,
    labels: { severity: rule.severity },
    annotations: {
      [annotationKeys.summary]: rule.summary,
      [annotationKeys.description]: rule.description,
      [annotationKeys.value]: valueTemplate(rule.valueFormat),
      [annotationKeys.runbookUrl]: runbookLink(runbook.url ?? runbookPath, rule),
    },
  }));
}

/**
 * The runbook's path in the repository: the base of every `runbook_url` while `runbook.url` is unset. Not a
 * link anyone can open from an e-mail, but it tells a reader where the section is.
 */
export const runbookPath = "RUNBOOK.md";

/** Section of RUNBOOK.md that custom alerts link to. */
export const customAlertsRunbookSection = "Custom alerts";

/** The anchor GitHub and most Markdown renderers give a heading: lower case, spaces as hyphens. */
export function runbookAnchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

/**
 * The one place runbook links are made: RUNBOOK.md has a section per built-in alert, headed by its name, and
 * one for all custom alerts.
 */
function runbookLink(runbookUrl: string, rule: { readonly name: string; readonly group: RuleGroup }): string {
  const section = rule.group === ruleGroups.custom ? customAlertsRunbookSection : rule.name;
  return `${runbookUrl}#${runbookAnchor(section)}`;
}

export function renderAlertRules(settings: Settings): string {
  const rules = alertRules(settings);
  const groups = Object.values(ruleGroups)
    .map((group) => ({ name: group, rules: rules.filter((rule) => rule.group === group) }))
    .filter((group) => group.rules.length > 0)
    .map((group) => ({
      name: group.name,
      rules: group.rules.map((rule) => ({
        alert: rule.name,
        expr: rule.expr,
        ...(durationMs(rule.for) === 0 ? {} : { for: rule.for }),
        labels: rule.labels,
        annotations: rule.annotations,
      })),
    }));
  return generatedYaml({ groups });
}
