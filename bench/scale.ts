/**
 * Scale of the work: what the Prometheus replicas, the render and the dashboards spend as the number of
 * monitored jobs grows. For each N (1, 20, 100 and 500 by default) a fresh end-to-end stack (e2e/stack.ts: real
 * Prometheus and Alertmanager binaries on loopback) with the shipped default settings plus N `targets`,
 * `app-1`..`app-N`, each its own job with the HTTP contract and so its own request alerts and SLO series. One
 * child process (./fleet-server.ts) serves all N jobs, each on a loopback port of its own, with the service's
 * metrics shape and counters that advance. Once every replica sees every job up with request series, the part
 * waits the settle time and reads each replica's scrapes, rule evaluations, series, memory and CPU over that
 * window, then times every dashboard panel's query against the live data.
 *
 * Before any stack, it times rendering the whole stack's files for each N (`renderAll`, in this process). A
 * count whose render fails is reported as such and runs no stack. On the largest count that rendered, one job
 * goes down (its port's listener closes) and the part times InstanceDown to firing on each replica and to its
 * e-mail, beside the timing model's bounds.
 *
 * The intervals are the shipped ones (5 s scrapes and evaluations): shortening them would change the cost per
 * second that this part is about. The figures, the machine and its load go to `bench/results/<name>.json`, and
 * the ratios to N = 1 are drawn in `bench/results/<name>.svg`.
 */

import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { buildDashboards, dashboardPanelQueries, dashboardPanels } from "../configs/grafana";
import { dashboardTimeRange } from "../configs/grafana/panels";
import { jobs } from "../configs/names";
import { alertFiringTiming, firingEmailTiming, type Timing } from "../configs/prometheus/alert-timing";
import { renderAll } from "../configs/render";
import { type Endpoints, type HostPort, hostPort } from "../configs/runtime/endpoints";
import { nodeExporterFlags } from "../configs/runtime/server-flags";
import type { BinaryName } from "../configs/runtime/tool-builds";
import { alertNames } from "../configs/settings/alert-specs";
import { durationMs } from "../configs/settings/duration";
import type { Settings } from "../configs/settings/schema";
import { loadSettings } from "../configs/validate";
import { parseSubject } from "../e2e/notifications";
import { Stack } from "../e2e/stack";
import { findBinary } from "../test-support/binaries";
import { makeTempDir } from "../test-support/cleanup";
import { boundedFetch } from "../test-support/http";
import { freePort, loopback } from "../test-support/ports";
import { ManagedProcess } from "../test-support/processes";
import type { PrometheusClient } from "../test-support/prometheus-client";
import { seconds, waitFor } from "../test-support/wait";
import type { Figure } from "./figures";
import { type FleetProcess, type FleetUsage, startFleetProcess } from "./fleet-server";
import { machine } from "./machine";
import {
  hostSeriesQuery,
  type PanelTiming,
  type QueriedKey,
  type QueriedReading,
  type RenderReading,
  type ReplicaReading,
  readinessQueries,
  readingQueries,
  ruleGroupIntervalsQuery,
  ruleGroupName,
  ruleGroupsQuery,
  type ScaleReading,
  scaleFigures,
  scaleHostCount,
  scaleHosts,
  scaleJob,
  scalePlotLines,
  scaleTable,
  scaleTargets,
  scrapeDurationStats,
  scrapeDurationsQuery,
  slowestPanel,
} from "./scale-math";
import { median } from "./stats";
import { logLogSvg } from "./svg-plot";

export interface ScaleBenchOptions {
  /** Counts of monitored jobs, ascending; the first is the baseline of the others. */
  readonly instances: readonly number[];
  /** How long the readings cover, once every job is up with request series. */
  readonly settleSeconds: number;
  /** File name, without extension, of the results under bench/results/; defaults to `scale-<date>`. */
  readonly resultsName?: string;
  readonly log: (line: string) => void;
}

const resultsDir = resolve(__dirname, "results");

/** Renders per count: the median is the figure. */
const renderRounds = 3;

/**
 * Beyond the settle time, how long the jobs may take to be up with request series on every replica: a fixed
 * part for the processes, and a part per job, as Prometheus spreads the first scrapes of many targets.
 */
const readinessBaseMs = 60_000;
const readinessPerJobMs = 100;

/** How often the InstanceDown wait reads each replica's alerts: the precision of its time to firing. */
const alertPollMs = 250;

/** Time to alert for one job of N going down: on each replica to firing, and to the e-mail. */
export interface AlertReading {
  readonly instances: number;
  readonly job: string;
  /** From closing the job's port to the alert firing in Prometheus, per replica. */
  readonly firingSeconds: readonly number[];
  readonly firingModel: { readonly earliestSeconds: number; readonly latestSeconds: number };
  /** From closing the port to the e-mail in the stack's inbox. */
  readonly emailSeconds: number;
  readonly emailModel: { readonly earliestSeconds: number; readonly latestSeconds: number };
}

export async function benchScale(options: ScaleBenchOptions): Promise<Figure[]> {
  const { nodeExporter, ...binaries } = requireStackBinaries();
  const startedAt = new Date();
  const loadAverageAtStart = loadavg();
  const partStarted = performance.now();
  // The stacks add only targets to the shipped defaults: these are their intervals.
  const { scrape } = loadSettings({}).settings;
  const cycleMs = Math.max(durationMs(scrape.interval), durationMs(scrape.evaluationInterval));
  if (options.settleSeconds * 1000 < 3 * cycleMs) {
    throw new Error(
      `a settle time of ${options.settleSeconds} s holds fewer than 3 scrapes and evaluations at ` +
        `${scrape.interval} / ${scrape.evaluationInterval}: too few to average`,
    );
  }
  const renders = options.instances.map((instances) => timeRender(instances, options));
  const captureDir = makeTempDir("bench-node-exporter-");
  const nodeExporterPage = await captureNodeExporterPage(
    nodeExporter,
    join(captureDir.path, "node-exporter.log"),
  ).finally(() => captureDir.remove());
  const alertAt = options.instances.filter((_, index) => renders[index]?.error === undefined).at(-1);
  const readings: ScaleReading[] = [];
  let alert: AlertReading | { readonly instances: number; readonly error: string } | undefined;
  for (const [index, instances] of options.instances.entries()) {
    const render = renders[index] as RenderReading;
    if (render.error !== undefined) {
      readings.push({ instances, render, replicas: [], error: "the stack's files did not render" });
      continue;
    }
    try {
      const measuredJobs = await measureJobs(
        instances,
        { binaries, nodeExporterPage },
        options,
        instances === alertAt,
      );
      readings.push({ instances, render, replicas: measuredJobs.replicas });
      if (measuredJobs.alert !== undefined) alert = measuredJobs.alert;
    } catch (error) {
      const message = firstLine(error);
      options.log(`scale: N=${instances}: FAILED: ${message}`);
      readings.push({ instances, render, replicas: [], error: message });
      if (instances === alertAt) alert = { instances, error: message };
    }
  }
  const figures = [...scaleFigures(readings, options.settleSeconds), ...alertFigures(alert)];
  const name = options.resultsName ?? `scale-${startedAt.toISOString().replace(/[:.]/g, "-")}`;
  writeResults(name, {
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    partSeconds: Math.round((performance.now() - partStarted) / 1000),
    machine: machine(),
    loadAverageAtStart,
    loadAverageAtEnd: loadavg(),
    node: process.version,
    prometheus: binaryVersion(binaries.prometheus),
    alertmanager: binaryVersion(binaries.alertmanager),
    settleSeconds: options.settleSeconds,
    intervals: { scrape: scrape.interval, evaluation: scrape.evaluationInterval },
    table: scaleTable(readings),
    readings,
    timeToAlert: alert,
  });
  options.log(`scale: results in ${join(resultsDir, `${name}.json`)} and .svg`);
  options.log(`scale: ratios to N=${readings[0]?.instances}:\n${ratioTableText(readings)}`);
  return figures;
}

/** Renders the stack's files for N jobs `renderRounds` times after a warm-up, or until one fails. */
function timeRender(instances: number, options: ScaleBenchOptions): RenderReading {
  const addresses = Array.from({ length: instances }, (_, index) => hostPort(loopback, 20_000 + index));
  const machines = Array.from({ length: scaleHostCount(instances) }, (_, index) => ({
    nodeExporter: hostPort(loopback, 30_000 + 2 * index),
    cadvisor: hostPort(loopback, 30_001 + 2 * index),
  }));
  const { settings } = loadSettings({
    targets: scaleTargets(addresses),
    host: { enabled: false },
    hosts: scaleHosts(machines),
  });
  const endpoints = renderEndpoints(settings);
  const seconds: number[] = [];
  // Round 0 is unmeasured: the first render of a process compiles the renderers.
  for (let round = -1; round < renderRounds; round++) {
    const started = performance.now();
    try {
      renderAll(settings, endpoints);
      if (round >= 0) seconds.push((performance.now() - started) / 1000);
    } catch (error) {
      seconds.push((performance.now() - started) / 1000);
      // The linter's error names what it refused on its second line: keep both, shortened.
      const message = String(error instanceof Error ? error.message : error)
        .split("\n")
        .slice(0, 2)
        .map((line) => line.trim())
        .join(" ")
        .slice(0, 240);
      options.log(`scale: N=${instances}: render FAILED: ${message}`);
      return { seconds, error: message };
    }
  }
  options.log(`scale: N=${instances}: render ${seconds.map((each) => each.toFixed(2)).join(", ")} s`);
  return { seconds };
}

/** Loopback endpoints of the right shape for rendering only: nothing listens on them. */
function renderEndpoints(settings: Settings): Endpoints {
  const port = (offset: number) => hostPort(loopback, 19_000 + offset);
  const prometheus = Array.from({ length: settings.prometheus.replicas }, (_, replica) => port(1 + replica));
  return {
    app: port(0),
    prometheus,
    alertmanagers: [port(90)],
    alertmanagerCluster: [port(96)],
    nodeExporter: port(93),
    blackboxExporter: port(94),
    cadvisor: port(95),
    inboxSmtp: port(91),
    containers: [],
    links: {
      grafana: `http://${port(92)}`,
      prometheus: prometheus.map((address) => `http://${address}`),
      alertmanagers: [`http://${port(90)}`],
    },
  };
}

async function measureJobs(
  instances: number,
  {
    binaries,
    nodeExporterPage,
  }: { readonly binaries: { prometheus: string; alertmanager: string }; readonly nodeExporterPage: string },
  options: ScaleBenchOptions,
  withAlert: boolean,
): Promise<{ replicas: ReplicaReading[]; alert?: AlertReading }> {
  const ports: number[] = [];
  // One at a time: freePort remembers what it handed out only once each call has finished.
  for (let index = 0; index < instances; index++) ports.push(await freePort());
  const hostCount = scaleHostCount(instances);
  const nodeExporterPorts: number[] = [];
  const cadvisorPorts: number[] = [];
  for (let index = 0; index < hostCount; index++) {
    nodeExporterPorts.push(await freePort());
    cadvisorPorts.push(await freePort());
  }
  const addresses = ports.map((port) => hostPort(loopback, port));
  const targetJobs = addresses.map((_, index) => scaleJob(index + 1));
  const fleet = await startFleetProcess(ports, { nodeExporterPorts, cadvisorPorts, nodeExporterPage });
  let usage: FleetUsage | undefined;
  try {
    options.log(
      `scale: N=${instances}: ${instances} jobs and ${hostCount} machines served; starting the stack`,
    );
    const hosts = scaleHosts(
      nodeExporterPorts.map((port, index) => ({
        nodeExporter: hostPort(loopback, port),
        cadvisor: hostPort(loopback, cadvisorPorts[index] as number),
      })),
    );
    const stack = await Stack.start({
      // Not this machine's exporter, which the bench does not run: the fleet's machines stand for the hosts.
      settings: { targets: scaleTargets(addresses), host: { enabled: false }, hosts },
      binaries,
      log: options.log,
    });
    try {
      const readyMs = await waitForSeries(stack, instances, readinessBaseMs + readinessPerJobMs * instances);
      await stack.waitForAllTargetsUp(readinessBaseMs);
      const evaluatedMs = await waitForEvaluations(stack);
      options.log(
        `scale: N=${instances}: every job up with request series after ${seconds(readyMs)}, every rule group ` +
          `evaluated over them ${seconds(evaluatedMs)} later; settling ${options.settleSeconds} s`,
      );
      await sleep(options.settleSeconds * 1000);
      const at = new Date();
      const queried = await Promise.all(
        stack.prometheus.map((client, replica) =>
          readReplica(client, replicaAddress(stack, replica), at, options.settleSeconds, stack.settings),
        ),
      );
      // One replica at a time, one panel at a time, as one dashboard's first load would ask them.
      const replicas: ReplicaReading[] = [];
      for (const [replica, reading] of queried.entries()) {
        const client = stack.prometheus[replica] as PrometheusClient;
        replicas.push({ ...reading, panels: await timePanels(client, stack.settings) });
      }
      options.log(`scale: N=${instances}: ${describe(replicas)}`);
      const alert = withAlert
        ? await timeInstanceDown(stack, fleet, ports, targetJobs, options.log)
        : undefined;
      return { replicas, ...(alert ? { alert } : {}) };
    } finally {
      await stack.stop();
    }
  } finally {
    usage = await fleet.stop().catch(() => undefined);
    if (usage !== undefined) {
      options.log(
        `scale: N=${instances}: the fleet server used ${((usage.cpuSeconds / usage.wallSeconds) * 100).toFixed(1)}% ` +
          `of a core and ${(usage.residentBytes / 2 ** 20).toFixed(0)} MiB`,
      );
    }
  }
}

function requireStackBinaries(): { prometheus: string; alertmanager: string; nodeExporter: string } {
  const find = (name: BinaryName) => ({ name, path: findBinary(name) });
  const found = [find("prometheus"), find("alertmanager"), find("node_exporter")];
  const [prometheus, alertmanager, nodeExporter] = found.map((binary) => binary.path);
  if (prometheus === undefined || alertmanager === undefined || nodeExporter === undefined) {
    const missing = found.filter((binary) => binary.path === undefined).map((binary) => binary.name);
    throw new Error(
      `the scale part needs ${missing.join(" and ")}: run \`npm run tools\` to build the pinned versions into ` +
        ".tools/bin, or leave this part out with --skip scale",
    );
  }
  return { prometheus, alertmanager, nodeExporter };
}

function replicaAddress(stack: Stack, replica: number): HostPort {
  const address = stack.endpoints.prometheus[replica];
  if (address === undefined) throw new RangeError(`no Prometheus replica ${replica}`);
  return address;
}

/**
 * node exporter's page of this machine, as the pinned binary writes it with the stack's flags: run once on a
 * free loopback port, read, stopped.
 */
async function captureNodeExporterPage(binary: string, logFile: string): Promise<string> {
  const address = `${loopback}:${await freePort()}`;
  const exporter = ManagedProcess.start({
    name: "node-exporter-capture",
    command: binary,
    args: nodeExporterFlags({ listenAddress: address, rootfs: "/" }),
    logFile,
  });
  try {
    const { value } = await waitFor(
      "node exporter to answer /metrics",
      async () => {
        const response = await boundedFetch(`http://${address}/metrics`).catch(() => undefined);
        return response?.ok ? await response.text() : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 200 },
    );
    return value;
  } finally {
    await exporter.stop();
  }
}

/**
 * Until every rule group of every replica has evaluated since now, and the alerts once more: until the
 * recording groups, some evaluated every minute, have first recorded the jobs' series, the alerts that read
 * those records see none (SLOMetricsAbsent pending for every job), which is start-up, not the steady cost.
 */
async function waitForEvaluations(stack: Stack): Promise<number> {
  const evaluationMs = durationMs(stack.settings.scrape.evaluationInterval);
  const { elapsedMs } = await stack.waitForRuleEvaluations(readinessBaseMs);
  await sleep(evaluationMs);
  return elapsedMs + evaluationMs;
}

/** Until every replica has every job up and holding request series: the window starts from there. */
async function waitForSeries(stack: Stack, instances: number, timeoutMs: number): Promise<number> {
  const queries = readinessQueries();
  const { elapsedMs } = await stack.waitFor(
    `all ${instances} jobs up with request series on every replica`,
    async () => {
      for (const [replica, client] of stack.prometheus.entries()) {
        const up = await single(client, queries.up);
        const withRequests = await single(client, queries.withRequests);
        if (up !== instances || withRequests !== instances) {
          throw new Error(
            `replica ${replica}: ${up ?? 0} jobs up, ${withRequests ?? 0} with request series, of ${instances}`,
          );
        }
      }
      return true;
    },
    timeoutMs,
  );
  return elapsedMs;
}

async function readReplica(
  client: PrometheusClient,
  self: HostPort,
  at: Date,
  windowSeconds: number,
  settings: Settings,
): Promise<Omit<ReplicaReading, "panels">> {
  const queries = readingQueries(self, windowSeconds, durationMs(settings.scrape.evaluationInterval) / 1000);
  const entries = await Promise.all(
    Object.entries(queries).map(async ([key, expr]) => {
      const value = await single(client, expr, at);
      if (value === undefined) throw new Error(`${expr} returned nothing on ${client.baseUrl}`);
      return [key, value] as const;
    }),
  );
  const queried = Object.fromEntries(entries) as Record<QueriedKey, number> satisfies QueriedReading;
  const stepSeconds = durationMs(settings.scrape.interval) / 1000;
  const durations = await client.queryRange(
    scrapeDurationsQuery,
    new Date(at.getTime() - windowSeconds * 1000),
    at,
    stepSeconds,
  );
  const scrapes = scrapeDurationStats(durations.flatMap((series) => series.values.map(([, value]) => value)));
  const [groupDurations, intervals, hostSeries] = await Promise.all([
    client.query(ruleGroupsQuery(self, windowSeconds), at),
    client.query(ruleGroupIntervalsQuery(self), at),
    client.query(hostSeriesQuery(), at),
  ]);
  const seriesOf = (job: string) => hostSeries.find((sample) => sample.labels.job === job)?.value ?? 0;
  const intervalOf = new Map(intervals.map((sample) => [sample.labels.rule_group, sample.value]));
  const groups = groupDurations
    .map((sample) => ({
      name: ruleGroupName(sample.labels.rule_group ?? "(none)"),
      seconds: sample.value,
      intervalSeconds: intervalOf.get(sample.labels.rule_group) ?? Number.NaN,
    }))
    .sort((a, b) => b.seconds - a.seconds);
  const [largest] = groups;
  return {
    ...queried,
    scrapeMedianSeconds: scrapes.median,
    scrapeP99Seconds: scrapes.p99,
    largestGroup: { name: largest?.name ?? "(none)", seconds: largest?.seconds ?? Number.NaN },
    groups,
    seriesPerHost: { node: seriesOf(jobs.node), cadvisor: seriesOf(jobs.cadvisor) },
  };
}

/**
 * Every panel's query as Grafana sends it when the dashboards open with their defaults: variables resolved
 * (`dashboardPanelQueries`), over the dashboards' time range, at the step Grafana picks for it (the panel's
 * minimum interval, or the scrape interval). A query that fails counts the time it took, and says why.
 */
async function timePanels(client: PrometheusClient, settings: Settings): Promise<PanelTiming[]> {
  const steps = panelSteps(settings);
  const end = new Date();
  const start = new Date(end.getTime() - durationMs(dashboardTimeRange.from.replace("now-", "")));
  const timings: PanelTiming[] = [];
  for (const { dashboard, panel, expr } of dashboardPanelQueries(settings)) {
    const stepSeconds = steps.get(panelKey(dashboard, panel)) ?? durationMs(settings.scrape.interval) / 1000;
    const started = performance.now();
    try {
      await client.queryRange(expr, start, end, stepSeconds);
      timings.push({ dashboard, panel, seconds: (performance.now() - started) / 1000 });
    } catch (error) {
      timings.push({
        dashboard,
        panel,
        seconds: (performance.now() - started) / 1000,
        error: firstLine(error),
      });
    }
  }
  return timings;
}

function panelKey(dashboard: string, panel: string): string {
  return `${dashboard}\u0000${panel}`;
}

/** Grafana's step for a panel over a 30-minute range: its minimum interval, or the scrape interval. */
function panelSteps(settings: Settings): Map<string, number> {
  const steps = new Map<string, number>();
  for (const dashboard of buildDashboards(settings)) {
    for (const panel of dashboardPanels(dashboard)) {
      const interval = panel.interval ?? settings.scrape.interval;
      const stepMs = Math.max(durationMs(interval), durationMs(settings.scrape.interval));
      steps.set(panelKey(dashboard.title ?? "", panel.title ?? ""), stepMs / 1000);
    }
  }
  return steps;
}

/**
 * One job of N goes down: its port's listener closes, at a random point of the scrape and evaluation cycle.
 * Timed to InstanceDown firing on each replica (read every `alertPollMs`) and to its e-mail.
 */
async function timeInstanceDown(
  stack: Stack,
  fleet: FleetProcess,
  ports: readonly number[],
  targetJobs: readonly string[],
  log: (line: string) => void,
): Promise<AlertReading> {
  const { settings } = stack;
  const victim = Math.floor(targetJobs.length / 2);
  const job = targetJobs[victim] as string;
  const forDuration = settings.alerts.instanceDown.for;
  const firingModel = alertFiringTiming(settings, { for: forDuration });
  const emailModel = firingEmailTiming(settings, { for: forDuration });
  const timeoutMs = 2 * emailModel.latestMs + 10_000;
  await sleep(Math.random() * durationMs(settings.scrape.interval));
  const closedAt = performance.now();
  await fleet.close(ports[victim] as number);
  log(`scale: N=${targetJobs.length}: closed ${job}'s port; waiting for ${alertNames.instanceDown}`);
  const firing = Promise.all(
    stack.prometheus.map(async (client, replica) => {
      const { value } = await waitFor(
        `${alertNames.instanceDown} firing for ${job} on replica ${replica}`,
        async () => {
          const alerts = await client.alerts();
          const fired = alerts.some(
            (each) =>
              each.labels.alertname === alertNames.instanceDown &&
              each.labels.job === job &&
              each.state === "firing",
          );
          return fired ? performance.now() - closedAt : undefined;
        },
        { timeoutMs, intervalMs: alertPollMs, diagnostics: () => stack.diagnostics() },
      );
      return value / 1000;
    }),
  );
  const email = stack.inbox.waitForEmail(
    `${alertNames.instanceDown} firing for ${job}`,
    (received) => {
      const subject = parseSubject(received.subject);
      return (
        subject?.alertname === alertNames.instanceDown && subject.status === "firing" && subject.job === job
      );
    },
    { since: closedAt, timeoutMs, diagnostics: () => stack.diagnostics() },
  );
  const [firingSeconds, arrived] = await Promise.all([firing, email]);
  const emailSeconds = (arrived.email.receivedAt - closedAt) / 1000;
  log(
    `scale: N=${targetJobs.length}: ${alertNames.instanceDown} firing after ` +
      `${firingSeconds.map((each) => `${each.toFixed(1)} s`).join(", ")} (model ${span(firingModel)}), ` +
      `e-mail after ${emailSeconds.toFixed(1)} s (model ${span(emailModel)})`,
  );
  return {
    instances: targetJobs.length,
    job,
    firingSeconds,
    firingModel: bounds(firingModel),
    emailSeconds,
    emailModel: bounds(emailModel),
  };
}

function bounds(timing: Timing): { earliestSeconds: number; latestSeconds: number } {
  return { earliestSeconds: timing.earliestMs / 1000, latestSeconds: timing.latestMs / 1000 };
}

function span(timing: Timing): string {
  return `${timing.earliestMs / 1000}–${timing.latestMs / 1000} s`;
}

function alertFigures(alert: AlertReading | { instances: number; error: string } | undefined): Figure[] {
  if (alert === undefined) return [];
  // A failed count says why in the figures' notes and the log.
  if ("error" in alert) return [];
  const name = `${alertNames.instanceDown} of one job among ${alert.instances}`;
  const model = (what: string, latest: number) => ({
    name: `${what}: the timing model's latest`,
    unit: "s",
    median: latest,
    rounds: [latest],
  });
  return [
    {
      part: "scale",
      name: `${name}, to firing in Prometheus`,
      unit: "s",
      median: median([...alert.firingSeconds]),
      rounds: alert.firingSeconds,
      baseline: model("firing", alert.firingModel.latestSeconds),
      note:
        `one round per replica, read every ${alertPollMs} ms; the model allows ` +
        `${alert.firingModel.earliestSeconds}–${alert.firingModel.latestSeconds} s`,
    },
    {
      part: "scale",
      name: `${name}, to the e-mail`,
      unit: "s",
      median: alert.emailSeconds,
      rounds: [alert.emailSeconds],
      baseline: model("e-mail", alert.emailModel.latestSeconds),
      note: `${alert.job}'s port closed; the model allows ${alert.emailModel.earliestSeconds}–${alert.emailModel.latestSeconds} s`,
    },
  ];
}

/** The value of a query that yields at most one sample; undefined for none. */
async function single(client: PrometheusClient, expr: string, at?: Date): Promise<number | undefined> {
  const samples = await client.query(expr, at);
  if (samples.length > 1) throw new Error(`${expr} returned ${samples.length} samples, expected one`);
  return samples[0]?.value;
}

function describe(replicas: readonly ReplicaReading[]): string {
  return replicas
    .map((replica, index) => {
      const panel = slowestPanel(replica);
      return (
        [
          `replica ${index}: ${replica.headSeries} series`,
          `${(replica.residentBytes / 2 ** 20).toFixed(0)} MiB`,
          `${replica.cpuSecondsPerMinute.toFixed(1)} CPU s/min`,
          `rules ${(replica.ruleEvaluationSeconds * 1000).toFixed(1)} ms/cycle (${replica.rules} rules; largest ` +
            `${replica.largestGroup.name} ${(replica.largestGroup.seconds * 1000).toFixed(1)} ms)`,
          `scrapes ${(replica.scrapeMedianSeconds * 1000).toFixed(1)} ms median, ${(replica.scrapeP99Seconds * 1000).toFixed(1)} ms p99`,
          `${replica.samplesPerScrape.toFixed(0)} samples per scrape`,
          `${replica.activeAlerts} alerts active besides the Watchdog`,
          `slowest panel ${panel.dashboard} / ${panel.panel} ${(panel.seconds * 1000).toFixed(0)} ms`,
          `${replica.failedScrapes} failed scrapes`,
          `one machine's series ${replica.seriesPerHost.node} (node exporter) and ${replica.seriesPerHost.cadvisor} (cAdvisor)`,
        ].join(", ") +
        `\n    groups: ${replica.groups
          .map(
            (group) =>
              `${group.name} ${(group.seconds * 1000).toFixed(1)} ms every ${group.intervalSeconds} s`,
          )
          .join("; ")}`
      );
    })
    .join("\n  ");
}

/** The docs' table as text: each quantity's median at each count, and its ratio to the first count. */
function ratioTableText(readings: readonly ScaleReading[]): string {
  const { counts, rows } = scaleTable(readings);
  const format = (value: number) =>
    Number.isFinite(value) ? Number(value.toPrecision(3)).toLocaleString("en-US") : "—";
  const header = `| figure (median of replicas) | ${counts.map((count) => `N=${count}`).join(" | ")} |`;
  const lines = [
    header,
    `| --- | ${counts.map(() => "---").join(" | ")} |`,
    `| work | ${counts.map((count) => `×${format(count / (counts[0] ?? 1))}`).join(" | ")} |`,
    ...rows.map(
      (row) =>
        `| ${row.name}${row.unit ? ` (${row.unit})` : ""} | ${row.values
          .map((value, index) => `${format(value)} (×${format(row.ratios[index] as number)})`)
          .join(" | ")} |`,
    ),
  ];
  return lines.join("\n");
}

function writeResults(
  name: string,
  results: Record<string, unknown> & { readings: readonly ScaleReading[] },
) {
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(join(resultsDir, `${name}.json`), `${JSON.stringify(results, null, 2)}\n`);
  const svg = logLogSvg({
    title: `Cost as a ratio to N=${results.readings[0]?.instances ?? 1}, against the work (N monitored jobs)`,
    xLabel: "monitored jobs (N)",
    yLabel: "ratio to the first count",
    lines: scalePlotLines(results.readings),
  });
  writeFileSync(join(resultsDir, `${name}.svg`), svg);
}

function binaryVersion(path: string): string {
  try {
    return execFileSync(path, ["--version"], { encoding: "utf8", timeout: 10_000 }).split("\n")[0] ?? "";
  } catch (error) {
    return `unknown: ${firstLine(error)}`;
  }
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split("\n")[0] ?? "";
}
