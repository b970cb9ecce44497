/**
 * What k6's Prometheus remote-write output produces, so that the "Load test" dashboard and the k6 run agree.
 * k6 names series `k6_<metric>` plus a suffix by type: counters `_total`, rates `_rate`, and one series per
 * trend statistic (`p(95)` becomes `_p95`). The trend statistics are passed to k6 through
 * K6_PROMETHEUS_RW_TREND_STATS, built from the same list.
 */

export const k6TrendStats = ["p(50)", "p(95)", "p(99)", "avg", "max"] as const;

/** The value of K6_PROMETHEUS_RW_TREND_STATS. */
export const k6TrendStatsEnv = k6TrendStats.join(",");

/** Series name of one trend statistic: ("http_req_duration", "p(95)") → "k6_http_req_duration_p95". */
export function k6TrendSeries(metric: string, stat: (typeof k6TrendStats)[number]): string {
  return `k6_${metric}_${stat.replace(/[()]/g, "")}`;
}

export const k6Series = {
  httpRequests: "k6_http_reqs_total",
  httpFailedRate: "k6_http_req_failed_rate",
  checksRate: "k6_checks_rate",
  iterations: "k6_iterations_total",
  vus: "k6_vus",
  droppedIterations: "k6_dropped_iterations_total",
} as const;

/** Tag that identifies one run of the load test in every series it writes. */
export const k6TestIdTag = "testid";

/** k6's built-in trend of HTTP request durations; its statistics become series through `k6TrendSeries`. */
export const k6HttpRequestDuration = "http_req_duration";

/** Tags k6 puts on every HTTP sample, which its remote-write output turns into labels. */
export const k6HttpTags = {
  /** The request's name: its URL unless the script names it, so that URLs with ids share one name. */
  name: "name",
  status: "status",
} as const;

/** Tag k6 puts on every check sample: the check's description. */
export const k6CheckTag = "check";

/**
 * How often k6's remote-write output aggregates and pushes samples (K6_PROMETHEUS_RW_PUSH_INTERVAL, set from
 * here). Rates over k6 series need a window spanning several pushes, so the dashboard derives its from this.
 */
export const k6PushInterval = "5s";
