/**
 * Building blocks shared by the dashboards: the dashboard frame (uid, time range, refresh, the datasource
 * variable, links between the dashboards), time-series and stat panels that query Prometheus through the
 * datasource variable, threshold lines, and a row layout that numbers panels so their ids stay stable.
 */
import type * as cog from "@grafana/grafana-foundation-sdk/cog";
import {
  BigValueColorMode,
  BigValueGraphMode,
  BigValueTextMode,
  GraphThresholdsStyleConfigBuilder,
  GraphThresholdsStyleMode,
  LegendDisplayMode,
  LegendPlacement,
  ReduceDataOptionsBuilder,
  SortOrder,
  TooltipDisplayMode,
  VizLegendOptionsBuilder,
  VizTooltipOptionsBuilder,
} from "@grafana/grafana-foundation-sdk/common";
import {
  type Dashboard,
  DashboardBuilder,
  DashboardCursorSync,
  DashboardLinkBuilder,
  DashboardLinkType,
  DatasourceVariableBuilder,
  MappingType,
  type Panel,
  QueryVariableBuilder,
  RowBuilder,
  type Threshold,
  ThresholdsConfigBuilder,
  ThresholdsMode,
  type ValueMapping,
  VariableRefresh,
  VariableSort,
} from "@grafana/grafana-foundation-sdk/dashboard";
import { DataqueryBuilder } from "@grafana/grafana-foundation-sdk/prometheus";
import { PanelBuilder as StatPanelBuilder } from "@grafana/grafana-foundation-sdk/stat";
import { PanelBuilder as TimeSeriesPanelBuilder } from "@grafana/grafana-foundation-sdk/timeseries";
import { datasourceTypes, prometheusDatasourceName, prometheusDatasourceUid } from "./datasources";

/** Name of the variable that selects the Prometheus replica every panel queries. */
export const datasourceVariable = "datasource";

/** Every panel and query points here: the selected replica, replica 0 unless the user picks another. */
export const prometheusDatasource = {
  type: datasourceTypes.prometheus,
  uid: `\${${datasourceVariable}}`,
} as const;

/** The time range a dashboard opens with; a panel "has data" when its query returns samples within it. */
export const dashboardTimeRange = { from: "now-30m", to: "now" } as const;

const dashboardRefresh = "10s";

/** Tag shared by the generated dashboards; the links bar lists every dashboard with it. */
const dashboardTag = "watchtower";

/**
 * Grafana's rate window: four times the scrape interval (or the panel's minimum interval) at least, more
 * when the panel is zoomed out, so that a rate always spans several samples.
 */
export const rateInterval = "$__rate_interval";

export const colors = { ok: "green", warn: "orange", bad: "red" } as const;

interface DashboardIdentity {
  readonly uid: string;
  readonly title: string;
  readonly description: string;
}

/** A dashboard with the shared frame; sections are added with `addSections`. */
export function newDashboard(identity: DashboardIdentity): DashboardBuilder {
  return new DashboardBuilder(identity.title)
    .uid(identity.uid)
    .description(identity.description)
    .tags([dashboardTag])
    .readonly()
    .refresh(dashboardRefresh)
    .time(dashboardTimeRange)
    .timezone("browser")
    .tooltip(DashboardCursorSync.Crosshair)
    .withVariable(
      new DatasourceVariableBuilder(datasourceVariable)
        .label("Prometheus replica")
        .description("Switch to another replica when the selected one is down.")
        .type(datasourceTypes.prometheus)
        .current({ text: prometheusDatasourceName(0), value: prometheusDatasourceUid(0) }),
    )
    .link(
      new DashboardLinkBuilder("Dashboards")
        .type(DashboardLinkType.Dashboards)
        .tags([dashboardTag])
        .asDropdown(false)
        .includeVars(true)
        .keepTime(true),
    );
}

/** A Prometheus expression and the legend of the series it returns. */
interface PanelQuery {
  readonly expr: string;
  readonly legend: string;
}

/** The query's id within its panel: A, B, C... */
function refId(index: number): string {
  return String.fromCharCode(65 + index);
}

function targets(queries: readonly PanelQuery[], instant: boolean): DataqueryBuilder[] {
  return queries.map((query, i) => {
    const target = new DataqueryBuilder()
      .datasource(prometheusDatasource)
      .refId(refId(i))
      .expr(query.expr)
      .legendFormat(query.legend);
    return instant ? target.instant() : target.range();
  });
}

interface TimeSeriesOptions {
  readonly title: string;
  readonly description: string;
  /** Grafana unit id: reqps, percentunit, s, bytes, short, opm... */
  readonly unit: string;
  readonly queries: readonly PanelQuery[];
  /** Lines at these values, for the settings that govern the series, in ascending order; none when empty. */
  readonly thresholdLines?: readonly ThresholdLine[];
  /**
   * A threshold that depends on a dashboard variable, such as a job's own: a query drawn as a dashed red
   * line, where a fixed value would be wrong for some choices.
   */
  readonly thresholdQuery?: PanelQuery;
  /** Minimum query interval, for series written less often than the scrape interval. */
  readonly minInterval?: string;
}

/** A threshold line: red for what pages or alerts, orange for what opens a ticket. */
export interface ThresholdLine {
  readonly value: number;
  readonly color: (typeof colors)["bad" | "warn"];
}

/** The one red line of an alert's threshold. */
export function alertThreshold(value: number): ThresholdLine[] {
  return [{ value, color: colors.bad }];
}

/**
 * An alert's threshold as a red line while the alert is enabled, and the sentence that ends the panel's
 * description: when the alert fires (`firesWhen`), or that it is disabled and no line is drawn.
 */
export function alertLine(
  alert: { readonly enabled: boolean },
  name: string,
  threshold: number,
  firesWhen: string,
): { thresholdLines: ThresholdLine[]; note: string } {
  return alert.enabled
    ? { thresholdLines: alertThreshold(threshold), note: ` ${name} fires when ${firesWhen}.` }
    : { thresholdLines: [], note: ` ${name} is disabled in the settings, so no line is drawn.` };
}

/** When an alert on a gauge with a `for` fires, as `alertLine` takes it: "<series> stays above the red line ...". */
export function staysPastLine(series: string, side: "above" | "below"): string {
  return `${series} stays ${side} the red line for the alert's \`for\` duration`;
}

export function timeSeries(options: TimeSeriesOptions): TimeSeriesPanelBuilder {
  const lines = options.thresholdLines ?? [];
  const steps: Threshold[] = [{ value: null, color: colors.ok }, ...lines];
  const { thresholdQuery } = options;
  const queries = thresholdQuery ? [...options.queries, thresholdQuery] : options.queries;
  const panel = new TimeSeriesPanelBuilder()
    .title(options.title)
    .description(options.description)
    .datasource(prometheusDatasource)
    .targets(targets(queries, false))
    .unit(options.unit)
    .min(0)
    .fillOpacity(10)
    .thresholds(new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps(steps))
    .thresholdsStyle(
      new GraphThresholdsStyleConfigBuilder().mode(
        lines.length === 0 ? GraphThresholdsStyleMode.Off : GraphThresholdsStyleMode.Line,
      ),
    )
    .legend(
      new VizLegendOptionsBuilder()
        .showLegend(true)
        .displayMode(LegendDisplayMode.List)
        .placement(LegendPlacement.Bottom),
    )
    .tooltip(new VizTooltipOptionsBuilder().mode(TooltipDisplayMode.Multi).sort(SortOrder.Descending));
  if (thresholdQuery) panel.overrideByQuery(refId(queries.length - 1), thresholdLineStyle);
  return options.minInterval === undefined ? panel : panel.interval(options.minInterval);
}

/** A series drawn as a threshold: red, dashed, not filled, and never stacked with the others. */
const thresholdLineStyle = [
  { id: "color", value: { mode: "fixed", fixedColor: colors.bad } },
  { id: "custom.lineStyle", value: { fill: "dash", dash: [10, 10] } },
  { id: "custom.fillOpacity", value: 0 },
];

interface StatOptions {
  readonly title: string;
  readonly description: string;
  readonly unit: string;
  readonly queries: readonly PanelQuery[];
  /** Colour steps: the colour of `base` below the first step, then each step's colour from its value up. */
  readonly colors: { readonly base: string; readonly steps?: readonly Threshold[] };
  readonly mappings?: ValueMapping[];
}

/** One tile per returned series, showing its latest value. */
export function stat(options: StatOptions): StatPanelBuilder {
  const panel = new StatPanelBuilder()
    .title(options.title)
    .description(options.description)
    .datasource(prometheusDatasource)
    .targets(targets(options.queries, true))
    .unit(options.unit)
    .thresholds(
      new ThresholdsConfigBuilder()
        .mode(ThresholdsMode.Absolute)
        .steps([{ value: null, color: options.colors.base }, ...(options.colors.steps ?? [])]),
    )
    .colorMode(BigValueColorMode.Background)
    .graphMode(BigValueGraphMode.None)
    .textMode(BigValueTextMode.ValueAndName)
    .reduceOptions(new ReduceDataOptionsBuilder().calcs(["lastNotNull"]).values(false))
    .height(5);
  return options.mappings === undefined ? panel : panel.mappings(options.mappings);
}

/** Colours of a stat whose value is bad below 1 (nothing discovered, nothing up) and good from 1. */
export const goodFromOne = { base: colors.bad, steps: [{ value: 1, color: colors.ok }] } as const;

/** Colours of a stat whose value is good at 0 and bad from 1 (firing alerts). */
export const badFromOne = { base: colors.ok, steps: [{ value: 1, color: colors.bad }] } as const;

/** Value mapping of a 0/1 health gauge to words. */
export function booleanMapping(whenOne: string, whenZero: string): ValueMapping[] {
  return [
    {
      type: MappingType.ValueToText,
      options: {
        "1": { text: whenOne, color: colors.ok, index: 0 },
        "0": { text: whenZero, color: colors.bad, index: 1 },
      },
    },
  ];
}

type NumberedPanel = cog.Builder<Panel> & { id(id: number): unknown };

interface DashboardSection {
  readonly title: string;
  readonly panels: readonly NumberedPanel[];
}

/** Adds each section as a row followed by its panels, numbering rows and panels in order. */
export function addSections(dashboard: DashboardBuilder, sections: readonly DashboardSection[]): Dashboard {
  let id = 0;
  for (const section of sections) {
    id += 1;
    dashboard.withRow(new RowBuilder(section.title).id(id));
    for (const panel of section.panels) {
      id += 1;
      panel.id(id);
      dashboard.withPanel(panel);
    }
  }
  return dashboard.build();
}

interface LabelValuesVariable {
  readonly name: string;
  readonly label: string;
  readonly description: string;
  /** The series whose label values the variable offers, such as `node_load1{job="node"}`. */
  readonly series: string;
  readonly labelName: string;
  /** The value it opens on. */
  readonly current: string;
}

/** A variable offering one label's values of a series, refreshed with the time range and sorted. */
export function labelValuesVariable(variable: LabelValuesVariable): QueryVariableBuilder {
  const query = `label_values(${variable.series}, ${variable.labelName})`;
  return new QueryVariableBuilder(variable.name)
    .label(variable.label)
    .description(variable.description)
    .datasource(prometheusDatasource)
    .query(query)
    .definition(query)
    .refresh(VariableRefresh.OnTimeRangeChanged)
    .sort(VariableSort.AlphabeticalAsc)
    .current({ text: variable.current, value: variable.current });
}
