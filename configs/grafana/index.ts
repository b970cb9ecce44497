/**
 * Grafana's files: datasource and dashboard provisioning (YAML) and the dashboards (JSON), built from the
 * settings with @grafana/grafana-foundation-sdk.
 */
import type * as cog from "@grafana/grafana-foundation-sdk/cog";
import type { Dashboard, Panel, RowPanel } from "@grafana/grafana-foundation-sdk/dashboard";
import type { Endpoints } from "../runtime/endpoints";
import { type RenderedFiles, renderedPaths } from "../runtime/layout";
import { durationMs, formatDuration } from "../settings/duration";
import { watchesContainers, watchesHosts } from "../settings/hosts";
import type { Settings } from "../settings/schema";
import { buildAlertsDashboard } from "./dashboards/alerts";
import { buildContainersDashboard } from "./dashboards/containers";
import { buildHostsDashboard } from "./dashboards/hosts";
import { buildLoadtestDashboard } from "./dashboards/loadtest";
import { buildProbesDashboard } from "./dashboards/probes";
import { buildServiceDashboard } from "./dashboards/service";
import { buildSloDashboard } from "./dashboards/slo";
import { renderDatasources } from "./datasources";
import { rateInterval } from "./panels";
import { renderDashboardProvider } from "./provider";

export { grafanaDashboardsDir } from "./provider";

/** Every dashboard of the stack, in the order they are listed. */
export function buildDashboards(settings: Settings): Dashboard[] {
  const slo = buildSloDashboard(settings);
  return [
    buildServiceDashboard(settings),
    buildAlertsDashboard(settings),
    buildLoadtestDashboard(settings),
    ...(slo ? [slo] : []),
    ...(watchesHosts(settings) ? [buildHostsDashboard(settings)] : []),
    ...(watchesContainers(settings) ? [buildContainersDashboard(settings)] : []),
    ...(settings.probes.length > 0 ? [buildProbesDashboard(settings)] : []),
  ];
}

function dashboardUid(dashboard: Dashboard): string {
  if (!dashboard.uid)
    throw new Error(`dashboard "${dashboard.title}" has no uid: Grafana would invent one per start`);
  return dashboard.uid;
}

/** Grafana's files; `dashboards` are those `buildDashboards` made of the same settings. */
export function renderGrafana(
  settings: Settings,
  endpoints: Endpoints,
  dashboards: readonly Dashboard[] = buildDashboards(settings),
): RenderedFiles {
  const files: Record<string, string> = {
    [renderedPaths.grafanaDatasources]: renderDatasources(settings, endpoints),
    [renderedPaths.grafanaDashboardProvider]: renderDashboardProvider(),
  };
  for (const dashboard of dashboards) {
    files[renderedPaths.grafanaDashboard(dashboardUid(dashboard))] =
      `${JSON.stringify(dashboard, null, 2)}\n`;
  }
  return files;
}

function isRow(panel: Panel | RowPanel): panel is RowPanel {
  return panel.type === "row";
}

/** Every panel of a dashboard, including those inside collapsed rows. */
export function dashboardPanels(dashboard: Dashboard): Panel[] {
  return (dashboard.panels ?? []).flatMap((panel) => (isRow(panel) ? panel.panels : [panel]));
}

function queryExpression(target: cog.Dataquery, where: string): string {
  if ("expr" in target && typeof target.expr === "string") return target.expr;
  throw new Error(`${where}: a target without a PromQL expression`);
}

/**
 * Replaces Grafana's variables the way Grafana does when the dashboard opens: `$__rate_interval` with its
 * smallest value (four times the panel's minimum interval, or the scrape interval Grafana's datasource is told
 * about), each "All"-able variable with its "All" value, the default selection, and every other query
 * variable with its default, unless `choices` picks another value.
 */
function resolveVariables(
  expr: string,
  dashboard: Dashboard,
  panel: Panel,
  settings: Settings,
  where: string,
  choices: VariableChoices,
): string {
  const scrapeInterval = panel.interval ?? settings.scrape.interval;
  let resolved = expr.replaceAll(rateInterval, formatDuration(4 * durationMs(scrapeInterval)));
  for (const variable of dashboard.templating.list ?? []) {
    const reference = new RegExp(`\\$\\{${variable.name}\\}|\\$${variable.name}\\b`, "g");
    const chosen = choices[variable.name];
    const value =
      chosen ??
      (variable.includeAll
        ? variable.allValue
        : variable.type === "query"
          ? variable.current?.value
          : undefined);
    if (typeof value === "string") resolved = resolved.replace(reference, value);
  }
  const unresolved = /\$\{?\w+/.exec(resolved);
  if (unresolved) throw new Error(`${where}: the query uses ${unresolved[0]}, which no default resolves`);
  return resolved;
}

export interface DashboardPanelQuery {
  /** Dashboard title. */
  readonly dashboard: string;
  /** Panel title. */
  readonly panel: string;
  /**
   * The PromQL Grafana sends for the panel when the dashboard opens with its defaults: variables resolved,
   * rate windows at their smallest. The panel shows data when this expression has samples within the
   * dashboard's time range (`dashboardTimeRange` in ./panels): run it as a range query, as Grafana does. An
   * instant query at "now" is stricter than the panel: k6's series stop when its run ends.
   */
  readonly expr: string;
}

/** Values picked for dashboard variables by name, such as `{ job: "billing" }`. */
export type VariableChoices = Readonly<Record<string, string>>;

/** Every PromQL expression of every panel, read back from the built dashboards. */
export function dashboardPanelQueries(
  settings: Settings,
  choices: VariableChoices = {},
  dashboards: readonly Dashboard[] = buildDashboards(settings),
): DashboardPanelQuery[] {
  return dashboards.flatMap((dashboard) =>
    dashboardPanels(dashboard).flatMap((panel) =>
      (panel.targets ?? []).map((target) => {
        const where = `dashboard "${dashboard.title}", panel "${panel.title}"`;
        return {
          dashboard: dashboard.title ?? dashboardUid(dashboard),
          panel: panel.title ?? "",
          expr: resolveVariables(queryExpression(target, where), dashboard, panel, settings, where, choices),
        };
      }),
    ),
  );
}
