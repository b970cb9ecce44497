/**
 * A server under test, in a process of its own: the load generator and the benchmark runner must never share
 * its event loop or its CPU time. The parent talks to it over the IPC channel: the child reports its port,
 * and on request its own CPU time (so that CPU per request is measured where the requests are served) and a
 * full garbage collection (so that heap figures compare live data, not garbage awaiting collection).
 *
 * Parent side: `startServerUnderTest(variant)`. Child side: `node --import tsx bench/server-under-test.ts
 * <variant>`, which the parent runs.
 */
import { spawn } from "node:child_process";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { resolve } from "node:path";
import { pino } from "pino";
import { createApp } from "../service/app";
import { packageInfo } from "../service/package-info";
import { serve } from "../service/server";
import { onExitCleanup } from "../test-support/cleanup";
import { loopback } from "../test-support/ports";

/**
 * `bare`: node:http answering `GET /`'s JSON, the floor any Node service sits on. `metrics-off`: the service
 * with `createApp({ metrics: false })`. `shipped`: the service exactly as `service/main.ts` builds it.
 */
export const serverVariants = ["bare", "metrics-off", "shipped"] as const;
export type ServerVariant = (typeof serverVariants)[number];

export interface ServerUnderTest {
  readonly variant: ServerVariant;
  /** Such as http://127.0.0.1:41234 */
  readonly url: string;
  /** User plus system CPU time of the whole process, every thread, in microseconds. */
  cpuMicros(): Promise<number>;
  /** Runs a full garbage collection in the server; needs `exposeGc`. */
  collectGarbage(): Promise<void>;
  /** What the server wrote to stdout and stderr, for error messages. */
  output(): string;
  stop(): Promise<void>;
}

export interface ServerOptions {
  /** Starts Node with --expose-gc so that `collectGarbage` works. */
  readonly exposeGc?: boolean;
}

type Request = { readonly id: number; readonly kind: "cpu" | "gc" };
type Reply =
  | { readonly kind: "listening"; readonly port: number }
  | { readonly kind: "reply"; readonly id: number; readonly cpuMicros?: number; readonly error?: string };

const repoRoot = resolve(__dirname, "..");
const startTimeoutMs = 30_000;
const replyTimeoutMs = 10_000;
const outputLimit = 20_000;

export async function startServerUnderTest(
  variant: ServerVariant,
  options: ServerOptions = {},
): Promise<ServerUnderTest> {
  const child = spawn(
    process.execPath,
    [...(options.exposeGc ? ["--expose-gc"] : []), "--import", "tsx", __filename, variant],
    {
      cwd: repoRoot,
      // As in the Docker image, which sets NODE_ENV=production.
      env: { ...process.env, NODE_ENV: "production" },
      stdio: ["ignore", "pipe", "pipe", "ipc"],
    },
  );
  const unregister = onExitCleanup(() => child.kill("SIGKILL"));
  let output = "";
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString("utf8")).slice(-outputLimit);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<void>((done) =>
    child.once("exit", () => {
      unregister();
      done();
    }),
  );

  let port: number;
  try {
    port = await new Promise<number>((done, fail) => {
      const timer = setTimeout(
        () => fail(new Error(`${variant} server did not start within ${startTimeoutMs} ms`)),
        startTimeoutMs,
      );
      child.on("message", (message: Reply) => {
        if (message.kind !== "listening") return;
        clearTimeout(timer);
        done(message.port);
      });
      void exited.then(() => {
        clearTimeout(timer);
        fail(new Error(`${variant} server exited before listening`));
      });
    });
  } catch (error) {
    child.kill("SIGKILL");
    await exited;
    throw new Error(`${(error as Error).message}; its output:\n${output}`);
  }

  let nextId = 0;
  const ask = (kind: Request["kind"]) =>
    new Promise<Reply & { kind: "reply" }>((done, fail) => {
      const id = nextId++;
      const timer = setTimeout(() => {
        child.off("message", listener);
        fail(new Error(`${variant} server did not answer "${kind}" within ${replyTimeoutMs} ms`));
      }, replyTimeoutMs);
      const listener = (message: Reply) => {
        if (message.kind !== "reply" || message.id !== id) return;
        clearTimeout(timer);
        child.off("message", listener);
        if (message.error !== undefined) fail(new Error(`${variant} server: ${message.error}`));
        else done(message);
      };
      child.on("message", listener);
      child.send({ id, kind } satisfies Request);
    });

  return {
    variant,
    url: `http://${loopback}:${port}`,
    async cpuMicros() {
      const reply = await ask("cpu");
      if (reply.cpuMicros === undefined) throw new Error(`${variant} server sent no CPU time`);
      return reply.cpuMicros;
    },
    async collectGarbage() {
      await ask("gc");
    },
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      const forced = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(forced);
    },
  };
}

/** The child: serves one variant on a free loopback port until the parent goes away. */
async function main(args: readonly string[]): Promise<void> {
  const [variant, ...rest] = args;
  if (!isVariant(variant) || rest.length > 0 || process.send === undefined) {
    throw new Error(
      `usage: node --import tsx bench/server-under-test.ts <${serverVariants.join("|")}>, from startServerUnderTest()`,
    );
  }
  const port = variant === "bare" ? await serveBare() : await serveService(variant === "shipped");
  process.on("message", (request: Request) => {
    process.send?.(answer(request));
  });
  // The parent's death closes the channel: a server left behind would skew the next benchmark.
  process.on("disconnect", () => process.exit(0));
  process.send({ kind: "listening", port } satisfies Reply);
}

function answer(request: Request): Reply {
  if (request.kind === "cpu") {
    const { user, system } = process.cpuUsage();
    return { kind: "reply", id: request.id, cpuMicros: user + system };
  }
  if (typeof globalThis.gc !== "function") {
    return { kind: "reply", id: request.id, error: "garbage collection needs node --expose-gc" };
  }
  globalThis.gc();
  return { kind: "reply", id: request.id };
}

function isVariant(value: string | undefined): value is ServerVariant {
  return serverVariants.some((variant) => variant === value);
}

/** The same answer as the service's `GET /`, serialised per request as Koa does, with the same headers. */
async function serveBare(): Promise<number> {
  const root = { name: packageInfo.name, version: packageInfo.version };
  const server = createServer((_request, response) => {
    const body = JSON.stringify(root);
    response.writeHead(200, {
      "Content-Type": "application/json; charset=utf-8",
      "Content-Length": Buffer.byteLength(body),
    });
    response.end(body);
  });
  await new Promise<void>((done, fail) => {
    server.once("error", fail);
    server.listen({ port: 0, host: loopback }, done);
  });
  return (server.address() as AddressInfo).port;
}

/** Built as service/main.ts builds it, with its default log level, which logs nothing per request. */
async function serveService(metrics: boolean): Promise<number> {
  const service = createApp({ logger: pino({ level: "info" }), metrics });
  const running = await serve(service, { port: 0, host: loopback, shutdownTimeoutMs: 2000 });
  process.once("SIGTERM", () => {
    void running.shutdown().then(() => process.exit(0));
  });
  return running.address.port;
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
