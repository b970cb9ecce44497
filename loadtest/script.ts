/**
 * The load test. k6 runs this TypeScript file directly and loads its relative imports itself. Rates, durations,
 * thresholds and the target come from the options file that configs/loadtest/plan.ts renders from the settings;
 * this file holds only what one iteration does: a realistic pass over the service's API, with a check on
 * every response.
 */
import { check } from "k6";
import exec from "k6/execution";
import http, { type RefinedParams, type RefinedResponse, type ResponseType } from "k6/http";
import type { Options } from "k6/options";
import { apiRoutes } from "../service/metrics-contract.ts";
import { errorEvery, type LoadtestFile, loadtestEnv, slowEvery } from "./contract.ts";

function requiredEnv(name: string): string {
  const value = __ENV[name];
  if (value === undefined || value === "") {
    throw new Error(`${name} is not set: it must name the options file rendered by configs/loadtest/plan.ts`);
  }
  return value;
}

const rendered = JSON.parse(open(requiredEnv(loadtestEnv.optionsFile))) as LoadtestFile;
const target = (__ENV[loadtestEnv.target] || rendered.target).replace(/\/+$/, "");

export const options: Options = rendered.options;

type Response = RefinedResponse<ResponseType | undefined>;

/**
 * The `name` tag is the router's template, never the raw path; k6 then also writes it as the `url` tag, so the
 * series k6 sends to Prometheus stay as few as the service's routes instead of one per item id.
 */
function params(route: string, extra: RefinedParams<ResponseType> = {}): RefinedParams<ResponseType> {
  return { ...extra, tags: { name: route } };
}

const jsonBody = { headers: { "Content-Type": "application/json" } };

/** The parsed JSON body, or undefined when the body is not JSON; a check reports that instead of a crash. */
function jsonOf(response: Response): unknown {
  try {
    return response.json();
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function listItems(): void {
  const response = http.get(`${target}${apiRoutes.items}`, params(apiRoutes.items));
  check(response, {
    "list items: 200": (r) => r.status === 200,
    "list items: a page of items": (r) => {
      const body = jsonOf(r);
      return isRecord(body) && Array.isArray(body.items) && typeof body.total === "number";
    },
  });
}

function createItem(): string | undefined {
  const name = `load-${exec.vu.idInTest}-${exec.scenario.iterationInTest}`;
  const response = http.post(
    `${target}${apiRoutes.items}`,
    JSON.stringify({ name, quantity: 1 }),
    params(apiRoutes.items, jsonBody),
  );
  const body = jsonOf(response);
  const created = isRecord(body) && typeof body.id === "string" ? body.id : undefined;
  check(response, {
    "create item: 201": (r) => r.status === 201,
    "create item: returns its id and name": () =>
      created !== undefined && isRecord(body) && body.name === name,
  });
  return created;
}

function getItem(id: string): void {
  const response = http.get(`${target}${apiRoutes.items}/${id}`, params(apiRoutes.item));
  check(response, {
    "get item: 200": (r) => r.status === 200,
    "get item: the item asked for": (r) => {
      const body = jsonOf(r);
      return isRecord(body) && body.id === id;
    },
  });
}

function deleteItem(id: string): void {
  const response = http.del(`${target}${apiRoutes.items}/${id}`, null, params(apiRoutes.item));
  check(response, { "delete item: 204": (r) => r.status === 204 });
}

function slowCall(): void {
  const response = http.get(`${target}${apiRoutes.slow}?ms=${rendered.slowMs}`, params(apiRoutes.slow));
  check(response, {
    "slow call: 200": (r) => r.status === 200,
    "slow call: delayed as asked": (r) => {
      const body = jsonOf(r);
      return isRecord(body) && body.delayedMs === rendered.slowMs;
    },
  });
}

/** /api/error answers 500 by design: marking that as expected keeps it out of http_req_failed. */
function failOnPurpose(): void {
  const response = http.get(
    `${target}${apiRoutes.error}`,
    params(apiRoutes.error, { responseCallback: http.expectedStatuses(500) }),
  );
  check(response, {
    "error call: 500": (r) => r.status === 500,
    "error call: a JSON error": (r) => {
      const body = jsonOf(r);
      return isRecord(body) && typeof body.error === "string";
    },
  });
}

export default function iteration(): void {
  // Offsets keep the first iterations plain; the counter is shared by all VUs, so the shares are exact.
  const count = exec.scenario.iterationInTest;
  if (count % errorEvery === errorEvery - 1) failOnPurpose();
  else if (count % slowEvery === slowEvery - 1) slowCall();
  else listItems();
  const id = createItem();
  if (id === undefined) return;
  getItem(id);
  deleteItem(id);
}
