/**
 * End to end, the proof that alerting reaches a person: `npm run check-delivery` against real Prometheus
 * replicas and Alertmanager on loopback (e2e/stack.ts), succeeding through the inbox, failing with the inbox
 * down (exit 1, the SMTP error named) and with Alertmanager down (exit 2, its URL named), beside a real alert
 * that it neither delays nor is inhibited by; and the Watchdog reaching a dead man's switch on its cadence.
 * A second suite runs the check against a real Mailpit, the stack's inbox, behind a real Alertmanager.
 */

import { execFile } from "node:child_process";
import { createServer, type Server } from "node:http";
import { dirname, join, resolve } from "node:path";
import { expect } from "chai";
import { deadMansSwitchTiming, renderAlertmanagerConfig } from "../configs/alertmanager/config";
import { alertmanagerReplicaName, deliveryCheck, jobs } from "../configs/names";
import { firstReplica, hostPort } from "../configs/runtime/endpoints";
import { renderedPaths, writeRenderedFiles } from "../configs/runtime/layout";
import { alertmanagerFlags } from "../configs/runtime/server-flags";
import { alertNames } from "../configs/settings/alert-specs";
import { durationMs } from "../configs/settings/duration";
import type { SettingsInput } from "../configs/settings/schema";
import { loadSettings } from "../configs/validate";
import { defaultTimeoutMs } from "../infra/delivery/check";
import { requireBinaries } from "../test-support/binaries";
import { makeTempDir, type TempDir } from "../test-support/cleanup";
import { boundedFetch } from "../test-support/http";
import { freePort, loopback } from "../test-support/ports";
import { ManagedProcess, type ProcessSpec, stopGraceMs } from "../test-support/processes";
import { loopbackEndpoints } from "../test-support/promtool";
import { seconds, waitFor } from "../test-support/wait";
import {
  firingEmailBudgetMs,
  formatMeasurement,
  marginMs,
  mochaTimeoutMs,
  resolvedEmailBudgetMs,
  targetsUpTimeoutMs,
} from "./budgets";
import type { Inbox } from "./inbox";
import { notificationOf, waitForNotification } from "./notifications";
import { readinessTimeoutMs, Stack } from "./stack";
import { e2eSettings } from "./test-settings";

const repoRoot = resolve(__dirname, "..");

/** Starting the CLI under tsx takes a few seconds on a busy two-core machine. */
const cliStartupMs = 10_000;
/** The check's whole run: its default timeout, the cleanup post, and the CLI's start. */
const checkBudgetMs = defaultTimeoutMs + cliStartupMs;

interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly elapsedMs: number;
}

/** Runs `npm run check-delivery` (its script, as npm would) to its end; a non-zero exit is a result. */
function checkDelivery(args: readonly string[]): Promise<CliRun> {
  const started = performance.now();
  return new Promise((resolveRun, reject) => {
    execFile(
      process.execPath,
      ["--import", "tsx", "scripts/check-delivery.ts", ...args],
      { cwd: repoRoot, timeout: checkBudgetMs },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : undefined;
        if (code === undefined)
          reject(new Error(`check-delivery did not finish: ${error?.message}\n${stderr}`));
        else resolveRun({ code, stdout, stderr, elapsedMs: performance.now() - started });
      },
    );
  });
}

/**
 * Serves the part of Mailpit's HTTP API the check reads (GET /api/v1/search, in Mailpit's MessagesSummary
 * shape) from the harness's SMTP inbox, which the scenarios can stop and start as they cannot a Mailpit's SMTP
 * side alone. The second suite below checks the same client against a real Mailpit.
 */
async function serveMailpitApi(inbox: Inbox): Promise<{ url: string; server: Server }> {
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://localhost");
    if (url.pathname !== "/api/v1/search") {
      response.writeHead(404).end();
      return;
    }
    const term = (url.searchParams.get("query") ?? "").toLowerCase();
    const found = inbox
      .received((email) => `${email.subject} ${email.text} ${email.html ?? ""}`.toLowerCase().includes(term))
      .reverse();
    const messages = found.map((email, index) => ({
      ID: String(index),
      Subject: email.subject,
      To: email.recipients.map((address) => ({ Name: "", Address: address })),
      Cc: null,
      Bcc: null,
    }));
    response.setHeader("content-type", "application/json");
    response.end(JSON.stringify({ total: inbox.messages.length, messages_count: messages.length, messages }));
  });
  const port = await freePort();
  await new Promise<void>((ready) => server.listen(port, loopback, ready));
  return { url: `http://${loopback}:${port}`, server };
}

/** A dead man's switch on loopback: records when each ping arrived and which alerts it carried. */
async function serveHeartbeat(): Promise<{
  url: string;
  server: Server;
  pings: { at: number; alertnames: string[] }[];
}> {
  const pings: { at: number; alertnames: string[] }[] = [];
  const server = createServer((request, response) => {
    const at = performance.now();
    let body = "";
    request.on("data", (chunk: Buffer) => {
      body += chunk.toString();
    });
    request.on("end", () => {
      const { alerts } = JSON.parse(body) as { alerts: { labels: Record<string, string> }[] };
      pings.push({ at, alertnames: alerts.map((alert) => alert.labels.alertname ?? "") });
      response.end();
    });
  });
  const port = await freePort();
  await new Promise<void>((ready) => server.listen(port, loopback, ready));
  return { url: `http://${loopback}:${port}/ping`, server, pings };
}

const closeServer = (server: Server | undefined) =>
  new Promise<void>((done) => (server ? server.close(() => done()) : done()));

/** The delivery check's e-mail, found by the id the CLI printed or the inbox holds. */
const checkEmails = (inbox: Inbox, since: number) =>
  inbox.received((email) => email.subject.includes(` ${deliveryCheck.alertname} `), since);

describe("end to end: the delivery check and the dead man's switch", () => {
  let stack: Stack | undefined;
  let mailpit: { url: string; server: Server } | undefined;
  let heartbeat: Awaited<ReturnType<typeof serveHeartbeat>> | undefined;
  const running = () => {
    if (!stack || !mailpit || !heartbeat)
      throw new Error("the stack is not running: see the `before all` hook");
    return { stack, mailpit, heartbeat };
  };

  before(async function () {
    this.timeout(mochaTimeoutMs(readinessTimeoutMs, targetsUpTimeoutMs, stopGraceMs));
    const { prometheus, alertmanager } = requireBinaries(this, "prometheus", "alertmanager");
    heartbeat = await serveHeartbeat();
    const settings = {
      ...e2eSettings,
      alertmanager: { ...e2eSettings.alertmanager, deadMansSwitchUrl: heartbeat.url },
    } satisfies SettingsInput;
    stack = await Stack.start({ settings, binaries: { prometheus, alertmanager } });
    mailpit = await serveMailpitApi(stack.inbox);
    await stack.waitForAllTargetsUp(targetsUpTimeoutMs);
  });

  after(async function () {
    this.timeout(mochaTimeoutMs(stopGraceMs));
    await stack?.stop();
    await closeServer(mailpit?.server);
    await closeServer(heartbeat?.server);
  });

  const alertmanagerUrl = () => firstReplica(running().stack.endpoints.links.alertmanagers, "Alertmanager");
  const alertmanagerLog = () => join(running().stack.dir, "logs", `${alertmanagerReplicaName(0)}.log`);

  it("1. delivered through the inbox: exit 0, the message found, its recipients and time printed", async function () {
    this.timeout(mochaTimeoutMs(checkBudgetMs));
    const { stack, mailpit } = running();
    const since = performance.now();
    const run = await checkDelivery(["--alertmanager", alertmanagerUrl(), "--inbox", mailpit.url]);
    expect(run.code, run.stderr).to.equal(0);
    const printed = /^delivered to (.+) in (\d+\.\d) s$/.exec(run.stdout.trim());
    expect(printed, run.stdout).to.not.equal(null);
    stack.log(
      formatMeasurement(
        "check e-mail delivered (the check's own figure)",
        Number(printed?.[2]) * 1000,
        defaultTimeoutMs,
      ),
    );
    stack.log(formatMeasurement("whole `npm run check-delivery`", run.elapsedMs, checkBudgetMs));
    const [email, ...others] = checkEmails(stack.inbox, since);
    expect(others, "check e-mails").to.be.empty;
    expect(printed?.[1]?.split(", ")).to.have.members([...(email?.recipients ?? ["(no e-mail)"])]);
    expect(email?.subject).to.match(
      new RegExp(`^\\[FIRING:1\\] ${deliveryCheck.alertname} \\(info\\): Delivery check`),
    );
    expect(email?.text).to.match(new RegExp(`${deliveryCheck.idLabel}=[0-9a-f-]{36}`));
  });

  it("2. no inbox to look in (a real SMTP server): exit 0 once Alertmanager counts the e-mail accepted", async function () {
    this.timeout(mochaTimeoutMs(checkBudgetMs));
    const { stack } = running();
    const since = performance.now();
    const run = await checkDelivery(["--alertmanager", alertmanagerUrl()]);
    expect(run.code, run.stderr).to.equal(0);
    stack.log(`      ${run.stdout.trim()}`);
    expect(run.stdout).to.match(
      /^the smarthost accepted the DeliveryCheck e-mail \(check_id=[0-9a-f-]{36}\) in /,
    );
    // Accepted means the SMTP server took it: the harness's inbox holds it.
    expect(checkEmails(stack.inbox, since), "check e-mails").to.have.length(1);
  });

  it("3. the inbox is down: exit 1, naming Alertmanager's SMTP error and the setting to check", async function () {
    this.timeout(mochaTimeoutMs(checkBudgetMs));
    const { stack, mailpit } = running();
    await stack.inbox.stop();
    try {
      const run = await checkDelivery([
        "--alertmanager",
        alertmanagerUrl(),
        "--inbox",
        mailpit.url,
        "--alertmanager-log",
        alertmanagerLog(),
      ]);
      stack.log(formatMeasurement("failure reported", run.elapsedMs, checkBudgetMs));
      stack.log(`      ${run.stderr.trim()}`);
      expect(run.code, run.stdout).to.equal(1);
      expect(run.stderr)
        .to.include("alertmanager_notifications_failed_total")
        .and.include("connection refused")
        .and.include("email.smarthost");
    } finally {
      await stack.inbox.start();
    }
  });

  it("4. beside a real alert: InstanceDown is neither delayed nor inhibited, and the check is not either", async function () {
    const { stack, mailpit } = running();
    const budgetMs = firingEmailBudgetMs(stack.settings, stack.settings.alerts.instanceDown.for);
    this.timeout(
      mochaTimeoutMs(
        Math.max(budgetMs, checkBudgetMs),
        readinessTimeoutMs,
        resolvedEmailBudgetMs(stack.settings),
      ),
    );
    const killedAt = performance.now();
    await stack.killApp();
    // Both at once: the check fires while InstanceDown (critical) is pending and then firing.
    const [run, firing] = await Promise.all([
      checkDelivery(["--alertmanager", alertmanagerUrl(), "--inbox", mailpit.url]),
      waitForNotification(stack, alertNames.instanceDown, "firing", killedAt, budgetMs),
    ]);
    stack.log(
      formatMeasurement(
        "InstanceDown e-mail after the kill, beside the check",
        firing.receivedAt - killedAt,
        budgetMs,
      ),
    );
    expect(run.code, run.stderr).to.equal(0);
    expect(firing.text, "InstanceDown's e-mail").to.not.include(deliveryCheck.alertname);
    const [check] = checkEmails(stack.inbox, killedAt);
    expect(check?.text, "the check's e-mail").to.not.include(alertNames.instanceDown);

    const restartedAt = performance.now();
    await stack.startApp();
    const resolvedBudgetMs = performance.now() - restartedAt + resolvedEmailBudgetMs(stack.settings);
    await waitForNotification(stack, alertNames.instanceDown, "resolved", restartedAt, resolvedBudgetMs);
  });

  it("5. a silence of real alerts lets the check through; one that matches it fails the check, naming it", async function () {
    this.timeout(mochaTimeoutMs(checkBudgetMs, checkBudgetMs));
    const { stack, mailpit } = running();
    const args = ["--alertmanager", alertmanagerUrl(), "--inbox", mailpit.url];
    const maintenance = await stack.alertmanager.silence({ job: jobs.app }, 5, "e2e/delivery.test.ts");
    try {
      const run = await checkDelivery(args);
      expect(run.code, run.stderr).to.equal(0);
    } finally {
      await stack.alertmanager.expireSilence(maintenance);
    }
    const quiet = await stack.alertmanager.silence({ severity: "info" }, 5, "e2e/delivery.test.ts");
    try {
      const run = await checkDelivery(args);
      stack.log(formatMeasurement("silenced check reported", run.elapsedMs, checkBudgetMs));
      stack.log(`      ${run.stderr.trim()}`);
      expect(run.code, run.stdout).to.equal(1);
      expect(run.stderr).to.include(`silenced by silence ${quiet} (severity="info")`);
    } finally {
      await stack.alertmanager.expireSilence(quiet);
    }
  });

  it("6. the Watchdog pings the dead man's switch once per group_interval, and never by e-mail", async function () {
    const { stack, heartbeat } = running();
    const { group_interval, repeat_interval } = deadMansSwitchTiming;
    // Pings come on the Watchdog group's flush, every group_interval; repeat_interval, a little shorter, lets
    // every flush send. The first normally came when the stack started, but a busy machine may have flushed the
    // group late: each ping is awaited for its own budget.
    const firstBudgetMs = durationMs(group_interval) + firingEmailBudgetMs(stack.settings, "0s");
    const budgetMs = durationMs(group_interval) + marginMs;
    this.timeout(mochaTimeoutMs(firstBudgetMs, budgetMs));
    const watchdogPings = () =>
      heartbeat.pings.filter((ping) => ping.alertnames.includes(alertNames.watchdog));
    await stack.waitFor(
      "a first Watchdog ping",
      () => (watchdogPings().length >= 1 ? true : undefined),
      firstBudgetMs,
    );
    const waited = await stack.waitFor(
      "two Watchdog pings",
      () => (watchdogPings().length >= 2 ? true : undefined),
      budgetMs,
    );
    const [first, second] = watchdogPings();
    const intervalMs = (second?.at ?? 0) - (first?.at ?? 0);
    stack.log(
      formatMeasurement(
        "between two dead man's switch pings",
        intervalMs,
        durationMs(group_interval) + marginMs,
      ),
    );
    stack.log(`      (waited ${seconds(waited.elapsedMs)} for the second)`);
    expect(intervalMs).to.be.within(durationMs(repeat_interval), durationMs(group_interval) + marginMs);
    expect(stack.inbox.received(notificationOf(alertNames.watchdog, "firing")), "Watchdog e-mails").to.be
      .empty;
  });

  it("7. Alertmanager is down: exit 2, naming its URL", async function () {
    this.timeout(mochaTimeoutMs(stopGraceMs, checkBudgetMs, readinessTimeoutMs));
    const { stack, mailpit } = running();
    await stack.stopAlertmanager();
    try {
      const run = await checkDelivery(["--alertmanager", alertmanagerUrl(), "--inbox", mailpit.url]);
      stack.log(formatMeasurement("unreachable Alertmanager reported", run.elapsedMs, cliStartupMs));
      stack.log(`      ${run.stderr.trim()}`);
      expect(run.code, run.stdout).to.equal(2);
      expect(run.stderr).to.include(`cannot reach Alertmanager at ${alertmanagerUrl()}`);
    } finally {
      await stack.startAlertmanager();
    }
  });
});

describe("end to end: the delivery check finds its e-mail in a real Mailpit", () => {
  let dir: TempDir | undefined;
  const processes: ManagedProcess[] = [];
  let alertmanagerUrl = "";
  let mailpitUrl = "";

  /** Starts a program and waits until `readyUrl` answers, as the stack's healthchecks do. */
  async function startAndWait(spec: Omit<ProcessSpec, "logFile">, readyUrl: string): Promise<void> {
    if (!dir) throw new Error("no temporary directory");
    const started = ManagedProcess.start({ ...spec, logFile: join(dir.path, `${spec.name}.log`) });
    processes.push(started);
    await waitFor(
      `${spec.name} to be ready`,
      async () => ((await boundedFetch(readyUrl)).ok ? true : undefined),
      {
        timeoutMs: readinessTimeoutMs,
        hopeless: () => (started.running ? undefined : `${spec.name} exited`),
        diagnostics: () => started.tail(),
      },
    );
  }

  before(async function () {
    this.timeout(mochaTimeoutMs(readinessTimeoutMs, readinessTimeoutMs));
    const binaries = requireBinaries(this, "alertmanager", "mailpit");
    dir = makeTempDir("delivery-mailpit-");
    const [smtpPort, webPort, alertmanagerPort] = [await freePort(), await freePort(), await freePort()];
    mailpitUrl = `http://${loopback}:${webPort}`;
    alertmanagerUrl = `http://${loopback}:${alertmanagerPort}`;
    // The same variables as the stack's Mailpit container (infra/inbox.ts), on loopback.
    await startAndWait(
      {
        name: "mailpit",
        command: binaries.mailpit,
        args: [],
        env: {
          ...process.env,
          MP_SMTP_BIND_ADDR: `${loopback}:${smtpPort}`,
          MP_UI_BIND_ADDR: `${loopback}:${webPort}`,
        },
      },
      `${mailpitUrl}/readyz`,
    );
    const { settings } = loadSettings({});
    const endpoints = loopbackEndpoints(1);
    const configFile = join(dir.path, renderedPaths.alertmanagerConfig);
    writeRenderedFiles(dir.path, {
      [renderedPaths.alertmanagerConfig]: renderAlertmanagerConfig(settings, {
        ...endpoints,
        inboxSmtp: hostPort(loopback, smtpPort),
      }),
    });
    await startAndWait(
      {
        name: "alertmanager",
        command: binaries.alertmanager,
        args: alertmanagerFlags({
          configFile,
          dataDir: join(dir.path, "data"),
          listenAddress: hostPort(loopback, alertmanagerPort),
          externalUrl: alertmanagerUrl,
        }),
        cwd: dirname(configFile),
      },
      `${alertmanagerUrl}/-/ready`,
    );
  });

  after(async function () {
    this.timeout(mochaTimeoutMs(stopGraceMs));
    await Promise.all(processes.map((process) => process.stop()));
    dir?.remove();
  });

  it("delivered: Mailpit's own search API shows the message to email.to", async function () {
    this.timeout(mochaTimeoutMs(checkBudgetMs));
    const run = await checkDelivery(["--alertmanager", alertmanagerUrl, "--inbox", mailpitUrl]);
    expect(run.code, run.stderr).to.equal(0);
    console.log(`      ${run.stdout.trim()}`);
    console.log(formatMeasurement("whole `npm run check-delivery`", run.elapsedMs, checkBudgetMs));
    expect(run.stdout.trim()).to.match(/^delivered to oncall@example\.com in \d+\.\d s$/);
  });
});
