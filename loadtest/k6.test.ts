/**
 * The load test run by the real k6 at the pinned version against the real service on 127.0.0.1, with settings
 * scaled down so that a whole warm-up, spike and cool-down takes about 13 seconds.
 */
import { cpSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { expect } from "chai";
import { k6Series, k6TestIdTag, k6TrendSeries } from "../configs/loadtest/k6-metrics";
import {
  k6RunCommand,
  k6ThresholdsFailedExitCode,
  type LoadtestPlan,
  loadtestPlan,
  loadtestScriptFiles,
  loadtestScriptPath,
  renderLoadtestOptions,
} from "../configs/loadtest/plan";
import { hostPort } from "../configs/runtime/endpoints";
import type { LoadedSettings } from "../configs/settings/load";
import type { SettingsInput } from "../configs/settings/schema";
import { loadSettings } from "../configs/validate";
import { apiRoutes, metricNames } from "../service/metrics-contract";
import { requireBinaries } from "../test-support/binaries";
import { makeTempDir, type TempDir } from "../test-support/cleanup";
import { k6StartupBudgetMs } from "../test-support/k6";
import { freePort, loopback } from "../test-support/ports";
import { type ExitStatus, ManagedProcess } from "../test-support/processes";
import { PrometheusClient } from "../test-support/prometheus-client";
import { sampleValue, scrape, startTestServer, type TestServer } from "../test-support/service";
import { seconds, waitFor } from "../test-support/wait";
import { errorEvery, loadtestEnv, requestsPerIteration, slowEvery } from "./contract";

const repoRoot = resolve(__dirname, "..");

/** 60 requests per 5 s is 12 req/s: warm-up at 6 req/s for 3 s, spike at 30 req/s for 8 s, cool-down for 2 s. */
const smallSettings: SettingsInput = {
  scrape: { interval: "1s", timeout: "1s", evaluationInterval: "1s" },
  alerts: { highRequestVolume: { maxRequests: 60, window: "5s" } },
  loadtest: {
    warmupDuration: "3s",
    warmupFraction: 0.5,
    spikeFactor: 2.5,
    spikeDuration: "8s",
    cooldownDuration: "2s",
  },
};

interface K6Run {
  readonly exit: ExitStatus;
  readonly process: ManagedProcess;
  /** k6's end-of-test summary (`--summary-export`). */
  readonly summary: K6Summary;
}

interface CheckCounts {
  readonly passes: number;
  readonly fails: number;
}

interface K6Summary {
  readonly metrics: Readonly<
    Record<string, { readonly passes?: number; readonly fails?: number; readonly count?: number }>
  >;
  /** The script's checks by name; it uses no groups, so they all sit in the root group. */
  readonly root_group: { readonly checks: Readonly<Record<string, CheckCounts>> };
}

/**
 * The request each of the script's checks looks at, by the part of the check's name before the colon
 * ("list items: 200"). Each check must run on every response to its request, no more, no fewer.
 */
const checkedRequests: Readonly<Record<string, { readonly method: string; readonly route: string }>> = {
  "list items": { method: "GET", route: apiRoutes.items },
  "create item": { method: "POST", route: apiRoutes.items },
  "get item": { method: "GET", route: apiRoutes.item },
  "delete item": { method: "DELETE", route: apiRoutes.item },
  "slow call": { method: "GET", route: apiRoutes.slow },
  "error call": { method: "GET", route: apiRoutes.error },
};

async function runK6(
  k6: string,
  dir: string,
  name: string,
  loaded: LoadedSettings,
  target: string,
  testId: string,
  extra: { readonly remoteWrite?: `${string}:${number}` } = {},
): Promise<K6Run> {
  const optionsPath = join(dir, `${name}-options.json`);
  const summaryPath = join(dir, `${name}-summary.json`);
  writeFileSync(optionsPath, renderLoadtestOptions(loaded.settings, { app: hostPort(loopback, 1) }));
  const command = k6RunCommand({
    scriptPath: join(repoRoot, loadtestScriptPath),
    optionsPath,
    target,
    testId,
    remoteWrite: extra.remoteWrite,
  });
  const k6Process = ManagedProcess.start({
    name,
    command: k6,
    args: [...command.args, "--summary-export", summaryPath],
    env: { ...process.env, ...command.env },
    logFile: join(dir, `${name}.log`),
  });
  const budgetMs = k6StartupBudgetMs + loadtestPlan(loaded.settings).totalMs;
  const exit = await Promise.race([k6Process.exited, sleep(budgetMs).then(() => undefined)]);
  if (exit === undefined) {
    await k6Process.kill();
    throw new Error(`k6 did not finish within ${seconds(budgetMs)}\n${k6Process.tail()}`);
  }
  const summary = JSON.parse(readFileSync(summaryPath, "utf8")) as K6Summary;
  return { exit, process: k6Process, summary };
}

/** app_http_requests_total summed over its label sets, as the service reports it on /metrics. */
async function requestsServed(server: TestServer): Promise<number> {
  const samples = await scrape(server.url);
  return samples
    .filter((sample) => sample.name === metricNames.requestsTotal)
    .reduce((total, sample) => total + sample.value, 0);
}

interface CounterReading {
  readonly atMs: number;
  readonly total: number;
}

/** The counter at a moment, interpolated between the readings around it. */
function counterAt(readings: readonly CounterReading[], atMs: number): number {
  const after = readings.findIndex((reading) => reading.atMs >= atMs);
  const next = readings[after];
  const previous = readings[after - 1];
  if (next === undefined || previous === undefined) {
    throw new Error(`no counter readings around ${atMs.toFixed(0)} ms`);
  }
  const share = (atMs - previous.atMs) / (next.atMs - previous.atMs);
  return previous.total + share * (next.total - previous.total);
}

describe("k6 load test against the service", function () {
  this.timeout(60_000);
  let k6: string;
  let prometheusBinary: string;
  let dir: TempDir;
  let server: TestServer;

  before(async function () {
    ({ k6, prometheus: prometheusBinary } = requireBinaries(this, "k6", "prometheus"));
    dir = makeTempDir("watchtower-loadtest-");
    server = await startTestServer();
  });

  after(async () => {
    await server?.close();
    dir?.remove();
  });

  describe("a run shaped by small settings, writing to Prometheus", () => {
    const loaded = loadSettings(smallSettings);
    const plan: LoadtestPlan = loadtestPlan(loaded.settings);
    const testId = `loadtest-test-${Date.now()}`;
    let prometheus: ManagedProcess;
    let prometheusClient: PrometheusClient;
    let run: K6Run;
    let readings: CounterReading[];

    before(async function () {
      this.timeout(k6StartupBudgetMs + plan.totalMs + 20_000);
      const port = await freePort();
      const configFile = join(dir.path, "prometheus.yml");
      writeFileSync(configFile, "global:\n  scrape_interval: 1m\n");
      prometheus = ManagedProcess.start({
        name: "prometheus",
        command: prometheusBinary,
        args: [
          `--config.file=${configFile}`,
          `--storage.tsdb.path=${join(dir.path, "tsdb")}`,
          `--web.listen-address=${loopback}:${port}`,
          "--web.enable-remote-write-receiver",
        ],
        logFile: join(dir.path, "prometheus.log"),
      });
      prometheusClient = new PrometheusClient(`http://${loopback}:${port}`);
      await waitFor(
        "Prometheus to be ready",
        async () => ((await prometheusClient.isReady()) ? true : undefined),
        {
          timeoutMs: 15_000,
          diagnostics: () => prometheus.tail(),
        },
      );

      const before = await requestsServed(server);
      expect(before, "requests served before the run").to.equal(0);
      readings = [];
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          readings.push({ atMs: performance.now(), total: await requestsServed(server) });
          await sleep(100);
        }
      })();
      try {
        run = await runK6(k6, dir.path, "k6-small", loaded, server.url, testId, {
          remoteWrite: hostPort(loopback, port),
        });
      } finally {
        sampling = false;
        await sampler;
      }
    });

    after(async () => {
      await prometheus?.stop();
    });

    it("exits 0, and each check passes on every response to its request", async () => {
      expect(run.exit, run.process.tail()).to.deep.equal({ code: 0, signal: null });
      const checks = Object.entries(run.summary.root_group.checks);
      const kinds = new Set(checks.map(([name]) => name.split(":")[0] ?? ""));
      expect([...kinds].sort(), "the requests the checks are about").to.deep.equal(
        Object.keys(checkedRequests).sort(),
      );
      // What the service counted, by request, whatever the answer.
      const samples = await scrape(server.url);
      const made = (method: string, route: string) =>
        samples
          .filter(
            (sample) =>
              sample.name === metricNames.requestsTotal &&
              sample.labels.method === method &&
              sample.labels.route === route,
          )
          .reduce((total, sample) => total + sample.value, 0);
      const counted = Object.fromEntries(
        checks.map(([name, counts]) => [name, { passes: counts.passes, fails: counts.fails }]),
      );
      const expected = Object.fromEntries(
        checks.map(([name]) => {
          const request = checkedRequests[name.split(":")[0] ?? ""];
          return [name, { passes: request ? made(request.method, request.route) : 0, fails: 0 }];
        }),
      );
      expect(counted, "passes and failures of each check").to.deep.equal(expected);
      for (const [name, { passes }] of checks) expect(passes, name).to.be.above(0);
    });

    it("makes the service see the spike's request rate within 10%", () => {
      // k6's clock starts with its first iteration; the first reading that counts a request brackets it.
      const firstCounted = readings.findIndex((reading) => reading.total > 0);
      const startReading = readings[firstCounted];
      const lastIdle = readings[firstCounted - 1];
      if (startReading === undefined || lastIdle === undefined)
        throw new Error("the service saw no requests");
      const startMs = (lastIdle.atMs + startReading.atMs) / 2;
      // A second off each edge keeps the measurement inside the spike despite that uncertainty.
      const fromMs = startMs + plan.phases.spike.startMs + 1000;
      const toMs = startMs + plan.phases.spike.startMs + plan.phases.spike.durationMs - 1000;
      const measured = ((counterAt(readings, toMs) - counterAt(readings, fromMs)) * 1000) / (toMs - fromMs);
      console.log(
        `      spike: ${measured.toFixed(1)} req/s measured, ${plan.phases.spike.requestsPerSecond.toFixed(1)} req/s planned`,
      );
      expect(measured).to.be.closeTo(
        plan.phases.spike.requestsPerSecond,
        plan.phases.spike.requestsPerSecond * 0.1,
      );
    });

    it("counts on the service exactly the requests k6 made, the whole run's worth", async () => {
      const k6Requests = run.summary.metrics.http_reqs?.count;
      expect(await requestsServed(server)).to.equal(k6Requests);
      const planned = Object.values(plan.phases).reduce(
        (total, phase) => total + (phase.requestsPerSecond * phase.durationMs) / 1000,
        0,
      );
      expect(k6Requests).to.be.closeTo(planned, planned * 0.1);
    });

    it("mixes in the planned shares of slow and failing calls, and creates, reads and deletes an item each time", async () => {
      const iterations = run.summary.metrics.iterations?.count ?? 0;
      const indices = Array.from({ length: iterations }, (_, index) => index);
      const isError = (index: number) => index % errorEvery === errorEvery - 1;
      const errors = indices.filter(isError).length;
      const slow = indices.filter((index) => !isError(index) && index % slowEvery === slowEvery - 1).length;
      expect(errors, "intended errors in this run").to.be.above(0);
      const samples = await scrape(server.url);
      const served = (method: string, route: string, status: number) =>
        sampleValue(samples, metricNames.requestsTotal, { method, route, status_code: String(status) }) ?? 0;
      expect({
        errors: served("GET", apiRoutes.error, 500),
        slow: served("GET", apiRoutes.slow, 200),
        lists: served("GET", apiRoutes.items, 200),
        creates: served("POST", apiRoutes.items, 201),
        gets: served("GET", apiRoutes.item, 200),
        deletes: served("DELETE", apiRoutes.item, 204),
      }).to.deep.equal({
        errors,
        slow,
        lists: iterations - errors - slow,
        creates: iterations,
        gets: iterations,
        deletes: iterations,
      });
      expect(iterations * requestsPerIteration).to.equal(run.summary.metrics.http_reqs?.count);
    });

    it("writes k6's series to Prometheus, tagged with the run's testid and labelled by route", async () => {
      const selector = `{${k6TestIdTag}="${testId}"}`;
      // The run marks its series stale when it ends; last_over_time still reads their final values.
      const { value: written } = await waitFor(
        `${k6Series.httpRequests}${selector} in Prometheus`,
        async () => {
          const result = await prometheusClient.query(
            `sum(last_over_time(${k6Series.httpRequests}${selector}[5m]))`,
          );
          return result[0]?.value === run.summary.metrics.http_reqs?.count ? result[0]?.value : undefined;
        },
        { timeoutMs: 10_000, diagnostics: () => prometheus.tail() },
      );
      expect(written).to.be.above(0);

      const p95 = await prometheusClient.query(
        `last_over_time(${k6TrendSeries("http_req_duration", "p(95)")}${selector}[5m])`,
      );
      expect(p95, "the p95 trend series").to.not.be.empty;

      const urls = await prometheusClient.query(
        `group by (url) (last_over_time(${k6Series.httpRequests}${selector}[5m]))`,
      );
      const routes: string[] = Object.values(apiRoutes);
      for (const { labels } of urls) expect(routes, "url label").to.include(labels.url);
    });
  });

  it("exits 99 when its thresholds fail: every request refused", async () => {
    const closedPort = await freePort();
    const loaded = loadSettings({
      ...smallSettings,
      loadtest: {
        ...smallSettings.loadtest,
        warmupDuration: "1s",
        spikeDuration: "1s",
        cooldownDuration: "1s",
      },
    });
    const run = await runK6(
      k6,
      dir.path,
      "k6-refused",
      loaded,
      `http://${loopback}:${closedPort}`,
      "refused",
    );
    expect(run.exit, run.process.tail()).to.deep.equal({ code: k6ThresholdsFailedExitCode, signal: null });
    expect(readFileSync(run.process.logFile, "utf8")).to.match(/thresholds on metrics .*http_req_failed/);
  });

  it("runs from loadtestScriptFiles alone, laid out as in the repository", async () => {
    const copy = join(dir.path, "script-only");
    for (const relativePath of loadtestScriptFiles) {
      mkdirSync(dirname(join(copy, relativePath)), { recursive: true });
      cpSync(join(repoRoot, relativePath), join(copy, relativePath));
    }
    const loaded = loadSettings(smallSettings);
    const optionsPath = join(copy, "options.json");
    writeFileSync(optionsPath, renderLoadtestOptions(loaded.settings, { app: hostPort(loopback, 1) }));
    // `inspect` evaluates the script's init code, imports and options file included, without running it.
    const inspect = ManagedProcess.start({
      name: "k6-inspect",
      command: k6,
      args: [
        "inspect",
        "--execution-requirements",
        "--env",
        `${loadtestEnv.optionsFile}=${optionsPath}`,
        join(copy, loadtestScriptPath),
      ],
      logFile: join(dir.path, "k6-inspect.log"),
    });
    const exit = await Promise.race([inspect.exited, sleep(20_000).then(() => inspect.kill())]);
    expect(exit, inspect.tail()).to.deep.equal({ code: 0, signal: null });
    // The log starts with the command line; k6's JSON follows.
    const log = readFileSync(inspect.logFile, "utf8");
    const requirements = JSON.parse(log.slice(log.indexOf("\n{") + 1)) as { maxVUs: number };
    expect(requirements.maxVUs).to.equal(loadtestPlan(loaded.settings).maxVUs);
  });
});
