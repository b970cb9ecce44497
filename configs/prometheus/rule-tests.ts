/**
 * `tests/alerts.test.yml`: promtool unit tests for every built-in alert, generated from the same settings as
 * the rules, so a changed threshold, window or `for` changes its test with it. Each alert's entry in the
 * registry (built-in-alerts.ts) names its scenario family (rule-test-scenarios.ts); for each alert the tests
 * assert that it is not firing one evaluation before it should, that it fires exactly when it should with the
 * expected labels and annotations, and that it resolves.
 *
 * Custom alerts get no generated test: their series cannot be guessed from an expression.
 */
import { posix } from "node:path";
import { annotationKeys } from "../names";
import type { Endpoints } from "../runtime/endpoints";
import { renderedPaths } from "../runtime/layout";
import { durationMs, formatDuration } from "../settings/duration";
import type { Settings } from "../settings/schema";
import { generatedYaml } from "../yaml";
import type { BuiltInAlert, DescriptionPart, TestContext, TestGroup, ValueFormat } from "./alert";
import { type BuiltInAlertRegistry, builtInAlertRegistry, builtInAlerts } from "./built-in-alerts";
import { humanize, humanizeDuration, humanizePercentage, seriesValues } from "./rule-test-series";
import { type AlertRule, alertRules, ruleKey, valueFormatOf } from "./rules";

export function renderAlertRuleTests(
  settings: Settings,
  endpoints: Endpoints,
  registry: BuiltInAlertRegistry = builtInAlertRegistry,
): string {
  const context: TestContext = {
    endpoints,
    evaluationMs: durationMs(settings.scrape.evaluationInterval),
    scrapeIntervalMs: durationMs(settings.scrape.interval),
  };
  const rules = new Map(alertRules(settings, registry).map((rule) => [ruleKey(rule.name, rule.expr), rule]));
  const groups = testedAlerts(builtInAlerts(settings, registry)).flatMap((alert) =>
    alert.unitTests(alert, context),
  );
  return generatedYaml({
    rule_files: [posix.relative(posix.dirname(renderedPaths.alertRuleTests), renderedPaths.alertRules)],
    evaluation_interval: settings.scrape.evaluationInterval,
    tests: groups.map((group) => {
      const rule = rules.get(ruleKey(group.alert.name, group.alert.expr));
      if (!rule) throw new Error(`no rule named ${group.alert.name} for its unit test "${group.name}"`);
      return renderTestGroup(group, rule);
    }),
  });
}

/**
 * One job of each threshold of each rule: the jobs that share a rule at one threshold would repeat the same
 * test, while each distinct threshold, stack-wide or recorded, is proven on a job of its own.
 */
function testedAlerts(alerts: readonly BuiltInAlert[]): BuiltInAlert[] {
  const tested = new Set<string>();
  return alerts.filter((alert) => {
    const key = `${ruleKey(alert.name, alert.expr)}\u0000${alert.recordedThreshold ?? ""}`;
    if (tested.has(key)) return false;
    tested.add(key);
    return true;
  });
}

/** Labels of a series as promtool reads them: `name{label="value",...}`. */
function seriesSelector(name: string, labels: Readonly<Record<string, string>>): string {
  const matchers = Object.entries(labels).map(([label, value]) => `${label}=${JSON.stringify(value)}`);
  return `${name}{${matchers.join(", ")}}`;
}

function expandDescription(
  parts: readonly DescriptionPart[],
  labels: Readonly<Record<string, string>>,
  value: number,
): string {
  return parts
    .map((part) => {
      if (typeof part === "string") return part;
      if ("label" in part) return labels[part.label] ?? "";
      return formatValue(part.value, value);
    })
    .join("");
}

function formatValue(format: ValueFormat, value: number): string {
  if (format === "humanizePercentage") return humanizePercentage(value);
  if (format === "humanizeDuration") return humanizeDuration(value);
  return humanize(value);
}

function renderTestGroup(group: TestGroup, rule: AlertRule) {
  const checks = [...group.checks].sort((a, b) => a.at - b.at);
  return {
    name: group.name,
    interval: formatDuration(group.intervalMs),
    input_series: group.series.map((series) => ({
      series: seriesSelector(series.metric, series.labels),
      values: seriesValues(series.segments),
    })),
    alert_rule_test: checks
      .filter((check, index) => checks.findIndex((other) => other.at === check.at) === index)
      .map((check) => ({
        eval_time: formatDuration(check.at),
        alertname: group.alert.name,
        exp_alerts: check.firing
          ? [
              {
                exp_labels: { ...check.firing.labels, ...rule.labels },
                exp_annotations: {
                  ...rule.annotations,
                  [annotationKeys.description]: expandDescription(
                    group.alert.description,
                    check.firing.labels,
                    check.firing.value,
                  ),
                  [annotationKeys.value]: formatValue(
                    valueFormatOf(group.alert.description),
                    check.firing.value,
                  ),
                },
              },
            ]
          : [],
      })),
  };
}
