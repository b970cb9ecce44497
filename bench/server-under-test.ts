/**
 * A server under test, in a process of its own: the load generator and the benchmark runner must never share
 * its event loop or its CPU time, and what its registry holds must not depend on what else the runner did. The
 * parent talks to it over the IPC channel: the child reports its port, and on request its own CPU time (so that
 * CPU per request is measured where the requests are served), a full garbage collection (so that heap figures
 * compare live data, not garbage awaiting collection), and renders of its metrics registry (so that a render
 * is timed, and its series counted, in the process that serves the scrapes).
 *
 * Parent side: `startServerUnderTest(variant)`. Child side: `node --import tsx bench/server-under-test.ts
 * <variant> [routes]`, which the parent runs.
 */
import { spawn } from "node:child_process";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { resolve } from "node:path";
import { Router } from "@koa/router";
import Koa from "koa";
import { pino } from "pino";
import type { Registry } from "prom-client";
import { createApp } from "../service/app";
import { createMetrics } from "../service/metrics";
import { packageInfo } from "../service/package-info";
import { serve } from "../service/server";
import { onExitCleanup } from "../test-support/cleanup";
import { loopback } from "../test-support/ports";
import { countSeriesIn, type SeriesCount } from "./exposition";
import { median } from "./stats";

/**
 * `bare`: node:http answering `GET /`'s JSON, the floor any Node service sits on. `metrics-off`: the service
 * with `createApp({ metrics: false })`. `shipped`: the service exactly as `service/main.ts` builds it.
 */
export const serverVariants = ["bare", "metrics-off", "shipped"] as const;
export type ServerVariant = (typeof serverVariants)[number];

/**
 * Besides the variants, `synthetic`: the service's metrics middleware in front of `syntheticRoutes` GET routes
 * (`syntheticRoutePath(0)`, ...), the same metric families, labels, buckets and scrape-time copying as the
 * service, with more label values than its fixed routes can ever produce.
 */
export type ServerKind = ServerVariant | "synthetic";

export interface ServerUnderTest<K extends ServerKind = ServerKind> {
  readonly variant: K;
  /** Such as http://127.0.0.1:41234 */
  readonly url: string;
  /** User plus system CPU time of the whole process, every thread, in microseconds. */
  cpuMicros(): Promise<number>;
  /** Runs a full garbage collection in the server; needs `exposeGc`. */
  collectGarbage(): Promise<void>;
  /** Renders the server's metrics registry `renders` times in a row, in the server's process. */
  render(renders: number): Promise<Rendered>;
  /** What the server wrote to stdout and stderr, for error messages. */
  output(): string;
  stop(): Promise<void>;
}

/** What `render` reports of one series of renders. */
export interface Rendered {
  /** The median time of one render. */
  readonly medianMs: number;
  /** Size of the last render's text. */
  readonly bytes: number;
  readonly series: SeriesCount;
}

export interface ServerOptions {
  /** Starts Node with --expose-gc so that `collectGarbage` works. */
  readonly exposeGc?: boolean;
  /** Routes of the `synthetic` server; required for it, refused for the others. */
  readonly syntheticRoutes?: number;
}

type Question = { readonly kind: "cpu" | "gc" } | { readonly kind: "render"; readonly renders: number };
type Request = Question & { readonly id: number };
type Reply =
  | { readonly kind: "listening"; readonly port: number }
  | {
      readonly kind: "reply";
      readonly id: number;
      readonly cpuMicros?: number;
      readonly rendered?: Rendered;
      readonly error?: string;
    };

const repoRoot = resolve(__dirname, "..");
const startTimeoutMs = 30_000;
const replyTimeoutMs = 10_000;
/** Far above one render of the largest registry the benchmarks build (a few milliseconds). */
const renderAllowanceMs = 200;
const outputLimit = 20_000;

/** The path of one of the synthetic server's routes. */
export function syntheticRoutePath(route: number): string {
  return `/synthetic/${route}`;
}

export async function startServerUnderTest<K extends ServerKind>(
  variant: K,
  options: ServerOptions = {},
): Promise<ServerUnderTest<K>> {
  const routes = options.syntheticRoutes;
  if ((variant === "synthetic") !== (routes !== undefined)) {
    throw new Error(
      `syntheticRoutes is ${variant === "synthetic" ? "required for" : "only for"} the synthetic server`,
    );
  }
  const child = spawn(
    process.execPath,
    [
      ...(options.exposeGc ? ["--expose-gc"] : []),
      "--import",
      "tsx",
      __filename,
      variant,
      ...(routes === undefined ? [] : [String(routes)]),
    ],
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
  const ask = (question: Question, timeoutMs: number) =>
    new Promise<Reply & { kind: "reply" }>((done, fail) => {
      const id = nextId++;
      const timer = setTimeout(() => {
        child.off("message", listener);
        fail(new Error(`${variant} server did not answer "${question.kind}" within ${timeoutMs} ms`));
      }, timeoutMs);
      const listener = (message: Reply) => {
        if (message.kind !== "reply" || message.id !== id) return;
        clearTimeout(timer);
        child.off("message", listener);
        if (message.error !== undefined) fail(new Error(`${variant} server: ${message.error}`));
        else done(message);
      };
      child.on("message", listener);
      child.send({ ...question, id } satisfies Request);
    });

  return {
    variant,
    url: `http://${loopback}:${port}`,
    async cpuMicros() {
      const reply = await ask({ kind: "cpu" }, replyTimeoutMs);
      if (reply.cpuMicros === undefined) throw new Error(`${variant} server sent no CPU time`);
      return reply.cpuMicros;
    },
    async collectGarbage() {
      await ask({ kind: "gc" }, replyTimeoutMs);
    },
    async render(renders: number) {
      const reply = await ask({ kind: "render", renders }, replyTimeoutMs + renders * renderAllowanceMs);
      if (reply.rendered === undefined) throw new Error(`${variant} server sent no render`);
      return reply.rendered;
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

interface Serving {
  readonly port: number;
  /** Undefined for the servers without metrics. */
  readonly registry: Registry | undefined;
}

/** The child: serves one variant on a free loopback port until the parent goes away. */
async function main(args: readonly string[]): Promise<void> {
  const [variant, routes, ...rest] = args;
  const usage = `usage: node --import tsx bench/server-under-test.ts <${serverVariants.join("|")}>, or synthetic <routes>, from startServerUnderTest()`;
  if (process.send === undefined || rest.length > 0) throw new Error(usage);
  let serving: Serving;
  if (variant === "synthetic" && routes !== undefined && /^\d+$/.test(routes)) {
    serving = await serveSynthetic(Number(routes));
  } else if (isVariant(variant) && routes === undefined) {
    serving =
      variant === "bare"
        ? { port: await serveBare(), registry: undefined }
        : await serveService(variant === "shipped");
  } else throw new Error(usage);
  process.on("message", (request: Request) => {
    void answer(request, serving.registry).then((reply) => process.send?.(reply));
  });
  // The parent's death closes the channel: a server left behind would skew the next benchmark.
  process.on("disconnect", () => process.exit(0));
  process.send({ kind: "listening", port: serving.port } satisfies Reply);
}

async function answer(request: Request, registry: Registry | undefined): Promise<Reply> {
  const { id } = request;
  switch (request.kind) {
    case "cpu": {
      const { user, system } = process.cpuUsage();
      return { kind: "reply", id, cpuMicros: user + system };
    }
    case "gc":
      if (typeof globalThis.gc !== "function") {
        return { kind: "reply", id, error: "garbage collection needs node --expose-gc" };
      }
      globalThis.gc();
      return { kind: "reply", id };
    case "render":
      if (!registry) return { kind: "reply", id, error: "this server has no metrics registry" };
      return { kind: "reply", id, rendered: await render(registry, request.renders) };
  }
}

async function render(registry: Registry, renders: number): Promise<Rendered> {
  const times: number[] = [];
  let text = "";
  for (let i = 0; i < renders; i++) {
    const started = performance.now();
    text = await registry.metrics();
    times.push(performance.now() - started);
  }
  return { medianMs: median(times), bytes: Buffer.byteLength(text), series: countSeriesIn(text) };
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
  return listen(server);
}

/** Built as service/main.ts builds it, with its default log level, which logs nothing per request. */
async function serveService(metrics: boolean): Promise<Serving> {
  const service = createApp({ logger: pino({ level: "info" }), metrics });
  const running = await serve(service, { port: 0, host: loopback, shutdownTimeoutMs: 2000 });
  process.once("SIGTERM", () => {
    void running.shutdown().then(() => process.exit(0));
  });
  return { port: running.address.port, registry: service.registry };
}

async function serveSynthetic(routes: number): Promise<Serving> {
  const metrics = createMetrics({ version: packageInfo.version, itemCount: () => 0 });
  const app = new Koa();
  app.use(metrics.middleware);
  const router = new Router({ strict: true, sensitive: true });
  for (let route = 0; route < routes; route++) {
    router.get(syntheticRoutePath(route), (ctx) => {
      ctx.body = { route };
    });
  }
  app.use(router.routes());
  return { port: await listen(createServer(app.callback())), registry: metrics.registry };
}

async function listen(server: ReturnType<typeof createServer>): Promise<number> {
  await new Promise<void>((done, fail) => {
    server.once("error", fail);
    server.listen({ port: 0, host: loopback }, done);
  });
  return (server.address() as AddressInfo).port;
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
