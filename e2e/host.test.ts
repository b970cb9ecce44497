/**
 * End to end, the stack's own host: node exporter (the pinned binary) watching this machine, both replicas
 * scraping it with the `host` label, and HostDiskFillingUp on this machine's real root filesystem. Its free
 * share is read with statfs(2), as node exporter reads it; the alert's threshold is set 1 percentage point
 * under it (no alert) and then 1 point over it (the alert fires, and exactly one e-mail arrives).
 *
 * Another machine of `hosts`, of the docker kind, is this one again: the test runs its node exporter (memory
 * only, so that the disk alert concerns the stack's host alone) as its engine would, behind the web config
 * the plan renders, with a certificate made here for 127.0.0.1 and the password the replicas are handed.
 * HostMemoryLow, overridden for that machine alone with a threshold over this machine's available share,
 * fires for it with exactly one e-mail, and not for the stack's own host, whose threshold stays.
 */

import { randomBytes } from "node:crypto";
import { readFileSync, statfsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { expect } from "chai";
import { exporterPasswordHash, renderExporterWebConfig } from "../configs/exporters/web-config";
import { hostExporterUser, hostLabel, jobs } from "../configs/names";
import { filesystemFreeRatio, jobSelector, memoryAvailableRatio, targetUp } from "../configs/promql/queries";
import { alertNames } from "../configs/settings/alert-specs";
import { durationMs } from "../configs/settings/duration";
import type { SettingsInput } from "../configs/settings/schema";
import { requireBinaries } from "../test-support/binaries";
import { makeCertificate } from "../test-support/certificates";
import { makeTempDir } from "../test-support/cleanup";
import { requestStatus } from "../test-support/http";
import { freePort, loopback } from "../test-support/ports";
import { ManagedProcess, stopGraceMs } from "../test-support/processes";
import {
  firingEmailBudgetMs,
  formatMeasurement,
  marginMs,
  mochaTimeoutMs,
  resolvedEmailBudgetMs,
  targetsUpTimeoutMs,
} from "./budgets";
import { bodyField, notificationOf, parseSubject, waitForNotification } from "./notifications";
import { readinessTimeoutMs, Stack } from "./stack";
import { e2eSettings } from "./test-settings";

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

interface OtherMachine {
  readonly port: number;
  readonly tls: { readonly cert: string; readonly key: string };
}

/** This machine's share of memory available, as node exporter reads it: MemAvailable / MemTotal of /proc/meminfo. */
function availableMemoryRatio(): number {
  const meminfo = readFileSync("/proc/meminfo", "utf8");
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB$`, "m").exec(meminfo)?.[1]);
  return field("MemAvailable") / field("MemTotal");
}

/**
 * The settings of the scenarios: HostDiskFillingUp's threshold for every machine, and, when given, HostMemoryLow's
 * for the other machine alone, as a per-host override.
 */
function settingsWith(
  minFreeRatio: number,
  other: OtherMachine,
  otherMinAvailableRatio?: number,
): SettingsInput {
  return {
    ...e2eSettings,
    // cAdvisor is not run on real binaries (its module is not served here): node exporter only.
    host: { enabled: true, name: hostName, containers: false },
    hosts: [
      {
        name: otherHostName,
        docker: {
          engine: `ssh://e2e@${loopback}`,
          nodeExporterPort: other.port,
          // Self-signed: the certificate is its own CA.
          exporterTls: { certFile: other.tls.cert, keyFile: other.tls.key, caFile: other.tls.cert },
        },
        ...(otherMinAvailableRatio === undefined
          ? {}
          : { alerts: { hostMemoryLow: { minAvailableRatio: otherMinAvailableRatio, for: "2s" } } }),
      },
    ],
    alerts: { ...e2eSettings.alerts, hostDiskFillingUp: { minFreeRatio, for: "2s" } },
  };
}

describe("end to end: node exporter on this machine, HostDiskFillingUp on its root filesystem, HostMemoryLow per host", () => {
  let stack: Stack | undefined;
  let otherExporter: ManagedProcess | undefined;
  let other: OtherMachine | undefined;
  const password = randomBytes(16).toString("hex");
  const logs = makeTempDir("e2e-other-host-");
  const otherMachine = () => {
    if (!other) throw new Error("the other machine's exporter is not running: see the `before all` hook");
    return other;
  };
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
    other = { port: await freePort(), tls: makeCertificate(logs.path, 30) };
    const webConfig = join(logs.path, "web-config.yml");
    writeFileSync(
      webConfig,
      renderExporterWebConfig(
        { certFile: other.tls.cert, keyFile: other.tls.key },
        exporterPasswordHash(otherHostName, password),
      ),
    );
    otherExporter = ManagedProcess.start({
      name: "node-exporter-other",
      command: node_exporter,
      args: [
        `--web.listen-address=${loopback}:${other.port}`,
        `--web.config.file=${webConfig}`,
        "--collector.disable-defaults",
        "--collector.meminfo",
      ],
      logFile: join(logs.path, "node-exporter-other.log"),
    });
    stack = await Stack.start({
      settings: settingsWith(below, other),
      binaries: { prometheus, alertmanager, nodeExporter: node_exporter },
      hostExporterPassword: password,
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

  it("1. both replicas scrape node exporter as job node, labelled with host.name, and the other machine's over TLS", async () => {
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
        [`${loopback}:${otherMachine().port}`, otherHostName, 1],
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

  it("1b. the other machine's exporter answers only over TLS, and only with the replicas' password", async () => {
    const { port, tls } = otherMachine();
    const ca = readFileSync(tls.cert, "utf8");
    const metrics = `https://${loopback}:${port}/metrics`;
    expect(await requestStatus(metrics, { ca, auth: `${hostExporterUser}:${password}` })).to.equal(200);
    expect(await requestStatus(metrics, { ca })).to.equal(401);
    expect(await requestStatus(metrics, { ca, auth: `${hostExporterUser}:${password}x` })).to.equal(401);
    expect(await requestStatus(metrics, { auth: `${hostExporterUser}:${password}` })).to.match(
      /self[- ]signed certificate/,
    );
    expect(
      await requestStatus(`http://${loopback}:${port}/metrics`, { auth: `${hostExporterUser}:${password}` }),
    ).to.equal(400);
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
    const settings = settingsWith(above, otherMachine());
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

  it("4. HostMemoryLow overridden for the other machine alone, over its available share: one e-mail, for that machine", async function () {
    const stack = running();
    const other = otherMachine();
    // Far over the share available, against memory that other processes move meanwhile; the stack-wide 10%
    // stays for this machine, whose series are the same memory.
    const threshold = Number(Math.min(0.99, availableMemoryRatio() + 0.1).toFixed(2));
    const budgetMs = firingEmailBudgetMs(stack.settings, "2s");
    const quietMs = 2 * durationMs(stack.settings.alertmanager.groupInterval) + marginMs;
    this.timeout(mochaTimeoutMs(budgetMs, quietMs, resolvedEmailBudgetMs(stack.settings)));

    const changedAt = performance.now();
    await stack.applySettings(settingsWith(below, other, threshold));
    const firing = await waitForNotification(stack, alertNames.hostMemoryLow, "firing", changedAt, budgetMs);
    stack.log(
      formatMeasurement("HostMemoryLow e-mail after the override", firing.receivedAt - changedAt, budgetMs),
    );
    expect(bodyField(firing, "Labels")).to.include(`${hostLabel}=${otherHostName}`);
    await sleep(quietMs);
    const emails = stack.inbox.received(notificationOf(alertNames.hostMemoryLow, "firing"), changedAt);
    expect(emails, "HostMemoryLow e-mails").to.have.length(1);
    expect(bodyField(emails[0] ?? firing, "Labels")).not.to.include(`${hostLabel}=${hostName}`);

    // Lowered rather than removed: a rule that is gone sends no resolution, and its alert would linger in
    // Alertmanager until it expires.
    const revertedAt = performance.now();
    await stack.applySettings(settingsWith(below, other, 0.01));
    await waitForNotification(
      stack,
      alertNames.hostMemoryLow,
      "resolved",
      revertedAt,
      resolvedEmailBudgetMs(stack.settings),
    );
  });
});
