/**
 * Traffic that gives the service every request series it has in normal use: each route of the API with each
 * answer it gives, plus the probes. The scrape benchmark renders /metrics after it, and the cardinality attack
 * starts from it. Each answer is checked, so that a change in the service's behaviour shows up here rather than
 * as a quietly different benchmark.
 */
import { apiRoutes, probePaths } from "../service/metrics-contract";
import { withinRequestTimeout } from "../test-support/http";
import { rawRequest } from "../test-support/service";

interface Exchange {
  readonly method: string;
  readonly path: string;
  readonly body?: unknown;
  readonly status: number;
}

/** Sends the exchanges in order, each checked for its expected status. */
export async function exerciseEveryRoute(baseUrl: string): Promise<void> {
  const created = await exchange(baseUrl, {
    method: "POST",
    path: apiRoutes.items,
    body: { name: "benchmark", quantity: 1 },
    status: 201,
  });
  const location = created.headers.location;
  if (typeof location !== "string") throw new Error(`POST ${apiRoutes.items} answered without a Location`);
  const exchanges: Exchange[] = [
    { method: "GET", path: apiRoutes.root, status: 200 },
    { method: "HEAD", path: apiRoutes.root, status: 200 },
    { method: "OPTIONS", path: apiRoutes.root, status: 200 },
    { method: "POST", path: apiRoutes.root, status: 405 },
    { method: "GET", path: apiRoutes.items, status: 200 },
    { method: "GET", path: `${apiRoutes.items}?limit=0`, status: 400 },
    { method: "POST", path: apiRoutes.items, body: { name: "" }, status: 400 },
    { method: "GET", path: location, status: 200 },
    { method: "DELETE", path: location, status: 204 },
    { method: "GET", path: location, status: 404 },
    { method: "DELETE", path: location, status: 404 },
    { method: "PUT", path: location, status: 405 },
    { method: "GET", path: `${apiRoutes.slow}?ms=1`, status: 200 },
    { method: "GET", path: `${apiRoutes.slow}?ms=x`, status: 400 },
    { method: "GET", path: apiRoutes.error, status: 500 },
    { method: "GET", path: "/no/such/route", status: 404 },
    { method: "PROPFIND", path: apiRoutes.root, status: 501 },
    { method: "GET", path: probePaths.liveness, status: 200 },
    { method: "GET", path: probePaths.readiness, status: 200 },
    { method: "GET", path: probePaths.metrics, status: 200 },
  ];
  for (const each of exchanges) await exchange(baseUrl, each);
}

async function exchange(baseUrl: string, each: Exchange) {
  const json = each.body === undefined ? undefined : JSON.stringify(each.body);
  const response = await withinRequestTimeout(
    `${each.method} ${each.path}`,
    rawRequest(`${baseUrl}${each.path}`, {
      method: each.method,
      headers: json === undefined ? {} : { "Content-Type": "application/json" },
      chunks: json === undefined ? [] : [json],
    }),
  );
  if (response.status !== each.status) {
    throw new Error(
      `${each.method} ${each.path} answered ${response.status}, expected ${each.status}: ${response.body}`,
    );
  }
  return response;
}
