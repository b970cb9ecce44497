/**
 * Every file the stack needs, rendered from one settings object and the endpoints of one environment (the
 * Docker stack's container aliases, or the end-to-end tests' loopback ports). The Pulumi program uploads these
 * files, `npm run render` writes them, and the end-to-end tests run the real programs on them. Each rule and
 * dashboard is made once: the PromQL lint reads what is then written.
 */
import { renderAlertmanagerConfig } from "./alertmanager/config";
import { renderBlackboxConfig } from "./blackbox/config";
import { buildDashboards, dashboardPanelQueries, renderGrafana } from "./grafana";
import { renderLoadtestOptions } from "./loadtest/plan";
import { renderPrometheusConfig } from "./prometheus/config";
import { renderAlertRuleTests } from "./prometheus/rule-tests";
import { alertRules, expectedContainerRecords, renderRuleFile, thresholdRecords } from "./prometheus/rules";
import { assertPromql } from "./promql/lint";
import type { Endpoints } from "./runtime/endpoints";
import { type RenderedFiles, renderedPaths } from "./runtime/layout";
import type { Settings } from "./settings/schema";
import { renderSloRuleTests } from "./slo/rule-tests";
import { renderSloRuleFile, sloRuleExpressions, sloRuleGroups } from "./slo/rules";

export interface RenderOptions {
  /**
   * Also the generated promtool unit tests of the rules, for `npm run render` and the tests. Nothing deployed
   * reads them, so the Pulumi program leaves them out.
   */
  readonly ruleTests: boolean;
}

/** Settings are expected to come from `loadSettings`; endpoints must list one address per Prometheus replica. */
export function renderAll(
  settings: Settings,
  endpoints: Endpoints,
  options: RenderOptions = { ruleTests: true },
): RenderedFiles {
  if (endpoints.prometheus.length !== settings.prometheus.replicas) {
    throw new Error(
      `endpoints list ${endpoints.prometheus.length} Prometheus replicas but prometheus.replicas is ${settings.prometheus.replicas}`,
    );
  }
  const rules = alertRules(settings);
  const records = [...thresholdRecords(settings), ...expectedContainerRecords(settings, endpoints)];
  const sloGroups = sloRuleGroups(settings);
  const dashboards = buildDashboards(settings);
  assertPromql([
    ...rules.map((rule) => ({ origin: `alert rule ${rule.name} (${rule.group})`, expr: rule.expr })),
    ...records.map((record) => ({
      origin: `recording rule ${record.record} (${record.group})`,
      expr: record.expr,
    })),
    ...sloRuleExpressions(sloGroups),
    ...dashboardPanelQueries(settings, {}, dashboards).map((query) => ({
      origin: `dashboard "${query.dashboard}", panel "${query.panel}"`,
      expr: query.expr,
    })),
  ]);

  const files: Record<string, string> = {};
  endpoints.prometheus.forEach((_, replica) => {
    files[renderedPaths.prometheusConfig(replica)] = renderPrometheusConfig(settings, endpoints, replica);
  });
  files[renderedPaths.alertRules] = renderRuleFile(rules, records);
  files[renderedPaths.sloRules] = renderSloRuleFile(sloGroups);
  if (options.ruleTests) {
    files[renderedPaths.alertRuleTests] = renderAlertRuleTests(settings, endpoints);
    Object.assign(files, renderSloRuleTests(settings, endpoints));
  }
  files[renderedPaths.alertmanagerConfig] = renderAlertmanagerConfig(settings, endpoints);
  Object.assign(files, renderGrafana(settings, endpoints, dashboards));
  if (settings.probes.length > 0) files[renderedPaths.blackboxConfig] = renderBlackboxConfig(settings);
  // Only an enabled load test is planned: a disabled one may hold settings no plan can be made from.
  if (settings.loadtest.enabled) {
    files[renderedPaths.loadtestOptions] = renderLoadtestOptions(settings, endpoints);
  }
  return files;
}
