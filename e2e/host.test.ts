/**
 * End to end, the stack's own host: node exporter (the pinned binary) watching this machine, both replicas
 * scraping it with the `host` label, another machine of `hosts` scraped at the address of an exporter the test
 * runs itself (memory only, so that the disk alert below concerns the stack's host alone), and HostDiskFillingUp on this machine's real root filesystem. Its free
 * share is read with statfs(2), as node exporter reads it; the alert's threshold is set 1 percentage point
 * under it (no alert) and then 1 point over it (the alert fires, and exactly one e-mail arrives).
 */

import { statfsSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { expect } from "chai";
import { hostLabel, jobs } from "../configs/names";
import { filesystemFreeRatio, jobSelector, memoryAvailableRatio, targetUp } from "../configs/promql/queries";
import { alertNames } from "../configs/settings/alert-specs";
import { durationMs } from "../configs/settings/duration";
import type { SettingsInput } from "../configs/settings/schema";
import { requireBinaries } from "../test-support/binaries";
import { makeTempDir } from "../test-support/cleanup";
import { freePort, loopback } from "../test-support/ports";
import { ManagedProcess, stopGraceMs } from "../test-support/processes";
import { firingEmailBudgetMs, formatMeasurement, marginMs, mochaTimeoutMs } from "./budgets";
import { bodyField, notificationOf, parseSubject, waitForNotification } from "./notifications";
import { readinessTimeoutMs, Stack } from "./stack";
import { e2eSettings } from "./test-settings";

/** Prometheus applies its scrape targets some seconds after it starts (its discovery reload interval). */
const targetsUpTimeoutMs = 20_000;
/** How far from the root filesystem's free share the thresholds are: far above what the tests write meanwhile. */
const marginRatio = 0.01;
const hostName = "e2e-host";
/** The machine of `hosts`: this one again, through a node exporter of the test's own on another port. */
const otherHostName = "e2e-other";

/** The share of the filesystem at `path` that unprivileged programs may still write: node exporter's avail / size. */
function freeRatio(path: string): number {
  const stats = statfsSync(path);
  return stats.bavail / stats.blocks;
}

function settingsWith(minFreeRatio: number, otherNodeExporter: string): SettingsInput {
  return {
    ...e2eSettings,
    // cAdvisor is not run on real binaries (its module is not served here): node exporter only.
    host: { enabled: true, name: hostName, containers: false },
    hosts: [{ name: otherHostName, address: { nodeExporter: otherNodeExporter } }],
    alerts: { ...e2eSettings.alerts, hostDiskFillingUp: { minFreeRatio, for: "2s" } },
  };
}

describe("end to end: node exporter on this machine, and HostDiskFillingUp on its root filesystem", () => {
  let stack: Stack | undefined;
  let otherExporter: ManagedProcess | undefined;
  let otherAddress = "";
  const logs = makeTempDir("e2e-other-host-");
  const rootRatio = freeRatio("/");
  const below = Number((rootRatio - marginRatio).toFixed(4));
  const above = Number((rootRatio + marginRatio).toFixed(4));
  const running = () => {
    if (!stack) throw new Error("the end-to-end stack is not running: see the `before all` hook");
    return stack;
  };
  const rootAlerts = async () => {
    const all = await Promise.all(running().prometheus.map((client) => client.alerts()));
    return all
      .flat()
      .filter(
        (alert) => alert.labels.alertname === alertNames.hostDiskFillingUp && alert.labels.mountpoint === "/",
      );
  };

  before(async function () {
    this.timeout(mochaTimeoutMs(readinessTimeoutMs, targetsUpTimeoutMs, stopGraceMs));
    const { prometheus, alertmanager, node_exporter } = requireBinaries(
      this,
      "prometheus",
      "alertmanager",
      "node_exporter",
    );
    otherAddress = `${loopback}:${await freePort()}`;
    otherExporter = ManagedProcess.start({
      name: "node-exporter-other",
      command: node_exporter,
      args: [`--web.listen-address=${otherAddress}`, "--collector.disable-defaults", "--collector.meminfo"],
      logFile: join(logs.path, "node-exporter-other.log"),
    });
    stack = await Stack.start({
      settings: settingsWith(below, otherAddress),
      binaries: { prometheus, alertmanager, nodeExporter: node_exporter },
    });
    stack.log(
      `      root filesystem: ${(rootRatio * 100).toFixed(2)}% free; thresholds ${below} and ${above}`,
    );
    await stack.waitForAllTargetsUp(targetsUpTimeoutMs);
  });

  after(async function () {
    this.timeout(mochaTimeoutMs(stopGraceMs));
    await stack?.stop();
    await otherExporter?.stop();
    logs.remove();
  });

  it("1. both replicas scrape node exporter as job node, labelled with host.name, and the other host's by its name", async () => {
    const stack = running();
    for (const [replica, client] of stack.prometheus.entries()) {
      const up = await client.query(targetUp(jobs.node));
      expect(
        up
          .map((sample) => [sample.labels.instance, sample.labels[hostLabel], sample.value])
          .sort((a, b) => String(a[1]).localeCompare(String(b[1]))),
        `replica ${replica}`,
      ).to.deep.equal([
        [stack.endpoints.nodeExporter, hostName, 1],
        [otherAddress, otherHostName, 1],
      ]);
      const memory = await client.query(memoryAvailableRatio(jobSelector(jobs.node)));
      expect(
        memory.map((sample) => sample.labels[hostLabel]).sort(),
        `replica ${replica}: memory`,
      ).to.deep.equal([hostName, otherHostName]);
      const root = (await client.query(filesystemFreeRatio(jobSelector(jobs.node)))).find(
        (sample) => sample.labels.mountpoint === "/",
      );
      expect(root?.value, `replica ${replica}: the root filesystem's free share`).to.be.closeTo(
        rootRatio,
        marginRatio / 2,
      );
    }
  });

  it("2. a threshold 1 point under the root filesystem's free share: HostDiskFillingUp does not fire", async function () {
    const stack = running();
    const forMs = durationMs(stack.settings.alerts.hostDiskFillingUp.for);
    const waitMs = forMs + 3 * durationMs(stack.settings.scrape.evaluationInterval) + marginMs;
    this.timeout(mochaTimeoutMs(waitMs));
    await sleep(waitMs);
    expect(await rootAlerts()).to.deep.equal([]);
    expect(stack.inbox.received(notificationOf(alertNames.hostDiskFillingUp, "firing"))).to.deep.equal([]);
  });

  it("3. a threshold 1 point over it: HostDiskFillingUp fires, and exactly one e-mail arrives", async function () {
    const stack = running();
    const settings = settingsWith(above, otherAddress);
    const budgetMs = firingEmailBudgetMs(stack.settings, stack.settings.alerts.hostDiskFillingUp.for);
    const quietMs = 2 * durationMs(stack.settings.alertmanager.groupInterval) + marginMs;
    this.timeout(mochaTimeoutMs(budgetMs, quietMs));

    const changedAt = performance.now();
    await stack.applySettings(settings);
    const firing = await waitForNotification(
      stack,
      alertNames.hostDiskFillingUp,
      "firing",
      changedAt,
      budgetMs,
    );
    stack.log(
      formatMeasurement("HostDiskFillingUp e-mail after the change", firing.receivedAt - changedAt, budgetMs),
    );
    expect(parseSubject(firing.subject)).to.include({
      alertname: alertNames.hostDiskFillingUp,
      job: jobs.node,
      severity: stack.settings.alerts.hostDiskFillingUp.severity,
    });
    expect(firing.text).to.match(/mountpoint=\/(,|$)/m);
    expect(bodyField(firing, "Labels")).to.include(`${hostLabel}=${hostName}`);
    const alerts = await rootAlerts();
    expect(alerts.map((alert) => alert.state)).to.include("firing");

    // Nothing more while it keeps firing: Alertmanager sends the group again only after repeatInterval.
    await sleep(quietMs);
    const emails = stack.inbox.received(notificationOf(alertNames.hostDiskFillingUp, "firing"), changedAt);
    expect(emails, "HostDiskFillingUp e-mails").to.have.length(1);
    stack.log(
      `      ${emails.length} HostDiskFillingUp e-mail in ${((performance.now() - changedAt) / 1000).toFixed(1)} s`,
    );
  });
});
