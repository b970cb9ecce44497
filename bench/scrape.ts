/**
 * What a scrape costs the service. Rendering /metrics, timed in the process that serves it, each subject in a
 * fresh process of its own (so that its registry holds what the service's would, whatever the benchmark ran
 * before): the service just started (the baseline), the service after every route was exercised, and
 * registries with 1,000 and 10,000 synthetic request series, in interleaved rounds. Then the scrape as
 * Prometheus makes it: GET /metrics over loopback from this process to the exercised service, read against
 * GET /healthz on the same server, which costs the same HTTP round trip and no rendering.
 *
 * The synthetic series come from the service's own metrics middleware in front of a router with enough routes
 * (see server-under-test.ts): the same metric families, labels, buckets and scrape-time copying as the service,
 * only more label values than its fixed routes can ever produce.
 */
import { probePaths, requestDurationBuckets } from "../service/metrics-contract";
import { boundedFetch } from "../test-support/http";
import { exerciseEveryRoute } from "./exercise";
import { below, type Figure, measured } from "./figures";
import {
  type Rendered,
  type ServerUnderTest,
  startServerUnderTest,
  syntheticRoutePath,
} from "./server-under-test";
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

/** Routes the synthetic server needs for at least `requestSeries` request series. */
function syntheticRoutes(requestSeries: number): number {
  return Math.ceil(requestSeries / linesPerCombination);
}

/** Why a round's series count can differ from the next one's, in the same process. */
const gcSeriesNote =
  "prom-client's default metrics included: nodejs_gc_duration_seconds has a histogram for each GC kind the " +
  "process has been through, so a reading taken before its first minor GC lacks one histogram's series";

interface Subject {
  readonly name: string;
  readonly server: ServerUnderTest;
  /** Brings the server's registry to the state the subject describes. */
  readonly prepare: () => Promise<void>;
}

export async function benchScrape(options: ScrapeBenchOptions): Promise<Figure[]> {
  const { log } = options;
  log("scrape: starting the service and the synthetic registries, each in a fresh process");
  const servers = await Promise.allSettled([
    startServerUnderTest("shipped"),
    startServerUnderTest("shipped"),
    ...syntheticSizes.map((size) =>
      startServerUnderTest("synthetic", { syntheticRoutes: syntheticRoutes(size) }),
    ),
  ]);
  try {
    const failed = servers.find((result) => result.status === "rejected");
    if (failed) throw failed.reason;
    const [atStartServer, exercisedServer, ...syntheticServers] = servers.flatMap((result) =>
      result.status === "fulfilled" ? [result.value] : [],
    );
    if (atStartServer === undefined || exercisedServer === undefined)
      throw new Error("a server did not start");
    const atStart: Subject = { name: "service at start", server: atStartServer, prepare: async () => {} };
    const subjects: Subject[] = [
      {
        name: "service after every route",
        server: exercisedServer,
        prepare: () => exerciseEveryRoute(exercisedServer.url),
      },
      ...syntheticServers.map((server, i) => {
        const size = syntheticSizes[i];
        if (size === undefined) throw new Error("more synthetic servers than sizes");
        return {
          name: `${size.toLocaleString("en-US")} synthetic request series`,
          server,
          prepare: () => requestEveryRoute(server, size),
        };
      }),
    ];
    const all = [atStart, ...subjects];
    log("scrape: exercising the services and filling the synthetic registries");
    for (const subject of all) await subject.prepare();
    for (const subject of all) await subject.server.render(warmupRenders);

    const readings = new Map<Subject, Rendered[]>(all.map((subject) => [subject, []]));
    for (let round = 1; round <= options.rounds; round++) {
      for (const subject of all) readings.get(subject)?.push(await subject.server.render(options.renders));
      log(
        `scrape: round ${round}/${options.rounds} render ms: ${all
          .map((subject) => `${subject.name} ${readings.get(subject)?.at(-1)?.medianMs.toFixed(3)}`)
          .join(", ")}`,
      );
    }

    const figure = (
      what: string,
      unit: string,
      of: (reading: Rendered) => number,
      subject: Subject,
    ): Figure => ({
      part: "scrape",
      ...measured(`${what}, ${subject.name}`, unit, (readings.get(subject) ?? []).map(of)),
      baseline: measured(atStart.name, unit, (readings.get(atStart) ?? []).map(of)),
    });
    return [
      ...subjects.map((subject) => figure("render /metrics", "ms", (reading) => reading.medianMs, subject)),
      ...subjects.map((subject) =>
        figure("/metrics size", "KiB", (reading) => reading.bytes / 1024, subject),
      ),
      ...subjects.map((subject, i) => ({
        ...figure("/metrics series", "series", (reading) => reading.series.all, subject),
        ...(i === 0 ? { note: gcSeriesNote } : {}),
      })),
      await httpScrapeFigure(exercisedServer, options),
    ];
  } finally {
    await Promise.all(
      servers.map((result) => (result.status === "fulfilled" ? result.value.stop() : undefined)),
    );
  }
}

/** One request to each of the synthetic server's routes, then a check that the registry holds `requestSeries`. */
async function requestEveryRoute(server: ServerUnderTest, requestSeries: number): Promise<void> {
  for (let route = 0; route < syntheticRoutes(requestSeries); route++) {
    const path = syntheticRoutePath(route);
    const response = await boundedFetch(`${server.url}${path}`);
    await response.arrayBuffer();
    if (response.status !== 200) throw new Error(`GET ${path} answered ${response.status}`);
  }
  const { series } = await server.render(1);
  if (series.request < requestSeries) {
    throw new Error(
      `the synthetic registry holds ${series.request} request series, fewer than ${requestSeries}`,
    );
  }
}

/** GET /metrics against GET /healthz on the exercised service, alternating. */
async function httpScrapeFigure(server: ServerUnderTest, options: ScrapeBenchOptions): Promise<Figure> {
  options.log("scrape: GET /metrics on the service as shipped, in its own process");
  const time = async (path: string) => {
    const url = `${server.url}${path}`;
    const started = performance.now();
    const response = await boundedFetch(url);
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
  const scrape = measured(`HTTP scrape GET ${probePaths.metrics}, service after every route`, "ms", scrapes);
  return {
    part: "scrape",
    ...scrape,
    baseline: measured(`GET ${probePaths.liveness}, same server`, "ms", probes),
    goal: below(maxScrapeMs, "ms", scrape.median),
    note: "wall time of the HTTP exchange over loopback, as a scraper sees it; the service runs in its own process",
  };
}
