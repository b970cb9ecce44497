/**
 * What the instructions part counts, run under callgrind by bench/instructions.ts: the service, built as
 * server-under-test.ts builds it, answers `segments` × `requests` `GET /api/items`, sent one after the other
 * over one keep-alive connection by a client in the same process. Before the first segment and after each one
 * it calls `checkpoint`, at which callgrind writes the instructions counted since the previous one. Nothing in
 * it depends on time or on other processes, so the same arguments execute the same instructions.
 *
 * Usage (bundled first, see instructions.ts): node workload.js <metrics-off|shipped> <requests> <segments>
 */
import { Agent, get, type RequestOptions } from "node:http";
import { pino } from "pino";
import { createApp } from "../service/app";
import { apiRoutes } from "../service/metrics-contract";
import { serve } from "../service/server";
import { loopback } from "../test-support/ports";

export const workloadVariants = ["metrics-off", "shipped"] as const;
export type WorkloadVariant = (typeof workloadVariants)[number];

/**
 * The native function callgrind dumps its counts before (`--dump-before`): libuv's, so its name does not
 * depend on how Node.js is built, and reached from JavaScript only through `checkpoint`.
 */
export const checkpointFunction = "uv_resident_set_memory";

function checkpoint(): void {
  process.memoryUsage.rss();
}

/** `requests` sequential requests; rejects on any status but 200. */
async function sendSequentially(options: RequestOptions & { path: string }, requests: number): Promise<void> {
  for (let i = 0; i < requests; i++) {
    await new Promise<void>((done, fail) => {
      get(options, (response) => {
        if (response.statusCode !== 200)
          fail(new Error(`GET ${options.path} answered ${response.statusCode}`));
        response.resume();
        response.once("end", done);
        response.once("error", fail);
      }).once("error", fail);
    });
  }
}

async function main(args: readonly string[]): Promise<void> {
  const [variant, requests, segments, ...rest] = args;
  const known = workloadVariants.find((candidate) => candidate === variant);
  const counts = [requests, segments].filter((text) => text !== undefined && /^\d+$/.test(text));
  if (known === undefined || counts.length !== 2 || rest.length > 0) {
    throw new Error(`usage: node workload.js <${workloadVariants.join("|")}> <requests> <segments>`);
  }
  // As server-under-test.ts serves the service: main's default log level, which logs nothing per request.
  const service = createApp({ logger: pino({ level: "info" }), metrics: known === "shipped" });
  const running = await serve(service, { port: 0, host: loopback, shutdownTimeoutMs: 2000 });
  // Under callgrind a pause of the event loop (a compilation) can outlast the default 5 s, and the server would
  // close the connection as the next request arrives; a longer timeout takes the same path.
  running.server.keepAliveTimeout = 600_000;
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  // Options rather than a URL, so that the client parses no URL per request: what it costs is counted too.
  const options = { host: loopback, port: running.address.port, path: apiRoutes.items, agent };
  checkpoint();
  for (let segment = 0; segment < Number(segments); segment++) {
    await sendSequentially(options, Number(requests));
    checkpoint();
  }
  agent.destroy();
  await running.shutdown();
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
