/**
 * Scale of the work: what the Prometheus replicas spend as the number of monitored instances grows. For each N
 * (1, 5 and 20 by default) a fresh end-to-end stack (e2e/stack.ts: real Prometheus and Alertmanager binaries
 * on loopback) with the shipped default settings plus N `targets`, `app-1`..`app-N`, each its own job with
 * the HTTP contract and so its own request alerts and SLO series, each served by another process of the
 * service. Every instance gets a steady trickle of requests on three routes, so that its request series
 * exist; once every replica sees every instance up with request series, the part waits the settle time and
 * reads each replica's scrapes, rule evaluations, series, memory and CPU over that window.
 *
 * The intervals are the shipped ones (5 s scrapes and evaluations): shortening them would change the cost per
 * second that this part is about.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { type HostPort, hostPort } from "../configs/runtime/endpoints";
import type { BinaryName } from "../configs/runtime/tool-builds";
import { durationMs } from "../configs/settings/duration";
import { loadSettings } from "../configs/validate";
import { Stack } from "../e2e/stack";
import { type SteadyTraffic, startSteadyTraffic } from "../e2e/traffic";
import { apiRoutes } from "../service/metrics-contract";
import { findBinary } from "../test-support/binaries";
import { freePort, loopback } from "../test-support/ports";
import type { PrometheusClient } from "../test-support/prometheus-client";
import { seconds } from "../test-support/wait";
import type { Figure } from "./figures";
import {
  type ReadingKey,
  type ReplicaReading,
  readinessQueries,
  readingQueries,
  replicaMedian,
  ruleGroupsQuery,
  type ScaleReading,
  scaleFigures,
  scaleJob,
  scaleTargets,
} from "./scale-math";

export interface ScaleBenchOptions {
  /** Counts of extra instances, ascending; the first is the baseline of the others. */
  readonly instances: readonly number[];
  /** How long the readings cover, once every instance is up with request series. */
  readonly settleSeconds: number;
  readonly log: (line: string) => void;
}

/**
 * Instances started at once: each is a Node.js process compiling the service with tsx, and twenty at once on
 * two busy cores would outlast the stack's readiness timeout.
 */
const startConcurrency = 4;

/** Each route at this rate on every instance: ordinary, slow and failing requests, as every panel draws. */
const requestsPerSecondPerRoute = 1;
const trafficRoutes = [apiRoutes.items, `${apiRoutes.slow}?ms=20`, apiRoutes.error] as const;

/** Beyond the settle time, how long the instances may take to be up with request series on every replica. */
const readinessBudgetMs = 60_000;

export async function benchScale(options: ScaleBenchOptions): Promise<Figure[]> {
  const binaries = requireStackBinaries();
  // The stacks add only targets to the shipped defaults: these are their intervals.
  const { scrape } = loadSettings({}).settings;
  const cycleMs = Math.max(durationMs(scrape.interval), durationMs(scrape.evaluationInterval));
  if (options.settleSeconds * 1000 < 3 * cycleMs) {
    throw new Error(
      `a settle time of ${options.settleSeconds} s holds fewer than 3 scrapes and evaluations at ` +
        `${scrape.interval} / ${scrape.evaluationInterval}: too few to average`,
    );
  }
  const readings: ScaleReading[] = [];
  for (const instances of options.instances) {
    readings.push(await measureInstances(instances, binaries, cycleMs, options));
  }
  return scaleFigures(readings, options.settleSeconds);
}

async function measureInstances(
  instances: number,
  binaries: { prometheus: string; alertmanager: string },
  cycleMs: number,
  options: ScaleBenchOptions,
): Promise<ScaleReading> {
  const addresses: HostPort[] = [];
  // One at a time: freePort remembers what it handed out only once each call has finished.
  for (let index = 0; index < instances; index++) addresses.push(hostPort(loopback, await freePort()));
  const targetJobs = addresses.map((_, index) => scaleJob(index + 1));
  options.log(`scale: N=${instances}: starting the stack with the shipped default settings`);
  const stack = await Stack.start({
    settings: { targets: scaleTargets(addresses) },
    binaries,
    log: options.log,
  });
  const traffic: SteadyTraffic[] = [];
  try {
    const startedAt = performance.now();
    for (let from = 0; from < instances; from += startConcurrency) {
      await Promise.all(
        addresses
          .slice(from, from + startConcurrency)
          .map((address, offset) => stack.startAppInstance(targetJobs[from + offset] as string, address)),
      );
    }
    options.log(`scale: N=${instances}: instances started in ${seconds(performance.now() - startedAt)}`);
    const trafficMs = readinessBudgetMs + options.settleSeconds * 1000 + cycleMs;
    for (const address of addresses) {
      for (const route of trafficRoutes) {
        traffic.push(startSteadyTraffic(`http://${address}${route}`, requestsPerSecondPerRoute, trafficMs));
      }
    }
    await waitForSeries(stack, targetJobs, readinessBudgetMs);
    options.log(
      `scale: N=${instances}: every instance up with request series; settling ${options.settleSeconds} s`,
    );
    await sleep(options.settleSeconds * 1000);
    const at = new Date();
    const replicas = await Promise.all(
      stack.prometheus.map((client, replica) =>
        readReplica(
          client,
          readingQueries(targetJobs, replicaAddress(stack, replica), options.settleSeconds),
          at,
        ),
      ),
    );
    const reading = { instances, replicas };
    options.log(`scale: N=${instances}: ${describe(reading)}`);
    options.log(
      `scale: N=${instances}: rule groups on replica 0: ${await describeGroups(stack, options, at)}`,
    );
    return reading;
  } finally {
    await Promise.all(traffic.map((each) => each.stop()));
    await stack.stop();
  }
}

function requireStackBinaries(): { prometheus: string; alertmanager: string } {
  const find = (name: BinaryName) => ({ name, path: findBinary(name) });
  const found = [find("prometheus"), find("alertmanager")];
  const [prometheus, alertmanager] = found.map((binary) => binary.path);
  if (prometheus === undefined || alertmanager === undefined) {
    const missing = found.filter((binary) => binary.path === undefined).map((binary) => binary.name);
    throw new Error(
      `the scale part needs ${missing.join(" and ")}: run \`npm run tools\` to build the pinned versions into ` +
        ".tools/bin, or leave this part out with --skip scale",
    );
  }
  return { prometheus, alertmanager };
}

function replicaAddress(stack: Stack, replica: number): HostPort {
  const address = stack.endpoints.prometheus[replica];
  if (address === undefined) throw new RangeError(`no Prometheus replica ${replica}`);
  return address;
}

/** Until every replica has every target job up and holding request series: the window starts from there. */
async function waitForSeries(stack: Stack, targetJobs: readonly string[], timeoutMs: number): Promise<void> {
  const queries = readinessQueries(targetJobs);
  await stack.waitFor(
    `all ${targetJobs.length} target jobs up with request series on every replica`,
    async () => {
      for (const [replica, client] of stack.prometheus.entries()) {
        const up = await single(client, queries.up);
        const withRequests = await single(client, queries.withRequests);
        if (up !== targetJobs.length || withRequests !== targetJobs.length) {
          throw new Error(
            `replica ${replica}: ${up ?? 0} jobs up, ${withRequests ?? 0} with request series, of ${targetJobs.length}`,
          );
        }
      }
      return true;
    },
    timeoutMs,
  );
}

async function readReplica(
  client: PrometheusClient,
  queries: Record<ReadingKey, string>,
  at: Date,
): Promise<ReplicaReading> {
  const entries = await Promise.all(
    Object.entries(queries).map(async ([key, expr]) => {
      const value = await single(client, expr, at);
      if (value === undefined) throw new Error(`${expr} returned nothing on ${client.baseUrl}`);
      return [key, value] as const;
    }),
  );
  return Object.fromEntries(entries) as Record<ReadingKey, number>;
}

/** The value of a query that yields at most one sample; undefined for none. */
async function single(client: PrometheusClient, expr: string, at?: Date): Promise<number | undefined> {
  const samples = await client.query(expr, at);
  if (samples.length > 1) throw new Error(`${expr} returned ${samples.length} samples, expected one`);
  return samples[0]?.value;
}

/** Where the rule evaluation time goes: each group's mean, longest first. */
async function describeGroups(stack: Stack, options: ScaleBenchOptions, at: Date): Promise<string> {
  const client = stack.prometheus[0];
  if (client === undefined) throw new RangeError("no Prometheus replica 0");
  const samples = await client.query(ruleGroupsQuery(replicaAddress(stack, 0), options.settleSeconds), at);
  return (
    samples
      .sort((a, b) => b.value - a.value)
      // rule_group is "<file>;<group>", the file an absolute path into the stack's temporary directory.
      .map(
        (sample) =>
          `${sample.labels.rule_group?.replace(/^.*\//, "")} ${(sample.value * 1000).toFixed(1)} ms`,
      )
      .join(", ")
  );
}

function describe(reading: ScaleReading): string {
  const value = (key: ReadingKey) => replicaMedian(reading, key);
  return [
    `scrapes ${(value("scrapeMeanSeconds") * 1000).toFixed(2)} ms mean, ${(value("scrapeMaxSeconds") * 1000).toFixed(1)} ms max`,
    `rule evaluation ${(value("ruleEvaluationSeconds") * 1000).toFixed(1)} ms (${value("rules")} rules)`,
    `${value("headSeries")} series`,
    `${(value("residentBytes") / 2 ** 20).toFixed(0)} MiB resident`,
    `${(value("cpuCores") * 100).toFixed(1)}% of a core`,
    `${value("failedScrapes")} failed scrapes`,
  ].join(", ");
}
