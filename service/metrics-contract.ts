/**
 * The service's metrics contract: names, labels and buckets. Alert rules and dashboards in configs/ are
 * generated from these constants, so a renamed metric breaks the build instead of silently emptying a panel.
 * This module is pure data so that configs/ can import it without pulling in prom-client.
 */

export const metricNames = {
  requestsTotal: "app_http_requests_total",
  requestDurationSeconds: "app_http_request_duration_seconds",
  requestsInFlight: "app_http_requests_in_flight",
  itemsCreatedTotal: "app_items_created_total",
  items: "app_items",
  buildInfo: "app_build_info",
} as const;

/** Labels of the request counter and the duration histogram. */
export const requestLabels = ["method", "route", "status_code"] as const;
export type RequestLabel = (typeof requestLabels)[number];

/** Labels of the in-flight gauge: the route is not known until the router has run. */
export const inFlightLabels = ["method"] as const;

export const buildInfoLabels = ["version", "node_version"] as const;

/** OpenTelemetry's advised boundaries for HTTP server durations, in seconds. */
export const requestDurationBuckets = [
  0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
];

/** `route` label of requests that matched no route: raw paths would make the series count unbounded. */
export const unmatchedRoute = "unmatched";

/** `method` label of any method outside the standard set, for the same reason. */
export const otherMethod = "_OTHER";

export const standardMethods = [
  "GET",
  "HEAD",
  "POST",
  "PUT",
  "DELETE",
  "CONNECT",
  "OPTIONS",
  "TRACE",
  "PATCH",
] as const;

/** Operational endpoints: the scrape target, liveness (Docker's HEALTHCHECK) and readiness. */
export const probePaths = {
  metrics: "/metrics",
  liveness: "/healthz",
  readiness: "/readyz",
} as const;

/** Paths the service serves but does not count: probes and scrapes are not traffic. */
export const uncountedPaths = [probePaths.metrics, probePaths.liveness, probePaths.readiness] as const;

/** Routes of the demo API, as the router templates them; the `route` label takes exactly these values. */
export const apiRoutes = {
  root: "/",
  items: "/api/items",
  item: "/api/items/:id",
  slow: "/api/slow",
  error: "/api/error",
} as const;

/** The longest simulated latency /api/slow accepts, in milliseconds. */
export const maxSlowMs = 5000;
