/**
 * One process that serves many monitored jobs, each on a loopback port of its own: the scale part's stand-in
 * for a fleet of services (each instance of the real service is a Node.js process of about 60 MiB, and 500 of
 * them do not fit on the machine the bench runs on). Every port answers `/metrics` with one job's exposition
 * (./fleet-exposition.ts) and `/readyz`; closing a port's listener is how a job goes down.
 *
 * The bench runs it as a child program (`startFleetProcess`), so that serving the scrapes never delays the
 * bench's own timers and queries; tests serve a few ports in-process (`serveFleet`).
 */
import { spawn } from "node:child_process";
import { createServer, type Server } from "node:http";
import { createInterface } from "node:readline";
import { collectDefaultMetrics, Registry } from "prom-client";
import { probePaths } from "../service/metrics-contract";
import { onExitCleanup } from "../test-support/cleanup";
import { loopback } from "../test-support/ports";
import { renderAppFamilies } from "./fleet-exposition";
import { renderCadvisorPage, renderNodeExporterPage } from "./host-exposition";

/** prom-client's default metrics are read at most this often and shared by every job: reading them costs. */
const processMetricsMaxAgeMs = 1000;

/** Prometheus's text format, as prom-client answers. */
const exposition = "text/plain; version=0.0.4; charset=utf-8";

export interface Fleet {
  readonly ports: readonly number[];
  /** Stops serving one port: its listener and open connections close, and its scrapes fail from then on. */
  close(port: number): Promise<void>;
  stop(): Promise<void>;
}

/** The watched machines a fleet serves besides its jobs: the i-th machine's exporters on the i-th ports. */
export interface FleetHosts {
  readonly nodeExporterPorts: readonly number[];
  readonly cadvisorPorts: readonly number[];
  /** A node exporter page as captured (./host-exposition.ts), which every machine serves, idle CPUs advancing. */
  readonly nodeExporterPage: string;
}

const noHosts: FleetHosts = { nodeExporterPorts: [], cadvisorPorts: [], nodeExporterPage: "" };

/**
 * Serves one job on each port, the i-th job on the i-th port, and each machine's node exporter and cAdvisor
 * pages on theirs, until stopped.
 */
export async function serveFleet(ports: readonly number[], hosts: FleetHosts = noHosts): Promise<Fleet> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  let processText = await registry.metrics();
  let readAt = performance.now();
  let reading: Promise<void> | undefined;
  const processMetrics = async (): Promise<string> => {
    if (performance.now() - readAt > processMetricsMaxAgeMs) {
      reading ??= registry.metrics().then((text) => {
        processText = text;
        readAt = performance.now();
        reading = undefined;
      });
      await reading;
    }
    return processText;
  };
  const startedAt = performance.now();
  const elapsedSeconds = () => (performance.now() - startedAt) / 1000;
  const servers = new Map<number, Server>();
  const listen = async (port: number, server: Server) => {
    servers.set(port, server);
    await new Promise<void>((listening, failed) => {
      server.once("error", failed);
      server.listen(port, loopback, () => {
        server.off("error", failed);
        listening();
      });
    });
  };
  const page = (render: () => string) =>
    createServer((request, response) => {
      if (request.url !== probePaths.metrics) {
        response.statusCode = 404;
        response.end();
        return;
      }
      response.setHeader("Content-Type", exposition);
      response.end(render());
    });
  try {
    for (const [host, port] of hosts.nodeExporterPorts.entries()) {
      await listen(
        port,
        page(() => renderNodeExporterPage(hosts.nodeExporterPage, elapsedSeconds())),
      );
      const cadvisorPort = hosts.cadvisorPorts[host];
      if (cadvisorPort !== undefined)
        await listen(
          cadvisorPort,
          page(() => renderCadvisorPage(host, elapsedSeconds())),
        );
    }
    for (const [index, port] of ports.entries()) {
      // Golden-ratio phases spread the jobs' counter steps evenly over a second.
      const phase = (index * 0.618_033_988_7) % 1;
      const server = createServer((request, response) => {
        if (request.url === probePaths.readiness) {
          response.end("ready\n");
          return;
        }
        if (request.url !== probePaths.metrics) {
          response.statusCode = 404;
          response.end();
          return;
        }
        processMetrics().then(
          (text) => {
            const app = renderAppFamilies(elapsedSeconds(), phase);
            response.setHeader("Content-Type", exposition);
            response.end(`${text}\n${app}`);
          },
          (error: unknown) => {
            response.statusCode = 500;
            response.end(String(error));
          },
        );
      });
      await listen(port, server);
    }
  } catch (error) {
    await Promise.all([...servers.values()].map(closeServer));
    throw error;
  }
  return {
    ports,
    async close(port) {
      const server = servers.get(port);
      if (server === undefined) throw new RangeError(`the fleet does not serve port ${port}`);
      servers.delete(port);
      await closeServer(server);
    },
    async stop() {
      const all = [...servers.values()];
      servers.clear();
      await Promise.all(all.map(closeServer));
    },
  };
}

function closeServer(server: Server): Promise<void> {
  return new Promise((closed) => {
    if (!server.listening) return closed();
    server.close(() => closed());
    // Prometheus keeps its scrape connections alive: without this the port would go on answering them.
    server.closeAllConnections();
  });
}

/** What the fleet's process spent, reported when it stops. */
export interface FleetUsage {
  readonly cpuSeconds: number;
  readonly wallSeconds: number;
  readonly residentBytes: number;
}

export interface FleetProcess {
  readonly ports: readonly number[];
  close(port: number): Promise<void>;
  /** Stops the process and returns what it spent over its life. */
  stop(): Promise<FleetUsage>;
}

/** How long the child may take to compile under tsx and listen on every port. */
const fleetStartTimeoutMs = 60_000;
/** How long it may take to close a port, or to stop. */
const fleetCommandTimeoutMs = 10_000;

/** The fleet as a child program: `node --import tsx bench/fleet-server.ts`, told its ports on stdin's first line. */
export async function startFleetProcess(
  ports: readonly number[],
  hosts: FleetHosts = noHosts,
): Promise<FleetProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", __filename], { stdio: ["pipe", "pipe", "pipe"] });
  child.stdin.write(`${JSON.stringify({ ports, hosts })}\n`);
  const unregister = onExitCleanup(() => child.kill("SIGKILL"));
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString("utf8")).slice(-5000);
  });
  const waiting: { match: (message: FleetMessage) => boolean; done: (message: FleetMessage) => void }[] = [];
  createInterface({ input: child.stdout }).on("line", (line) => {
    let message: FleetMessage;
    try {
      message = JSON.parse(line) as FleetMessage;
    } catch {
      return;
    }
    const index = waiting.findIndex((each) => each.match(message));
    if (index >= 0) waiting.splice(index, 1)[0]?.done(message);
  });
  const exited = new Promise<string>((resolve) =>
    child.once("exit", (code, signal) => resolve(`the fleet server exited with ${signal ?? code}`)),
  );
  const expect = (what: string, match: (message: FleetMessage) => boolean, timeoutMs: number) =>
    new Promise<FleetMessage>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`the fleet server did not ${what} within ${timeoutMs} ms:\n${stderr}`)),
        timeoutMs,
      );
      waiting.push({
        match,
        done: (message) => {
          clearTimeout(timer);
          resolve(message);
        },
      });
      exited.then((why) => {
        clearTimeout(timer);
        reject(new Error(`${why} before it could ${what}:\n${stderr}`));
      });
    });
  try {
    await expect(`listen on ${ports.length} ports`, (message) => message.ready === true, fleetStartTimeoutMs);
  } catch (error) {
    child.kill("SIGKILL");
    unregister();
    throw error;
  }
  return {
    ports,
    async close(port) {
      const closed = expect(
        `close port ${port}`,
        (message) => message.closed === port,
        fleetCommandTimeoutMs,
      );
      child.stdin.write(`close ${port}\n`);
      await closed;
    },
    async stop() {
      const stopped = expect("stop", (message) => message.usage !== undefined, fleetCommandTimeoutMs);
      child.stdin.end();
      try {
        const { usage } = await stopped;
        return usage as FleetUsage;
      } finally {
        child.kill("SIGKILL");
        unregister();
      }
    },
  };
}

interface FleetMessage {
  readonly ready?: boolean;
  readonly closed?: number;
  readonly usage?: FleetUsage;
}

/**
 * The child program: reads what to serve from stdin's first line (a node exporter page is too long for an
 * argument), serves, closes ports as stdin asks (`close <port>`), and stops when stdin ends.
 */
async function runFleetProgram(): Promise<void> {
  const say = (message: FleetMessage) => process.stdout.write(`${JSON.stringify(message)}\n`);
  const commands = createInterface({ input: process.stdin });
  let fleet: Fleet | undefined;
  for await (const line of commands) {
    if (fleet === undefined) {
      const { ports, hosts } = JSON.parse(line) as { ports: number[]; hosts: FleetHosts };
      fleet = await serveFleet(ports, hosts);
      say({ ready: true });
      continue;
    }
    const [command, argument] = line.trim().split(/\s+/);
    if (command !== "close") throw new Error(`unknown command: ${line}`);
    await fleet.close(Number(argument));
    say({ closed: Number(argument) });
  }
  await fleet?.stop();
  const cpu = process.cpuUsage();
  say({
    usage: {
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      wallSeconds: process.uptime(),
      residentBytes: process.memoryUsage().rss,
    },
  });
}

if (require.main === module) {
  runFleetProgram().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
