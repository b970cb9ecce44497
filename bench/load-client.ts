/**
 * Closed-loop HTTP load from a child program: autocannon with C connections, each sending its next request as
 * soon as the previous answer arrived, for a fixed time. Latencies are taken from autocannon's per-response
 * event in fractional milliseconds: its own histogram truncates them to whole milliseconds, too coarse for a
 * service that answers in a fraction of one.
 *
 * Parent side: `runClosedLoop(...)`. Child side: `node --import tsx bench/load-client.ts '<JSON>'`.
 */
import autocannon from "autocannon";
import { z } from "zod";
import { childInput, runChildProgram } from "./child-program";
import { percentile } from "./stats";

const closedLoopLoadSchema = z.strictObject({
  /** Such as http://127.0.0.1:41234/ */
  url: z.url(),
  connections: z.number().int().positive(),
  /** Whole seconds: autocannon checks its deadline once a second. */
  durationSeconds: z.number().int().positive(),
});

export type ClosedLoopLoad = z.infer<typeof closedLoopLoadSchema>;

const closedLoopResultSchema = z.strictObject({
  /** Responses received. */
  requests: z.number().int().nonnegative(),
  /** As measured by autocannon, from its first request to its end. */
  durationSeconds: z.number().positive(),
  non2xx: z.number().int().nonnegative(),
  /** Connection errors, timeouts included. */
  errors: z.number().int().nonnegative(),
  latencyMs: z.strictObject({ p50: z.number(), p99: z.number(), max: z.number() }),
});

export type ClosedLoopResult = z.infer<typeof closedLoopResultSchema>;

/** Time for the child to start (tsx compiles it) and to wind down, on top of the load's own duration. */
const childOverheadMs = 30_000;

export async function runClosedLoop(load: ClosedLoopLoad): Promise<ClosedLoopResult> {
  const output = await runChildProgram(__filename, load, load.durationSeconds * 1000 + childOverheadMs);
  const result = closedLoopResultSchema.parse(output);
  if (result.requests === 0) throw new Error(`no request to ${load.url} was answered`);
  if (result.errors > 0 || result.non2xx > 0) {
    throw new Error(
      `load on ${load.url} met ${result.errors} connection errors and ${result.non2xx} non-2xx answers in ` +
        `${result.requests} requests: the figures would not measure the service's normal path`,
    );
  }
  return result;
}

async function main(load: ClosedLoopLoad): Promise<ClosedLoopResult> {
  const latencies: number[] = [];
  const result = await new Promise<autocannon.Result>((done, fail) => {
    const instance = autocannon(
      { url: load.url, connections: load.connections, duration: load.durationSeconds },
      (error: unknown, finished) => (error ? fail(error) : done(finished)),
    );
    instance.on("response", (_client, _status, _bytes, responseTimeMs) => latencies.push(responseTimeMs));
  });
  return {
    requests: result.requests.total,
    durationSeconds: result.duration,
    non2xx: result.non2xx,
    errors: result.errors,
    latencyMs: {
      p50: percentile(latencies, 0.5),
      p99: percentile(latencies, 0.99),
      max: percentile(latencies, 1),
    },
  };
}

if (require.main === module) {
  main(closedLoopLoadSchema.parse(childInput(process.argv.slice(2)))).then(
    (result) => console.log(JSON.stringify(result)),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
