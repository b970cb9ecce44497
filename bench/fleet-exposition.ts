/**
 * What one monitored job of the scale part exposes: the service's own metrics shape (service/metrics.ts), made
 * up rather than measured, so that one process can stand in for hundreds of instances. Per job:
 * - the request counter and duration histogram by method, route and status code, with the contract's names
 *   and buckets, for the routes the old scale part sent traffic to; each series advances at its own steady
 *   rate, so that rates, ratios and quantiles over it are real increases;
 * - the app's gauges and build info, as the service writes them;
 * - prom-client's default process and Node.js runtime metrics, those of the process that serves the fleet
 *   (the same families the service registers with `collectDefaultMetrics`).
 *
 * The counts are a function of the time: nothing is kept per job but its phase, and a scrape of any job costs a
 * few string joins.
 */

import {
  apiRoutes,
  metricNames,
  type RequestLabel,
  requestDurationBuckets,
} from "../service/metrics-contract";
import { packageInfo } from "../service/package-info";

/** One request series of a job: its labels, its rate and how its durations fall into the buckets. */
export interface RequestSeries {
  readonly labels: Readonly<Record<RequestLabel, string>>;
  readonly requestsPerSecond: number;
  /** The share of requests at or below each bucket boundary of `requestDurationBuckets`, ascending to 1. */
  readonly shareAtOrBelow: readonly number[];
  /** Mean duration, for `_sum`. */
  readonly meanSeconds: number;
}

/** Cumulative shares over `requestDurationBuckets` for durations spread evenly between two bounds. */
export function sharesBetween(fromSeconds: number, toSeconds: number): number[] {
  return requestDurationBuckets.map((le) =>
    Math.min(1, Math.max(0, (le - fromSeconds) / (toSeconds - fromSeconds))),
  );
}

/**
 * A healthy service's traffic on the routes the old scale part exercised (`/api/items`, `/api/slow?ms=20`,
 * `/api/error`): the same series, so that the series per job compare with its figures, at rates that keep every
 * alert and SLO quiet (errors 0.4% of requests, against a 1% error budget), as most jobs of a fleet are.
 */
export const fleetRequestSeries: readonly RequestSeries[] = [
  {
    labels: { method: "GET", route: apiRoutes.items, status_code: "200" },
    requestsPerSecond: 2,
    shareAtOrBelow: sharesBetween(0.001, 0.008),
    meanSeconds: 0.0045,
  },
  {
    labels: { method: "GET", route: apiRoutes.slow, status_code: "200" },
    requestsPerSecond: 0.5,
    shareAtOrBelow: sharesBetween(0.02, 0.03),
    meanSeconds: 0.025,
  },
  {
    labels: { method: "GET", route: apiRoutes.error, status_code: "500" },
    requestsPerSecond: 0.01,
    shareAtOrBelow: sharesBetween(0.001, 0.006),
    meanSeconds: 0.0035,
  },
];

function labelText(labels: Readonly<Record<string, string>>): string {
  return Object.entries(labels)
    .map(([name, value]) => `${name}="${value}"`)
    .join(",");
}

/**
 * Requests of a series counted by `elapsedSeconds` after the job started: at least 1, so that every series
 * exists from the first scrape, as it would after the first request; `phase` (0..1) staggers the jobs.
 */
export function requestCount(series: RequestSeries, elapsedSeconds: number, phase: number): number {
  return 1 + Math.floor(series.requestsPerSecond * Math.max(0, elapsedSeconds) + phase);
}

/** The app's own families for one job at a moment, in the order and format the service writes them. */
export function renderAppFamilies(
  elapsedSeconds: number,
  phase: number,
  series: readonly RequestSeries[] = fleetRequestSeries,
): string {
  const counts = series.map((each) => requestCount(each, elapsedSeconds, phase));
  const lines: string[] = [
    `# HELP ${metricNames.requestsTotal} HTTP requests completed, by method, route template and status code sent.`,
    `# TYPE ${metricNames.requestsTotal} counter`,
    ...series.map(
      (each, index) => `${metricNames.requestsTotal}{${labelText(each.labels)}} ${counts[index]}`,
    ),
    `# HELP ${metricNames.requestsInFlight} HTTP requests received that are neither answered nor abandoned by their client yet.`,
    `# TYPE ${metricNames.requestsInFlight} gauge`,
    `${metricNames.requestsInFlight}{method="GET"} 0`,
    `# HELP ${metricNames.itemsCreatedTotal} Items created through POST /api/items.`,
    `# TYPE ${metricNames.itemsCreatedTotal} counter`,
    `${metricNames.itemsCreatedTotal} 0`,
    `# HELP ${metricNames.items} Items currently in the in-memory store.`,
    `# TYPE ${metricNames.items} gauge`,
    `${metricNames.items} 0`,
    `# HELP ${metricNames.buildInfo} Always 1; the labels say which build of the service is running on which Node.js.`,
    `# TYPE ${metricNames.buildInfo} gauge`,
    `${metricNames.buildInfo}{version="${packageInfo.version}",node_version="${process.version}"} 1`,
    "",
    `# HELP ${metricNames.requestDurationSeconds} Time from receiving an HTTP request until its response has been sent, in seconds.`,
    `# TYPE ${metricNames.requestDurationSeconds} histogram`,
  ];
  const histogram = metricNames.requestDurationSeconds;
  series.forEach((each, index) => {
    const count = counts[index] as number;
    const labels = labelText(each.labels);
    requestDurationBuckets.forEach((le, bucket) => {
      const share = each.shareAtOrBelow[bucket] ?? 1;
      lines.push(`${histogram}_bucket{le="${le}",${labels}} ${Math.floor(count * share)}`);
    });
    lines.push(`${histogram}_bucket{le="+Inf",${labels}} ${count}`);
    lines.push(`${histogram}_sum{${labels}} ${count * each.meanSeconds}`);
    lines.push(`${histogram}_count{${labels}} ${count}`);
  });
  return `${lines.join("\n")}\n`;
}
