/**
 * The service as an app factory: tests, benchmarks and `main` build the same Koa app, and only `main` deals
 * with the environment, the listening socket and signals.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { Router } from "@koa/router";
import Koa from "koa";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import getRawBody from "raw-body";
import type { core } from "zod";
import { ApiError, errorResponse, statusMessage } from "./errors";
import { ItemStore, newItemSchema } from "./items";
import { createMetrics } from "./metrics";
import { apiRoutes, maxSlowMs, probePaths } from "./metrics-contract";
import { packageInfo } from "./package-info";

export interface AppOptions {
  readonly logger: Logger;
  /** Count and time requests and serve /metrics (default true). Off only to measure what instrumentation costs. */
  readonly metrics?: boolean;
  /** Reported by `GET /` and app_build_info; defaults to the root package.json's. */
  readonly name?: string;
  readonly version?: string;
  /** Largest JSON body accepted, in bytes (default 16 KiB); larger ones get 413. */
  readonly bodyLimitBytes?: number;
  /** Most items the store holds (default 100 000); creating more gets 507 until some are deleted. */
  readonly itemCapacity?: number;
}

export interface Service {
  readonly app: Koa;
  /** The Registry behind /metrics; undefined when metrics are off. */
  readonly registry: Registry | undefined;
  readonly ready: boolean;
  /**
   * First step of a graceful shutdown: /readyz answers 503 from now on, and every response asks its client to
   * close the connection so that keep-alive connections drain instead of holding the server open.
   */
  markNotReady(): void;
}

const defaultBodyLimitBytes = 16 * 1024;
const defaultItemCapacity = 100_000;
const defaultPageSize = 100;
const maxPageSize = 1000;

export function createApp(options: AppOptions): Service {
  const { logger } = options;
  const name = options.name ?? packageInfo.name;
  const version = options.version ?? packageInfo.version;
  const bodyLimitBytes = positiveIntegerOption(
    "bodyLimitBytes",
    options.bodyLimitBytes,
    defaultBodyLimitBytes,
  );
  const store = new ItemStore(
    positiveIntegerOption("itemCapacity", options.itemCapacity, defaultItemCapacity),
  );
  const metrics =
    (options.metrics ?? true) ? createMetrics({ version, itemCount: () => store.size }) : undefined;
  let ready = true;

  const app = new Koa();
  // Errors are answered by the middleware below; this catches what happens outside it, such as a failing
  // response stream, and replaces Koa's default of printing to stderr.
  app.on("error", (err: unknown) => logger.error({ err }, "unhandled error"));

  if (metrics) app.use(metrics.middleware);

  app.use(async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      const response = errorResponse(err);
      if (response.unexpected) logger.error({ err, method: ctx.method, path: ctx.path }, "request failed");
      if (ctx.headerSent || !ctx.writable) return;
      // As Koa's own error handler does: headers set before the failure belong to the response that failed.
      for (const header of ctx.res.getHeaderNames()) ctx.res.removeHeader(header);
      ctx.status = response.status;
      ctx.body = response.body;
    }
    // Statuses set without a body (404 for unknown routes, 405 and 501 from the router) still answer in JSON.
    if (ctx.status >= 400 && ctx.body == null) {
      const status = ctx.status;
      ctx.body = { error: statusMessage(status) };
      ctx.status = status;
    }
    if (!ready) ctx.set("Connection", "close");
  });

  // Strict and case-sensitive: a path matches one route exactly or none, so probes are recognised by path
  // alone and the `route` label cannot be reached by spelling variants.
  const router = new Router({ strict: true, sensitive: true });

  router.get(apiRoutes.root, (ctx) => {
    ctx.body = { name, version };
  });
  router.get(probePaths.liveness, (ctx) => {
    ctx.body = { status: "ok" };
  });
  router.get(probePaths.readiness, (ctx) => {
    ctx.status = ready ? 200 : 503;
    ctx.body = { status: ready ? "ready" : "shutting down" };
  });
  if (metrics) {
    const { registry } = metrics;
    router.get(probePaths.metrics, async (ctx) => {
      // Set before the body, which would otherwise default it to text/plain without the format version that
      // Prometheus 3 requires.
      ctx.set("Content-Type", registry.contentType);
      ctx.body = await registry.metrics();
    });
  }

  router.get(apiRoutes.items, (ctx) => {
    const offset = integerQuery(ctx.query, "offset", 0, Number.MAX_SAFE_INTEGER, 0);
    const limit = integerQuery(ctx.query, "limit", 1, maxPageSize, defaultPageSize);
    ctx.body = store.page(offset, limit);
  });
  router.post(apiRoutes.items, async (ctx) => {
    const parsed = newItemSchema.safeParse(await readJsonBody(ctx, bodyLimitBytes));
    if (!parsed.success) throw new ApiError(400, "invalid item", parsed.error.issues.map(describeIssue));
    if (store.isFull) {
      throw new ApiError(507, `the item store is full (${store.capacity} items); delete some first`);
    }
    const item = store.add(parsed.data, new Date());
    metrics?.itemCreated();
    ctx.status = 201;
    ctx.set("Location", itemPath(item.id));
    ctx.body = item;
  });
  router.get(apiRoutes.item, (ctx) => {
    const id = ctx.params.id ?? "";
    const item = store.get(id);
    if (item === undefined) throw itemNotFound(id);
    ctx.body = item;
  });
  router.delete(apiRoutes.item, (ctx) => {
    const id = ctx.params.id ?? "";
    if (!store.delete(id)) throw itemNotFound(id);
    ctx.status = 204;
  });
  router.get(apiRoutes.slow, async (ctx) => {
    const ms = integerQuery(ctx.query, "ms", 0, maxSlowMs);
    await sleep(ms);
    ctx.body = { delayedMs: ms };
  });
  router.get(apiRoutes.error, () => {
    throw new Error(`simulated failure: ${apiRoutes.error} always fails, for error-rate demos`);
  });

  app.use(router.routes());
  app.use(router.allowedMethods());

  return {
    app,
    registry: metrics?.registry,
    get ready() {
      return ready;
    },
    markNotReady() {
      ready = false;
    },
  };
}

function positiveIntegerOption(name: keyof AppOptions, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new Error(`createApp: ${name} must be a positive integer, got ${value}`);
  }
  return value;
}

function itemPath(id: string): string {
  return apiRoutes.item.replace(":id", encodeURIComponent(id));
}

function itemNotFound(id: string): ApiError {
  return new ApiError(404, `no item with id ${JSON.stringify(id)}`);
}

/** An integer query parameter within [min, max]; required unless a fallback is given. */
function integerQuery(
  query: Readonly<Record<string, string | string[] | undefined>>,
  name: string,
  min: number,
  max: number,
  fallback?: number,
): number {
  const value = query[name];
  if (value === undefined && fallback !== undefined) return fallback;
  const parsed = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!(parsed >= min && parsed <= max)) {
    const got = value === undefined ? "nothing" : JSON.stringify(value);
    throw new ApiError(400, `query parameter ${name} must be an integer from ${min} to ${max}, got ${got}`);
  }
  return parsed;
}

/**
 * The request body as JSON: UTF-8, uncompressed, at most `limitBytes`, or a 415, 413 or 400. raw-body reads it
 * and enforces the limit, early on a declared length.
 */
async function readJsonBody(ctx: Koa.Context, limitBytes: number): Promise<unknown> {
  if (!ctx.is("application/json")) {
    throw new ApiError(415, "the request body must be JSON, sent with Content-Type: application/json");
  }
  const { charset } = ctx.request;
  if (charset !== "" && charset !== "utf-8" && charset !== "utf8") {
    throw new ApiError(415, `JSON bodies must be UTF-8, not ${charset}`);
  }
  const encoding = ctx.get("Content-Encoding");
  if (encoding !== "" && encoding.toLowerCase() !== "identity") {
    throw new ApiError(415, `compressed request bodies (${encoding}) are not accepted`);
  }
  let text: string;
  try {
    text = await getRawBody(ctx.req, { length: ctx.request.length, limit: limitBytes, encoding: "utf-8" });
  } catch (err) {
    if ((err as { type?: unknown }).type !== "entity.too.large") {
      throw new ApiError(400, "the request body was not received completely");
    }
    // raw-body stops reading; the rest is discarded so that the 413 reaches a keep-alive client.
    ctx.req.resume();
    throw new ApiError(413, `the request body exceeds the limit of ${limitBytes} bytes`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ApiError(400, `malformed JSON body: ${(err as SyntaxError).message}`);
  }
}

function describeIssue(issue: core.$ZodIssue): string {
  const path = issue.path.length > 0 ? issue.path.map(String).join(".") : "body";
  return `${path}: ${issue.message}`;
}
