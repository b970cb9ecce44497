import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import { parse } from "yaml";
import { requireBinaries } from "../../test-support/binaries";
import { realisticCustomAlertExprs } from "../../test-support/custom-alerts";
import {
  dockerTestEndpoints,
  loopbackEndpoints,
  promtoolRuleErrors,
  renderToDisk,
  runTool,
} from "../../test-support/promtool";
import { ruleGroups } from "../names";
import { renderedPaths } from "../runtime/layout";
import { alertNames } from "../settings/alert-specs";
import { SettingsError } from "../settings/load";
import { settingsSchema } from "../settings/schema";
import { loadSettings } from "../validate";
import { watchdogSeverity } from "./built-in-alerts";
import {
  alertRules,
  customAlertsRunbookSection,
  renderAlertRules,
  runbookAnchor,
  runbookPath,
} from "./rules";

interface RuleFile {
  groups: {
    name: string;
    rules: {
      alert: string;
      expr: string;
      for?: string;
      labels: Record<string, string>;
      annotations: Record<string, string>;
    }[];
  }[];
}

/** Custom alerts as users write them, each valid. */
const realisticCustomAlerts = realisticCustomAlertExprs.map((expr, i) => ({
  name: `Custom${i}`,
  expr,
  summary: "Something of mine needs attention.",
  description: "{{ $labels.instance }}: {{ $value | humanize }}",
}));

/**
 * Custom alerts that render, but that Prometheus refuses to load or cannot evaluate, each with the setting
 * loadSettings names.
 */
const refusedCustomAlerts = [
  { path: "expr", alert: { expr: "rate(up) > 0" } },
  { path: "expr", alert: { expr: "up[5m]" } },
  { path: "expr", alert: { expr: "histogram_quantile(up, up)" } },
  { path: "description", alert: { description: "{{ $value | humanise }} {{ $labels.instance" } },
  { path: "summary", alert: { summary: "Backlog on {{ $labels.instance" } },
].map(({ path, alert }, i) => ({
  path: `alerts.custom[${i}].${path}`,
  alert: {
    name: `Refused${i}`,
    expr: "vector(1)",
    summary: "s",
    description: "{{ $value }}",
    ...alert,
  },
}));

const customAlert = {
  name: "QueueBacklog",
  expr: 'sum by (job) (app_items{job="app"}) > 1000',
  for: "2m",
  severity: "info",
  summary: "Too many items are stored.",
  description: "{{ $labels.job }} stores {{ $value | humanize }} items.",
} as const;

function ruleFile(input: object = {}): RuleFile {
  const { settings } = loadSettings(input);
  return parse(renderAlertRules(settings, dockerTestEndpoints(settings))) as RuleFile;
}

/** The alert rules by name; the recorded series the rules read are left out. */
function rulesByName(input: object = {}) {
  return new Map(
    ruleFile(input).groups.flatMap((group) =>
      group.rules.flatMap((rule) => ("record" in rule ? [] : [[rule.alert, { ...rule, group: group.name }]])),
    ),
  );
}

/** Anchors of the level-2 headings of RUNBOOK.md. */
function runbookAnchors(): Set<string> {
  const runbook = readFileSync(join(__dirname, "..", "..", "RUNBOOK.md"), "utf8");
  return new Set([...runbook.matchAll(/^## (.+)$/gm)].map((match) => runbookAnchor(match[1] ?? "")));
}

/** One probe, so that the alerts on probes exist. */
const aProbe = { probes: [{ name: "site", http: { url: "https://example.com/" } }] };
const probeAlertNames: readonly string[] = [
  alertNames.probeFailed,
  alertNames.probeSlow,
  alertNames.probeCertificateExpiring,
];

describe("renderAlertRules", () => {
  it("has every built-in alert by default, in its group, and the probe alerts once there are probes", () => {
    const rules = rulesByName();
    expect([...rules.keys()]).to.have.members(
      Object.values(alertNames).filter((name) => !probeAlertNames.includes(name)),
    );
    expect(rules.get(alertNames.highRequestVolume)?.group).to.equal(ruleGroups.app);
    expect(rules.get(alertNames.prometheusDown)?.group).to.equal(ruleGroups.stack);
    const withProbes = rulesByName(aProbe);
    expect([...withProbes.keys()]).to.have.members(Object.values(alertNames));
    for (const name of probeAlertNames) expect(withProbes.get(name)?.group, name).to.equal(ruleGroups.probes);
  });

  it("gives a probe that overrides a probe alert a rule of its own, labelled with the probe, and keeps it out of the shared rule", () => {
    const file = ruleFile({
      probes: [
        { name: "site", http: { url: "https://example.com/" } },
        { name: "db", tcp: { address: "db.internal:5432" }, alerts: { probeSlow: { maxSeconds: 3 } } },
        { name: "quiet", tcp: { address: "db.internal:5433" }, alerts: { probeFailed: { enabled: false } } },
      ],
    });
    const rules = file.groups.flatMap((group) => group.rules);
    const slow = rules.filter((rule) => rule.alert === alertNames.probeSlow);
    expect(slow.map((rule) => [rule.expr, rule.labels])).to.deep.equal([
      ['probe_duration_seconds{job="probe",probe!~"db"} > 1', { severity: "warning" }],
      ['probe_duration_seconds{job="probe",probe="db"} > 3', { severity: "warning", probe: "db" }],
    ]);
    const failed = rules.filter((rule) => rule.alert === alertNames.probeFailed);
    expect(failed.map((rule) => rule.expr)).to.deep.equal(['probe_success{job="probe",probe!~"quiet"} == 0']);
  });

  it("gives every alert a severity, a one-line summary without variables, a description with the value, and a runbook link", () => {
    const anchors = runbookAnchors();
    for (const rule of rulesByName({ ...aProbe, alerts: { custom: [customAlert] } }).values()) {
      expect(rule.labels.severity, rule.alert).to.be.a("string").and.not.equal("");
      expect(rule.annotations.summary, rule.alert).to.match(/^[^\n{}]+$/);
      expect(rule.annotations.description, rule.alert).to.include("{{ $value");
      // The e-mail shows the value as the description prints it.
      const valueTemplate = rule.annotations.value ?? "";
      expect(valueTemplate, rule.alert).to.match(/^\{\{ \$value \| humanize\w* \}\}$/);
      if (rule.alert !== customAlert.name)
        expect(rule.annotations.description, rule.alert).to.include(valueTemplate);
      if (rule.alert !== alertNames.watchdog)
        expect(rule.annotations.description, rule.alert).to.include("{{ $labels.");
      const [base, anchor] = (rule.annotations.runbook_url ?? "").split("#");
      expect(base, rule.alert).to.equal(runbookPath);
      expect(anchors.has(anchor ?? ""), `RUNBOOK.md has no section for ${rule.alert} (#${anchor})`).to.equal(
        true,
      );
    }
  });

  it("links the runbook where the settings say it is published", () => {
    const url = "https://github.com/acme/watchtower/blob/main/RUNBOOK.md";
    for (const rule of rulesByName({ runbook: { url } }).values()) {
      expect(rule.annotations.runbook_url).to.equal(`${url}#${runbookAnchor(rule.alert)}`);
    }
  });

  it("takes thresholds, windows, durations and severities from the settings", () => {
    const rules = rulesByName({
      scrape: { interval: "10s", timeout: "5s" },
      alerts: {
        highRequestVolume: { maxRequests: 4321, window: "7m", for: "37s", severity: "critical" },
        highErrorRate: { maxRatio: 0.0123, window: "3m" },
        highLatency: { p95Seconds: 2.5, window: "4m" },
        instanceDown: { for: "45s", severity: "info" },
        ruleEvaluationFailures: { window: "11m" },
        notificationsFailing: { window: "13m" },
      },
    });
    const hrv = rules.get(alertNames.highRequestVolume);
    expect(hrv?.expr).to.match(/increase\(app_http_requests_total\{job="app"\}\[7m\]\)\) > 4321$/);
    expect(hrv?.for).to.equal("37s");
    expect(hrv?.labels.severity).to.equal("critical");
    expect(rules.get(alertNames.highErrorRate)?.expr)
      .to.include("[3m]")
      .and.match(/ > 0\.0123$/);
    expect(rules.get(alertNames.highLatency)?.expr)
      .to.include("[4m]")
      .and.match(/ > 2\.5$/);
    expect(rules.get(alertNames.instanceDown)).to.include({ for: "45s" });
    expect(rules.get(alertNames.instanceDown)?.labels.severity).to.equal("info");
    expect(rules.get(alertNames.ruleEvaluationFailures)?.expr).to.include("[11m]");
    expect(rules.get(alertNames.notificationsFailing)?.expr).to.include("[13m]");
  });

  it("counts requests with increase() over the window, never the raw counter", () => {
    const expr = rulesByName().get(alertNames.highRequestVolume)?.expr ?? "";
    expect(expr).to.match(
      /^sum by \(job\) \(increase\(app_http_requests_total\{job="app"\}\[1m\]\)\) > 500$/,
    );
  });

  it("has every replica report the others: PrometheusDown fires on any replica's up == 0", () => {
    expect(rulesByName().get(alertNames.prometheusDown)?.expr).to.equal('up{job="prometheus"} == 0');
  });

  it("watches both halves of notification delivery", () => {
    const expr = rulesByName().get(alertNames.notificationsFailing)?.expr ?? "";
    expect(expr).to.include('prometheus_notifications_errors_total{job="prometheus"}');
    expect(expr).to.include('alertmanager_notifications_failed_total{job="alertmanager"}');
  });

  it("always fires the Watchdog, with a severity no receiver pages on", () => {
    const watchdog = rulesByName().get(alertNames.watchdog);
    expect(watchdog?.expr).to.equal("vector(1)");
    expect(watchdog?.for).to.equal(undefined);
    expect(watchdog?.labels.severity).to.equal(watchdogSeverity);
  });

  it("leaves out disabled alerts, and empty groups", () => {
    const rules = rulesByName({ alerts: { highLatency: { enabled: false }, watchdog: { enabled: false } } });
    expect(rules.has(alertNames.highLatency)).to.equal(false);
    expect(rules.has(alertNames.watchdog)).to.equal(false);
    expect(rules.has(alertNames.highErrorRate)).to.equal(true);
    const appOnly = ruleFile({
      alerts: Object.fromEntries(
        [
          "prometheusDown",
          "alertmanagerDown",
          "watchdog",
          "ruleEvaluationFailures",
          "notConnectedToAlertmanager",
          "alertmanagerClusterMembersMissing",
          "alertmanagerClusterFailedPeers",
          "notificationsFailing",
          "hostDiskFillingUp",
          "hostMemoryLow",
          "hostDiskWillFillIn",
          "hostCpuSaturated",
          "hostDiskIoSaturated",
          "hostClockSkew",
          "hostExporterDown",
          "containerOomKilled",
          "containerNearMemoryLimit",
          "containerRestarting",
          "containerMissing",
        ].map((key) => [key, { enabled: false }]),
      ),
    });
    expect(appOnly.groups.map((group) => group.name)).to.deep.equal([ruleGroups.app]);
    const withoutHost = ruleFile({ host: { enabled: false } });
    expect(withoutHost.groups.map((group) => group.name)).to.deep.equal([ruleGroups.app, ruleGroups.stack]);
  });

  it("includes custom alerts as written, with the runbook's custom section", () => {
    const rule = rulesByName({ alerts: { custom: [customAlert] } }).get(customAlert.name);
    expect(rule).to.deep.include({ group: ruleGroups.custom, expr: customAlert.expr, for: customAlert.for });
    expect(rule?.labels).to.deep.equal({ severity: customAlert.severity });
    expect(rule?.annotations).to.deep.equal({
      summary: customAlert.summary,
      description: customAlert.description,
      value: "{{ $value | humanize }}",
      runbook_url: `${runbookPath}#${runbookAnchor(customAlertsRunbookSection)}`,
    });
  });

  it("lists the same rules as alertRules", () => {
    const { settings } = loadSettings({ alerts: { custom: [customAlert] } });
    expect([...rulesByName({ alerts: { custom: [customAlert] } }).keys()]).to.deep.equal(
      alertRules(settings).map((rule) => rule.name),
    );
  });

  describe("promtool check rules", () => {
    let promtool: string;

    before(function () {
      ({ promtool } = requireBinaries(this, "promtool"));
    });

    for (const [name, input] of [
      ["the defaults", {}],
      ["a custom alert", { alerts: { custom: [customAlert] } }],
      ["realistic custom alerts", { alerts: { custom: realisticCustomAlerts } }],
      [
        "every built-in alert disabled",
        { alerts: Object.fromEntries(Object.keys(alertNames).map((key) => [key, { enabled: false }])) },
      ],
    ] as const) {
      it(`accepts the rules of ${name}, with every lint`, async () => {
        const { settings } = loadSettings(input);
        const dir = renderToDisk(settings, loopbackEndpoints(settings.prometheus.replicas));
        try {
          const result = await runTool(
            promtool,
            ["check", "rules", "--lint=all", "--lint-fatal", renderedPaths.alertRules],
            dir.path,
          );
          expect(result.exitCode, result.output).to.equal(0);
        } finally {
          dir.remove();
        }
      });
    }

    it("renders custom alerts that Prometheus refuses, and which loadSettings rejects first, naming them", async () => {
      const alerts = { custom: refusedCustomAlerts.map(({ alert }) => alert) };
      expect(() => loadSettings({ alerts }))
        .to.throw(SettingsError)
        .with.property("problems")
        .that.satisfies((problems: string[]) =>
          refusedCustomAlerts.every(({ path }) =>
            problems.some((problem) => problem.startsWith(`${path}: `)),
          ),
        );
      // Settings that skipped loadSettings: what the rule file would hold without it.
      const settings = settingsSchema.parse({ alerts });
      const rules = renderAlertRules(settings, dockerTestEndpoints(settings));
      const errors = await promtoolRuleErrors(promtool, rules);
      expect(
        refusedCustomAlerts.map(({ alert }) => alert.name).filter((name) => !errors.has(name)),
      ).to.deep.equal([]);
    });
  });
});
