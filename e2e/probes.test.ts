/**
 * End to end, probes: the pinned blackbox exporter, run on the rendered modules beside real Prometheus replicas
 * and Alertmanager, probing two servers of this test's own on 127.0.0.1 (never any other address):
 * - an HTTP server that listened on a free port and was closed: ProbeFailed fires;
 * - an HTTPS server whose certificate (made here with the openssl CLI, for 127.0.0.1, valid for two days)
 *   the exporter trusts through SSL_CERT_FILE: the probe succeeds, and ProbeCertificateExpiring fires as two
 *   days is under `minDays` (14 by default).
 * Each sends exactly one e-mail.
 */

import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { createServer as createHttpsServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { expect } from "chai";
import { jobs, probeLabel } from "../configs/names";
import { certificateDaysLeft, jobSelector, secondsPerDay } from "../configs/promql/queries";
import { blackboxMetrics, blackboxPhaseLabel } from "../configs/promql/upstream-metrics";
import { alertNames } from "../configs/settings/alert-specs";
import { durationMs } from "../configs/settings/duration";
import { probeScrape } from "../configs/settings/probes";
import type { SettingsInput } from "../configs/settings/schema";
import { requireBinaries } from "../test-support/binaries";
import { makeCertificate } from "../test-support/certificates";
import { makeTempDir, type TempDir } from "../test-support/cleanup";
import { loopback } from "../test-support/ports";
import { stopGraceMs } from "../test-support/processes";
import { firingEmailBudgetMs, formatMeasurement, mochaTimeoutMs, targetsUpTimeoutMs } from "./budgets";
import { notificationOf, parseSubject, waitForNotification } from "./notifications";
import { readinessTimeoutMs, Stack } from "./stack";
import { e2eSettings } from "./test-settings";

/** The certificate's lifetime: under ProbeCertificateExpiring's default `minDays`. */
const certificateDays = 2;
/** Both replicas scrape each probe once per probe scrape interval: the first scrape may come that late. */
const probeScrapeMs = durationMs(probeScrape.interval);
const probeTargetsUpTimeoutMs = targetsUpTimeoutMs + probeScrapeMs;

function listen(server: Server | ReturnType<typeof createHttpServer>): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, loopback, () => resolve((server.address() as AddressInfo).port));
  });
}

function close(server: { close(callback: () => void): unknown }): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

describe("end to end: probes by the blackbox exporter, ProbeFailed and ProbeCertificateExpiring", () => {
  let stack: Stack | undefined;
  let dir: TempDir | undefined;
  let https: Server | undefined;
  let startedAt = 0;
  let expiresAt = 0;
  const targets = { stopped: "", tls: "" };
  const running = () => {
    if (!stack) throw new Error("the end-to-end stack is not running: see the `before all` hook");
    return stack;
  };

  before(async function () {
    this.timeout(mochaTimeoutMs(readinessTimeoutMs, probeTargetsUpTimeoutMs, stopGraceMs));
    const { prometheus, alertmanager, blackbox_exporter } = requireBinaries(
      this,
      "prometheus",
      "alertmanager",
      "blackbox_exporter",
    );
    dir = makeTempDir("watchtower-probes-");
    const { key, cert } = makeCertificate(dir.path, certificateDays);
    expiresAt = Date.parse(new X509Certificate(readFileSync(cert)).validTo);
    https = createHttpsServer({ key: readFileSync(key), cert: readFileSync(cert) }, (_request, response) => {
      response.end("ok\n");
    });
    targets.tls = `https://${loopback}:${await listen(https)}/`;
    // A port that was free a moment ago and is closed now: connections to it are refused.
    const stopped = createHttpServer();
    targets.stopped = `http://${loopback}:${await listen(stopped)}/`;
    await close(stopped);

    const settings: SettingsInput = {
      ...e2eSettings,
      alerts: {
        ...e2eSettings.alerts,
        probeFailed: { for: "2s" },
        probeCertificateExpiring: { for: "2s" },
      },
      probes: [
        { name: "stopped", http: { url: targets.stopped, timeout: "2s" } },
        { name: "tls", http: { url: targets.tls, bodyMatches: "^ok" } },
      ],
    };
    startedAt = performance.now();
    stack = await Stack.start({
      settings,
      binaries: {
        prometheus,
        alertmanager,
        blackboxExporter: { binary: blackbox_exporter, trustedCertificates: cert },
      },
    });
    stack.log(
      `      probing ${targets.stopped} (closed) and ${targets.tls} (certificate for ${certificateDays} days)`,
    );
    await stack.waitForAllTargetsUp(probeTargetsUpTimeoutMs);
  });

  after(async function () {
    this.timeout(mochaTimeoutMs(stopGraceMs));
    await stack?.stop();
    if (https) await close(https);
    dir?.remove();
  });

  it("1. both replicas probe each target through the exporter: the HTTPS one succeeds, the stopped one fails", async () => {
    const stack = running();
    for (const [replica, client] of stack.prometheus.entries()) {
      const success = await client.query(`${blackboxMetrics.success}{${jobSelector(jobs.probe)}}`);
      expect(
        success
          .map((sample) => [sample.labels[probeLabel], sample.labels.instance, sample.value])
          .sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
        `replica ${replica}`,
      ).to.deep.equal([
        ["stopped", targets.stopped, 0],
        ["tls", targets.tls, 1],
      ]);
      // The series the Probes dashboard draws, under the names upstream-metrics.ts gives them.
      const tls = `${jobSelector(jobs.probe)},${probeLabel}="tls"`;
      const phases = await client.query(`${blackboxMetrics.httpDurationSeconds}{${tls}}`);
      expect(phases.map((sample) => sample.labels[blackboxPhaseLabel]).sort()).to.deep.equal([
        "connect",
        "processing",
        "resolve",
        "tls",
        "transfer",
      ]);
      expect(await client.query(`${blackboxMetrics.durationSeconds}{${tls}}`)).to.have.length(1);
      const [days] = await client.query(
        certificateDaysLeft(`${jobSelector(jobs.probe)},${probeLabel}="tls"`),
      );
      expect(days?.value, `replica ${replica}: days left`).to.be.closeTo(
        (expiresAt - Date.now()) / 1000 / secondsPerDay,
        0.01,
      );
    }
  });

  for (const [step, name, probe] of [
    [2, alertNames.probeFailed, "stopped"],
    [3, alertNames.probeCertificateExpiring, "tls"],
  ] as const) {
    it(`${step}. ${name} fires for probe ${probe}, and exactly one e-mail arrives`, async function () {
      const stack = running();
      const forDuration =
        name === alertNames.probeFailed
          ? stack.settings.alerts.probeFailed.for
          : stack.settings.alerts.probeCertificateExpiring.for;
      // From the stack's start: its first probe scrape may come a probe scrape interval after the others'.
      const budgetMs = firingEmailBudgetMs(stack.settings, forDuration) + probeScrapeMs;
      const quietMs = 2 * durationMs(stack.settings.alertmanager.groupInterval) + 2000;
      this.timeout(mochaTimeoutMs(budgetMs, quietMs));
      const firing = await waitForNotification(stack, name, "firing", startedAt, budgetMs);
      stack.log(
        formatMeasurement(`${name} e-mail after the stack started`, firing.receivedAt - startedAt, budgetMs),
      );
      expect(parseSubject(firing.subject)).to.include({ alertname: name, job: jobs.probe });
      expect(firing.text).to.include(`${probeLabel}=${probe}`);
      await sleep(quietMs);
      const emails = stack.inbox.received(notificationOf(name, "firing"), startedAt);
      expect(emails, `${name} e-mails`).to.have.length(1);
      stack.log(
        `      ${emails.length} ${name} e-mail in ${((performance.now() - startedAt) / 1000).toFixed(1)} s`,
      );
    });
  }
});
