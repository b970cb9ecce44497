/**
 * `rules/alerts.yml`: every alert of the stack, the built-in ones from their registry (built-in-alerts.ts) and
 * the user's own from `alerts.custom`. The rule text holds no threshold, window or job name of its own. Each alert has a
 * `severity` label, a one-line `summary`, a `description` with the firing series' labels and value, and a
 * `runbook_url` to its section of RUNBOOK.md, made in one place (`runbookLink`), and its value on its own
 * (`value`), for the e-mail to show.
 */

import { annotationKeys, hostLabel, jobs, type RuleGroup, ruleGroups } from "../names";
import { alertThresholdLabel, alertThresholdRecord, expectedContainerRecord } from "../promql/queries";
import { cadvisorLabels } from "../promql/upstream-metrics";
import type { Endpoints } from "../runtime/endpoints";
import { alertNames } from "../settings/alert-specs";
import { durationMs } from "../settings/duration";
import type { Settings } from "../settings/schema";
import { generatedYaml } from "../yaml";
import type { DescriptionPart, ValueFormat } from "./alert";
import { type BuiltInAlertRegistry, builtInAlertRegistry, builtInAlerts } from "./built-in-alerts";

/** A rule as written to the rule file. */
export interface AlertRule {
  readonly name: string;
  readonly group: RuleGroup;
  readonly expr: string;
  readonly for: string;
  /**
   * Its severity, and for a rule of one job's, probe's or machine's own its `job`, `probe` or `host`: rules of
   * one name then differ in their labels.
   */
  readonly labels: { readonly severity: string } & Readonly<Record<string, string>>;
  /** Summary, description, the value as the description prints it (for e-mail), and the runbook link. */
  readonly annotations: Readonly<Record<AnnotationKey, string>>;
}

type AnnotationKey = (typeof annotationKeys)[keyof typeof annotationKeys];

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

/**
 * Every alert rule of the rule file, in its order (by group, then registry order), with runbook links. Jobs
 * that share a per-job alert's rule share it here once.
 */
export function alertRules(
  settings: Settings,
  registry: BuiltInAlertRegistry = builtInAlertRegistry,
): AlertRule[] {
  const { runbook } = settings;
  const made = new Set<string>();
  const builtIn = builtInAlerts(settings, registry)
    .filter((alert) => {
      const key = ruleKey(alert.name, alert.expr);
      if (made.has(key)) return false;
      made.add(key);
      return true;
    })
    .map((alert) => ({
      name: alert.name,
      group: alert.group,
      expr: alert.expr,
      for: alert.for,
      severity: alert.severity,
      summary: alert.summary,
      description: descriptionTemplate(alert.description),
      valueFormat: valueFormatOf(alert.description),
      ruleLabels: alert.ruleLabels,
    }));
  const custom = settings.alerts.custom.map((alert) => ({
    ...alert,
    group: ruleGroups.custom,
    valueFormat: "humanize" as const,
  }));
  const groupOrder: readonly RuleGroup[] = Object.values(ruleGroups);
  const inFileOrder = [...builtIn, ...custom].sort(
    (a, b) => groupOrder.indexOf(a.group) - groupOrder.indexOf(b.group),
  );
  return inFileOrder.map((rule) => ({
    name: rule.name,
    group: rule.group,
    expr: rule.expr,
    for: rule.for,
    labels: { severity: rule.severity, ...("ruleLabels" in rule ? rule.ruleLabels : {}) },
    annotations: {
      [annotationKeys.summary]: rule.summary,
      [annotationKeys.description]: rule.description,
      [annotationKeys.value]: valueTemplate(rule.valueFormat),
      [annotationKeys.runbookUrl]: runbookLink(runbook.url ?? runbookPath, rule),
    },
  }));
}

/** Tells the rules of one alert apart: jobs that share a rule share its expression. */
export function ruleKey(name: string, expr: string): string {
  return `${name}\u0000${expr}`;
}

/** A series the alert rules read as data: a job's own threshold, a container the stack runs. */
export interface RecordingRule {
  readonly group: RuleGroup;
  readonly record: string;
  readonly expr: string;
  readonly labels: Readonly<Record<string, string>>;
}

/**
 * The recorded thresholds of the jobs that override one: written into the group of their alert, before its
 * rules, which Prometheus evaluates in order, so that an alert never sees its job without its threshold.
 */
export function thresholdRecords(
  settings: Settings,
  registry: BuiltInAlertRegistry = builtInAlertRegistry,
): RecordingRule[] {
  return builtInAlerts(settings, registry).flatMap((alert) =>
    alert.recordedThreshold === undefined || alert.target === undefined
      ? []
      : [
          {
            group: alert.group,
            record: alertThresholdRecord,
            expr: `vector(${alert.recordedThreshold})`,
            labels: { [alertThresholdLabel]: alert.name, job: alert.target.job },
          },
        ],
  );
}

/**
 * The containers ContainerMissing expects on the stack's host, one series each, while it is made: labelled as
 * cAdvisor's series of each (`job`, `host`, `name`), in the alert's group, before its rule.
 */
export function expectedContainerRecords(
  settings: Settings,
  endpoints: Endpoints,
  registry: BuiltInAlertRegistry = builtInAlertRegistry,
): RecordingRule[] {
  return builtInAlerts(settings, registry)
    .filter((alert) => alert.name === alertNames.containerMissing)
    .flatMap((alert) =>
      endpoints.containers.map((name) => ({
        group: alert.group,
        record: expectedContainerRecord,
        expr: "vector(1)",
        labels: { job: jobs.cadvisor, [hostLabel]: settings.host.name, [cadvisorLabels.name]: name },
      })),
    );
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

export function renderAlertRules(
  settings: Settings,
  endpoints: Endpoints,
  registry: BuiltInAlertRegistry = builtInAlertRegistry,
): string {
  return renderRuleFile(alertRules(settings, registry), [
    ...thresholdRecords(settings, registry),
    ...expectedContainerRecords(settings, endpoints, registry),
  ]);
}

/** The rule file of rules already made, so that a render lints and writes the same rules. */
export function renderRuleFile(rules: readonly AlertRule[], records: readonly RecordingRule[]): string {
  const groups = Object.values(ruleGroups)
    .map((group) => ({
      name: group,
      records: records.filter((record) => record.group === group),
      rules: rules.filter((rule) => rule.group === group),
    }))
    .filter((group) => group.rules.length > 0)
    .map((group) => ({
      name: group.name,
      rules: [
        ...group.records.map(({ record, expr, labels }) => ({ record, expr, labels })),
        ...group.rules.map((rule) => ({
          alert: rule.name,
          expr: rule.expr,
          ...(durationMs(rule.for) === 0 ? {} : { for: rule.for }),
          labels: rule.labels,
          annotations: rule.annotations,
        })),
      ],
    }));
  return generatedYaml({ groups });
}
