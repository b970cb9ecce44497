/**
 * What the stack costs its host, on the real Docker engine: the Compose stack (e2e/docker/compose-stack.ts) with
 * the shipped default settings on free loopback ports, the stand-in images and the app image built from
 * service/Dockerfile, as Compose project `watchtower-footprint`. It is measured while the shipped load test (the
 * k6 one-off) runs and for a quiet window after it ends.
 *
 * - Memory of each container beside the limit the deployment plan gives it. The peak is the kernel's
 *   high-water mark of the container's memory cgroup (`max_usage` of the Engine API's stats, cgroup v1
 *   `memory.max_usage_in_bytes`): the kernel raises it on every charge, so no spike between two samples is
 *   missed. It counts page cache, as the limit does. Steady is the median working set (what `docker stats`
 *   shows) over the quiet window; for k6, over its run. The load test's high-water mark is its last reading
 *   before it exited.
 * - Each Prometheus replica's TSDB, from its own /metrics: series in the head, samples appended per second, and
 *   what it keeps on disk (blocks + WAL + head chunks, the sizes Prometheus measures of its own directories;
 *   `du` of the volume would add only the lock and query-log files) at the start and the end of the quiet
 *   window, extrapolated in a straight line to an hour and projected to the retention setting's default.
 *
 * Grafana is not measured: only its stand-in (a small Go program, test-support/standins/grafana) runs here.
 * Every wait is bounded, and the Compose project is taken down, volumes included, at the end, on failure and
 * on interruption (ComposeStack registers an exit action).
 */
import * as http from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { loadtestServiceKey, type ServicePlan } from "../configs/deployment/plan";
import { loadtestPlan } from "../configs/loadtest/plan";
import { dockerAliases, prometheusHostPort } from "../configs/runtime/docker-endpoints";
import { durationMs } from "../configs/settings/duration";
import type { Settings, SettingsInput } from "../configs/settings/schema";
import { loadSettings } from "../configs/validate";
import { ComposeStack } from "../e2e/docker/compose-stack";
import { buildAppImage, type DockerTools, requireDocker } from "../test-support/docker";
import { freeStackPorts } from "../test-support/ports";
import { scrape } from "../test-support/service";
import { seconds } from "../test-support/wait";
import { below, type Figure, goal, measured } from "./figures";
import {
  type EngineMemoryStats,
  type MemoryReading,
  memoryReading,
  projectedDiskBytes,
  summarizeMemory,
  type TsdbReading,
  tsdbDiskMetrics,
  tsdbGrowth,
  tsdbReading,
} from "./footprint-math";

export interface FootprintBenchOptions {
  /** Length of the quiet window after the load test. */
  readonly steadyMinutes: number;
  readonly log: (line: string) => void;
}

/** The Compose project is `watchtower-<this>`, apart from the Docker tests' `watchtower-dockertest`. */
const footprintStack = "footprint";
/** Every container is read this often; the high-water mark makes the peak independent of it. */
const sampleIntervalMs = 2000;
/** k6 starts once its dependencies are healthy and pushes its last metrics before it exits. */
const loadtestMarginMs = 120_000;
/** One Engine API exchange; a one-shot stats read takes milliseconds. */
const engineTimeoutMs = 10_000;
/** A limit protects the host without killing a healthy service while the peak stays below this share of it. */
const peakShareOfLimit = 0.6;
const mib = 1024 * 1024;
const gib = 1024 * mib;

export async function benchFootprint(options: FootprintBenchOptions): Promise<Figure[]> {
  const tools = dockerTools();
  const input = await footprintSettings();
  const { settings } = loadSettings(input);
  const stack = new ComposeStack(tools, footprintStack);
  try {
    // Grafana's stand-in is not Grafana: what it uses says nothing about what Grafana would.
    const services = stack.plan(input).services.filter((service) => service.key !== dockerAliases.grafana);
    stack.render(input);
    // An interrupted run may have left the project up.
    stack.down();
    options.log(`footprint: building ${stack.appImage} from service/Dockerfile`);
    await buildAppImage(stack.appImage);
    options.log(`footprint: docker compose up --wait, project ${stack.prefix}`);
    stack.up();
    const engine = engineHost(tools);
    const readings = new Map<string, Phased[]>(services.map((service) => [service.key, []]));
    const loadtest = services.find((service) => service.key === loadtestServiceKey);
    if (loadtest === undefined) throw new Error("the plan has no load test: is loadtest.enabled off?");

    const loadMs = loadtestPlan(settings).totalMs + loadtestMarginMs;
    options.log(`footprint: sampling every container while the load test runs (at most ${seconds(loadMs)})`);
    const loadEnded = await sample(engine, services, readings, "load", loadMs, async () => {
      const { State: state } = await inspect(engine, loadtest.containerName);
      if (state.Status !== "exited") return false;
      if (state.ExitCode !== 0) {
        throw new Error(
          `the load test exited with ${state.ExitCode}:\n${stack.compose(["logs", "--tail", "30", loadtestServiceKey]).stdout}`,
        );
      }
      return true;
    });
    if (!loadEnded) throw new Error(`the load test was still running after ${seconds(loadMs)}`);

    const steadyMs = options.steadyMinutes * 60_000;
    const replicas = Array.from({ length: settings.prometheus.replicas }, (_, replica) => replica);
    const tsdbBefore = await Promise.all(replicas.map((replica) => readTsdb(settings, replica)));
    options.log(`footprint: the load test is over; sampling the quiet stack for ${seconds(steadyMs)}`);
    await sample(engine, services, readings, "steady", steadyMs, async () => false);
    const tsdbAfter = await Promise.all(replicas.map((replica) => readTsdb(settings, replica)));

    const figures: Figure[] = [];
    for (const service of services) {
      const inspected = await inspect(engine, service.containerName);
      figures.push(...memoryFigures(service, readings.get(service.key) ?? [], inspected));
    }
    figures.push(highestShareFigure(figures));
    for (const replica of replicas) {
      const before = tsdbBefore[replica];
      const after = tsdbAfter[replica];
      if (before && after)
        figures.push(...tsdbFigures(dockerAliases.prometheus(replica), before, after, settings));
    }
    return figures;
  } finally {
    options.log(`footprint: docker compose down --volumes, project ${stack.prefix}`);
    stack.dispose();
  }
}

/**
 * The Docker tests' own check of the engine, Compose, stand-ins and egress block. It reports through a mocha
 * context, which a benchmark has not: its skip becomes this part's failure, after it printed what is missing.
 */
function dockerTools(): DockerTools {
  const outsideMocha = {
    skip(): never {
      throw new Error(
        "footprint needs the Docker engine, the pinned Compose, the stand-ins and the egress block: see " +
          "`skipped:` above, or leave this part out with --skip footprint",
      );
    },
  };
  // requireDocker reads nothing of the context but skip().
  return requireDocker(outsideMocha as unknown as Mocha.Context);
}

/** The shipped defaults, on free loopback ports so that a stack of the user's own keeps its ports. */
async function footprintSettings(): Promise<SettingsInput> {
  return { ports: await freeStackPorts() };
}

interface Phased {
  readonly phase: "load" | "steady";
  readonly reading: MemoryReading;
}

/**
 * Reads every running container each `sampleIntervalMs` until `done` says so (returns true) or `forMs` has
 * passed (returns false).
 */
async function sample(
  engine: http.RequestOptions,
  services: readonly ServicePlan[],
  readings: Map<string, Phased[]>,
  phase: Phased["phase"],
  forMs: number,
  done: () => Promise<boolean>,
): Promise<boolean> {
  const deadline = performance.now() + forMs;
  while (performance.now() < deadline) {
    const tick = performance.now();
    // All at once: one after another, a busy engine stretched a round of readings to several seconds.
    const stats = await Promise.all(
      services.map((service) =>
        engineJson<{ memory_stats?: EngineMemoryStats }>(
          engine,
          `/containers/${service.containerName}/stats?stream=false&one-shot=true`,
        ),
      ),
    );
    services.forEach((service, index) => {
      const reading = memoryReading(stats[index]?.memory_stats ?? {});
      if (reading) readings.get(service.key)?.push({ phase, reading });
    });
    if (await done()) return true;
    await sleep(Math.max(0, Math.min(deadline, tick + sampleIntervalMs) - performance.now()));
  }
  return false;
}

function memoryFigures(service: ServicePlan, readings: readonly Phased[], inspected: Inspected): Figure[] {
  // A one-off has no quiet phase: its steady state is its run.
  const steady = readings.filter(
    (entry) => entry.phase === (service.lifecycle === "one-off" ? "load" : "steady"),
  );
  if (steady.length === 0) throw new Error(`${service.key}: no memory reading while it ran`);
  const summary = summarizeMemory(
    readings.map((entry) => entry.reading),
    steady.map((entry) => entry.reading),
  );
  if (summary.limitBytes !== service.memoryMb * mib) {
    throw new Error(
      `${service.key}: the engine applied a limit of ${summary.limitBytes} bytes, the plan gives ${service.memoryMb} MiB`,
    );
  }
  const limit = measured("limit in the deployment plan", "MiB", [service.memoryMb]);
  const peakMiB = summary.peakBytes / mib;
  const share = peakMiB / service.memoryMb;
  const killed = inspected.State.OOMKilled || inspected.RestartCount > 0;
  return [
    {
      part: "footprint",
      ...measured(`${service.key}: memory peak`, "MiB", [peakMiB]),
      baseline: limit,
      note: summary.peakIsHighWaterMark
        ? `the kernel's high-water mark, page cache included; the highest working set sampled was ${(summary.sampledPeakBytes / mib).toFixed(1)} MiB`
        : "the highest working set sampled every 2 s: this engine reports no high-water mark (cgroup v2)",
    },
    {
      part: "footprint",
      ...measured(`${service.key}: memory steady`, "MiB", [summary.steadyBytes / mib]),
      note: `median working set of ${steady.length} readings ${service.lifecycle === "one-off" ? "during its run" : "after the load test"}`,
    },
    {
      part: "footprint",
      ...measured(`${service.key}: memory peak / limit`, "", [share]),
      // A container the limit killed and Docker restarted peaked at the limit, whatever was read since.
      goal: goal(`< ${peakShareOfLimit}`, share < peakShareOfLimit && !killed),
      ...(killed
        ? {
            note: `restarted ${inspected.RestartCount} times, killed for memory: ${inspected.State.OOMKilled}`,
          }
        : {}),
    },
  ];
}

function highestShareFigure(figures: readonly Figure[]): Figure {
  const shares = figures.filter((figure) => figure.name.endsWith("peak / limit"));
  const highest = Math.max(...shares.map((figure) => figure.median));
  return {
    part: "footprint",
    ...measured("highest memory peak / limit, every container measured", "", [highest]),
    goal: below(peakShareOfLimit, "", highest),
    note: "Grafana is not measured: only its stand-in runs here (test-support/standins/grafana), a small program in place of Grafana",
  };
}

function tsdbFigures(key: string, before: TsdbReading, after: TsdbReading, settings: Settings): Figure[] {
  const growth = tsdbGrowth(before, after);
  const retention = settings.prometheus.retention;
  const minutes = ((after.atMs - before.atMs) / 60_000).toFixed(1);
  return [
    {
      part: "footprint",
      ...measured(`${key}: series in the head`, "series", [after.headSeries]),
      note: "prometheus_tsdb_head_series at the end of the quiet window",
    },
    {
      part: "footprint",
      ...measured(`${key}: samples appended, scrape interval ${settings.scrape.interval}`, "samples/s", [
        growth.samplesPerSecond,
      ]),
    },
    {
      part: "footprint",
      ...measured(`${key}: TSDB on disk, growth per hour`, "MiB/h", [growth.diskBytesPerHour / mib]),
      note:
        `${tsdbDiskMetrics.join(" + ")}, from ${(before.diskBytes / mib).toFixed(2)} to ` +
        `${(after.diskBytes / mib).toFixed(2)} MiB over the ${minutes} min after the load test, scaled to 60 min: ` +
        "the head's uncompacted form (WAL), as the first hours grow",
    },
    {
      part: "footprint",
      ...measured(`${key}: TSDB projected at retention ${retention}`, "GiB", [
        projectedDiskBytes(growth, durationMs(retention)) / gib,
      ]),
      note:
        "samples/s x retention x 2 bytes per compacted sample (Prometheus's capacity rule), plus 3 h of the " +
        "measured growth for the head not yet compacted",
    },
  ];
}

async function readTsdb(settings: Settings, replica: number): Promise<TsdbReading> {
  const url = `http://127.0.0.1:${prometheusHostPort(settings, replica)}`;
  return tsdbReading(await scrape(url), Date.now());
}

/** `GET /containers/{id}/json`, the fields read here. */
interface Inspected {
  readonly State: { readonly Status: string; readonly ExitCode: number; readonly OOMKilled: boolean };
  readonly RestartCount: number;
}

function inspect(engine: http.RequestOptions, name: string): Promise<Inspected> {
  return engineJson<Inspected>(engine, `/containers/${name}/json`);
}

/** Where the Engine API answers: the host requireDocker found, a unix socket or plain TCP. */
function engineHost(tools: DockerTools): http.RequestOptions {
  const url = new URL(tools.env.DOCKER_HOST ?? "unix:///var/run/docker.sock");
  return url.protocol === "unix:"
    ? { socketPath: url.pathname }
    : { host: url.hostname, port: Number(url.port || 2375) };
}

function engineJson<T>(engine: http.RequestOptions, path: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const request = http.get({ ...engine, path, timeout: engineTimeoutMs }, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => {
        body += chunk;
      });
      response.on("end", () => {
        if (response.statusCode !== 200) {
          reject(new Error(`Engine API GET ${path}: HTTP ${response.statusCode} ${body.trim()}`));
          return;
        }
        try {
          resolve(JSON.parse(body) as T);
        } catch (error) {
          reject(new Error(`Engine API GET ${path}: ${(error as Error).message}`));
        }
      });
    });
    request.on("timeout", () =>
      request.destroy(new Error(`Engine API GET ${path}: no answer within ${engineTimeoutMs} ms`)),
    );
    request.on("error", reject);
  });
}
