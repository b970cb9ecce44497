/**
 * "Service": what the monitored Koa service does and how it feels. The panels that show the series an alert
 * fires on use the alert's own expression from configs/promql/queries.ts and draw the alert's threshold as a line,
 * so what a user sees and what pages them cannot drift apart.
 */

import {
  type Dashboard,
  QueryVariableBuilder,
  VariableRefresh,
  VariableSort,
} from "@grafana/grafana-foundation-sdk/dashboard";
import { type inFlightLabels, metricNames, type RequestLabel } from "../../../service/metrics-contract";
import { jobs } from "../../names";
import {
  alertedLatencyQuantile,
  alertThresholdQuery,
  errorRatio,
  jobSelector,
  latencyQuantile,
  requestsInWindow,
} from "../../promql/queries";
import { nodeProcessMetrics, targetLabels } from "../../promql/upstream-metrics";
import { alertNames } from "../../settings/alert-specs";
import { effectiveAlertSettings, httpContractJobs } from "../../settings/monitored-jobs";
import type { Settings } from "../../settings/schema";
import { addSections, newDashboard, prometheusDatasource, rateInterval, timeSeries } from "../panels";

export const serviceDashboard = {
  uid: "watchtower-service",
  title: "Service",
  description:
    "Traffic, errors, latency and process health of the monitored service, with the alert thresholds.",
} as const;

/** The dashboard shows one job at a time: any job with the HTTP contract, the first of them when it opens. */
export const jobVariable = "job";
export const selectedJob = `$${jobVariable}`;
const app = jobSelector(selectedJob);

function jobVariableBuilder(settings: Settings): QueryVariableBuilder {
  const query = `label_values(${metricNames.requestsTotal}, ${targetLabels.job})`;
  const first = httpContractJobs(settings)[0]?.job ?? jobs.app;
  return new QueryVariableBuilder(jobVariable)
    .label("Job")
    .description(
      "Any scrape job that exposes the HTTP metrics contract: the demo app, or a target or service of yours.",
    )
    .datasource(prometheusDatasource)
    .query(query)
    .definition(query)
    .refresh(VariableRefresh.OnTimeRangeChanged)
    .sort(VariableSort.AlphabeticalAsc)
    .current({ text: first, value: first });
}
const route: RequestLabel = "route";
const statusCode: RequestLabel = "status_code";
const method: (typeof inFlightLabels)[number] = "method";

/** Latency quantiles drawn together, around the one the latency alert watches (its line is `p95Seconds`). */
const latencyQuantiles = [0.5, alertedLatencyQuantile, 0.99] as const;

type RequestAlertKey = "highRequestVolume" | "highErrorRate" | "highLatency";

/** Whether any job with the HTTP contract has the alert enabled, with its own overrides. */
function enabledForAnyJob(settings: Settings, key: RequestAlertKey): boolean {
  return httpContractJobs(settings).some(
    (job) => effectiveAlertSettings(settings.alerts, job.overrides, key).enabled,
  );
}

/**
 * The alert's threshold for the selected job, as a line: the job's own where it overrides it (recorded by the
 * rules as data), the stack-wide value otherwise; no line while no job has the alert enabled.
 */
function thresholdLine(settings: Settings, key: RequestAlertKey, stackWide: number) {
  if (!enabledForAnyJob(settings, key)) return {};
  return {
    thresholdQuery: { expr: alertThresholdQuery(alertNames[key], app, stackWide), legend: "threshold" },
  };
}

/** Says how the line relates to the alert without repeating settings values, which only the line carries. */
function alertNote(settings: Settings, key: RequestAlertKey, series: string): string {
  return enabledForAnyJob(settings, key)
    ? `The alert fires when ${series} stays above the dashed red line, the selected job's own threshold, for the alert's \`for\` duration.`
    : "The alert is disabled in the settings, so no line is drawn.";
}

export function buildServiceDashboard(settings: Settings): Dashboard {
  const { highRequestVolume, highErrorRate, highLatency } = settings.alerts;

  const traffic = [
    timeSeries({
      title: "Request rate by route and status",
      description: "Requests per second the service answered, by route template and status code.",
      unit: "reqps",
      queries: [
        {
          expr: `sum by (${route}, ${statusCode}) (rate(${metricNames.requestsTotal}{${app}}[${rateInterval}]))`,
          legend: `{{${route}}} {{${statusCode}}}`,
        },
      ],
    }),
    timeSeries({
      title: `Requests in the last ${highRequestVolume.window}`,
      description:
        `Requests within the sliding ${highRequestVolume.window} window: the series ${alertNames.highRequestVolume} watches. ` +
        alertNote(settings, "highRequestVolume", "this count"),
      unit: "short",
      queries: [{ expr: requestsInWindow(highRequestVolume.window, app), legend: "requests" }],
      ...thresholdLine(settings, "highRequestVolume", highRequestVolume.maxRequests),
    }),
    timeSeries({
      title: "Error ratio (5xx)",
      description:
        `Share of requests answered with a 5xx status over ${highErrorRate.window}: the series ${alertNames.highErrorRate} watches. ` +
        "Empty until the service has answered its first 5xx. " +
        alertNote(settings, "highErrorRate", "this ratio"),
      unit: "percentunit",
      queries: [{ expr: errorRatio(highErrorRate.window, app), legend: "5xx ratio" }],
      ...thresholdLine(settings, "highErrorRate", highErrorRate.maxRatio),
    }),
    timeSeries({
      title: "Latency p50 / p95 / p99",
      description:
        `Request duration quantiles over ${highLatency.window}, from the duration histogram. ${alertNames.highLatency} watches the p95. ` +
        alertNote(settings, "highLatency", "the p95"),
      unit: "s",
      queries: latencyQuantiles.map((quantile) => ({
        expr: latencyQuantile(quantile, highLatency.window, app),
        legend: `p${Math.round(quantile * 100)}`,
      })),
      ...thresholdLine(settings, "highLatency", highLatency.p95Seconds),
    }),
    timeSeries({
      title: "In-flight requests",
      description: "Requests being handled right now, by method.",
      unit: "short",
      queries: [
        {
          expr: `sum by (${method}) (${metricNames.requestsInFlight}{${app}})`,
          legend: `{{${method}}}`,
        },
      ],
    }),
  ];

  const items = [
    timeSeries({
      title: "Items stored",
      description: "Items the demo API holds.",
      unit: "short",
      queries: [{ expr: `sum(${metricNames.items}{${app}})`, legend: "items" }],
    }),
    timeSeries({
      title: "Items created",
      description: "Items created per second.",
      unit: "ops",
      queries: [
        {
          expr: `sum(rate(${metricNames.itemsCreatedTotal}{${app}}[${rateInterval}]))`,
          legend: "created",
        },
      ],
    }),
  ];

  const instance = targetLabels.instance;
  const process = [
    timeSeries({
      title: "CPU",
      description: "CPU time the service's process uses: 100% is one core.",
      unit: "percentunit",
      queries: [
        {
          expr: `rate(${nodeProcessMetrics.cpuSecondsTotal}{${app}}[${rateInterval}])`,
          legend: `{{${instance}}}`,
        },
      ],
    }),
    timeSeries({
      title: "Memory",
      description: "Resident set size of the process, and the V8 heap within it.",
      unit: "bytes",
      queries: [
        { expr: `${nodeProcessMetrics.residentMemoryBytes}{${app}}`, legend: `resident {{${instance}}}` },
        { expr: `${nodeProcessMetrics.heapTotalBytes}{${app}}`, legend: `heap total {{${instance}}}` },
        { expr: `${nodeProcessMetrics.heapUsedBytes}{${app}}`, legend: `heap used {{${instance}}}` },
      ],
    }),
    timeSeries({
      title: "Event-loop lag",
      description: "How late the event loop runs callbacks, as prom-client measures it between scrapes.",
      unit: "s",
      queries: [
        { expr: `${nodeProcessMetrics.eventLoopLagP50Seconds}{${app}}`, legend: `p50 {{${instance}}}` },
        { expr: `${nodeProcessMetrics.eventLoopLagP99Seconds}{${app}}`, legend: `p99 {{${instance}}}` },
      ],
    }),
  ];

  return addSections(newDashboard(serviceDashboard).withVariable(jobVariableBuilder(settings)), [
    { title: "Traffic", panels: traffic },
    { title: "Items", panels: items },
    { title: "Process", panels: process },
  ]);
}
