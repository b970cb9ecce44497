import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Dashboard, Panel } from "@grafana/grafana-foundation-sdk/dashboard";
import type { Dataquery as PrometheusQuery } from "@grafana/grafana-foundation-sdk/prometheus";
import { parser } from "@prometheus-io/lezer-promql";
import { expect } from "chai";
import { parse as parseYaml } from "yaml";
import { metricNames } from "../../service/metrics-contract";
import { requireBinaries } from "../../test-support/binaries";
import { loopbackEndpoints, renderToDisk, runTool } from "../../test-support/promtool";
import {
  k6HttpRequestDuration,
  k6Series,
  k6TestIdTag,
  k6TrendSeries,
  k6TrendStats,
} from "../loadtest/k6-metrics";
import { datasourceUids, jobs } from "../names";
import { promqlErrors } from "../promql/lint";
import {
  alertedLatencyQuantile,
  alertThresholdQuery,
  alertThresholdRecord,
  certificateDaysLeft,
  clockOffsetSeconds,
  containerMemoryLimitRatio,
  cpuBusyRatio,
  diskBusyRatio,
  errorRatio,
  filesystemFreeRatio,
  jobSelector,
  latencyQuantile,
  memoryAvailableRatio,
  requestsInWindow,
} from "../promql/queries";
import {
  blackboxMetrics,
  cadvisorMetrics,
  nodeExporterMetrics,
  nodeProcessMetrics,
  prometheusSyntheticSeries,
  stackHealthMetrics,
  stackMetricNames,
} from "../promql/upstream-metrics";
import { type Endpoints, hostPort } from "../runtime/endpoints";
import { renderedPaths } from "../runtime/layout";
import { alertNames } from "../settings/alert-specs";
import { type Settings, type SettingsInput, settingsSchema } from "../settings/schema";
import { badRateRecord, burnRate, errorRatioRecord, objectives, requestRateRecord } from "../slo/rules";
import { alertWindowsMs, shortestWindowMs } from "../slo/windows";
import { loadSettings } from "../validate";
import { generatedYaml } from "../yaml";
import { alertsDashboard } from "./dashboards/alerts";
import { containersDashboard } from "./dashboards/containers";
import { hostsDashboard, hostVariable } from "./dashboards/hosts";
import { loadtestDashboard } from "./dashboards/loadtest";
import { probesDashboard, probeVariable, selectedProbes } from "./dashboards/probes";
import { selectedJob, serviceDashboard } from "./dashboards/service";
import { sloDashboard } from "./dashboards/slo";
import { prometheusDatasourceName } from "./datasources";
import {
  buildDashboards,
  dashboardPanelQueries,
  dashboardPanels,
  grafanaDashboardsDir,
  renderGrafana,
} from "./index";
import { dashboardTimeRange, datasourceVariable, prometheusDatasource, rateInterval } from "./panels";

const settingsWith = (input: SettingsInput = {}): Settings => settingsSchema.parse(input);
/** Two probes: the Probes dashboard is made only while there are any. */
const withProbes = settingsWith({
  probes: [
    { name: "site", http: { url: "https://example.com/" } },
    { name: "db", tcp: { address: "db.internal:5432" } },
  ],
});

function endpointsFor(settings: Settings): Endpoints {
  return {
    app: hostPort("app", 5002),
    prometheus: Array.from({ length: settings.prometheus.replicas }, (_, i) =>
      hostPort(`prometheus-${i}`, 9090),
    ),
    alertmanagers: [hostPort("alertmanager", 9093)],
    alertmanagerCluster: [hostPort("alertmanager", 9094)],
    nodeExporter: hostPort("node-exporter", 9100),
    blackboxExporter: hostPort("blackbox-exporter", 9115),
    cadvisor: hostPort("cadvisor", 8080),
    inboxSmtp: hostPort("mailpit", 1025),
    containers: [],
    links: {
      grafana: "http://127.0.0.1:3000",
      prometheus: ["http://127.0.0.1:9090", "http://127.0.0.1:9091"],
      alertmanagers: ["http://127.0.0.1:9093"],
    },
  };
}

const dashboardUids = [
  serviceDashboard.uid,
  alertsDashboard.uid,
  loadtestDashboard.uid,
  sloDashboard.uid,
  hostsDashboard.uid,
  containersDashboard.uid,
];

interface ProvisionedDatasource {
  name: string;
  uid: string;
  type: string;
  url: string;
  isDefault: boolean;
  jsonData: Record<string, unknown>;
}

interface DatasourcesFile {
  apiVersion: number;
  deleteDatasources?: { name: string; orgId: number }[];
  datasources: ProvisionedDatasource[];
}

function datasourcesFile(settings: Settings): DatasourcesFile {
  const text = renderGrafana(settings, endpointsFor(settings))[renderedPaths.grafanaDatasources];
  if (text === undefined) throw new Error("renderGrafana wrote no datasources file");
  return parseYaml(text) as DatasourcesFile;
}

function renderedDashboards(settings: Settings): Dashboard[] {
  const files = renderGrafana(settings, endpointsFor(settings));
  return dashboardUids.map((uid) => {
    const text = files[renderedPaths.grafanaDashboard(uid)];
    if (text === undefined) throw new Error(`no file for dashboard ${uid}`);
    return JSON.parse(text) as Dashboard;
  });
}

function dashboard(settings: Settings, uid: string): Dashboard {
  const text = renderGrafana(settings, endpointsFor(settings))[renderedPaths.grafanaDashboard(uid)];
  if (text === undefined) throw new Error(`dashboard ${uid} not rendered`);
  return JSON.parse(text) as Dashboard;
}

/** The rendered JSON's targets, as the Prometheus queries every panel holds. */
function queriesOf(panel: Panel): PrometheusQuery[] {
  return (panel.targets ?? []) as PrometheusQuery[];
}

function exprs(panel: Panel): string[] {
  return queriesOf(panel).map((target) => target.expr);
}

/** The one panel that runs exactly this expression. */
function panelRunning(board: Dashboard, expr: string): Panel {
  const panels = dashboardPanels(board).filter((panel) => exprs(panel).includes(expr));
  expect(panels, `panels of "${board.title}" running ${expr}`).to.have.lengthOf(1);
  return panels[0] as Panel;
}

interface DrawnThresholds {
  readonly style: unknown;
  readonly lines: (number | null)[];
}

function thresholdsOf(panel: Panel): DrawnThresholds {
  const defaults = panel.fieldConfig?.defaults;
  const custom = defaults?.custom as { thresholdsStyle?: { mode: string } } | undefined;
  return {
    style: custom?.thresholdsStyle?.mode,
    // The first step is the base colour below every threshold, not a line.
    lines: (defaults?.thresholds?.steps ?? []).slice(1).map((step) => step.value),
  };
}

/** Every leaf of a JSON value keyed by its path, so that two renders can be compared field by field. */
function leaves(value: unknown, path = "$", into = new Map<string, unknown>()): Map<string, unknown> {
  if (value !== null && typeof value === "object") {
    for (const [key, child] of Object.entries(value)) leaves(child, `${path}.${key}`, into);
  } else {
    into.set(path, value);
  }
  return into;
}

function changedLeaves(before: unknown, after: unknown): string[] {
  const a = leaves(before);
  const b = leaves(after);
  return [...new Set([...a.keys(), ...b.keys()])].filter((key) => a.get(key) !== b.get(key));
}

/** Metric names an expression selects, from lezer-promql's syntax tree. */
function selectedMetrics(expr: string): string[] {
  const names: string[] = [];
  parser.parse(expr).iterate({
    enter(node) {
      if (node.name !== "VectorSelector") return true;
      const identifier = node.node.getChild("Identifier");
      if (identifier) names.push(expr.slice(identifier.from, identifier.to));
      return false;
    },
  });
  return names;
}

describe("Grafana provisioning and dashboards", () => {
  const defaults = settingsWith();

  describe("renderGrafana", () => {
    it("writes the datasources, the dashboard provider and one JSON file per dashboard, at the layout's paths", () => {
      const files = renderGrafana(defaults, endpointsFor(defaults));
      expect(Object.keys(files)).to.have.members([
        renderedPaths.grafanaDatasources,
        renderedPaths.grafanaDashboardProvider,
        ...dashboardUids.map((uid) => renderedPaths.grafanaDashboard(uid)),
      ]);
    });

    it("rejects endpoints that do not list one Prometheus address per replica", () => {
      const settings = settingsWith({ prometheus: { replicas: 2 } });
      const endpoints = { ...endpointsFor(settings), prometheus: [hostPort("prometheus-0", 9090)] };
      expect(() => renderGrafana(settings, endpoints)).to.throw(/prometheus\.replicas is 2/);
    });
  });

  describe("datasources", () => {
    it("makes replica 0 the default Prometheus datasource under the fixed uid, at its address", () => {
      const file = datasourcesFile(defaults);
      expect(file.apiVersion).to.equal(1);
      const defaultsMarked = file.datasources.filter((ds) => ds.isDefault);
      expect(defaultsMarked).to.have.lengthOf(1);
      expect(defaultsMarked[0]).to.include({
        type: "prometheus",
        uid: datasourceUids.prometheus,
        url: `http://${endpointsFor(defaults).prometheus[0]}`,
      });
    });

    it("adds one Prometheus datasource per replica, each with its own name, uid and address", () => {
      const settings = settingsWith({ prometheus: { replicas: 3 } });
      const prometheus = datasourcesFile(settings).datasources.filter((ds) => ds.type === "prometheus");
      expect(prometheus.map((ds) => ds.url)).to.deep.equal(
        endpointsFor(settings).prometheus.map((address) => `http://${address}`),
      );
      expect(new Set(prometheus.map((ds) => ds.uid)).size).to.equal(3);
      expect(new Set(prometheus.map((ds) => ds.name)).size).to.equal(3);
    });

    it("tells Grafana the scrape interval, which $__rate_interval is derived from", () => {
      const settings = settingsWith({ scrape: { interval: "15s", timeout: "10s" } });
      for (const ds of datasourcesFile(settings).datasources.filter((d) => d.type === "prometheus")) {
        expect(ds.jsonData.timeInterval).to.equal("15s");
      }
    });

    it("adds an Alertmanager datasource of the Prometheus implementation at its address", () => {
      const alertmanager = datasourcesFile(defaults).datasources.find((ds) => ds.type === "alertmanager");
      expect(alertmanager).to.include({
        uid: datasourceUids.alertmanager,
        url: `http://${endpointsFor(defaults).alertmanagers[0]}`,
      });
      expect(alertmanager?.jsonData.implementation).to.equal("prometheus");
    });

    it("deletes the datasources of replicas a smaller stack no longer runs, and only those", () => {
      const file = datasourcesFile(settingsWith({ prometheus: { replicas: 1 } }));
      const deleted = (file.deleteDatasources ?? []).map((ds) => ds.name);
      expect(deleted).to.include(prometheusDatasourceName(1));
      expect(deleted).to.not.include(prometheusDatasourceName(0));
      const provisioned = file.datasources.map((ds) => ds.name);
      expect(deleted.filter((name) => provisioned.includes(name))).to.deep.equal([]);
    });
  });

  describe("dashboard provider", () => {
    it("reads the dashboards directory, into a folder, without UI edits saved over the code", () => {
      const text = renderGrafana(defaults, endpointsFor(defaults))[renderedPaths.grafanaDashboardProvider];
      const file = parseYaml(text ?? "") as {
        apiVersion: number;
        providers: { type: string; folder: string; allowUiUpdates: boolean; options: { path: string } }[];
      };
      expect(file.apiVersion).to.equal(1);
      expect(file.providers).to.have.lengthOf(1);
      const [provider] = file.providers;
      expect(provider).to.include({ type: "file", allowUiUpdates: false });
      expect(provider?.folder).to.be.a("string").and.not.be.empty;
      expect(provider?.options.path).to.equal(grafanaDashboardsDir);
    });
  });

  describe("dashboards", () => {
    const boards = renderedDashboards(defaults);

    it("have fixed, unique uids and titles", () => {
      expect(boards.map((d) => d.uid)).to.deep.equal(dashboardUids);
      expect(new Set(boards.map((d) => d.title)).size).to.equal(boards.length);
    });

    it("open on a recent time range and refresh on their own", () => {
      for (const board of boards) {
        expect(board.time, board.title).to.deep.equal(dashboardTimeRange);
        expect(board.refresh, board.title).to.equal("10s");
      }
    });

    it("query the selected Prometheus replica, which defaults to the default datasource's uid", () => {
      const defaultDatasource = datasourcesFile(defaults).datasources.find((ds) => ds.isDefault);
      for (const board of boards) {
        const variable = board.templating.list?.find((v) => v.name === datasourceVariable);
        expect(variable, board.title).to.include({ type: "datasource", query: "prometheus" });
        expect(variable?.current?.value, board.title).to.equal(datasourceUids.prometheus);
        expect(variable?.current?.value).to.equal(defaultDatasource?.uid);
        for (const panel of dashboardPanels(board)) {
          expect(panel.datasource, `${board.title} / ${panel.title}`).to.deep.equal(prometheusDatasource);
          for (const target of queriesOf(panel)) {
            expect(target.datasource, `${board.title} / ${panel.title}`).to.deep.equal(prometheusDatasource);
          }
        }
      }
    });

    it("give every panel a title, a unit and at least one query with its own refId", () => {
      for (const board of boards) {
        for (const panel of dashboardPanels(board)) {
          const where = `${board.title} / ${panel.title}`;
          expect(panel.title, where).to.be.a("string").and.not.be.empty;
          expect(panel.fieldConfig?.defaults?.unit, where).to.be.a("string").and.not.be.empty;
          const refIds = queriesOf(panel).map((target) => target.refId);
          expect(refIds, where).to.not.be.empty;
          expect(new Set(refIds).size, where).to.equal(refIds.length);
        }
      }
    });

    it("lay panels out on the 24-column grid without overlaps, with unique ids", () => {
      for (const board of boards) {
        const placed = (board.panels ?? []).map((panel) => ({ id: panel.id, ...panel.gridPos }));
        expect(new Set(placed.map((p) => p.id)).size, board.title).to.equal(placed.length);
        for (const [i, a] of placed.entries()) {
          expect((a.x ?? 0) + (a.w ?? 0), `${board.title} panel ${a.id}`).to.be.at.most(24);
          for (const b of placed.slice(i + 1)) {
            const overlap =
              (a.x ?? 0) < (b.x ?? 0) + (b.w ?? 0) &&
              (b.x ?? 0) < (a.x ?? 0) + (a.w ?? 0) &&
              (a.y ?? 0) < (b.y ?? 0) + (b.h ?? 0) &&
              (b.y ?? 0) < (a.y ?? 0) + (a.h ?? 0);
            expect(overlap, `${board.title}: panels ${a.id} and ${b.id} overlap`).to.equal(false);
          }
        }
      }
    });

    it("pick load test runs by the k6 testid tag, all runs by default", () => {
      const board = dashboard(defaults, loadtestDashboard.uid);
      const variable = board.templating.list?.find((v) => v.type === "query");
      expect(variable?.query).to.equal(`label_values(${k6Series.httpRequests}, ${k6TestIdTag})`);
      expect(variable).to.include({ includeAll: true, multi: true });
      expect(variable?.current?.value).to.equal("$__all");
    });
  });

  describe("alert threshold lines on the Service dashboard", () => {
    const app = jobSelector(selectedJob);
    /** The query a panel draws as its dashed red threshold line, if any. */
    const thresholdQueryOf = (panel: Panel): string | undefined => {
      const overridden = (panel.fieldConfig?.overrides ?? []).filter((override) =>
        override.properties.some((property) => property.value?.fixedColor === "red"),
      );
      const ids = overridden.map((override) => override.matcher.options);
      const drawn = queriesOf(panel).filter((target) => ids.includes(target.refId));
      expect(drawn.length, `threshold queries of "${panel.title}"`).to.be.at.most(1);
      return drawn[0]?.expr;
    };
    const lineOf = (settings: Settings, expr: string) =>
      thresholdQueryOf(panelRunning(dashboard(settings, serviceDashboard.uid), expr));

    it("draw each alert's threshold for the selected job on the panel that shows the alert's series", () => {
      const { highRequestVolume, highErrorRate, highLatency } = defaults.alerts;
      expect(lineOf(defaults, requestsInWindow(highRequestVolume.window, app))).to.equal(
        alertThresholdQuery(alertNames.highRequestVolume, app, highRequestVolume.maxRequests),
      );
      expect(lineOf(defaults, errorRatio(highErrorRate.window, app))).to.equal(
        alertThresholdQuery(alertNames.highErrorRate, app, highErrorRate.maxRatio),
      );
      expect(lineOf(defaults, latencyQuantile(alertedLatencyQuantile, highLatency.window, app))).to.equal(
        alertThresholdQuery(alertNames.highLatency, app, highLatency.p95Seconds),
      );
    });

    it("follow the settings: thresholds and windows", () => {
      const settings = settingsWith({
        alerts: {
          highRequestVolume: { maxRequests: 1234, window: "2m" },
          highErrorRate: { maxRatio: 0.2, window: "5m" },
          highLatency: { p95Seconds: 1.5, window: "3m" },
        },
      });
      expect(lineOf(settings, requestsInWindow("2m", app))).to.match(/ or on\(\) vector\(1234\)$/);
      expect(lineOf(settings, errorRatio("5m", app))).to.match(/ or on\(\) vector\(0\.2\)$/);
      expect(lineOf(settings, latencyQuantile(alertedLatencyQuantile, "3m", app))).to.match(
        / or on\(\) vector\(1\.5\)$/,
      );
    });

    it("disappear when the alert is disabled", () => {
      const settings = settingsWith({
        alerts: {
          highRequestVolume: { enabled: false },
          highErrorRate: { enabled: false },
          highLatency: { enabled: false },
        },
      });
      const { highRequestVolume, highErrorRate, highLatency } = settings.alerts;
      for (const expr of [
        requestsInWindow(highRequestVolume.window, app),
        errorRatio(highErrorRate.window, app),
        latencyQuantile(alertedLatencyQuantile, highLatency.window, app),
      ]) {
        expect(lineOf(settings, expr), expr).to.equal(undefined);
      }
    });

    it("are the only threshold lines on the Service dashboard", () => {
      const board = dashboard(defaults, serviceDashboard.uid);
      const panels = dashboardPanels(board);
      expect(panels.filter((panel) => thresholdsOf(panel).style === "line")).to.deep.equal([]);
      expect(panels.filter((panel) => thresholdQueryOf(panel) !== undefined)).to.have.lengthOf(3);
    });

    for (const [setting, input] of [
      ["alerts.highRequestVolume.maxRequests", { alerts: { highRequestVolume: { maxRequests: 900 } } }],
      ["alerts.highErrorRate.maxRatio", { alerts: { highErrorRate: { maxRatio: 0.125 } } }],
      ["alerts.highLatency.p95Seconds", { alerts: { highLatency: { p95Seconds: 0.75 } } }],
    ] as const) {
      it(`change in exactly one place of Grafana's files when ${setting} changes: the line`, () => {
        const before = renderGrafana(defaults, endpointsFor(defaults));
        const changed = settingsWith(input);
        const after = renderGrafana(changed, endpointsFor(changed));
        const changes = Object.keys(before).flatMap((path) => {
          const parse = (text: string): unknown =>
            path.endsWith(".json") ? JSON.parse(text) : parseYaml(text);
          return changedLeaves(parse(before[path] ?? ""), parse(after[path] ?? "")).map(
            (leaf) => `${path} ${leaf}`,
          );
        });
        expect(changes).to.have.lengthOf(1);
        expect(changes[0]).to.match(
          new RegExp(`^${renderedPaths.grafanaDashboard(serviceDashboard.uid)} .*\\.targets\\.\\d+\\.expr$`),
        );
      });
    }

    describe("with promtool", () => {
      it("draws a job's own threshold where it overrides it, the stack-wide one elsewhere", async function () {
        this.timeout(60_000);
        const { promtool } = requireBinaries(this, "promtool");
        const settings = loadSettings({
          targets: [
            {
              job: "billing",
              addresses: ["10.0.0.5:8080"],
              httpContract: true,
              alerts: { highRequestVolume: { maxRequests: 50 } },
            },
            { job: "orders", addresses: ["10.0.0.6:8080"], httpContract: true },
          ],
        }).settings;
        const line = lineOf(settings, requestsInWindow(settings.alerts.highRequestVolume.window, app)) ?? "";
        const dir = renderToDisk(settings, loopbackEndpoints(2));
        try {
          const atJob = (job: string) => line.replaceAll(selectedJob, job);
          writeFileSync(
            join(dir.path, "threshold.test.yml"),
            generatedYaml({
              rule_files: [renderedPaths.alertRules],
              evaluation_interval: "1m",
              tests: [
                {
                  interval: "1m",
                  input_series: [],
                  promql_expr_test: [
                    {
                      expr: atJob("billing"),
                      eval_time: "1m",
                      exp_samples: [
                        {
                          labels: 'watchtower:alert_threshold{alert="HighRequestVolume",job="billing"}',
                          value: 50,
                        },
                      ],
                    },
                    { expr: atJob("orders"), eval_time: "1m", exp_samples: [{ labels: "{}", value: 500 }] },
                  ],
                },
              ],
            }),
          );
          const result = await runTool(promtool, ["test", "rules", "threshold.test.yml"], dir.path);
          expect(result.exitCode, result.output).to.equal(0);
        } finally {
          dir.remove();
        }
      });
    });
  });

  describe("the Hosts dashboard", () => {
    const host = `,host="$${hostVariable}"`;
    const node = `${jobSelector(jobs.node)}${host}`;

    it("draws the host alerts' thresholds as red lines on the panels that show their series", () => {
      const board = dashboard(defaults, hostsDashboard.uid);
      const memory = panelRunning(board, memoryAvailableRatio(node));
      expect(thresholdsOf(memory)).to.deep.equal({
        style: "line",
        lines: [defaults.alerts.hostMemoryLow.minAvailableRatio],
      });
      const disk = panelRunning(board, filesystemFreeRatio(node));
      expect(thresholdsOf(disk)).to.deep.equal({
        style: "line",
        lines: [defaults.alerts.hostDiskFillingUp.minFreeRatio],
      });
      const cpu = panelRunning(board, cpuBusyRatio(node, rateInterval));
      expect(thresholdsOf(cpu)).to.deep.equal({
        style: "line",
        lines: [defaults.alerts.hostCpuSaturated.maxRatio],
      });
      const clock = panelRunning(board, clockOffsetSeconds(node));
      expect(thresholdsOf(clock).lines).to.deep.equal([defaults.alerts.hostClockSkew.maxSeconds]);
      const diskIo = panelRunning(board, diskBusyRatio(node, rateInterval));
      expect(thresholdsOf(diskIo)).to.deep.equal({
        style: "line",
        lines: [defaults.alerts.hostDiskIoSaturated.maxRatio],
      });
      const changed = dashboard(
        settingsWith({
          alerts: {
            hostDiskFillingUp: { minFreeRatio: 0.25 },
            hostMemoryLow: { enabled: false },
            hostDiskIoSaturated: { maxRatio: 0.75 },
          },
        }),
        hostsDashboard.uid,
      );
      expect(thresholdsOf(panelRunning(changed, filesystemFreeRatio(node))).lines).to.deep.equal([0.25]);
      expect(thresholdsOf(panelRunning(changed, memoryAvailableRatio(node))).lines).to.deep.equal([]);
      expect(thresholdsOf(panelRunning(changed, diskBusyRatio(node, rateInterval))).lines).to.deep.equal([
        0.75,
      ]);
    });

    it("has CPU, memory, disk space, disk I/O, network and load panels, each of the selected host", () => {
      const board = dashboard(defaults, hostsDashboard.uid);
      expect(dashboardPanels(board).map((panel) => panel.title)).to.deep.equal([
        "CPU busy by mode",
        "Load average",
        "Memory available",
        "Clock offset",
        "Disk space free",
        "Disk throughput",
        "Disk busy",
        "Network traffic",
      ]);
      for (const panel of dashboardPanels(board))
        for (const expr of exprs(panel))
          expect(expr, panel.title ?? "")
            .to.include(`job="${jobs.node}"`)
            .and.include(host.slice(1));
      const variable = board.templating.list?.find((candidate) => candidate.name === hostVariable);
      expect(variable?.current?.value).to.equal("local");
      const named = dashboard(settingsWith({ host: { name: "db-1" } }), hostsDashboard.uid);
      expect(
        named.templating.list?.find((candidate) => candidate.name === hostVariable)?.current?.value,
      ).to.equal("db-1");
    });

    it("is left out when host.enabled is false", () => {
      const off = settingsWith({ host: { enabled: false } });
      expect(buildDashboards(off).map((board) => board.uid)).to.not.include(hostsDashboard.uid);
    });
  });

  describe("the Containers dashboard", () => {
    it("shows CPU, memory against limit with ContainerNearMemoryLimit's line, OOM kills, restarts and network, of the selected host", () => {
      const board = dashboard(defaults, containersDashboard.uid);
      expect(dashboardPanels(board).map((panel) => panel.title)).to.deep.equal([
        "CPU",
        "Memory against limit",
        "Memory working set",
        "OOM kills",
        "Restarts",
        "Network traffic",
      ]);
      const host = `,host="$${hostVariable}"`;
      const memory = panelRunning(board, containerMemoryLimitRatio(`${jobSelector(jobs.cadvisor)}${host}`));
      expect(thresholdsOf(memory)).to.deep.equal({
        style: "line",
        lines: [defaults.alerts.containerNearMemoryLimit.maxRatio],
      });
      for (const panel of dashboardPanels(board))
        for (const expr of exprs(panel))
          expect(expr, panel.title ?? "")
            .to.include(`job="${jobs.cadvisor}"`)
            .and.include(host.slice(1));
      const off = settingsWith({ host: { containers: false } });
      expect(buildDashboards(off).map((candidate) => candidate.uid)).to.not.include(containersDashboard.uid);
    });
  });

  describe("the Probes dashboard", () => {
    it("shows success, the duration with ProbeSlow's line, the phases, and the days left with ProbeCertificateExpiring's line", () => {
      const board = dashboard(withProbes, probesDashboard.uid);
      expect(dashboardPanels(board).map((panel) => panel.title)).to.deep.equal([
        "Probe success",
        "Probe success over time",
        "Probe duration",
        "HTTP duration by phase",
        "Certificate expiry",
      ]);
      expect(thresholdsOf(panelRunning(board, `probe_duration_seconds{${selectedProbes}}`))).to.deep.equal({
        style: "line",
        lines: [withProbes.alerts.probeSlow.maxSeconds],
      });
      expect(thresholdsOf(panelRunning(board, certificateDaysLeft(selectedProbes)))).to.deep.equal({
        style: "line",
        lines: [withProbes.alerts.probeCertificateExpiring.minDays],
      });
      expect(exprs(panelRunning(board, `probe_http_duration_seconds{${selectedProbes}}`))).to.have.length(1);
      for (const panel of dashboardPanels(board))
        for (const expr of exprs(panel)) expect(expr, panel.title ?? "").to.include(selectedProbes);
      const variable = board.templating.list?.find((candidate) => candidate.name === probeVariable);
      expect(variable?.query).to.equal(`label_values(probe_success{job="${jobs.probe}"}, probe)`);
      expect(variable?.includeAll).to.equal(true);
      const changed = dashboard(
        settingsWith({
          probes: [{ name: "site", http: { url: "https://example.com/" } }],
          alerts: { probeSlow: { maxSeconds: 2.5 }, probeCertificateExpiring: { enabled: false } },
        }),
        probesDashboard.uid,
      );
      expect(
        thresholdsOf(panelRunning(changed, `probe_duration_seconds{${selectedProbes}}`)).lines,
      ).to.deep.equal([2.5]);
      expect(thresholdsOf(panelRunning(changed, certificateDaysLeft(selectedProbes))).lines).to.deep.equal(
        [],
      );
    });

    it("is left out while there are no probes", () => {
      expect(buildDashboards(defaults).map((board) => board.uid)).to.not.include(probesDashboard.uid);
      expect(buildDashboards(withProbes).map((board) => board.uid)).to.include(probesDashboard.uid);
    });
  });

  describe("the SLOs dashboard", () => {
    it("draws every ErrorBudgetBurn factor on the burn rates the alerts compare, pages red and tickets orange", () => {
      const board = dashboard(defaults, sloDashboard.uid);
      for (const objective of objectives(defaults)) {
        const panel = panelRunning(board, burnRate(objective, alertWindowsMs(defaults)[0] ?? 0));
        expect(exprs(panel)).to.deep.equal(
          alertWindowsMs(defaults).map((windowMs) => burnRate(objective, windowMs)),
        );
        expect(thresholdsOf(panel)).to.deep.equal({ style: "line", lines: [1, 3, 6, 14.4] });
        const colours = (panel.fieldConfig?.defaults?.thresholds?.steps ?? [])
          .slice(1)
          .map((step) => step.color);
        expect(colours).to.deep.equal(["orange", "orange", "red", "red"]);
      }
    });

    it("shows each SLO's budget and SLI over its window, and the objective beside the SLI", () => {
      const settings = settingsWith({ slo: { availability: { objective: 0.995, window: "28d" } } });
      const panels = dashboardPanels(dashboard(settings, sloDashboard.uid));
      const titles = panels.map((panel) => panel.title);
      expect(titles).to.include("Error budget left over 4w").and.include("SLI and objective over 4w");
      expect(panels.flatMap(exprs)).to.include("vector(0.995)");
    });

    it("is left out while every SLO is disabled, and loses the row of a disabled SLO", () => {
      const none = settingsWith({ slo: { availability: { enabled: false }, latency: { enabled: false } } });
      expect(buildDashboards(none).map((board) => board.uid)).to.not.include(sloDashboard.uid);
      const one = settingsWith({ slo: { latency: { enabled: false } } });
      const rows = (dashboard(one, sloDashboard.uid).panels ?? []).filter((panel) => panel.type === "row");
      expect(rows.map((row) => row.title)).to.deep.equal([`availability: ${objectives(one)[0]?.promise}`]);
    });
  });

  describe("dashboardPanelQueries", () => {
    const variants: [string, Settings][] = [
      ["default settings", defaults],
      ["probes", withProbes],
      [
        "short intervals and other windows",
        settingsWith({
          scrape: { interval: "1s", timeout: "1s", evaluationInterval: "1s" },
          alerts: {
            highRequestVolume: { window: "1m30s" },
            highErrorRate: { window: "2m" },
            highLatency: { window: "45s" },
          },
        }),
      ],
      [
        "every alert disabled",
        settingsWith({
          alerts: {
            highRequestVolume: { enabled: false },
            highErrorRate: { enabled: false },
            highLatency: { enabled: false },
            watchdog: { enabled: false },
          },
        }),
      ],
    ];

    it("returns every query of every panel, read back from the built dashboards", () => {
      const targets = buildDashboards(defaults).flatMap((board) =>
        dashboardPanels(board).flatMap((panel) => (panel.targets ?? []).map(() => panel.title)),
      );
      const queries = dashboardPanelQueries(defaults);
      expect(queries.map((q) => q.panel)).to.deep.equal(targets);
      expect(new Set(queries.map((q) => q.dashboard))).to.deep.equal(
        new Set(buildDashboards(defaults).map((d) => d.title)),
      );
    });

    it("resolves Grafana's variables: rate windows from the scrape or k6 push interval, all test runs", () => {
      const settings = settingsWith({ scrape: { interval: "1s", timeout: "1s", evaluationInterval: "1s" } });
      const queries = dashboardPanelQueries(settings);
      for (const { expr } of queries) expect(expr).to.not.include("$");
      const appRate = queries.find((q) => q.panel === "Request rate by route and status");
      expect(appRate?.expr).to.include("[4s]");
      const k6Rate = queries.find((q) => q.expr.includes(k6Series.httpRequests));
      expect(k6Rate?.expr).to.include("[20s]").and.include(`${k6TestIdTag}=~".+"`);
    });

    it("keeps load test rate windows over several scrapes when scrapes are rarer than k6's pushes", () => {
      const settings = settingsWith({ scrape: { interval: "15s", timeout: "10s" } });
      const loadtestRates = dashboardPanelQueries(settings).filter(
        (q) => q.dashboard === loadtestDashboard.title && q.expr.includes("rate("),
      );
      expect(loadtestRates).to.not.be.empty;
      for (const { expr } of loadtestRates) expect(expr).to.include("[1m]");
    });

    for (const [name, settings] of variants) {
      it(`parses and type-checks as Prometheus does, with ${name}`, () => {
        for (const { dashboard: board, panel, expr } of dashboardPanelQueries(settings)) {
          expect(promqlErrors(expr), `${board} / ${panel}: ${expr}`).to.deep.equal([]);
        }
      });
    }

    it("selects only metrics the project defines or documents", () => {
      const histogram = metricNames.requestDurationSeconds;
      const known = new Set<string>([
        ...Object.values(metricNames).filter((name) => name !== histogram),
        `${histogram}_bucket`,
        `${histogram}_sum`,
        `${histogram}_count`,
        ...Object.values(k6Series),
        ...k6TrendStats.map((stat) => k6TrendSeries(k6HttpRequestDuration, stat)),
        ...Object.values(prometheusSyntheticSeries),
        ...Object.values(stackMetricNames),
        ...Object.values(stackHealthMetrics),
        ...Object.values(nodeProcessMetrics),
        ...Object.values(nodeExporterMetrics),
        ...Object.values(blackboxMetrics),
        ...Object.values(cadvisorMetrics),
        alertThresholdRecord,
      ]);
      for (const [, settings] of variants) {
        for (const windowMs of alertWindowsMs(settings)) known.add(errorRatioRecord(windowMs));
        const shortestMs = shortestWindowMs(settings);
        known.add(requestRateRecord(shortestMs)).add(badRateRecord(shortestMs));
        for (const { dashboard: board, panel, expr } of dashboardPanelQueries(settings)) {
          const unknown = selectedMetrics(expr).filter((name) => !known.has(name));
          expect(unknown, `${board} / ${panel}: ${expr}`).to.deep.equal([]);
        }
      }
    });

    it("uses every upstream metric it names, so none is kept without a panel", () => {
      const used = new Set(dashboardPanelQueries(withProbes).flatMap(({ expr }) => selectedMetrics(expr)));
      const named = [
        ...Object.values(prometheusSyntheticSeries),
        ...Object.values(stackHealthMetrics),
        ...Object.values(nodeProcessMetrics),
        ...Object.values(nodeExporterMetrics),
        ...Object.values(blackboxMetrics),
        ...Object.values(cadvisorMetrics),
      ];
      expect(named.filter((name) => !used.has(name))).to.deep.equal([]);
    });

    it("selects the service's series by its scrape job", () => {
      const contract = new Set<string>(Object.values(metricNames));
      for (const { panel, expr } of dashboardPanelQueries(defaults)) {
        const selectsService = selectedMetrics(expr).some(
          (name) => contract.has(name) || contract.has(name.replace(/_bucket$/, "")),
        );
        if (selectsService) expect(expr, panel).to.include(`job="${jobs.app}"`);
      }
    });
  });
});
