import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import { parse } from "yaml";
import { makeTempDir, type TempDir } from "../test-support/cleanup";
import { dockerTestEndpoints, loopbackEndpoints } from "../test-support/promtool";
import { PromqlError } from "./promql/lint";
import { expectedContainerRecord } from "./promql/queries";
import { renderAll } from "./render";
import { renderedPaths } from "./runtime/layout";
import { alertNames } from "./settings/alert-specs";
import { settingsSchema } from "./settings/schema";
import { readStackConfig } from "./settings/stack-file";
import { loadSettings } from "./validate";

describe("renderAll", () => {
  it("renders every file of the layout, one configuration per Prometheus replica", () => {
    const { settings } = loadSettings({ prometheus: { replicas: 3 } });
    const paths = Object.keys(renderAll(settings, dockerTestEndpoints(settings)));
    expect(paths).to.include.members([
      renderedPaths.prometheusConfig(0),
      renderedPaths.prometheusConfig(1),
      renderedPaths.prometheusConfig(2),
      renderedPaths.alertRules,
      renderedPaths.alertRuleTests,
      renderedPaths.alertmanagerConfig,
      renderedPaths.grafanaDatasources,
      renderedPaths.grafanaDashboardProvider,
      renderedPaths.loadtestOptions,
    ]);
    expect(paths).not.to.include(renderedPaths.prometheusConfig(3));
    expect(
      paths.some((path) => path.startsWith(renderedPaths.grafanaDashboard("").replace(/\.json$/, ""))),
    ).to.equal(true);
  });

  it("leaves the rules' unit tests out when asked, and nothing else", () => {
    const { settings } = loadSettings({});
    const withTests = renderAll(settings, dockerTestEndpoints(settings));
    const deployed = renderAll(settings, dockerTestEndpoints(settings), { ruleTests: false });
    const testFiles = Object.keys(withTests).filter((path) => path.startsWith("prometheus/tests/"));
    expect(testFiles).to.include(renderedPaths.alertRuleTests);
    expect(testFiles.length).to.be.greaterThan(1);
    expect(Object.keys(deployed).sort()).to.deep.equal(
      Object.keys(withTests)
        .filter((path) => !testFiles.includes(path))
        .sort(),
    );
    for (const [path, content] of Object.entries(deployed)) expect(content, path).to.equal(withTests[path]);
  });

  it("renders a fleet of 500 jobs with the HTTP contract into as many rules as one job", () => {
    const fleet = (size: number) =>
      loadSettings({
        targets: Array.from({ length: size }, (_, i) => ({
          job: `svc-${i}`,
          addresses: [`10.0.${Math.floor(i / 250)}.${(i % 250) + 1}:8080`],
          httpContract: true,
        })),
      }).settings;
    const ruleCount = (settings: ReturnType<typeof fleet>) => {
      const files = renderAll(settings, dockerTestEndpoints(settings), { ruleTests: false });
      return [renderedPaths.alertRules, renderedPaths.sloRules]
        .flatMap((path) => (parse(files[path] ?? "") as { groups: { rules: unknown[] }[] }).groups)
        .reduce((count, group) => count + group.rules.length, 0);
    };
    expect(ruleCount(fleet(500))).to.equal(ruleCount(fleet(1)));
  });

  it("renders no load test options while the load test is off, whatever its settings", () => {
    // One request per window leaves the warm-up nothing to send: no plan can be made, and none is needed.
    const { settings } = loadSettings({
      alerts: { highRequestVolume: { maxRequests: 1 } },
      loadtest: { enabled: false },
    });
    const paths = Object.keys(renderAll(settings, dockerTestEndpoints(settings)));
    expect(paths).not.to.include(renderedPaths.loadtestOptions);
    expect(paths).to.include(renderedPaths.alertRules);
  });

  it("renders the same rules for the Docker stack and for loopback: only addresses and containers differ", () => {
    const { settings } = loadSettings({});
    const docker = renderAll(settings, dockerTestEndpoints(settings));
    const loopback = renderAll(settings, loopbackEndpoints(2));
    type Rules = { groups: { name: string; rules: { record?: string }[] }[] };
    const groups = (files: typeof docker) => (parse(files[renderedPaths.alertRules] ?? "") as Rules).groups;
    const expected = (files: typeof docker) =>
      groups(files).flatMap((group) => group.rules.filter((rule) => rule.record === expectedContainerRecord));
    const withoutExpected = (files: typeof docker) =>
      groups(files).map((group) => ({
        ...group,
        rules: group.rules.filter((rule) => rule.record !== expectedContainerRecord),
      }));
    expect(withoutExpected(loopback)).to.deep.equal(withoutExpected(docker));
    // The loopback stack's services are processes: ContainerMissing expects no container there.
    expect(expected(loopback)).to.deep.equal([]);
    expect(expected(docker)).to.have.length(dockerTestEndpoints(settings).containers.length);
    expect(loopback[renderedPaths.prometheusConfig(0)]).not.to.equal(
      docker[renderedPaths.prometheusConfig(0)],
    );
  });

  it("refuses endpoints for a different number of replicas", () => {
    const { settings } = loadSettings({ prometheus: { replicas: 3 } });
    expect(() => renderAll(settings, loopbackEndpoints(2))).to.throw(
      /2 Prometheus replicas but prometheus.replicas is 3/,
    );
  });

  it("parses every expression, naming the rule that does not parse", () => {
    // Settings that skipped loadSettings, which would have rejected the expression first.
    const settings = settingsSchema.parse({
      alerts: { custom: [{ name: "Broken", expr: "rate(x[5m]", summary: "s", description: "d" }] },
    });
    expect(() => renderAll(settings, loopbackEndpoints(2)))
      .to.throw(PromqlError)
      .with.property("message")
      .that.includes("alert rule Broken");
  });
});

/**
 * Changing one threshold in a stack file changes the rule's expression, the rule's unit tests and the
 * dashboard's threshold line, and nothing else; the load test's options also follow the thresholds it aims at.
 */
describe("golden: one threshold changed in a stack file", () => {
  let project: TempDir;

  before(() => {
    project = makeTempDir("golden-");
    writeFileSync(join(project.path, "Pulumi.yaml"), "name: watchtower\nruntime: nodejs\n");
  });

  after(() => project.remove());

  function renderStack(stack: string, alerts: string): Record<string, string> {
    writeFileSync(
      join(project.path, `Pulumi.${stack}.yaml`),
      `# A stack file as Pulumi writes it.\nencryptionsalt: v1:abc\nconfig:\n  watchtower:alerts:\n${alerts}`,
    );
    const { settings } = loadSettings(readStackConfig(project.path, stack));
    return { ...renderAll(settings, dockerTestEndpoints(settings)) };
  }

  const cases = [
    {
      setting: "alerts.highErrorRate.maxRatio",
      alert: alertNames.highErrorRate,
      yaml: (value: number) => `    highErrorRate:\n      maxRatio: ${value}\n`,
      from: 0.05,
      to: 0.125,
      alsoChanges: [],
    },
    {
      setting: "alerts.highRequestVolume.maxRequests",
      alert: alertNames.highRequestVolume,
      yaml: (value: number) => `    highRequestVolume:\n      maxRequests: ${value}\n`,
      from: 500,
      to: 600,
      alsoChanges: [renderedPaths.loadtestOptions],
    },
    {
      setting: "alerts.highLatency.p95Seconds",
      alert: alertNames.highLatency,
      yaml: (value: number) => `    highLatency:\n      p95Seconds: ${value}\n`,
      from: 0.5,
      to: 0.75,
      alsoChanges: [renderedPaths.loadtestOptions],
    },
  ];

  for (const { setting, alert, yaml, from, to, alsoChanges } of cases) {
    describe(`${setting}: ${from} → ${to}`, () => {
      let before: Record<string, string>;
      let after: Record<string, string>;
      let changed: string[];

      beforeEach(() => {
        before = renderStack("before", yaml(from));
        after = renderStack("after", yaml(to));
        expect(Object.keys(after)).to.deep.equal(Object.keys(before));
        changed = Object.keys(before).filter((path) => before[path] !== after[path]);
      });

      const lines = (text: string | undefined) => (text ?? "").split("\n");
      const changedLines = (path: string) => {
        const old = lines(before[path]);
        const next = lines(after[path]);
        expect(next.length, `${path} changed its number of lines`).to.equal(old.length);
        return old.flatMap((line, i) => (line === next[i] ? [] : [{ old: line, next: next[i] ?? "" }]));
      };

      it("changes only the rules, their tests, dashboards and the files that aim at the threshold", () => {
        const dashboards = changed.filter((path) => path.endsWith(".json") && path.startsWith("grafana/"));
        expect(changed).to.include.members([renderedPaths.alertRules, renderedPaths.alertRuleTests]);
        expect(dashboards, "a dashboard draws the threshold").not.to.be.empty;
        expect(changed).to.have.members([
          renderedPaths.alertRules,
          renderedPaths.alertRuleTests,
          ...dashboards,
          ...alsoChanges,
        ]);
      });

      it("changes exactly one line of the rules: the alert's expression, by the threshold", () => {
        const [only, ...others] = changedLines(renderedPaths.alertRules);
        expect(others).to.deep.equal([]);
        expect(only?.old.trim()).to.match(/^expr: /);
        expect(only?.old.replace(String(from), String(to))).to.equal(only?.next);
        const rule = (
          parse(after[renderedPaths.alertRules] ?? "") as {
            groups: { rules: { alert: string; expr: string }[] }[];
          }
        ).groups
          .flatMap((group) => group.rules)
          .find((candidate) => candidate.alert === alert);
        expect(only?.next.trim()).to.equal(`expr: ${rule?.expr}`);
      });

      it("changes the unit tests of that alert only", () => {
        type Tests = { tests: { name: string }[] };
        const testsOf = (files: Record<string, string>, own: boolean) =>
          (parse(files[renderedPaths.alertRuleTests] ?? "") as Tests).tests.filter(
            (test) => test.name.startsWith(`${alert}:`) === own,
          );
        expect(testsOf(after, false)).to.deep.equal(testsOf(before, false));
        expect(testsOf(after, true)).not.to.deep.equal(testsOf(before, true));
      });

      it("changes in the dashboards only the threshold's value", () => {
        for (const path of changed.filter((p) => p.startsWith("grafana/"))) {
          const differences = changedLines(path);
          expect(differences, path).not.to.be.empty;
          for (const { old, next } of differences)
            expect(old.replace(String(from), String(to)), path).to.equal(next);
        }
      });
    });
  }
});
