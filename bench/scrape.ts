/**
 * What a scrape costs the service. Rendering /metrics, in this process (nothing else runs in it meanwhile), for
 * the service after every route was exercised and for registries with 1,000 and 10,000 synthetic request
 * series; each is read against the service just started, in interleaved rounds. Then the scrape as Prometheus
 * makes it: GET /metrics over loopback from this process to the service as shipped in its own process, read
 * against GET /healthz on the same server, which costs the same HTTP round trip and no rendering.
 *
 * The synthetic series come from the service's own metrics middleware in front of a router with enough routes:
 * the same metric families, labels, buckets and scrape-time copying as the service, only more label values than
 * its fixed routes can ever produce.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Router } from "@koa/router";
import Koa from "koa";
import { pino } from "pino";
import type { Registry } from "prom-client";
import { createApp } from "../service/app";
import { createMetrics } from "../service/metrics";
import { probePaths, requestDurationBuckets } from "../service/metrics-contract";
import { packageInfo } from "../service/package-info";
import { serve } from "../service/server";
import { loopback } from "../test-support/ports";
import { exerciseEveryRoute } from "./exercise";
import { countSeriesIn } from "./exposition";
import { below, type Figure, measured } from "./figures";
import { startServerUnderTest } from "./server-under-test";
import { median } from "./stats";

export interface ScrapeBenchOptions {
  readonly rounds: number;
  /** Renders (or HTTP scrapes) of each subject per round; the round's figure is their median. */
  readonly renders: number;
  readonly log: (line: string) => void;
}

/** The issue's goal for the service's own scrape. */
const maxScrapeMs = 2;

/** Synthetic registries, by the number of request series they hold at least. */
const syntheticSizes = [1000, 10_000] as const;

/** Sample lines per (method, route, status) combination: the counter, and the histogram's buckets, +Inf, sum, count. */
const linesPerCombination = 1 + requestDurationBuckets.length + 3;

const warmupRenders = 10;

interface Subject {
  readonly name: string;
  readonly registry: Registry;
}

export async function benchScrape(options: ScrapeBenchOptions): Promise<Figure[]> {
  const { log } = options;
  log("scrape: building the registries");
  const atStart: Subject = { name: "service at start", registry: serviceRegistry() };
  const subjects: Subject[] = [
    { name: "service after every route", registry: await exercisedServiceRegistry() },
    ...(await Promise.all(
      syntheticSizes.map(async (size) => ({
        name: `${size.toLocaleString("en-US")} synthetic request series`,
        registry: await syntheticRegistry(size),
      })),
    )),
  ];
  const all = [atStart, ...subjects];
  for (const subject of all) for (let i = 0; i < warmupRenders; i++) await subject.registry.metrics();

  const renderMs = new Map<Subject, number[]>(all.map((subject) => [subject, []]));
  const bytes = new Map<Subject, number[]>(all.map((subject) => [subject, []]));
  const series = new Map<Subject, number[]>(all.map((subject) => [subject, []]));
  for (let round = 1; round <= options.rounds; round++) {
    for (const subject of all) {
      const times: number[] = [];
      let text = "";
      for (let i = 0; i < options.renders; i++) {
        const started = performance.now();
        text = await subject.registry.metrics();
        times.push(performance.now() - started);
      }
      renderMs.get(subject)?.push(median(times));
      bytes.get(subject)?.push(Buffer.byteLength(text));
      series.get(subject)?.push(countSeriesIn(text).all);
    }
    log(
      `scrape: round ${round}/${options.rounds} render ms: ${all
        .map((subject) => `${subject.name} ${renderMs.get(subject)?.at(-1)?.toFixed(3)}`)
        .join(", ")}`,
    );
  }

  const figure = (what: string, unit: string, values: Map<Subject, number[]>, subject: Subject): Figure => ({
    part: "scrape",
    ...measured(`${what}, ${subject.name}`, unit, values.get(subject) ?? []),
    baseline: measured(atStart.name, unit, values.get(atStart) ?? []),
  });
  const kib = new Map([...bytes].map(([subject, values]) => [subject, values.map((value) => value / 1024)]));
  return [
    ...subjects.map((subject) => figure("render /metrics", "ms", renderMs, subject)),
    ...subjects.map((subject) => figure("/metrics size", "KiB", kib, subject)),
    ...subjects.map((subject) => figure("/metrics series", "series", series, subject)),
    await httpScrapeFigure(options),
  ];
}

function serviceRegistry(): Registry {
  const { registry } = createApp({ logger: pino({ level: "silent" }) });
  if (!registry) throw new Error("createApp() returned no registry: metrics are on by default");
  return registry;
}

async function exercisedServiceRegistry(): Promise<Registry> {
  const service = createApp({ logger: pino({ level: "silent" }) });
  if (!service.registry) throw new Error("createApp() returned no registry: metrics are on by default");
  const running = await serve(service, { port: 0, host: loopback, shutdownTimeoutMs: 2000 });
  try {
    await exerciseEveryRoute(`http://${loopback}:${running.address.port}`);
  } finally {
    await running.shutdown();
  }
  return service.registry;
}

/** The service's metrics after one request to each of enough distinct routes for `requestSeries` series. */
async function syntheticRegistry(requestSeries: number): Promise<Registry> {
  const routes = Math.ceil(requestSeries / linesPerCombination);
  const metrics = createMetrics({ version: packageInfo.version, itemCount: () => 0 });
  const app = new Koa();
  app.use(metrics.middleware);
  const router = new Router({ strict: true, sensitive: true });
  const path = (route: number) => `/synthetic/${route}`;
  for (let route = 0; route < routes; route++) {
    router.get(path(route), (ctx) => {
      ctx.body = { route };
    });
  }
  app.use(router.routes());
  const server = createServer(app.callback());
  await new Promise<void>((done) => server.listen({ port: 0, host: loopback }, done));
  try {
    const base = `http://${loopback}:${(server.address() as AddressInfo).port}`;
    for (let route = 0; route < routes; route++) {
      const response = await fetch(`${base}${path(route)}`);
      await response.arrayBuffer();
      if (response.status !== 200) throw new Error(`GET ${path(route)} answered ${response.status}`);
    }
  } finally {
    server.closeAllConnections();
    await new Promise((done) => server.close(done));
  }
  const { request } = countSeriesIn(await metrics.registry.metrics());
  if (request < requestSeries) {
    throw new Error(`the synthetic registry holds ${request} request series, fewer than ${requestSeries}`);
  }
  return metrics.registry;
}

/** GET /metrics against GET /healthz on the service as shipped, alternating, after every route was exercised. */
async function httpScrapeFigure(options: ScrapeBenchOptions): Promise<Figure> {
  options.log("scrape: GET /metrics on the service as shipped, in its own process");
  const server = await startServerUnderTest("shipped");
  try {
    await exerciseEveryRoute(server.url);
    const time = async (path: string) => {
      const started = performance.now();
      const response = await fetch(`${server.url}${path}`);
      await response.arrayBuffer();
      const elapsed = performance.now() - started;
      if (response.status !== 200) throw new Error(`GET ${path} answered ${response.status}`);
      return elapsed;
    };
    for (let i = 0; i < warmupRenders; i++) {
      await time(probePaths.liveness);
      await time(probePaths.metrics);
    }
    const scrapes: number[] = [];
    const probes: number[] = [];
    for (let round = 1; round <= options.rounds; round++) {
      const scrapeTimes: number[] = [];
      const probeTimes: number[] = [];
      for (let i = 0; i < options.renders; i++) {
        probeTimes.push(await time(probePaths.liveness));
        scrapeTimes.push(await time(probePaths.metrics));
      }
      scrapes.push(median(scrapeTimes));
      probes.push(median(probeTimes));
    }
    const scrape = measured(
      `HTTP scrape GET ${probePaths.metrics}, service after every route`,
      "ms",
      scrapes,
    );
    return {
      part: "scrape",
      ...scrape,
      baseline: measured(`GET ${probePaths.liveness}, same server`, "ms", probes),
      goal: below(maxScrapeMs, "ms", scrape.median),
      note: "wall time of the HTTP exchange over loopback, as a scraper sees it; the service runs in its own process",
    };
  } finally {
    await server.stop();
  }
}
