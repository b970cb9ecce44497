/**
 * The service's metrics, on a Registry of their own: the HTTP request metrics of the contract, the item
 * metrics, build info and prom-client's default process metrics.
 *
 * The request middleware runs on every request, so its hot path is kept to a few map lookups and one
 * histogram observation. prom-client hashes the label values on every `inc` or `observe`, even through a
 * labelled child, so none of it runs per request: the duration histogram keeps its counts in typed arrays
 * (request-histogram.ts), indexed by a series number found once per (method, route, status), and the request
 * counter (the histogram's _count) and the in-flight gauge are copied into prom-client when /metrics is scraped.
 * Nor does a request add a listener: the end of its response comes from node's diagnostics channel, and an
 * abandoned one from a listener on its connection, shared by every request on it.
 */
import { subscribe } from "node:diagnostics_channel";
import type { ServerResponse } from "node:http";
import type { Socket } from "node:net";
// The global `performance` is a lazy accessor on globalThis (node's internal/util.js,
// defineReplaceableLazyAttribute): the module's object skips that getter on every read.
import { performance } from "node:perf_hooks";
import type { Layer } from "@koa/router";
import type Koa from "koa";
import { Counter, collectDefaultMetrics, Gauge, Registry } from "prom-client";
import {
  buildInfoLabels,
  inFlightLabels,
  metricNames,
  otherMethod,
  type RequestLabel,
  requestDurationBuckets,
  requestLabels,
  standardMethods,
  uncountedPaths,
  unmatchedRoute,
} from "./metrics-contract";
import { RequestHistogram } from "./request-histogram";

/** What the middleware reads from @koa/router's context once the response is done. */
export interface RoutedContext {
  /** Template of the route that handled the request. */
  _matchedRoute?: string | RegExp;
  /** Layers whose path matched, whatever their methods. */
  matched?: Layer[];
}

export interface MetricsOptions {
  /** Value of the `version` label of app_build_info. */
  readonly version: string;
  /** Items in the store, read at scrape time for the app_items gauge. */
  readonly itemCount: () => number;
}

export interface ServiceMetrics {
  readonly registry: Registry;
  /** Counts and times every request except those to `uncountedPaths`. */
  readonly middleware: Koa.Middleware<Koa.DefaultState, RoutedContext>;
  /** Records an item created through the API. */
  itemCreated(): void;
}

export function createMetrics(options: MetricsOptions): ServiceMetrics {
  const duration = new RequestHistogram<RequestLabel>({
    name: metricNames.requestDurationSeconds,
    help: "Time from receiving an HTTP request until its response has been sent, in seconds.",
    labelNames: requestLabels,
    buckets: requestDurationBuckets,
  });
  const registry = new ServiceRegistry(duration);
  collectDefaultMetrics({ register: registry });
  const requests = new RequestMetrics(registry, duration);

  const itemsCreated = new Counter({
    name: metricNames.itemsCreatedTotal,
    help: "Items created through POST /api/items.",
    registers: [registry],
  });
  new Gauge({
    name: metricNames.items,
    help: "Items currently in the in-memory store.",
    registers: [registry],
    collect() {
      this.set(options.itemCount());
    },
  });
  new Gauge({
    name: metricNames.buildInfo,
    help: "Always 1; the labels say which build of the service is running on which Node.js.",
    labelNames: buildInfoLabels,
    registers: [registry],
  }).set({ version: options.version, node_version: process.version }, 1);

  return {
    registry,
    middleware: requests.middleware,
    itemCreated: () => itemsCreated.inc(),
  };
}

type RequestLabels = Record<RequestLabel, string>;

/**
 * prom-client's families, then the request duration histogram in the same text, written as prom-client writes
 * a family registered last: prom-client cannot publish counts kept outside it (see request-histogram.ts).
 * `getMetricsAsJSON` and the other per-metric methods do not see that histogram; /metrics is what publishes it.
 */
class ServiceRegistry extends Registry {
  constructor(private readonly duration: RequestHistogram<RequestLabel>) {
    super();
  }

  override async metrics(): Promise<string> {
    return `${await super.metrics()}\n${this.duration.render()}\n`;
  }
}

/** Everything counted for one `method` label value. */
class MethodSeries {
  /** Requests started and not yet closed; published as app_http_requests_in_flight at scrape time. */
  inFlight = 0;
  /** Histogram series by route label, then by status code. */
  readonly byRoute = new Map<string, Map<number, number>>();

  constructor(readonly label: string) {}
}

type RequestContext = Koa.ParameterizedContext<Koa.DefaultState, RoutedContext>;

/** A counted request from the middleware until its response finished or its connection closed. */
class OpenRequest {
  open = true;

  constructor(
    readonly metrics: RequestMetrics,
    readonly method: MethodSeries,
    readonly ctx: RequestContext,
    readonly start: number,
  ) {}
}

/** The request a response answers, set by the middleware on the responses it counts. */
const openRequest = Symbol("openRequest");
/** The counted requests of a connection whose responses have not finished, in the order they arrived. */
const openOnConnection = Symbol("openOnConnection");

type TrackedResponse = ServerResponse & { [openRequest]?: OpenRequest };
type TrackedSocket = Socket & { [openOnConnection]?: OpenRequest[] };

/**
 * Node publishes every response of every server in the process on this channel once it has been sent in full
 * (node's lib/_http_server.js, resOnFinish; "http.server.response.finish" in the diagnostics_channel docs):
 * one subscriber for the process, where a "finish" or "close" listener per response would cost each request
 * an insertion into the response's dictionary-mode `_events` and a closure.
 */
const responseFinished = "http.server.response.finish";
let subscribed = false;

function onResponseFinished(message: unknown): void {
  const request = (message as { response: TrackedResponse }).response[openRequest];
  if (request !== undefined) request.metrics.finished(request);
}

/**
 * A response that has not finished when its connection closes never will: its client went away, or the server
 * cut the connection. One listener per connection instead of one per request.
 */
function releaseOpenRequests(this: TrackedSocket): void {
  const open = this[openOnConnection] ?? [];
  this[openOnConnection] = undefined;
  for (const request of open) request.metrics.abandoned(request);
}

/** As `uncountedPaths`, compared without hashing: the path is a fresh string on every request. */
function isUncounted(path: string): boolean {
  for (const uncountedPath of uncountedPaths) if (path === uncountedPath) return true;
  return false;
}

const standard: ReadonlySet<string> = new Set(standardMethods);

class RequestMetrics {
  /** Keyed by the request's method; only standard methods get a key of their own, so the map stays small. */
  private readonly methods = new Map<string, MethodSeries>();
  private other: MethodSeries | undefined;
  /** Every MethodSeries created, in the order they appeared, for publishing at scrape time. */
  private readonly allMethods: MethodSeries[] = [];
  /** The labels of each histogram series, by its index. */
  private readonly seriesLabels: RequestLabels[] = [];

  constructor(
    registry: Registry,
    private readonly duration: RequestHistogram<RequestLabel>,
  ) {
    const { allMethods, seriesLabels } = this;
    new Counter({
      name: metricNames.requestsTotal,
      help: "HTTP requests completed, by method, route template and status code sent.",
      labelNames: requestLabels,
      registers: [registry],
      collect() {
        // Every completed request is one observation of the histogram: its _count is this counter.
        this.reset();
        for (const [series, labels] of seriesLabels.entries()) this.inc(labels, duration.count(series));
      },
    });
    new Gauge({
      name: metricNames.requestsInFlight,
      help: "HTTP requests received that are neither answered nor abandoned by their client yet.",
      labelNames: inFlightLabels,
      registers: [registry],
      collect() {
        for (const method of allMethods) this.set({ method: method.label }, method.inFlight);
      },
    });
    if (!subscribed) {
      subscribe(responseFinished, onResponseFinished);
      subscribed = true;
    }
  }

  readonly middleware = (ctx: RequestContext, next: Koa.Next) => {
    // ctx.path and ctx.method are Koa's delegated getters, `this[target][name]`: one function body shared by
    // every delegated property (the delegates package, used by koa/lib/context.js), so both of its loads are
    // megamorphic. The getters of the request they delegate to give the same values without them.
    const { request } = ctx;
    if (isUncounted(request.path)) return next();
    const method = this.methods.get(request.method) ?? this.addMethod(request.method);
    const counted = new OpenRequest(this, method, ctx, performance.now());
    method.inFlight++;
    (ctx.res as TrackedResponse)[openRequest] = counted;
    const socket: TrackedSocket = ctx.req.socket;
    const open = socket[openOnConnection];
    if (open === undefined) {
      socket[openOnConnection] = [counted];
      socket.on("close", releaseOpenRequests);
    } else open.push(counted);
    return next();
  };

  /** Its response has been sent in full: the duration ends here. */
  finished(request: OpenRequest): void {
    if (!this.close(request)) return;
    const { ctx, method } = request;
    const series = this.series(method, routeLabel(ctx), ctx.res.statusCode);
    this.duration.observe(series, (performance.now() - request.start) / 1000);
  }

  /** Its connection closed first: it sent no status (or not all of it), so there is nothing to label it by. */
  abandoned(request: OpenRequest): void {
    this.close(request);
  }

  /** Takes the request out of flight; false if it was already. */
  private close(request: OpenRequest): boolean {
    if (!request.open) return false;
    request.open = false;
    request.method.inFlight--;
    const open = (request.ctx.req.socket as TrackedSocket)[openOnConnection];
    // Responses on a connection finish in the order their requests arrived, so this is nearly always the first.
    if (open?.[0] === request) open.shift();
    else if (open?.includes(request)) open.splice(open.indexOf(request), 1);
    return true;
  }

  private addMethod(method: string): MethodSeries {
    if (!standard.has(method)) {
      this.other ??= this.newMethodSeries(otherMethod);
      return this.other;
    }
    const series = this.newMethodSeries(method);
    this.methods.set(method, series);
    return series;
  }

  private newMethodSeries(label: string): MethodSeries {
    const series = new MethodSeries(label);
    this.allMethods.push(series);
    return series;
  }

  /** The histogram series of a (method, route, status) combination, added the first time it completes. */
  private series(method: MethodSeries, route: string, status: number): number {
    let byStatus = method.byRoute.get(route);
    if (byStatus === undefined) {
      byStatus = new Map();
      method.byRoute.set(route, byStatus);
    }
    let series = byStatus.get(status);
    if (series === undefined) {
      const labels: RequestLabels = { method: method.label, route, status_code: String(status) };
      series = this.duration.addSeries(labels);
      this.seriesLabels.push(labels);
      byStatus.set(status, series);
    }
    return series;
  }
}

/**
 * The route template, never the raw path. A path the router knows, requested with a method it does not serve
 * (405, OPTIONS), keeps that path's template: it is just as bounded and tells more than `unmatched`.
 */
function routeLabel(ctx: RoutedContext): string {
  const route = ctx._matchedRoute;
  if (typeof route === "string") return route;
  const layer = ctx.matched?.findLast((candidate) => candidate.methods.length > 0);
  if (typeof layer?.path === "string") return layer.path;
  return unmatchedRoute;
}
