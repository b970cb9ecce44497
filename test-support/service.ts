/**
 * What the service's tests share: the app on an ephemeral loopback port with its logs captured, the service as
 * a child process, plain HTTP requests with any method, and a reader for the Prometheus text format.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { type Agent, request } from "node:http";
import { createInterface } from "node:readline";
import { pino } from "pino";
import { type AppOptions, createApp, type Service } from "../service/app";
import { metricNames } from "../service/metrics-contract";
import { serve } from "../service/server";
import { boundedFetch } from "./http";
import { waitFor } from "./wait";

export type LogRecord = Record<string, unknown> & { level: number; msg?: string };

export interface TestServer {
  readonly service: Service;
  /** Base URL, such as http://127.0.0.1:41234. */
  readonly url: string;
  readonly port: number;
  /** What the app logged at info level and above, parsed. */
  readonly logs: LogRecord[];
  close(): Promise<void>;
}

/** Builds the app as `main` does, minus the environment, and serves it on 127.0.0.1 with a free port. */
export async function startTestServer(options: Omit<AppOptions, "logger"> = {}): Promise<TestServer> {
  const logs: LogRecord[] = [];
  const logger = pino({ level: "info" }, { write: (line: string) => logs.push(JSON.parse(line)) });
  const service = createApp({ logger, ...options });
  const running = await serve(service, { port: 0, host: "127.0.0.1", shutdownTimeoutMs: 2000 });
  const { port } = running.address;
  return {
    service,
    url: `http://127.0.0.1:${port}`,
    port,
    logs,
    close: async () => {
      await running.shutdown();
    },
  };
}

export interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

export interface RawRequest {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  /** Written in this many separate chunks, so a body without Content-Length is sent chunked. */
  readonly chunks?: readonly (string | Buffer)[];
  readonly agent?: Agent;
}

/** An HTTP request through node:http, which, unlike fetch, sends any method, including TRACE and WebDAV's. */
export function rawRequest(url: string, options: RawRequest = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: options.method ?? "GET",
      headers: options.headers,
      agent: options.agent,
    });
    req.on("error", reject);
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("error", reject);
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString("utf8"),
        }),
      );
    });
    for (const chunk of options.chunks ?? []) req.write(chunk);
    req.end();
  });
}

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** The samples of a Prometheus text exposition, comments skipped. */
export function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match?.[1] || match[3] === undefined) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const label of (match[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[label[1] as string] = JSON.parse(`"${label[2]}"`);
    }
    samples.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return samples;
}

/** Scrapes /metrics and returns its samples. */
export async function scrape(url: string): Promise<Sample[]> {
  const response = await boundedFetch(`${url}/metrics`);
  if (response.status !== 200) throw new Error(`GET /metrics answered ${response.status}`);
  return parseExposition(await response.text());
}

/** The value of the one sample with this name and exactly these labels, or undefined. */
export function sampleValue(samples: readonly Sample[], name: string, labels: Record<string, string> = {}) {
  const wanted = Object.entries(labels);
  return samples.find(
    (sample) =>
      sample.name === name &&
      Object.keys(sample.labels).length === wanted.length &&
      wanted.every(([key, value]) => sample.labels[key] === value),
  )?.value;
}

/** Waits until app_http_requests_in_flight{method="GET"} reads `expected`. Scrapes themselves are not counted. */
export async function waitForGetsInFlight(url: string, expected: number): Promise<void> {
  await waitFor(
    `${expected} GET request(s) in flight`,
    async () =>
      sampleValue(await scrape(url), metricNames.requestsInFlight, { method: "GET" }) === expected
        ? true
        : undefined,
    { timeoutMs: 5000, intervalMs: 20 },
  );
}

export interface ServiceProcess {
  readonly child: ChildProcess;
  readonly port: number;
  /** Everything the process logged on stdout, parsed, as it arrives. */
  readonly logs: LogRecord[];
  /** Resolves with the exit code (null if killed by a signal) once the process has exited. */
  readonly exited: Promise<number | null>;
}

/**
 * Spawns the service (from sources or from a bundle) and resolves once it logs that it is listening. `env`
 * replaces the environment, apart from PATH, so that nothing from the test runner leaks in.
 */
export function startServiceProcess(
  args: readonly string[],
  options: { readonly cwd: string; readonly env: Record<string, string>; readonly timeoutMs?: number },
): Promise<ServiceProcess> {
  const child = spawn(process.execPath, args, {
    cwd: options.cwd,
    env: { PATH: process.env.PATH ?? "", ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const logs: LogRecord[] = [];
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString("utf8");
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timeoutMs = options.timeoutMs ?? 15_000;
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`the service did not log "listening" within ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(
        new Error(
          `the service exited with ${code} before listening; logs: ${JSON.stringify(logs)} ${stderr}`,
        ),
      );
    });
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
      const record = parseLogLine(line);
      logs.push(record);
      if (record.msg === "listening" && typeof record.port === "number") {
        clearTimeout(timer);
        resolve({ child, port: record.port, logs, exited });
      }
    });
  });
}

/** A pino log line; anything else on stdout is kept with level 0 so that a test can notice it. */
function parseLogLine(line: string): LogRecord {
  try {
    return JSON.parse(line) as LogRecord;
  } catch {
    return { level: 0, msg: line };
  }
}
