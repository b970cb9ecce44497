/**
 * PromQL shared by alert rules and dashboard panels, so that what a panel shows and what an alert fires on
 * cannot drift apart.
 */
import { metricNames } from "../service/metrics-contract";
import { jobs } from "./names";

const appSelector = `job="${jobs.app}"`;

/** Requests the app served within the sliding window, summed over instances and label sets. */
export function requestsInWindow(window: string): string {
  return `sum(increase(${metricNames.requestsTotal}{${appSelector}}[${window}]))`;
}

/** Share of requests answered with a 5xx status over the window. */
export function errorRatio(window: string): string {
  const total = `sum(rate(${metricNames.requestsTotal}{${appSelector}}[${window}]))`;
  const errors = `sum(rate(${metricNames.requestsTotal}{${appSelector},status_code=~"5.."}[${window}]))`;
  return `${errors} / ${total}`;
}

/** A quantile of request duration over the window, from the histogram's buckets. */
export function latencyQuantile(quantile: number, window: string): string {
  return `histogram_quantile(${quantile}, sum by (le) (rate(${metricNames.requestDurationSeconds}_bucket{${appSelector}}[${window}])))`;
}
