/**
 * PromQL shared by alert rules and dashboard panels, so that what a panel shows and what an alert fires on
 * cannot drift apart. Aggregations keep the `job` label: Alertmanager groups notifications by it.
 */
import { metricNames } from "../../service/metrics-contract";
import { jobs } from "../names";
import { prometheusSyntheticSeries } from "./upstream-metrics";

/** `{job="<job>"}`: the selector of one scrape job. */
export function jobSelector(job: (typeof jobs)[keyof typeof jobs]): string {
  return `job="${job}"`;
}

const appSelector = jobSelector(jobs.app);

/** Quantile of request duration that the latency alert watches and the dashboards draw its threshold on. */
export const alertedLatencyQuantile = 0.95;

/** Requests the app served within the sliding window. */
export function requestsInWindow(window: string): string {
  return `sum by (job) (increase(${metricNames.requestsTotal}{${appSelector}}[${window}]))`;
}

/** Share of requests answered with a 5xx status over the window. */
export function errorRatio(window: string): string {
  const total = `sum by (job) (rate(${metricNames.requestsTotal}{${appSelector}}[${window}]))`;
  const errors = `sum by (job) (rate(${metricNames.requestsTotal}{${appSelector},status_code=~"5.."}[${window}]))`;
  return `${errors} / ${total}`;
}

/** A quantile of request duration over the window, from the histogram's buckets. */
export function latencyQuantile(quantile: number, window: string): string {
  return `histogram_quantile(${quantile}, sum by (job, le) (rate(${metricNames.requestDurationSeconds}_bucket{${appSelector}}[${window}])))`;
}

/** `up` of every target of the job. */
export function targetUp(job: (typeof jobs)[keyof typeof jobs]): string {
  return `${prometheusSyntheticSeries.up}{${jobSelector(job)}}`;
}
