import { expect } from "chai";
import { parse } from "yaml";
import { requireBinaries } from "../../test-support/binaries";
import { loopbackEndpoints, renderToDisk, runTool } from "../../test-support/promtool";
import { settingsProblems } from "../../test-support/settings";
import { buildDashboards, dashboardPanelQueries, dashboardPanels } from "../grafana";
import { alertsDashboard } from "../grafana/dashboards/alerts";
import { jobVariable, serviceDashboard } from "../grafana/dashboards/service";
import { sloAlertNames } from "../names";
import { renderPrometheusConfig } from "../prometheus/config";
import { renderAlertRules } from "../prometheus/rules";
import { renderAll } from "../render";
import { renderedPaths } from "../runtime/layout";
import { loadSettings } from "../validate";
import { alertNames } from "./alert-specs";

/** Two targets (one with the HTTP contract and its own thresholds) and one service of the user's own. */
const monitored = {
  targets: [
    {
      job: "billing",
      addresses: ["host.docker.internal:8080", "10.0.0.5:8080"],
      httpContract: true,
      labels: { team: "payments" },
      alerts: { highRequestVolume: { maxRequests: 50 }, instanceDown: { for: "1m" } },
    },
    {
      job: "db-node",
      addresses: ["10.0.0.5:9100"],
      scrapeInterval: "15s",
      metricsPath: "/probe",
      scheme: "https",
    },
  ],
  services: [
    {
      job: "orders",
      image: "ghcr.io/acme/orders:1.4.2",
      port: 8080,
      httpContract: true,
      healthcheck: ["wget", "-q", "-O-", "http://localhost:8080/healthz"],
    },
  ],
};

interface RuleFile {
  groups: {
    rules: { alert?: string; record?: string; expr: string; for?: string; labels: Record<string, string> }[];
  }[];
}

describe("targets and services", () => {
  it("gives each its own scrape job on every replica, with its path, scheme, interval and labels", () => {
    const { settings } = loadSettings(monitored);
    const endpoints = loopbackEndpoints(2);
    for (const replica of [0, 1]) {
      const config = parse(renderPrometheusConfig(settings, endpoints, replica)) as {
        scrape_configs: Record<string, unknown>[];
      };
      const byJob = new Map(config.scrape_configs.map((job) => [job.job_name, job]));
      expect(byJob.get("billing")).to.deep.include({
        metrics_path: "/metrics",
        scheme: "http",
        static_configs: [
          { targets: ["host.docker.internal:8080", "10.0.0.5:8080"], labels: { team: "payments" } },
        ],
      });
      expect(byJob.get("db-node")).to.deep.include({
        scrape_interval: "15s",
        metrics_path: "/probe",
        scheme: "https",
      });
      expect(byJob.get("orders")).to.deep.include({ static_configs: [{ targets: ["orders:8080"] }] });
    }
  });

  it("gives every job InstanceDown, and the jobs with the HTTP contract the request alerts, at their own thresholds", () => {
    const groups = (
      parse(renderAlertRules(loadSettings(monitored).settings, loopbackEndpoints(2))) as RuleFile
    ).groups;
    const rules = groups.flatMap((group) => group.rules);
    const rulesOf = (name: string) => rules.filter((rule) => rule.alert === name);
    // One shared rule per alert; billing's longer `for` gives it an InstanceDown of its own, labelled with it.
    expect(
      rulesOf(alertNames.instanceDown).map((rule) => [rule.expr, rule.for, rule.labels.job]),
    ).to.deep.equal([
      ['up{job=~"app|db-node|orders"} == 0', "15s", undefined],
      ['up{job="billing"} == 0', "1m", "billing"],
    ]);
    for (const name of [alertNames.highErrorRate, alertNames.highLatency]) {
      expect(rulesOf(name), name).to.have.length(1);
      expect(rulesOf(name)[0]?.expr, name).to.include('job=~"app|billing|orders"');
    }
    // billing overrides only the threshold: it shares the rule, which joins on its recorded threshold.
    const [volume, ...others] = rulesOf(alertNames.highRequestVolume);
    expect(others).to.deep.equal([]);
    expect(volume?.expr).to.equal(
      '(sum by (job) (increase(app_http_requests_total{job=~"app|orders"}[1m])) > 500) or ' +
        '(sum by (job) (increase(app_http_requests_total{job="billing"}[1m])) > on(job) group_left() ' +
        'watchtower:alert_threshold{alert="HighRequestVolume"})',
    );
    const app = groups.find((group) =>
      group.rules.some((rule) => rule.alert === alertNames.highRequestVolume),
    );
    expect(app?.rules[0]).to.deep.equal({
      record: "watchtower:alert_threshold",
      expr: "vector(50)",
      labels: { alert: alertNames.highRequestVolume, job: "billing" },
    });
  });

  it("keeps one rule per alert however many jobs share its settings", () => {
    const fleet = Array.from({ length: 200 }, (_, i) => ({
      job: `svc-${i}`,
      addresses: [`10.0.${Math.floor(i / 250)}.${(i % 250) + 1}:8080`],
      httpContract: true,
    }));
    const withThresholds = fleet.map((target, i) =>
      i % 50 === 0 ? { ...target, alerts: { highRequestVolume: { maxRequests: 100 + i } } } : target,
    );
    const count = (targets: object[]) =>
      (
        parse(renderAlertRules(loadSettings({ targets }).settings, loopbackEndpoints(2))) as RuleFile
      ).groups.flatMap((group) => group.rules).length;
    const one = count(fleet.slice(0, 1));
    expect(count(fleet)).to.equal(one);
    // Four thresholds of their own: four recorded series, the same alert rules.
    expect(count(withThresholds)).to.equal(one + 4);
  });

  it("holds the SLOs for every job with the HTTP contract, each series by job, and names a silent job", () => {
    const slo = parse(
      renderAll(loadSettings(monitored).settings, loopbackEndpoints(2))[renderedPaths.sloRules] ?? "",
    ) as RuleFile;
    const rules = slo.groups.flatMap((group) => group.rules);
    const recorded = rules.find((rule) => "record" in rule);
    expect(recorded?.expr).to.include('job=~"app|billing|orders"');
    // One expression for every job, which names the silent one by its job label.
    const absent = rules.find((rule) => rule.alert === sloAlertNames.metricsAbsent);
    expect(absent?.expr).to.equal(
      'group by (job) (up{job=~"app|billing|orders"}) unless on(job) job:slo_errors:rate5m{slo="availability"}',
    );
  });

  it("drops the demo app's job and alerts when app.enabled is false", () => {
    const { settings } = loadSettings({
      ...monitored,
      app: { enabled: false },
      loadtest: { target: "billing" },
    });
    const rules = (parse(renderAlertRules(settings, loopbackEndpoints(2))) as RuleFile).groups.flatMap(
      (group) => group.rules,
    );
    expect(rules.map((rule) => rule.labels.job)).not.to.include("app");
    const config = parse(renderPrometheusConfig(settings, loopbackEndpoints(2), 0)) as {
      scrape_configs: { job_name: string }[];
    };
    expect(config.scrape_configs.map((job) => job.job_name)).to.deep.equal([
      "prometheus",
      "alertmanager",
      "node",
      "cadvisor",
      "billing",
      "db-node",
      "orders",
    ]);
  });

  it("gives every job a row in the stack-health dashboard, and the HTTP-contract jobs the Service dashboard's job variable", () => {
    const { settings } = loadSettings({
      ...monitored,
      app: { enabled: false },
      loadtest: { target: "billing" },
    });
    const dashboards = buildDashboards(settings);
    const panelTitles = (uid: string) => {
      const board = dashboards.find((candidate) => candidate.uid === uid);
      return board ? dashboardPanels(board).map((panel) => panel.title) : [];
    };
    expect(panelTitles(alertsDashboard.uid)).to.include.members(["billing up", "db-node up", "orders up"]);
    expect(panelTitles(alertsDashboard.uid)).not.to.include("app up");
    const service = dashboards.find((board) => board.uid === serviceDashboard.uid);
    const variable = service?.templating.list?.find((candidate) => candidate.name === jobVariable);
    expect(variable?.current?.value).to.equal("billing");
    const queries = dashboardPanelQueries(settings, { job: "orders" }).filter(
      (query) => query.dashboard === serviceDashboard.title,
    );
    expect(queries.every((query) => !query.expr.includes("$"))).to.equal(true);
    expect(queries.some((query) => query.expr.includes('job="orders"'))).to.equal(true);
  });

  it("refuses bad entries, each message naming its key", () => {
    expect(settingsProblems({ targets: [{ job: "prometheus", addresses: ["x:1"] }] })).to.deep.equal([
      'targets[0].job: "prometheus" is a name of the stack itself (app, prometheus, alertmanager, node, cadvisor, grafana, mailpit, node-exporter, prometheus-0, prometheus-1, alertmanager-1); choose another',
    ]);
    // The host's node exporter job and container are the stack's only while host.enabled.
    expect(settingsProblems({ targets: [{ job: "node", addresses: ["x:1"] }] })).to.deep.equal([
      'targets[0].job: "node" is a name of the stack itself (app, prometheus, alertmanager, node, cadvisor, grafana, mailpit, node-exporter, prometheus-0, prometheus-1, alertmanager-1); choose another',
    ]);
    expect(
      settingsProblems({ host: { enabled: false }, targets: [{ job: "node", addresses: ["x:1"] }] }),
    ).to.deep.equal([]);
    // The blackbox exporter's job and container are the stack's only while there are probes.
    expect(settingsProblems({ targets: [{ job: "probe", addresses: ["x:1"] }] })).to.deep.equal([]);
    expect(
      settingsProblems({
        probes: [{ name: "site", http: { url: "https://example.com/" } }],
        targets: [{ job: "probe", addresses: ["x:1"] }],
      }),
    ).to.deep.equal([
      'targets[0].job: "probe" is a name of the stack itself (app, prometheus, alertmanager, node, cadvisor, probe, grafana, mailpit, node-exporter, blackbox-exporter, prometheus-0, prometheus-1, alertmanager-1); choose another',
    ]);
    expect(
      settingsProblems({
        targets: [{ job: "api", addresses: ["a:1"] }],
        services: [{ ...monitored.services[0], job: "api" }],
      }),
    ).to.deep.equal([
      'services[0].job: "api" is already the job of targets[0]; every job name must be distinct',
    ]);
    expect(
      settingsProblems({ targets: [{ job: "api", addresses: ["api:99999", "no-port"] }] }),
    ).to.deep.equal([
      'targets[0].addresses[0]: port 99999 is out of range; it must be from 1 to 65535 (got "api:99999")',
      'targets[0].addresses[1]: must be host:port, such as host.docker.internal:8080, 10.0.0.5:9100 or api.internal:443 (an IPv6 address in brackets) (got "no-port")',
    ]);
    const service = monitored.services[0];
    expect(settingsProblems({ services: [{ ...service, image: "ghcr.io/acme/orders" }] })[0]).to.match(
      /^services\[0\]\.image: must be pinned: a tag other than latest/,
    );
    expect(settingsProblems({ services: [{ ...service, image: "acme/orders:latest" }] })[0]).to.match(
      /^services\[0\]\.image/,
    );
    expect(
      settingsProblems({ services: [{ ...service, image: `acme/orders@sha256:${"a".repeat(64)}` }] }),
    ).to.deep.equal([]);
    expect(settingsProblems({ services: [{ ...service, port: 0 }] })[0]).to.match(/^services\[0\]\.port/);
    expect(settingsProblems({ targets: [{ job: "9lives", addresses: ["a:1"] }] })[0]).to.match(
      /^targets\[0\]\.job/,
    );
    expect(
      settingsProblems({ targets: [{ ...monitored.targets[0], alerts: { watchdog: {} } }] })[0],
    ).to.match(/^targets\[0\]\.alerts\.watchdog: unknown setting/);
  });

  it("lets the load test drive only a known job with the HTTP contract", () => {
    expect(settingsProblems({ ...monitored, loadtest: { target: "db-node" } })).to.deep.equal([
      'loadtest.target: "db-node" is not a monitored job with httpContract; choose one of app, billing, orders, or set loadtest.enabled to false',
    ]);
    expect(settingsProblems({ app: { enabled: false } })).to.deep.equal([
      'loadtest.target: "app" is not a monitored job with httpContract; or set loadtest.enabled to false',
    ]);
    expect(settingsProblems({ app: { enabled: false }, loadtest: { enabled: false } })).to.deep.equal([]);
  });

  describe("with promtool", () => {
    it("renders a valid config, lint-clean rules and generated unit tests per job that pass", async function () {
      this.timeout(60_000);
      const { promtool } = requireBinaries(this, "promtool");
      const { settings } = loadSettings(monitored);
      const dir = renderToDisk(settings, loopbackEndpoints(2));
      try {
        const config = await runTool(
          promtool,
          ["check", "config", renderedPaths.prometheusConfig(0)],
          dir.path,
        );
        expect(config.exitCode, config.output).to.equal(0);
        const rules = await runTool(
          promtool,
          ["check", "rules", "--lint=all", renderedPaths.alertRules],
          dir.path,
        );
        expect(rules.exitCode, rules.output).to.equal(0);
        expect(rules.output).not.to.include("duplicate");
        const tests = await runTool(promtool, ["test", "rules", renderedPaths.alertRuleTests], dir.path);
        expect(tests.exitCode, tests.output).to.equal(0);
        expect(tests.output).to.include("SUCCESS");
      } finally {
        dir.remove();
      }
    });
  });
});
