import { execFile } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import { dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { expect } from "chai";
import { type ParsedMail, simpleParser } from "mailparser";
import { SMTPServer } from "smtp-server";
import { parse } from "yaml";
import { requireBinaries } from "../../test-support/binaries";
import { makeTempDir, type TempDir } from "../../test-support/cleanup";
import { freePort, loopback } from "../../test-support/ports";
import { ManagedProcess } from "../../test-support/processes";
import { seconds, waitFor } from "../../test-support/wait";
import { annotationKeys, deliveryCheck, jobs } from "../names";
import { customAlertsRunbookSection, runbookAnchor, runbookPath } from "../prometheus/rules";
import type { Endpoints } from "../runtime/endpoints";
import { renderedPaths } from "../runtime/layout";
import { alertNames } from "../settings/alert-specs";
import { durationMs } from "../settings/duration";
import { type Settings, type SettingsInput, settingsSchema } from "../settings/schema";
import {
  type AlertmanagerConfig,
  deliveryCheckTiming,
  receiverNames,
  renderAlertmanagerConfig,
  smtpPasswordFile,
} from "./config";

const run = promisify(execFile);

/** What the Docker stack passes: container aliases inside, published loopback URLs for people. */
const stackEndpoints: Endpoints = {
  app: "app:5002",
  prometheus: ["prometheus-0:9090", "prometheus-1:9090"],
  alertmanagers: ["alertmanager:9093", "alertmanager-1:9093"],
  alertmanagerCluster: ["alertmanager:9094", "alertmanager-1:9094"],
  nodeExporter: "node-exporter:9100",
  blackboxExporter: "blackbox-exporter:9115",
  cadvisor: "cadvisor:8080",
  inboxSmtp: "mailpit:1025",
  containers: [],
  links: {
    grafana: "http://127.0.0.1:3000",
    prometheus: ["http://127.0.0.1:9090", "http://127.0.0.1:9091"],
    alertmanagers: ["http://127.0.0.1:9093", "http://127.0.0.1:9094"],
  },
};

/** Distinctive enough that finding it anywhere in the output can only mean it leaked. */
const smtpPassword = "pw-7f3a9c1e-never-in-yaml";

const customAlert = {
  name: "QueueBacklog",
  expr: "vector(1)",
  summary: "The queue is backing up",
  description: "Jobs wait longer than they should.",
};

function settingsWith(input: SettingsInput): Settings {
  return settingsSchema.parse(input);
}

function render(input: SettingsInput = {}, endpoints: Endpoints = stackEndpoints): AlertmanagerConfig {
  return parse(renderAlertmanagerConfig(settingsWith(input), endpoints)) as AlertmanagerConfig;
}

function emailConfigOf(config: AlertmanagerConfig, receiverName: string = receiverNames.email) {
  const receiver = config.receivers.find((r) => r.name === receiverName);
  const emailConfig = receiver?.email_configs?.[0];
  if (!emailConfig) throw new Error(`no e-mail receiver ${receiverName} in the rendered config`);
  return emailConfig;
}

function watchdogRouteOf(config: AlertmanagerConfig) {
  const route = config.route.routes?.find((r) => r.matchers?.includes(`alertname="${alertNames.watchdog}"`));
  if (!route) throw new Error("no Watchdog route in the rendered config");
  return route;
}

describe("renderAlertmanagerConfig", () => {
  describe("route tree", () => {
    it("groups by alertname and job with the timings from settings", () => {
      const config = render({ alertmanager: { groupWait: "7s", groupInterval: "2m", repeatInterval: "3h" } });
      expect(config.route).to.include({
        receiver: receiverNames.email,
        group_wait: "7s",
        group_interval: "2m",
        repeat_interval: "3h",
      });
      expect(config.route.group_by).to.deep.equal(["alertname", "job"]);
    });

    it("gives the delivery check the first route: group_wait 0s, a group per check id, no resolved e-mail", () => {
      const config = render({
        alertmanager: { groupWait: "30s" },
        email: { to: ["a@example.com", "b@example.com"] },
      });
      const [first] = config.route.routes ?? [];
      expect(first).to.deep.equal({
        receiver: receiverNames.deliveryCheck,
        matchers: [`alertname="${deliveryCheck.alertname}"`, `${deliveryCheck.idLabel}=~".+"`],
        group_by: ["alertname", deliveryCheck.idLabel],
        ...deliveryCheckTiming,
      });
      expect(first?.group_wait).to.equal("0s");
      // The same SMTP server, credentials, recipients and templates as every alert; only the resolution is left out.
      expect(emailConfigOf(config, receiverNames.deliveryCheck)).to.deep.equal({
        ...emailConfigOf(config),
        send_resolved: false,
      });
    });

    it("routes the Watchdog to a receiver that sends nothing when no dead man's switch is set", () => {
      const config = render();
      expect(watchdogRouteOf(config).receiver).to.equal(receiverNames.discard);
      expect(config.receivers.find((r) => r.name === receiverNames.discard)).to.deep.equal({
        name: receiverNames.discard,
      });
      expect(config.receivers.map((r) => r.name)).to.not.include(receiverNames.deadMansSwitch);
    });

    it("routes the Watchdog to the dead man's switch webhook, without resolved notifications, when set", () => {
      const url = "https://hc-ping.example.com/6d1c1d0b";
      const config = render({ alertmanager: { deadMansSwitchUrl: url } });
      const route = watchdogRouteOf(config);
      expect(route.receiver).to.equal(receiverNames.deadMansSwitch);
      expect(route.repeat_interval).to.be.a("string");
      expect(
        config.receivers.find((r) => r.name === receiverNames.deadMansSwitch)?.webhook_configs,
      ).to.deep.equal([{ url, send_resolved: false }]);
      expect(config.receivers.map((r) => r.name)).to.not.include(receiverNames.discard);
    });
  });

  describe("inhibition", () => {
    it("lets a job's InstanceDown silence that job's traffic, error and latency alerts, whatever the job", () => {
      const rule = render().inhibit_rules.find((r) =>
        r.source_matchers.includes(`alertname="${alertNames.instanceDown}"`),
      );
      expect(rule?.source_matchers).to.deep.equal([`alertname="${alertNames.instanceDown}"`]);
      expect(rule?.target_matchers).to.deep.equal([
        `alertname=~"${alertNames.highRequestVolume}|${alertNames.highErrorRate}|${alertNames.highLatency}"`,
      ]);
      expect(rule?.equal).to.deep.equal(["job"]);
    });

    it("lets a critical alert silence the warning of the same alert, job, instance and SLO", () => {
      const rule = render().inhibit_rules.find((r) => r.source_matchers.includes(`severity="critical"`));
      expect(rule?.target_matchers).to.deep.equal([`severity="warning"`]);
      expect(rule?.equal).to.have.members(["alertname", "job", "instance", "slo"]);
    });
  });

  describe("e-mail receiver", () => {
    it("sends to the stack's inbox without TLS and without credentials by default", () => {
      const email = emailConfigOf(render());
      expect(email).to.include({
        to: "oncall@example.com",
        from: "alertmanager@example.com",
        smarthost: stackEndpoints.inboxSmtp,
        require_tls: false,
        send_resolved: true,
      });
      expect(email).to.not.have.any.keys("auth_username", "auth_password", "auth_password_file");
    });

    it("requires TLS for any other smarthost unless told otherwise", () => {
      expect(emailConfigOf(render({ email: { smarthost: "smtp.example.com:587" } }))).to.include({
        smarthost: "smtp.example.com:587",
        require_tls: true,
      });
      expect(
        emailConfigOf(render({ email: { smarthost: "relay.internal:25", requireTls: false } })).require_tls,
      ).to.be.false;
      expect(emailConfigOf(render({ email: { requireTls: true } })).require_tls).to.be.true;
    });

    it("addresses one e-mail to every recipient", () => {
      const email = emailConfigOf(render({ email: { to: ["oncall@example.com", "lead@example.org"] } }));
      expect(email.to).to.equal("oncall@example.com, lead@example.org");
    });

    it("reads the SMTP password from a file and never writes it into the config", () => {
      const text = renderAlertmanagerConfig(
        settingsWith({ email: { authUsername: "alerts", authPassword: smtpPassword } }),
        stackEndpoints,
      );
      const email = emailConfigOf(parse(text) as AlertmanagerConfig);
      expect(email).to.include({ auth_username: "alerts", auth_password_file: smtpPasswordFile });
      expect(email).to.not.have.property("auth_password");
      expect(text).to.not.include(smtpPassword);
    });

    it("refuses half-configured credentials, naming the missing setting", () => {
      expect(() => render({ email: { authPassword: smtpPassword } })).to.throw(/email\.authUsername/);
      expect(() => render({ email: { authUsername: "alerts" } })).to.throw(/email\.authPassword/);
    });

    it("puts the status first in the subject and links every console in the bodies", () => {
      const email = emailConfigOf(render());
      expect(email.headers.Subject).to.match(/^\[\{\{ \.Status \| toUpper \}\}/);
      const { grafana, prometheus, alertmanagers } = stackEndpoints.links;
      for (const url of [grafana, ...prometheus, alertmanagers[0] ?? ""]) {
        expect(email.text).to.include(url);
        expect(email.html).to.include(url);
      }
      for (const key of Object.values(annotationKeys)) {
        expect(email.text).to.include(`.Annotations.${key}`);
        expect(email.html).to.include(`.Annotations.${key}`);
      }
    });
    it("names the endpoint link that is not an absolute URL", () => {
      const links = { ...stackEndpoints.links, prometheus: ["http://127.0.0.1:9090", "127.0.0.1:9091"] };
      expect(() => render({}, { ...stackEndpoints, links })).to.throw(/endpoints\.links\.prometheus\[1\]/);
    });
  });

  describe("checked by amtool", function () {
    this.timeout(30_000);
    let amtool: string;
    let dir: TempDir | undefined;

    before(function () {
      ({ amtool } = requireBinaries(this, "amtool"));
      dir = makeTempDir("alertmanager-config-");
    });

    after(() => dir?.remove());

    const variants: { name: string; input: SettingsInput; watchdogReceiver: string }[] = [
      { name: "defaults", input: {}, watchdogReceiver: receiverNames.discard },
      {
        name: "every e-mail and Watchdog setting",
        input: {
          email: {
            to: ["oncall@example.com", "lead@example.org"],
            smarthost: "smtp.example.com:587",
            authUsername: "alerts",
            authPassword: smtpPassword,
          },
          alertmanager: { deadMansSwitchUrl: "https://hc-ping.example.com/6d1c1d0b" },
          alerts: { custom: [customAlert] },
        },
        watchdogReceiver: receiverNames.deadMansSwitch,
      },
    ];

    /** Writes the config (and the password file it names) the way the stack lays them out. */
    function writeConfig(variant: string, settings: Settings): string {
      if (!dir) throw new Error("the temporary directory was not created");
      const configPath = join(dir.path, variant, renderedPaths.alertmanagerConfig);
      mkdirSync(join(dirname(configPath), dirname(smtpPasswordFile)), { recursive: true });
      writeFileSync(configPath, renderAlertmanagerConfig(settings, stackEndpoints));
      if (settings.email.authPassword !== undefined) {
        writeFileSync(join(dirname(configPath), smtpPasswordFile), settings.email.authPassword, {
          mode: 0o600,
        });
      }
      return configPath;
    }

    variants.forEach(({ name, input, watchdogReceiver }, index) => {
      it(`accepts the config rendered from ${name}, without warnings and in UTF-8 strict mode`, async () => {
        const configPath = writeConfig(`check-${index}`, settingsWith(input));
        // amtool prints its log, warnings included, on stdout.
        const fallbackMode = await run(amtool, ["check-config", configPath]);
        expect(fallbackMode.stdout)
          .to.include("SUCCESS")
          .and.not.match(/level=(WARN|ERROR)/);
        const strictMode = await run(amtool, [
          "check-config",
          "--enable-feature=utf8-strict-mode",
          configPath,
        ]);
        expect(strictMode.stdout).to.include("SUCCESS");
      });

      it(`routes every alert to its receiver with ${name}`, async () => {
        const settings = settingsWith({ ...input, alerts: { ...input.alerts, custom: [customAlert] } });
        const configPath = writeConfig(`routes-${index}`, settings);
        // Each alert with the labels its rule gives it: the name and the severity from settings.
        const cases: { alertname: string; severity?: string; extra?: string[]; expected: string }[] = [
          ...(Object.keys(alertNames) as (keyof typeof alertNames)[]).map((key) => {
            const alert = settings.alerts[key];
            return {
              alertname: alertNames[key],
              severity: "severity" in alert ? alert.severity : undefined,
              expected: key === "watchdog" ? watchdogReceiver : receiverNames.email,
            };
          }),
          {
            alertname: customAlert.name,
            severity: settings.alerts.custom[0]?.severity,
            expected: receiverNames.email,
          },
          // Labels any other route could also match change nothing: the check's route comes first, alone.
          {
            alertname: deliveryCheck.alertname,
            severity: "info",
            extra: [`${deliveryCheck.idLabel}=3f2a`, `job=${jobs.app}`, "instance=app:5002"],
            expected: receiverNames.deliveryCheck,
          },
          // A custom alert of that name carries no check id: it is an ordinary alert.
          { alertname: deliveryCheck.alertname, severity: "warning", expected: receiverNames.email },
        ];
        for (const { alertname, severity, expected, extra = [] } of cases) {
          const labels = [
            `alertname=${alertname}`,
            ...(severity === undefined ? [] : [`severity=${severity}`]),
            ...extra,
          ];
          const { stdout } = await run(amtool, [
            "config",
            "routes",
            "test",
            `--config.file=${configPath}`,
            ...labels,
          ]);
          expect(stdout.trim(), `receiver of ${alertname}`).to.equal(expected);
        }
      });
    });
  });

  describe("in a running Alertmanager", function () {
    // Alertmanager starts in about a second; every wait below is bounded well inside this budget.
    this.timeout(25_000);

    let dir: TempDir | undefined;
    let alertmanager: ManagedProcess | undefined;
    let apiUrl: string;
    let smtp: SMTPServer | undefined;
    let webhook: HttpServer | undefined;
    const mails: ParsedMail[] = [];
    const recipients: string[][] = [];
    const logins: { username: string; password: string }[] = [];
    const pings: { alerts: { labels: Record<string, string> }[] }[] = [];
    const localLinks = {
      grafana: `http://${loopback}:13000`,
      prometheus: [`http://${loopback}:19090`, `http://${loopback}:19091`],
      alertmanagers: [`http://${loopback}:19093`],
    };
    const alertmanagerLog = () => alertmanager?.tail() ?? "(Alertmanager not started)";

    before(async function () {
      const { alertmanager: binary } = requireBinaries(this, "alertmanager");
      dir = makeTempDir("alertmanager-live-");

      const smtpPort = await freePort();
      smtp = new SMTPServer({
        disabledCommands: ["STARTTLS"],
        allowInsecureAuth: true,
        disableReverseLookup: true,
        logger: false,
        onAuth(auth, _session, callback) {
          logins.push({ username: auth.username ?? "", password: auth.password ?? "" });
          if (auth.password === smtpPassword) callback(null, { user: auth.username });
          else callback(new Error("invalid credentials"));
        },
        onData(stream, session, callback) {
          recipients.push(session.envelope.rcptTo.map((rcpt) => rcpt.address));
          simpleParser(stream).then(
            (mail) => {
              mails.push(mail);
              callback();
            },
            (error: Error) => callback(error),
          );
        },
      });
      const smtpServer = smtp;
      await new Promise<void>((resolve) => smtpServer.listen(smtpPort, loopback, resolve));

      const webhookPort = await freePort();
      webhook = createHttpServer((request, response) => {
        let body = "";
        request.on("data", (chunk: Buffer) => {
          body += chunk.toString();
        });
        request.on("end", () => {
          pings.push(JSON.parse(body));
          response.end();
        });
      });
      const webhookServer = webhook;
      await new Promise<void>((resolve) => webhookServer.listen(webhookPort, loopback, resolve));

      const settings = settingsWith({
        email: {
          to: ["oncall@example.com", "lead@example.org"],
          smarthost: `${loopback}:${smtpPort}`,
          requireTls: false,
          authUsername: "alertmanager",
          authPassword: smtpPassword,
        },
        alertmanager: {
          groupWait: "1s",
          groupInterval: "1s",
          repeatInterval: "1h",
          deadMansSwitchUrl: `http://${loopback}:${webhookPort}/ping`,
        },
      });
      const configPath = join(dir.path, renderedPaths.alertmanagerConfig);
      const configDir = dirname(configPath);
      mkdirSync(join(configDir, dirname(smtpPasswordFile)), { recursive: true });
      writeFileSync(configPath, renderAlertmanagerConfig(settings, { ...stackEndpoints, links: localLinks }));
      writeFileSync(join(configDir, smtpPasswordFile), `${smtpPassword}\n`, { mode: 0o600 });

      const port = await freePort();
      apiUrl = `http://${loopback}:${port}`;
      const started = ManagedProcess.start({
        name: "alertmanager",
        command: binary,
        args: [
          `--config.file=${configPath}`,
          `--storage.path=${join(dir.path, "data")}`,
          `--web.listen-address=${loopback}:${port}`,
          "--cluster.listen-address=",
        ],
        // Alertmanager resolves auth_password_file against its working directory: the config's, as in the stack.
        cwd: configDir,
        logFile: join(dir.path, "alertmanager.log"),
      });
      alertmanager = started;
      await waitFor(
        "Alertmanager to be ready",
        async () => ((await fetch(`${apiUrl}/-/ready`)).ok ? true : undefined),
        {
          timeoutMs: 10_000,
          hopeless: () => (started.running ? undefined : "Alertmanager exited"),
          diagnostics: alertmanagerLog,
        },
      );
    });

    after(async () => {
      await alertmanager?.stop();
      await new Promise<void>((resolve) => (smtp ? smtp.close(() => resolve()) : resolve()));
      await new Promise<void>((resolve) => (webhook ? webhook.close(() => resolve()) : resolve()));
      dir?.remove();
    });

    interface PostedAlert {
      labels: Record<string, string>;
      annotations?: Record<string, string>;
      generatorURL?: string;
      endsAt?: string;
    }

    async function postAlerts(alerts: PostedAlert[]): Promise<void> {
      const response = await fetch(`${apiUrl}/api/v2/alerts`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(alerts),
      });
      expect(response.status, await response.text()).to.equal(200);
    }

    function resolved(alerts: PostedAlert[]): PostedAlert[] {
      return alerts.map((alert) => ({ ...alert, endsAt: new Date().toISOString() }));
    }

    /** State of every alert Alertmanager holds, keyed by "alertname/severity/job/instance". */
    async function alertStates(): Promise<Map<string, string>> {
      const response = await fetch(`${apiUrl}/api/v2/alerts`);
      const alerts = (await response.json()) as {
        labels: Record<string, string>;
        status: { state: string };
      }[];
      return new Map(
        alerts.map(({ labels, status }) => [
          `${labels.alertname}/${labels.severity}/${labels.job ?? ""}/${labels.instance ?? ""}`,
          status.state,
        ]),
      );
    }

    const mailsAbout = (alertname: string) =>
      mails.filter((mail) => mail.subject?.includes(` ${alertname} `));

    /** Waits for the first e-mail about `alertname` whose subject starts with `status`. */
    async function mailArrives(alertname: string, status: string, since: number): Promise<ParsedMail> {
      const { value, elapsedMs } = await waitFor(
        `the ${status} e-mail about ${alertname}`,
        () => mailsAbout(alertname).find((mail) => mail.subject?.startsWith(status)),
        { timeoutMs: 10_000, intervalMs: 100, diagnostics: alertmanagerLog },
      );
      console.log(
        `      ${status} e-mail after ${seconds(performance.now() - since)} (waited ${seconds(elapsedMs)})`,
      );
      return value;
    }

    it("suppresses the app's symptoms while it is down, and a warning while its critical twin fires", async () => {
      const instance = stackEndpoints.app;
      const alerts: PostedAlert[] = [
        { labels: { alertname: alertNames.instanceDown, job: jobs.app, instance, severity: "critical" } },
        // The symptom alerts aggregate over the app's instances, keeping only the job.
        { labels: { alertname: alertNames.highErrorRate, job: jobs.app, severity: "warning" } },
        { labels: { alertname: alertNames.highLatency, job: jobs.app, severity: "warning" } },
        { labels: { alertname: alertNames.highLatency, job: "other", severity: "warning" } },
        { labels: { alertname: "DiskAlmostFull", job: "node", instance: "a", severity: "critical" } },
        { labels: { alertname: "DiskAlmostFull", job: "node", instance: "a", severity: "warning" } },
        { labels: { alertname: "DiskAlmostFull", job: "node", instance: "b", severity: "warning" } },
        { labels: { alertname: "DiskAlmostFull", job: "node", instance: "b", severity: "info" } },
      ];
      const expected = new Map([
        [`${alertNames.instanceDown}/critical/${jobs.app}/${instance}`, "active"],
        [`${alertNames.highErrorRate}/warning/${jobs.app}/`, "suppressed"],
        [`${alertNames.highLatency}/warning/${jobs.app}/`, "suppressed"],
        [`${alertNames.highLatency}/warning/other/`, "active"],
        ["DiskAlmostFull/critical/node/a", "active"],
        ["DiskAlmostFull/warning/node/a", "suppressed"],
        ["DiskAlmostFull/warning/node/b", "active"],
        ["DiskAlmostFull/info/node/b", "suppressed"],
      ]);
      await postAlerts(alerts);
      try {
        let states = new Map<string, string>();
        // The inhibitor learns of new source alerts asynchronously, so the states settle shortly after the post.
        await waitFor(
          "the inhibition rules to apply",
          async () => {
            states = await alertStates();
            return [...expected].every(([key, state]) => states.get(key) === state) ? true : undefined;
          },
          { timeoutMs: 5_000, intervalMs: 100, diagnostics: () => `states: ${JSON.stringify([...states])}` },
        );
      } finally {
        await postAlerts(resolved(alerts));
      }
    });

    it("e-mails an alert that both replicas send once, then its resolution in the same thread", async () => {
      const summary = "More than 500 requests to the app within 1m";
      const generatorURL = (replica: number) => `${localLinks.prometheus[replica]}/graph?g0.expr=up`;
      const alert: PostedAlert = {
        labels: { alertname: alertNames.highRequestVolume, job: jobs.app, severity: "warning" },
        annotations: {
          [annotationKeys.summary]: summary,
          [annotationKeys.description]: "The app served 1.234k requests in the last 1m.",
          [annotationKeys.value]: "1.234k",
          [annotationKeys.runbookUrl]: "https://example.com/RUNBOOK.md#highrequestvolume",
        },
        generatorURL: generatorURL(0),
      };
      const started = performance.now();
      // Both replicas send the same alert; Alertmanager must merge them into one notification.
      await postAlerts([alert]);
      await postAlerts([{ ...alert, generatorURL: generatorURL(1) }]);
      const firing = await mailArrives(alertNames.highRequestVolume, "[FIRING:1]", started);

      expect(firing.subject).to.equal(
        `[FIRING:1] ${alertNames.highRequestVolume} (warning) job=${jobs.app}: ${summary}`,
      );
      const text = firing.text ?? "";
      for (const expected of [
        `[FIRING] ${alertNames.highRequestVolume}`,
        "Severity:    warning",
        `Summary:     ${summary}`,
        "Description: The app served 1.234k requests in the last 1m.",
        "Value:       1.234k",
        `Labels:      job=${jobs.app}`,
        "Runbook:     https://example.com/RUNBOOK.md#highrequestvolume",
        `${localLinks.grafana}/dashboards`,
        `${localLinks.prometheus[0]}/alerts`,
        `${localLinks.prometheus[1]}/alerts`,
        `${localLinks.alertmanagers[0]}/#/alerts?receiver=${receiverNames.email}`,
      ]) {
        expect(text).to.include(expected);
      }
      expect([0, 1].map((replica) => `Source:      ${generatorURL(replica)}`)).to.satisfy(
        (sources: string[]) => sources.some((source) => text.includes(source)),
      );
      const html = typeof firing.html === "string" ? firing.html : "";
      expect(html).to.include(summary).and.include("1.234k");
      expect(html).to.match(/href="http:\/\/127\.0\.0\.1:1909[01]\/graph\?g0\.expr=up"/);
      expect(html).to.include(`href="${localLinks.grafana}/dashboards"`);
      expect(html).to.include('href="https://example.com/RUNBOOK.md#highrequestvolume"');
      expect(recipients[mails.indexOf(firing)]).to.have.members(["oncall@example.com", "lead@example.org"]);
      expect(logins).to.deep.include({ username: "alertmanager", password: smtpPassword });

      await postAlerts(resolved([alert]));
      const resolution = await mailArrives(alertNames.highRequestVolume, "[RESOLVED]", started);
      expect(mailsAbout(alertNames.highRequestVolume)).to.deep.equal([firing, resolution]);
      expect(resolution.subject).to.equal(
        `[RESOLVED] ${alertNames.highRequestVolume} (warning) job=${jobs.app}: ${summary}`,
      );
      expect(resolution.text)
        .to.include(`[RESOLVED] ${alertNames.highRequestVolume}`)
        .and.include("Resolved:    ");
      expect(resolution.references).to.exist.and.deep.equal(firing.references);
    });

    it("shows a runbook path in the repository as text, never as a link that leads nowhere", async () => {
      const runbookUrl = `${runbookPath}#${runbookAnchor(customAlertsRunbookSection)}`;
      const alert: PostedAlert = {
        labels: { alertname: customAlert.name, job: "queue", severity: "warning" },
        annotations: {
          [annotationKeys.summary]: customAlert.summary,
          [annotationKeys.runbookUrl]: runbookUrl,
        },
      };
      const started = performance.now();
      await postAlerts([alert]);
      try {
        const firing = await mailArrives(customAlert.name, "[FIRING:1]", started);
        expect(firing.text).to.include(`Runbook:     ${runbookUrl}`);
        const html = typeof firing.html === "string" ? firing.html : "";
        expect(html).to.include(runbookUrl).and.not.include(`href="${runbookPath}`);
      } finally {
        await postAlerts(resolved([alert]));
      }
    });

    it("e-mails the delivery check at once, uninhibited beside critical alerts, and never its resolution", async () => {
      const checkId = "c0ffee00-delivery-check";
      const check: PostedAlert = {
        labels: { alertname: deliveryCheck.alertname, severity: "info", [deliveryCheck.idLabel]: checkId },
        annotations: { [annotationKeys.summary]: "Delivery check" },
      };
      const real: PostedAlert[] = [
        {
          labels: {
            alertname: alertNames.instanceDown,
            job: jobs.app,
            instance: "app:5002",
            severity: "critical",
          },
        },
        { labels: { alertname: alertNames.alertmanagerDown, severity: "critical" } },
        { labels: { alertname: alertNames.highLatency, job: jobs.app, severity: "warning" } },
      ];
      await postAlerts(real);
      try {
        const started = performance.now();
        await postAlerts([check]);
        const firing = await mailArrives(deliveryCheck.alertname, "[FIRING:1]", started);
        // The subject names the alert as every alert's does: the route groups by alertname too.
        expect(firing.subject).to.equal(`[FIRING:1] ${deliveryCheck.alertname} (info): Delivery check`);
        // group_wait is 0s on its route: only the SMTP exchange lies between the post and the e-mail.
        expect(performance.now() - started, "ms to the check e-mail").to.be.below(3_000);
        expect(firing.text)
          .to.include(`${deliveryCheck.idLabel}=${checkId}`)
          .and.not.include(alertNames.instanceDown);
        expect(recipients[mails.indexOf(firing)]).to.have.members(["oncall@example.com", "lead@example.org"]);
        expect((await alertStates()).get(`${deliveryCheck.alertname}/info//`)).to.equal("active");
      } finally {
        await postAlerts(resolved([check, ...real]));
      }
      // The route's group_interval is when a resolution would leave; a second after it, none has.
      await sleep(durationMs(deliveryCheckTiming.group_interval) + 1_000);
      expect(mailsAbout(deliveryCheck.alertname).map((mail) => mail.subject)).to.have.length(1);
    });

    it("sends the Watchdog to the dead man's switch and never by e-mail", async () => {
      await postAlerts([{ labels: { alertname: alertNames.watchdog, severity: "none" } }]);
      await waitFor(
        "the dead man's switch ping",
        () =>
          pings.find((ping) => ping.alerts.some((alert) => alert.labels.alertname === alertNames.watchdog)),
        { timeoutMs: 5_000, intervalMs: 100, diagnostics: alertmanagerLog },
      );
      // Group wait and interval are 1s: an e-mail routed by mistake would have arrived by now.
      await sleep(2_000);
      expect(mailsAbout(alertNames.watchdog)).to.be.empty;
    });
  });
});
