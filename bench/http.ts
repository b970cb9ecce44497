/**
 * What instrumentation costs the service per request. Three servers, each in its own process: bare node:http
 * answering the same JSON as `GET /`, the service with metrics off, and the service as shipped. The load comes
 * from a separate process (autocannon, closed loop: C connections, each sending its next request as soon as
 * its answer arrives), one server at a time, after a warm-up, in interleaved rounds (bare, off, shipped, bare,
 * off, shipped...) so that drift in the machine's speed affects every variant alike.
 *
 * Overhead per request, two ways:
 * - From throughput: with C connections always busy, the server is saturated, and when its one event-loop
 *   thread is the bottleneck each request costs 1/rps of its time, whatever C is (C only sets the queue
 *   length, and so the latency: C/rps by Little's law). Overhead = 1e6/rps_shipped − 1e6/rps_off µs. This is
 *   exact only if the server had a core to itself for the whole round; the "server CPU" figure says whether it
 *   did (1.0 = one core, all the time).
 * - From CPU time: the server's own user + system time (every thread, GC included) over a round, divided by
 *   the requests it answered. Other processes competing for the cores lower the throughput but not this, so
 *   on a shared machine it is the steadier of the two. Overhead = cpu_shipped − cpu_off µs per request.
 * Both are computed round by round from the paired rounds, then the median is taken.
 */
import { apiRoutes } from "../service/metrics-contract";
import {
  atLeast,
  atMost,
  type Figure,
  formatNumber,
  type Goal,
  inconclusive,
  type Measured,
  measured,
  paired,
} from "./figures";
import { runClosedLoop } from "./load-client";
import {
  type ServerUnderTest,
  type ServerVariant,
  serverVariants,
  startServerUnderTest,
} from "./server-under-test";

export interface HttpBenchOptions {
  readonly rounds: number;
  /** Length of each variant's load in each round; autocannon measures in whole seconds. */
  readonly durationSeconds: number;
  /** Load on each variant before the first round, not measured: JIT compilation and socket set-up. 0 for none. */
  readonly warmupSeconds: number;
  readonly connections: number;
  readonly log: (line: string) => void;
}

/** The issue's goal: instrumentation costs at most this much per request... */
const maxOverheadMicros = 2;
/** ...also stated as a throughput ratio, which is the same goal at one throughput only (its note computes which). */
const minThroughputRatio = 0.97;
/**
 * A server that used less CPU than this during a round was not the bottleneck (the load generator or other
 * processes were), and its throughput does not measure its cost per request.
 */
const cpuBoundCores = 0.9;

const variantNames: Readonly<Record<ServerVariant, string>> = {
  bare: "bare node:http",
  "metrics-off": "service, metrics off",
  shipped: "service as shipped",
};

/** Each variant's baseline: the next lighter server. */
const baselineOf: Readonly<Record<ServerVariant, ServerVariant | undefined>> = {
  bare: undefined,
  "metrics-off": "bare",
  shipped: "metrics-off",
};

interface Round {
  readonly requestsPerSecond: number;
  readonly p99Ms: number;
  readonly cpuMicrosPerRequest: number;
  readonly serverCores: number;
}

export async function benchHttp(options: HttpBenchOptions): Promise<Figure[]> {
  const { log } = options;
  log(`http: starting ${serverVariants.join(", ")} in their own processes`);
  const started = await Promise.allSettled(serverVariants.map((variant) => startServerUnderTest(variant)));
  const servers = started.flatMap((result) => (result.status === "fulfilled" ? [result.value] : []));
  try {
    const failed = started.find((result) => result.status === "rejected");
    if (failed) throw failed.reason;

    if (options.warmupSeconds > 0) {
      for (const server of servers) {
        log(`http: warm-up ${server.variant}, ${options.warmupSeconds} s`);
        await load(server, options.warmupSeconds, options.connections);
      }
    }
    const rounds = new Map<ServerVariant, Round[]>(serverVariants.map((variant) => [variant, []]));
    for (let round = 1; round <= options.rounds; round++) {
      for (const server of servers) {
        const result = await measureRound(server, options);
        rounds.get(server.variant)?.push(result);
        log(
          `http: round ${round}/${options.rounds} ${server.variant}: ${Math.round(result.requestsPerSecond)} req/s, ` +
            `p99 ${result.p99Ms.toFixed(2)} ms, ${result.cpuMicrosPerRequest.toFixed(1)} µs CPU/req, ` +
            `server ${result.serverCores.toFixed(2)} cores`,
        );
      }
    }
    return httpFigures(rounds, options.connections);
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
  }
}

async function measureRound(server: ServerUnderTest, options: HttpBenchOptions): Promise<Round> {
  const before = await server.cpuMicros();
  const result = await load(server, options.durationSeconds, options.connections);
  const cpuMicros = (await server.cpuMicros()) - before;
  return {
    requestsPerSecond: result.requests / result.durationSeconds,
    p99Ms: result.latencyMs.p99,
    cpuMicrosPerRequest: cpuMicros / result.requests,
    serverCores: cpuMicros / 1e6 / result.durationSeconds,
  };
}

async function load(server: ServerUnderTest, durationSeconds: number, connections: number) {
  try {
    return await runClosedLoop({ url: `${server.url}${apiRoutes.root}`, connections, durationSeconds });
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${server.variant} server's output:\n${server.output()}`);
  }
}

function httpFigures(rounds: ReadonlyMap<ServerVariant, readonly Round[]>, connections: number): Figure[] {
  const series = (what: string, unit: string, pick: (round: Round) => number) =>
    new Map(
      serverVariants.map((variant) => [
        variant,
        measured(`${what}, ${variantNames[variant]}`, unit, (rounds.get(variant) ?? []).map(pick)),
      ]),
    );
  /** The variant's figure, read against the next lighter variant's under that variant's short name. */
  const against = (
    all: ReadonlyMap<ServerVariant, Measured>,
    variant: ServerVariant,
  ): Measured | undefined => {
    const baseline = baselineOf[variant];
    const measuredBaseline = baseline && all.get(baseline);
    return measuredBaseline && { ...measuredBaseline, name: variantNames[baseline] };
  };
  const perVariant = (all: ReadonlyMap<ServerVariant, Measured>, withBaselines: boolean): Figure[] =>
    serverVariants.map((variant) => ({
      part: "http",
      ...(all.get(variant) as Measured),
      ...(withBaselines ? { baseline: against(all, variant) } : {}),
    }));

  const throughput = series("throughput", "req/s", (round) => round.requestsPerSecond);
  const cpu = series("CPU per request", "µs", (round) => round.cpuMicrosPerRequest);
  const cores = series("server CPU during load", "cores", (round) => round.serverCores);
  const off = (all: ReadonlyMap<ServerVariant, Measured>) => all.get("metrics-off") as Measured;
  const shipped = (all: ReadonlyMap<ServerVariant, Measured>) => all.get("shipped") as Measured;
  const offThroughput = { ...off(throughput), name: variantNames["metrics-off"] };

  const ratio = measured(
    "throughput ratio, shipped / metrics off",
    "",
    paired(shipped(throughput), off(throughput), (a, b) => a / b),
  );
  const throughputOverhead = measured(
    "overhead per request, from throughput",
    "µs",
    paired(shipped(throughput), off(throughput), (a, b) => 1e6 / a - 1e6 / b),
  );
  const cpuOverhead = measured(
    "overhead per request, from CPU time",
    "µs",
    paired(shipped(cpu), off(cpu), (a, b) => a - b),
  );
  // Throughput measures the server's cost per request only when the server was the bottleneck.
  const starved = [off(cores), shipped(cores)].filter((figure) => figure.median < cpuBoundCores);
  const throughputGoal = (goal: Goal) =>
    starved.length === 0
      ? goal
      : inconclusive(
          goal,
          `${starved.map((figure) => `${figure.name} had ${formatNumber(figure.median)} cores`).join(", ")}, ` +
            `under ${cpuBoundCores}: the load generator or other processes, not the server, limited throughput`,
        );
  return [
    ...perVariant(throughput, true),
    ...perVariant(
      series(`p99 latency (${connections} connections)`, "ms", (round) => round.p99Ms),
      true,
    ),
    ...perVariant(cpu, true),
    ...perVariant(cores, false),
    {
      part: "http",
      ...ratio,
      baseline: offThroughput,
      goal: throughputGoal(atLeast(minThroughputRatio, "", ratio.median)),
      note:
        `the goal's ratio equals ${maxOverheadMicros} µs per request at ` +
        `${formatNumber((1e6 * (1 - minThroughputRatio)) / (minThroughputRatio * maxOverheadMicros))} req/s; ` +
        `at the ${formatNumber(off(throughput).median)} req/s measured with metrics off, ${maxOverheadMicros} µs ` +
        `is a ratio of ${formatNumber(1 / (1 + (maxOverheadMicros * off(throughput).median) / 1e6))}`,
    },
    {
      part: "http",
      ...throughputOverhead,
      baseline: offThroughput,
      goal: throughputGoal(atMost(maxOverheadMicros, "µs", throughputOverhead.median)),
      note: "1e6/rps_shipped − 1e6/rps_off per round; exact when the server kept a core busy (server CPU near 1 core)",
    },
    {
      part: "http",
      ...cpuOverhead,
      baseline: { ...off(cpu), name: variantNames["metrics-off"] },
      goal: atMost(maxOverheadMicros, "µs", cpuOverhead.median),
      note: "server CPU time per answered request, shipped − metrics off, per round; other processes' load does not enter it",
    },
  ];
}
