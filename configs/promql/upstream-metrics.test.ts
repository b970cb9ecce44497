/**
 * The dashboards read series that other programs name: prom-client, Prometheus, Alertmanager, k6 and node
 * exporter. These tests hold the names in upstream-metrics.ts to what those programs export at the pinned
 * versions, and run the queries of the dashboards that do not need the service against a real Prometheus that
 * scraped itself, Alertmanager and this machine's node exporter and received a short k6 run, the way Grafana
 * runs them.
 */

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import { collectDefaultMetrics, Registry } from "prom-client";
import { stringify } from "yaml";
import { requireBinaries } from "../../test-support/binaries";
import { makeTempDir, type TempDir } from "../../test-support/cleanup";
import { freePort, loopback } from "../../test-support/ports";
import { ManagedProcess } from "../../test-support/processes";
import { resultLabels } from "../../test-support/promql-labels";
import { parseExposition } from "../../test-support/service";
import { waitFor } from "../../test-support/wait";
import { alertsDashboard } from "../grafana/dashboards/alerts";
import { containersDashboard } from "../grafana/dashboards/containers";
import { hostsDashboard } from "../grafana/dashboards/hosts";
import { loadtestDashboard } from "../grafana/dashboards/loadtest";
import { sloDashboard } from "../grafana/dashboards/slo";
import { dashboardPanelQueries } from "../grafana/index";
import { dashboardTimeRange } from "../grafana/panels";
import { k6TestIdTag, k6TrendStatsEnv } from "../loadtest/k6-metrics";
import { hostLabel, jobs } from "../names";
import { nodeExporterFlags } from "../runtime/server-flags";
import { nodeExporter } from "../runtime/versions";
import { alertNames } from "../settings/alert-specs";
import { durationMs } from "../settings/duration";
import { type Settings, settingsSchema } from "../settings/schema";
import {
  nodeExporterMetrics,
  nodeFilesystemLabels,
  nodeProcessMetrics,
  prometheusSyntheticSeries,
  prometheusWorkloadMetrics,
  stackHealthMetrics,
  stackMetricNames,
} from "./upstream-metrics";

interface RangeSeries {
  readonly metric: Record<string, string>;
  readonly values: [number, string][];
}

async function rangeQuery(baseUrl: string, expr: string, lookbackMs: number): Promise<RangeSeries[]> {
  const end = Date.now() / 1000;
  const params = new URLSearchParams({
    query: expr,
    start: (end - lookbackMs / 1000).toFixed(3),
    end: end.toFixed(3),
    step: "1",
  });
  const response = await fetch(`${baseUrl}/api/v1/query_range?${params}`);
  const body = (await response.json()) as { status: string; error?: string; data: { result: RangeSeries[] } };
  if (body.status !== "success") throw new Error(`query_range ${expr}: ${body.error ?? response.status}`);
  return body.data.result;
}

async function metricNamesIn(baseUrl: string): Promise<Set<string>> {
  const response = await fetch(`${baseUrl}/api/v1/label/__name__/values`);
  const body = (await response.json()) as { data: string[] };
  return new Set(body.data);
}

describe("metrics the dashboards read from other programs", () => {
  it("prom-client's default metrics include every Node.js process metric", async () => {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    const exported = new Set((await registry.getMetricsAsJSON()).map((metric) => metric.name));
    expect(Object.values(nodeProcessMetrics).filter((name) => !exported.has(name))).to.deep.equal([]);
  });

  describe("with a real Prometheus, Alertmanager and k6", function () {
    this.timeout(90_000);
    // Short intervals keep the run brief; dashboardPanelQueries resolves rate windows from the same settings.
    const settings: Settings = settingsSchema.parse({
      scrape: { interval: "1s", timeout: "1s", evaluationInterval: "1s" },
    });
    const testId = `grafana-upstream-${process.pid}`;
    const processes: ManagedProcess[] = [];
    let dir: TempDir | undefined;
    let prometheusUrl = "";

    const diagnostics = () => processes.map((p) => p.tail(15)).join("\n");
    const hopeless = () => processes.find((p) => !p.running && p.name !== "k6")?.name.concat(" exited");

    before(async function () {
      const binaries = requireBinaries(this, "prometheus", "alertmanager", "k6", "node_exporter");
      dir = makeTempDir("grafana-upstream-");
      const path = (name: string) => join((dir as TempDir).path, name);
      const prometheusAddress = `${loopback}:${await freePort()}`;
      const alertmanagerAddress = `${loopback}:${await freePort()}`;
      // This machine's node exporter, scraped as the stack scrapes its host's: the Hosts dashboard's series.
      const nodeExporterAddress = `${loopback}:${await freePort()}`;
      prometheusUrl = `http://${prometheusAddress}`;

      writeFileSync(
        path("alertmanager.yml"),
        stringify({ route: { receiver: "discard" }, receivers: [{ name: "discard" }] }),
      );
      // An always-firing alert, as the stack's Watchdog is, so that ALERTS has a series and notifications flow.
      writeFileSync(
        path("rules.yml"),
        stringify({
          groups: [{ name: "fixture", rules: [{ alert: alertNames.watchdog, expr: "vector(1)" }] }],
        }),
      );
      writeFileSync(
        path("prometheus.yml"),
        stringify({
          global: {
            scrape_interval: settings.scrape.interval,
            scrape_timeout: settings.scrape.timeout,
            evaluation_interval: settings.scrape.evaluationInterval,
          },
          alerting: { alertmanagers: [{ static_configs: [{ targets: [alertmanagerAddress] }] }] },
          rule_files: ["rules.yml"],
          scrape_configs: [
            { job_name: jobs.prometheus, static_configs: [{ targets: [prometheusAddress] }] },
            { job_name: jobs.alertmanager, static_configs: [{ targets: [alertmanagerAddress] }] },
            {
              job_name: jobs.node,
              static_configs: [
                { targets: [nodeExporterAddress], labels: { [hostLabel]: settings.host.name } },
              ],
            },
          ],
        }),
      );
      processes.push(
        ManagedProcess.start({
          name: "alertmanager",
          command: binaries.alertmanager,
          args: [
            `--config.file=${path("alertmanager.yml")}`,
            `--storage.path=${path("alertmanager-data")}`,
            `--web.listen-address=${alertmanagerAddress}`,
            // Gossip on, as with the stack's two replicas: the cluster's own metrics exist only then.
            `--cluster.listen-address=${loopback}:${await freePort()}`,
          ],
          logFile: path("alertmanager.log"),
        }),
        ManagedProcess.start({
          name: "node_exporter",
          command: binaries.node_exporter,
          args: nodeExporterFlags({ listenAddress: nodeExporterAddress, rootfs: "/" }),
          logFile: path("node_exporter.log"),
        }),
        ManagedProcess.start({
          name: "prometheus",
          command: binaries.prometheus,
          args: [
            `--config.file=${path("prometheus.yml")}`,
            `--storage.tsdb.path=${path("prometheus-data")}`,
            `--web.listen-address=${prometheusAddress}`,
            "--web.enable-remote-write-receiver",
          ],
          logFile: path("prometheus.log"),
        }),
      );
      await waitFor(
        "Prometheus to be ready",
        async () => ((await fetch(`${prometheusUrl}/-/ready`)).ok ? true : undefined),
        {
          timeoutMs: 30_000,
          diagnostics,
          hopeless,
        },
      );

      writeFileSync(
        path("script.js"),
        [
          'import http from "k6/http";',
          'import { check } from "k6";',
          'export const options = { vus: 2, duration: "3s" };',
          "export default function () {",
          `  const response = http.get("${prometheusUrl}/-/healthy", { tags: { name: "healthy" } });`,
          '  check(response, { "answers 200": (r) => r.status === 200 });',
          "}",
        ].join("\n"),
      );
      const k6 = ManagedProcess.start({
        name: "k6",
        command: binaries.k6,
        args: [
          "run",
          "--quiet",
          "--no-usage-report",
          "--tag",
          `${k6TestIdTag}=${testId}`,
          "-o",
          "experimental-prometheus-rw",
          path("script.js"),
        ],
        env: {
          ...process.env,
          K6_PROMETHEUS_RW_SERVER_URL: `${prometheusUrl}/api/v1/write`,
          K6_PROMETHEUS_RW_TREND_STATS: k6TrendStatsEnv,
          // Several pushes within a 3 s run, so that rates over k6's counters have two samples to work with.
          K6_PROMETHEUS_RW_PUSH_INTERVAL: "1s",
        },
        logFile: path("k6.log"),
      });
      processes.push(k6);
      const status = await k6.exited;
      if (status.code !== 0) throw new Error(`k6 exited with ${status.signal ?? status.code}\n${k6.tail()}`);
    });

    after(async () => {
      await Promise.all(processes.map((p) => p.stop()));
      dir?.remove();
    });

    it("Prometheus and Alertmanager export every metric the dashboards and alert rules name", async () => {
      const expected = [
        ...Object.values(prometheusSyntheticSeries),
        ...Object.values(stackMetricNames),
        ...Object.values(stackHealthMetrics),
        ...Object.values(prometheusWorkloadMetrics),
      ];
      await waitFor(
        `Prometheus to hold ${expected.join(", ")}`,
        async () => {
          const present = await metricNamesIn(prometheusUrl);
          const missing = expected.filter((name) => !present.has(name));
          if (missing.length > 0) throw new Error(`missing ${missing.join(", ")}`);
          return true;
        },
        { timeoutMs: 30_000, diagnostics, hopeless },
      );
    });

    it("every query that does not read the service returns data, by the labels it groups by", async () => {
      const lookbackMs = durationMs(dashboardTimeRange.from.replace("now-", ""));
      // The SLO panels read the service too, through the series the SLO rules record from it.
      const queries = dashboardPanelQueries(settings).filter(
        // cAdvisor is not run on real binaries (its module is not served here): its dashboard has no data.
        ({ dashboard, expr }) =>
          !expr.includes(`job="${jobs.app}"`) &&
          dashboard !== sloDashboard.title &&
          dashboard !== containersDashboard.title,
      );
      expect(queries.map((q) => q.dashboard)).to.include.members([
        alertsDashboard.title,
        loadtestDashboard.title,
        hostsDashboard.title,
      ]);
      const started = performance.now();
      await waitFor(
        "every query to return series",
        async () => {
          const problems: string[] = [];
          for (const { dashboard, panel, expr } of queries) {
            const series = await rangeQuery(prometheusUrl, expr, lookbackMs);
            if (series.length === 0) problems.push(`${dashboard} / ${panel}: no data for ${expr}`);
            const labels = resultLabels(expr);
            for (const { metric } of series) {
              const absent = labels.filter((label) => !metric[label]);
              if (absent.length > 0)
                problems.push(`${dashboard} / ${panel}: series without ${absent.join(", ")}`);
            }
          }
          if (problems.length > 0) throw new Error(problems.join("\n"));
          return true;
        },
        { timeoutMs: 30_000, intervalMs: 1000, diagnostics, hopeless },
      );
      console.log(
        `      ${queries.length} queries returned data after ${((performance.now() - started) / 1000).toFixed(1)} s`,
      );
    });
  });

  describe("node exporter at the pinned version, on this machine", function () {
    this.timeout(60_000);
    let running: ManagedProcess | undefined;
    let logDir: TempDir | undefined;
    after(async () => {
      await running?.stop();
      logDir?.remove();
    });

    it("exports every metric the host alerts and the Hosts dashboard read, with the labels they select by", async function () {
      const binaries = requireBinaries(this, "node_exporter");
      logDir = makeTempDir("node-exporter-");
      const address = `${loopback}:${await freePort()}`;
      const started = ManagedProcess.start({
        name: "node_exporter",
        command: binaries.node_exporter,
        args: nodeExporterFlags({ listenAddress: address, rootfs: "/" }),
        logFile: join(logDir.path, "node_exporter.log"),
      });
      running = started;
      const { value: text } = await waitFor(
        "node_exporter's /metrics",
        async () => {
          const response = await fetch(`http://${address}/metrics`).catch(() => undefined);
          return response?.ok ? response.text() : undefined;
        },
        { timeoutMs: 30_000, diagnostics: () => started.tail(15) },
      );
      const samples = parseExposition(text);
      const exported = new Set(samples.map((sample) => sample.name));
      expect(Object.values(nodeExporterMetrics).filter((name) => !exported.has(name))).to.deep.equal([]);
      const root = samples.find(
        (sample) =>
          sample.name === nodeExporterMetrics.filesystemSizeBytes &&
          sample.labels[nodeFilesystemLabels.mountpoint] === "/",
      );
      expect(root?.labels, "the root filesystem's size").to.include.keys(Object.values(nodeFilesystemLabels));
      // The release build stamps its version, as `npm run tools` does with -ldflags.
      const build = samples.find((sample) => sample.name === "node_exporter_build_info");
      expect(build?.labels.version).to.equal(nodeExporter.version);
    });
  });
});
