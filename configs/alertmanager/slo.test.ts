import { execFile } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";
import { parse } from "yaml";
import { requireBinaries } from "../../test-support/binaries";
import { makeTempDir, type TempDir } from "../../test-support/cleanup";
import { dockerTestEndpoints } from "../../test-support/promtool";
import { jobs, sloAlertNames } from "../names";
import { renderedPaths } from "../runtime/layout";
import { alertNames } from "../settings/alert-specs";
import { loadSettings } from "../validate";
import { type AlertmanagerConfig, receiverNames, renderAlertmanagerConfig } from "./config";

const run = promisify(execFile);

function configFor(input: object = {}): AlertmanagerConfig {
  const { settings } = loadSettings(input);
  return parse(renderAlertmanagerConfig(settings, dockerTestEndpoints(settings))) as AlertmanagerConfig;
}

const ruleNamed = (config: AlertmanagerConfig, name: string) =>
  config.inhibit_rules.find((rule) => rule.name === name);

describe("Alertmanager and the SLO alerts", () => {
  it("groups them per SLO and severity, on the e-mail receiver every other alert goes to", () => {
    const route = configFor().route.routes?.find((candidate) =>
      candidate.matchers?.some((m) => m.includes(sloAlertNames.errorBudgetBurn)),
    );
    expect(route).to.deep.equal({
      receiver: receiverNames.email,
      matchers: [`alertname=~"${sloAlertNames.errorBudgetBurn}|${sloAlertNames.metricsAbsent}"`],
      group_by: ["alertname", "job", "slo", "severity"],
    });
  });

  it("lets a burning SLO silence its threshold twin, and not while the twin is disabled", () => {
    const config = configFor();
    expect(ruleNamed(config, `availability-burn-silences-${alertNames.highErrorRate}`)).to.deep.include({
      source_matchers: [`alertname="${sloAlertNames.errorBudgetBurn}"`, 'slo="availability"'],
      target_matchers: [`alertname="${alertNames.highErrorRate}"`],
      equal: ["job"],
    });
    expect(
      ruleNamed(config, `latency-burn-silences-${alertNames.highLatency}`)?.target_matchers,
    ).to.deep.equal([`alertname="${alertNames.highLatency}"`]);
    const withoutTwin = configFor({ alerts: { highErrorRate: { enabled: false } } });
    expect(ruleNamed(withoutTwin, `availability-burn-silences-${alertNames.highErrorRate}`)).to.equal(
      undefined,
    );
  });

  it("lets the faster pair of an SLO silence the slower pair of the same severity, in the windows in effect", () => {
    const names = (input: object) =>
      configFor(input)
        .inhibit_rules.filter((rule) => rule.name.startsWith("burn-"))
        .map((rule) => [rule.name, rule.equal]);
    expect(names({})).to.deep.equal([
      ["burn-1h-silences-burn-6h", ["job", "slo"]],
      ["burn-1d-silences-burn-3d", ["job", "slo"]],
    ]);
    expect(names({ scrape: { interval: "1s", timeout: "1s" }, slo: { timeCompression: 60 } })).to.deep.equal([
      ["burn-1m-silences-burn-6m", ["job", "slo"]],
      ["burn-24m-silences-burn-1h12m", ["job", "slo"]],
    ]);
  });

  it("lets a job's InstanceDown silence its SLO alerts, and writes no SLO rule while every SLO is off", () => {
    expect(ruleNamed(configFor(), "service-down-silences-its-slo-alerts")).to.deep.include({
      source_matchers: [`alertname="${alertNames.instanceDown}"`],
      equal: ["job"],
    });
    const off = configFor({ slo: { availability: { enabled: false }, latency: { enabled: false } } });
    expect(off.inhibit_rules.map((rule) => rule.name).filter((name) => /slo|burn/.test(name))).to.deep.equal(
      [],
    );
  });

  describe("checked by amtool", function () {
    this.timeout(30_000);
    let amtool: string;
    let dir: TempDir | undefined;
    let configPath: string;

    before(function () {
      ({ amtool } = requireBinaries(this, "amtool"));
      dir = makeTempDir("alertmanager-slo-");
      configPath = join(dir.path, renderedPaths.alertmanagerConfig);
      mkdirSync(dirname(configPath), { recursive: true });
      const { settings } = loadSettings({});
      writeFileSync(configPath, renderAlertmanagerConfig(settings, dockerTestEndpoints(settings)));
    });

    after(() => dir?.remove());

    const receiverOf = async (labels: string[]) =>
      (
        await run(amtool, ["config", "routes", "test", `--config.file=${configPath}`, ...labels])
      ).stdout.trim();

    it("accepts the config", async () => {
      expect((await run(amtool, ["check-config", configPath])).stdout).to.include("SUCCESS");
    });

    for (const severity of ["critical", "warning"]) {
      it(`routes a ${severity} ErrorBudgetBurn where other ${severity} alerts go`, async () => {
        const burn = await receiverOf([
          `alertname=${sloAlertNames.errorBudgetBurn}`,
          `severity=${severity}`,
          "slo=availability",
          "long=1h",
          "short=5m",
          `job=${jobs.app}`,
        ]);
        const other = await receiverOf([
          `alertname=${alertNames.highErrorRate}`,
          `severity=${severity}`,
          `job=${jobs.app}`,
        ]);
        expect(burn).to.equal(receiverNames.email).and.equal(other);
      });
    }

    it("routes SLOMetricsAbsent to e-mail", async () => {
      expect(
        await receiverOf([
          `alertname=${sloAlertNames.metricsAbsent}`,
          "severity=warning",
          "slo=latency",
          `job=${jobs.app}`,
        ]),
      ).to.equal(receiverNames.email);
    });
  });
});
