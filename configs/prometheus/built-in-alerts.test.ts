import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import { parse } from "yaml";
import { z } from "zod";
import { repositoryRoot } from "../../infra/repository";
import { metricNames } from "../../service/metrics-contract";
import { requireBinaries } from "../../test-support/binaries";
import { makeTempDir } from "../../test-support/cleanup";
import { loopbackEndpoints, runTool } from "../../test-support/promtool";
import { jobs, ruleGroups } from "../names";
import { jobSelector } from "../promql/queries";
import { renderedPaths, writeRenderedFiles } from "../runtime/layout";
import { forSetting, switchable, windowSetting } from "../settings/alert-settings";
import { alertNames, alertSpec, builtInAlertSpecs } from "../settings/alert-specs";
import { windowProblems } from "../settings/load";
import { type Settings, settingsSchema } from "../settings/schema";
import { loadSettings } from "../validate";
import { alertsTableMarkdown, builtInAlertRegistry, builtInAlerts, defineAlert } from "./built-in-alerts";
import { counterFailureTest } from "./rule-test-scenarios";
import { renderAlertRuleTests } from "./rule-tests";
import { renderAlertRules } from "./rules";

const readRepositoryFile = (name: string) => readFileSync(join(repositoryRoot, name), "utf8");

/** An alert that exists only in this test, defined as a built-in one is: a spec and its behaviour. */
const itemsCreatedSpec = alertSpec({
  name: "TestOnlyItemsCreated",
  doc: "The app created an item within `window`.",
  settings: { ...switchable("info"), window: windowSetting("2m"), for: forSetting("20s") },
});
const itemsCreated = defineAlert(itemsCreatedSpec, {
  group: ruleGroups.app,
  rule: (config) => ({
    expr: `increase(${metricNames.itemsCreatedTotal}{${jobSelector(jobs.app)}}[${config.window}]) > 0`,
    summary: "The app created items.",
    description: [{ label: "instance" }, " created ", { value: "humanize" }, ` items in ${config.window}.`],
  }),
  unitTests: (alert, context, config) => [
    counterFailureTest(alert, context, config.window, {
      name: metricNames.itemsCreatedTotal,
      labels: { job: jobs.app, instance: context.endpoints.app },
      alertLabels: ["job", "instance"],
      what: "items are created",
    }),
  ],
  readme: { firesWhen: "an item is created", defaults: (config) => `within ${config.window}` },
});

const registry = { ...builtInAlertRegistry, itemsCreated };
const specs = { ...builtInAlertSpecs, itemsCreated: itemsCreatedSpec };

/** The default settings, with the test-only alert's settings as its own entry's schema makes them. */
function settingsWithTestAlert(input: object = {}): Settings {
  const shape = z.strictObject({ itemsCreated: itemsCreatedSpec.schema.prefault({}) });
  const defaults = loadSettings({}).settings;
  return {
    ...defaults,
    alerts: { ...defaults.alerts, ...shape.parse({ itemsCreated: input }) },
  } as Settings;
}

describe("the registry of built-in alerts", () => {
  it("makes the alerts settings: one key per alert, described by its entry, beside the custom alerts", () => {
    const alerts = z.toJSONSchema(settingsSchema, { io: "input", unrepresentable: "any" }).properties?.alerts;
    const properties = typeof alerts === "object" ? (alerts.properties ?? {}) : {};
    expect(Object.keys(properties)).to.have.members([...Object.keys(builtInAlertRegistry), "custom"]);
    for (const [key, definition] of Object.entries(builtInAlertRegistry)) {
      const property = properties[key];
      expect(typeof property === "object" && property.description, key).to.equal(definition.spec.doc);
    }
    expect(Object.keys(alertNames)).to.deep.equal(Object.keys(builtInAlertRegistry));
  });

  it("is what Pulumi.dev.yaml explains: each alert's comment starts with its entry's doc", () => {
    const lines = readRepositoryFile("Pulumi.dev.yaml").split("\n");
    for (const [key, definition] of Object.entries(builtInAlertRegistry)) {
      const at = lines.indexOf(`    ${key}:`);
      expect(at, `Pulumi.dev.yaml has alerts.${key}`).to.be.greaterThan(0);
      const comment: string[] = [];
      for (let line = at - 1; /^ {4}#/.test(lines[line] ?? ""); line--)
        comment.unshift((lines[line] ?? "").replace(/^ {4}# ?/, ""));
      expect(comment.join(" "), `the comment above alerts.${key}`).to.match(
        new RegExp(`^${definition.spec.doc.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`),
      );
    }
  });

  it("is the alerts page's table, defaults included", () => {
    expect(readRepositoryFile("docs/alerts.md")).to.include(alertsTableMarkdown());
  });

  describe("with an alert added to it", () => {
    it("gives the alert its settings, with their defaults, and validates them", () => {
      const settings = settingsWithTestAlert();
      expect(settings.alerts).to.have.property("itemsCreated").that.deep.equals({
        enabled: true,
        severity: "info",
        window: "2m",
        for: "20s",
      });
      const tooShort = settingsWithTestAlert({ window: "10s" });
      expect(windowProblems(tooShort, specs).map((problem) => problem.message)).to.deep.equal([
        "alerts.itemsCreated.window: 10s is too short; it must be at least 4 x scrape.interval (4 x 5s = 20s) so that rate() and increase() see enough samples",
      ]);
    });

    it("writes its rule into its group, and its row into the alerts page's table", () => {
      const file = parse(renderAlertRules(settingsWithTestAlert(), loopbackEndpoints(2), registry)) as {
        groups: { name: string; rules: { alert: string; labels: { severity: string } }[] }[];
      };
      const app = file.groups.find((group) => group.name === ruleGroups.app);
      expect(app?.rules.map((rule) => rule.alert)).to.include(itemsCreatedSpec.name);
      expect(app?.rules.find((rule) => rule.alert === itemsCreatedSpec.name)?.labels.severity).to.equal(
        "info",
      );
      expect(alertsTableMarkdown(registry)).to.include(
        `| ${itemsCreatedSpec.name} | an item is created | within 2m |`,
      );
      expect(
        builtInAlerts(settingsWithTestAlert({ enabled: false }), registry).map((a) => a.name),
      ).not.to.include(itemsCreatedSpec.name);
    });

    it("generates its unit tests, and the real promtool passes them with the others", async function () {
      this.timeout(60_000);
      const { promtool } = requireBinaries(this, "promtool");
      const settings = settingsWithTestAlert();
      const endpoints = loopbackEndpoints(settings.prometheus.replicas);
      const tests = renderAlertRuleTests(settings, endpoints, registry);
      const names = (parse(tests) as { tests: { name: string }[] }).tests.map((test) => test.name);
      expect(names.filter((name) => name.startsWith(itemsCreatedSpec.name))).to.have.length(1);
      const dir = makeTempDir("registry-");
      try {
        writeRenderedFiles(dir.path, {
          [renderedPaths.alertRules]: renderAlertRules(settings, endpoints, registry),
          [renderedPaths.alertRuleTests]: tests,
        });
        const result = await runTool(promtool, ["test", "rules", renderedPaths.alertRuleTests], dir.path);
        expect(result.exitCode, result.output).to.equal(0);
        expect(result.output).to.include("SUCCESS");
      } finally {
        dir.remove();
      }
    });
  });
});
