/**
 * A cardinality attack on the service as shipped, in its own process: random paths, query strings and methods
 * from a separate process (see attack-client.ts), in batches. Before the attack, every route is exercised and
 * every (method, path shape) the attack uses is sent once, so that the baseline holds every label value the
 * attack can legitimately reach. After each batch the service's /metrics is read: its series, and its memory
 * as the service reports it, each time right after a full garbage collection in the service so that the heap
 * figure is live data rather than garbage awaiting collection.
 */
import { nodeProcessMetrics } from "../configs/promql/upstream-metrics";
import { probePaths } from "../service/metrics-contract";
import { boundedFetch } from "../test-support/http";
import { parseExposition, type Sample } from "../test-support/service";
import { attackMethods, primeRequestCount, runAttack } from "./attack-client";
import { exerciseEveryRoute } from "./exercise";
import { countSeries } from "./exposition";
import { type Figure, formatNumber, goal, type Measured, measured } from "./figures";
import { type ServerUnderTest, startServerUnderTest } from "./server-under-test";

export interface CardinalityBenchOptions {
  /** Random requests in all. */
  readonly requests: number;
  /** The requests are sent in this many batches, with a reading of /metrics after each. */
  readonly batches: number;
  /** Requests in flight at once. */
  readonly concurrency: number;
  /** No batch sends for longer than this. */
  readonly batchDeadlineMs: number;
  readonly log: (line: string) => void;
}

const mib = 1024 * 1024;

interface Reading {
  readonly requestSeries: number;
  readonly allSeries: number;
  readonly residentMiB: number;
  readonly heapUsedMiB: number;
}

export async function benchCardinality(options: CardinalityBenchOptions): Promise<Figure[]> {
  const { log } = options;
  if (options.requests < options.batches) {
    throw new Error(
      `--attack-requests (${options.requests}) must be at least the number of batches (${options.batches})`,
    );
  }
  const server = await startServerUnderTest("shipped", { exposeGc: true });
  try {
    await exerciseEveryRoute(server.url);
    const prime = await runAttack({
      url: server.url,
      mode: "prime",
      requests: 0,
      concurrency: 1,
      deadlineMs: options.batchDeadlineMs,
    });
    if (prime.answered !== primeRequestCount()) {
      throw new Error(`priming sent ${primeRequestCount()} requests but ${prime.answered} were answered`);
    }
    const before = await read(server);
    log(`cardinality: before the attack: ${describe(before)}`);

    const after: Reading[] = [];
    const notes: string[] = [];
    const statuses: Record<string, number> = {};
    let sent = 0;
    let answered = 0;
    let failed = 0;
    let attackMs = 0;
    for (let batch = 1; batch <= options.batches; batch++) {
      const requests =
        Math.floor((options.requests * batch) / options.batches) -
        Math.floor((options.requests * (batch - 1)) / options.batches);
      const result = await runAttack({
        url: server.url,
        mode: "attack",
        requests,
        concurrency: options.concurrency,
        deadlineMs: options.batchDeadlineMs,
      });
      sent += result.sent;
      answered += result.answered;
      failed += result.failed;
      attackMs += result.durationMs;
      for (const [status, count] of Object.entries(result.statuses))
        statuses[status] = (statuses[status] ?? 0) + count;
      if (result.sent < requests) {
        notes.push(
          `batch ${batch} reached its ${options.batchDeadlineMs} ms deadline after ${result.sent} of ${requests} requests`,
        );
      }
      const reading = await read(server);
      after.push(reading);
      log(`cardinality: after ${sent} random requests: ${describe(reading)}`);
    }

    const pick = (name: string, unit: string, of: (reading: Reading) => number) => ({
      own: measured(`${name}, after each batch`, unit, after.map(of)),
      baseline: measured("before the attack", unit, [of(before)]),
    });
    const requestSeries = pick("request series", "series", (reading) => reading.requestSeries);
    const summary =
      `${formatNumber(sent)} requests with random paths and ${attackMethods.length} methods sent, ${formatNumber(answered)} answered, ` +
      `${failed} failed; statuses ${Object.entries(statuses)
        .map(([status, count]) => `${status}: ${formatNumber(count)}`)
        .join(", ")}`;
    const figure = (picked: { own: Measured; baseline: Measured }, extra: Partial<Figure> = {}): Figure => ({
      part: "cardinality",
      ...picked.own,
      baseline: picked.baseline,
      ...extra,
    });
    return [
      figure(requestSeries, {
        goal: goal(
          "unchanged",
          requestSeries.own.rounds.every((value) => value === requestSeries.baseline.median),
        ),
        note: [summary, ...notes].join("; "),
      }),
      figure(
        pick("all series in /metrics", "series", (reading) => reading.allSeries),
        {
          note: "includes the process metrics, some of which gain label values by themselves (GC kinds, handle types)",
        },
      ),
      figure(pick("resident memory", "MiB", (reading) => reading.residentMiB)),
      figure(pick("heap used after a full GC", "MiB", (reading) => reading.heapUsedMiB)),
      {
        part: "cardinality",
        ...measured("attack rate", "req/s", [(answered * 1000) / attackMs]),
        note: `${options.concurrency} requests in flight from a separate process`,
      },
    ];
  } finally {
    await server.stop();
  }
}

async function read(server: ServerUnderTest): Promise<Reading> {
  await server.collectGarbage();
  const response = await boundedFetch(`${server.url}${probePaths.metrics}`);
  if (response.status !== 200) throw new Error(`GET ${probePaths.metrics} answered ${response.status}`);
  const samples = parseExposition(await response.text());
  const counts = countSeries(samples);
  return {
    requestSeries: counts.request,
    allSeries: counts.all,
    residentMiB: value(samples, nodeProcessMetrics.residentMemoryBytes) / mib,
    heapUsedMiB: value(samples, nodeProcessMetrics.heapUsedBytes) / mib,
  };
}

function value(samples: readonly Sample[], name: string): number {
  const sample = samples.find((candidate) => candidate.name === name);
  if (!sample) throw new Error(`the service's metrics have no ${name}`);
  return sample.value;
}

function describe(reading: Reading): string {
  return (
    `${reading.requestSeries} request series, ${reading.allSeries} in all, ` +
    `RSS ${reading.residentMiB.toFixed(1)} MiB, heap ${reading.heapUsedMiB.toFixed(1)} MiB`
  );
}
