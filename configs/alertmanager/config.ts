/**
 * Renders alertmanager.yml from the settings: one e-mail receiver for every alert, the Watchdog kept apart for
 * an external dead man's switch, the delivery check on a fast route of its own, and inhibition so that one
 * outage sends one e-mail rather than a cascade.
 * Only fields Alertmanager 0.35 accepts (it rejects unknown keys), and `matchers` rather than the deprecated
 * `match`/`match_re` forms.
 */

import { deliveryCheck, sloAlertNames } from "../names";
import { type Endpoints, firstReplica } from "../runtime/endpoints";
import type { Severity } from "../settings/alert-settings";
import { alertNames } from "../settings/alert-specs";
import type { Settings } from "../settings/schema";
import { objectives, sloLabel } from "../slo/rules";
import { generatedYaml } from "../yaml";
import { type ConsoleLink, emailHtml, emailSubject, emailText } from "./email-templates";

/**
 * Where Alertmanager reads the SMTP password from, relative to the directory holding alertmanager.yml; the
 * Pulumi program uploads the secret there and the end-to-end tests write it there.
 *
 * Alertmanager 0.35 resolves `auth_password_file` against its working directory, NOT against the config
 * file's directory: `resolveFilepaths` in config/config.go rebases templates and HTTP client files only, and
 * notify/email reads the path with a plain `os.ReadFile`. So Alertmanager must run with the config file's
 * directory as its working directory (the image's default is its data directory, /alertmanager).
 */
export const smtpPasswordFile = "secrets/smtp_password";

export const receiverNames = {
  email: "email",
  /**
   * The delivery check's: the e-mail receiver's settings exactly, except that it sends no resolved e-mail, so
   * that each check sends one e-mail, not two.
   */
  deliveryCheck: "delivery-check",
  /** The Watchdog's webhook, when `alertmanager.deadMansSwitchUrl` is set. */
  deadMansSwitch: "dead-mans-switch",
  /** Has no integration: what is routed here is never sent anywhere. */
  discard: "discard",
} as const;

/** Labels that make two alerts "the same problem" for grouping and for inhibition. */
const groupLabels = ["alertname", "job"] as const;
/** `slo` too: an availability page must not mute a latency ticket, which is another problem. */
const sameAlertLabels = ["alertname", "job", "instance", sloLabel] as const;

/** The app's symptoms that an unreachable app explains: they are noise while InstanceDown fires. */
const appSymptomAlerts = [
  alertNames.highRequestVolume,
  alertNames.highErrorRate,
  alertNames.highLatency,
] as const;

/**
 * Ping cadence of the dead man's switch. Alertmanager only re-sends on its group_interval tick, and records
 * the send time (a little after the tick) as the last notification; a repeat_interval equal to group_interval
 * would therefore skip every other tick. Slightly shorter makes every tick ping, so the switch hears from us
 * once a minute and its own period can be a few minutes.
 */
export const deadMansSwitchTiming = {
  group_wait: "0s",
  group_interval: "1m",
  repeat_interval: "50s",
} as const;

/**
 * The delivery check's route. group_wait 0s: the check e-mail leaves at once, never held back with real alerts.
 * group_interval also sets how long Alertmanager retries a failing delivery before it counts the notification
 * as failed (at least notify.MinTimeout, 10s), so 10s makes a broken SMTP server show within seconds.
 * repeat_interval is far longer than a check alert lives (it ends by itself within minutes), so a check that
 * dies before resolving its alert never sends a second e-mail.
 */
export const deliveryCheckTiming = {
  group_wait: "0s",
  group_interval: "10s",
  repeat_interval: "1h",
} as const;

interface RouteConfig {
  receiver: string;
  matchers?: string[];
  group_by?: string[];
  group_wait?: string;
  group_interval?: string;
  repeat_interval?: string;
  routes?: RouteConfig[];
}

interface InhibitRuleConfig {
  name: string;
  source_matchers: string[];
  target_matchers: string[];
  equal?: string[];
}

interface EmailConfig {
  send_resolved: boolean;
  to: string;
  from: string;
  smarthost: string;
  require_tls: boolean;
  auth_username?: string;
  auth_password_file?: string;
  headers: { Subject: string };
  text: string;
  html: string;
  threading: { enabled: boolean; thread_by_date: "daily" | "none" };
}

interface WebhookConfig {
  url: string;
  send_resolved: boolean;
}

interface ReceiverConfig {
  name: string;
  email_configs?: EmailConfig[];
  webhook_configs?: WebhookConfig[];
}

/** The shape of alertmanager.yml as rendered; tests read the YAML back into it. */
export interface AlertmanagerConfig {
  route: RouteConfig;
  inhibit_rules: InhibitRuleConfig[];
  receivers: ReceiverConfig[];
}

export function renderAlertmanagerConfig(settings: Settings, endpoints: Endpoints): string {
  const config: AlertmanagerConfig = {
    route: buildRoute(settings),
    inhibit_rules: buildInhibitRules(settings),
    receivers: [
      { name: receiverNames.email, email_configs: [buildEmailConfig(settings, endpoints, true)] },
      // Resolving a check is cleanup: the person reading the inbox needs its one e-mail, not a resolution.
      { name: receiverNames.deliveryCheck, email_configs: [buildEmailConfig(settings, endpoints, false)] },
      buildWatchdogReceiver(settings),
    ],
  };
  return generatedYaml(config);
}

/** A UTF-8 matcher; the value is a double-quoted Go string, which JSON string syntax is a subset of. */
function matcher(label: string, operator: "=" | "=~", value: string): string {
  return `${label}${operator}${JSON.stringify(value)}`;
}

function anyOf(values: readonly string[]): string {
  return values.map((value) => value.replace(/[\\.+*?()|[\]{}^$]/g, "\\$&")).join("|");
}

function severityIs(severity: Severity): string {
  return matcher("severity", "=", severity);
}

function buildRoute(settings: Settings): RouteConfig {
  const { groupWait, groupInterval, repeatInterval, deadMansSwitchUrl } = settings.alertmanager;
  const watchdogRoute: RouteConfig =
    deadMansSwitchUrl === undefined
      ? { receiver: receiverNames.discard, matchers: [matcher("alertname", "=", alertNames.watchdog)] }
      : {
          receiver: receiverNames.deadMansSwitch,
          matchers: [matcher("alertname", "=", alertNames.watchdog)],
          ...deadMansSwitchTiming,
        };
  // First, and without `continue`: a check alert stops here, grouped only with itself.
  const deliveryCheckRoute: RouteConfig = {
    receiver: receiverNames.deliveryCheck,
    // A custom alert that happens to be called DeliveryCheck has no check id, and takes the e-mail route.
    matchers: [
      matcher("alertname", "=", deliveryCheck.alertname),
      matcher(deliveryCheck.idLabel, "=~", ".+"),
    ],
    // alertname too, which the e-mail's subject and headline show; the id alone already makes each its own group.
    group_by: ["alertname", deliveryCheck.idLabel],
    ...deliveryCheckTiming,
  };
  // The e-mail receiver and timings of every other alert of its severity; grouped per SLO and severity too, so
  // that a page and a ticket, or the availability and the latency SLO, never share one e-mail and its subject.
  const sloRoute: RouteConfig = {
    receiver: receiverNames.email,
    matchers: [matcher("alertname", "=~", anyOf(Object.values(sloAlertNames)))],
    group_by: [...groupLabels, sloLabel, "severity"],
  };
  return {
    receiver: receiverNames.email,
    group_by: [...groupLabels],
    group_wait: groupWait,
    group_interval: groupInterval,
    repeat_interval: repeatInterval,
    routes: [deliveryCheckRoute, watchdogRoute, sloRoute],
  };
}

function buildInhibitRules(settings: Settings): InhibitRuleConfig[] {
  return [
    {
      // The symptom alerts aggregate over a job's instances and keep only `job` (configs/promql/queries.ts): any
      // instance of a job being down silences that job's symptoms, so they are compared on the job alone.
      name: "service-down-silences-its-symptoms",
      source_matchers: [matcher("alertname", "=", alertNames.instanceDown)],
      target_matchers: [matcher("alertname", "=~", anyOf(appSymptomAlerts))],
      equal: ["job"],
    },
    {
      name: "critical-silences-warning",
      source_matchers: [severityIs("critical")],
      target_matchers: [severityIs("warning")],
      equal: [...sameAlertLabels],
    },
    {
      name: "critical-or-warning-silences-info",
      source_matchers: [matcher("severity", "=~", anyOf(["critical", "warning"] satisfies Severity[]))],
      target_matchers: [severityIs("info")],
      equal: [...sameAlertLabels],
    },
    ...sloInhibitRules(settings),
  ];
}

/**
 * Inhibition between the SLO alerts and the rest, so that one cause sends one e-mail:
 * - The app being down explains a burning or blind SLO, as it explains the threshold alerts.
 * - ErrorBudgetBurn wins over its threshold twin (HighErrorRate for availability, HighLatency for latency):
 *   both watch the same requests, and the burn alert also says how much of the promise to users is at stake,
 *   and so whether it is a page or a ticket. The threshold alert still fires alone for a spike too short to
 *   threaten the budget, and stays visible in Prometheus and Alertmanager while muted.
 * - Within one SLO and severity the faster pair wins over the slower: once the 1h/5m pair has paged, the 6h/30m
 *   pair firing a little later says nothing new. (A critical pair already mutes the warnings of its SLO.)
 */
function sloInhibitRules(settings: Settings): InhibitRuleConfig[] {
  const all = objectives(settings);
  const burn = matcher("alertname", "=", sloAlertNames.errorBudgetBurn);
  const twins = all.flatMap((objective): InhibitRuleConfig[] => {
    if (!settings.alerts[objective.thresholdTwin].enabled) return [];
    return [
      {
        name: `${objective.name}-burn-silences-${alertNames[objective.thresholdTwin]}`,
        source_matchers: [burn, matcher(sloLabel, "=", objective.name)],
        target_matchers: [matcher("alertname", "=", alertNames[objective.thresholdTwin])],
        equal: ["job"],
      },
    ];
  });
  // Compression is global, so every SLO has the same windows: one rule per pair of pairs serves them all.
  const pairs = all[0]?.pairs ?? [];
  const slower = pairs.flatMap((fast, i) =>
    pairs.slice(i + 1).flatMap((slow): InhibitRuleConfig[] =>
      slow.severity === fast.severity
        ? [
            {
              name: `burn-${fast.long}-silences-burn-${slow.long}`,
              source_matchers: [burn, matcher("long", "=", fast.long)],
              target_matchers: [burn, matcher("long", "=", slow.long)],
              equal: ["job", sloLabel],
            },
          ]
        : [],
    ),
  );
  return [
    ...(all.length === 0
      ? []
      : [
          {
            name: "service-down-silences-its-slo-alerts",
            source_matchers: [matcher("alertname", "=", alertNames.instanceDown)],
            target_matchers: [matcher("alertname", "=~", anyOf(Object.values(sloAlertNames)))],
            equal: ["job"],
          },
        ]),
    ...twins,
    ...slower,
  ];
}

function buildEmailConfig(settings: Settings, endpoints: Endpoints, sendResolved: boolean): EmailConfig {
  const { to, from, smarthost, authUsername, requireTls } = settings.email;
  const authPassword = settings.email.authPassword ?? settings.email.authPasswordFile;
  // Half-configured credentials fail every delivery (a username without a password) or are silently ignored
  // (a password without a username): neither should reach a running Alertmanager.
  if (authPassword !== undefined && authUsername === undefined) {
    throw new Error("email.authUsername must be set when email.authPassword is set");
  }
  if (authUsername !== undefined && authPassword === undefined) {
    throw new Error("email.authPassword must be set when email.authUsername is set");
  }
  const links = consoleLinks(endpoints);
  return {
    send_resolved: sendResolved,
    to: (Array.isArray(to) ? to : [to]).join(", "),
    from,
    smarthost: smarthost ?? endpoints.inboxSmtp,
    require_tls: requireTls,
    ...(authUsername === undefined
      ? {}
      : { auth_username: authUsername, auth_password_file: smtpPasswordFile }),
    headers: { Subject: emailSubject },
    text: emailText(links),
    html: emailHtml(links),
    // A resolution threads under its firing e-mail in the reader's mail client.
    threading: { enabled: true, thread_by_date: "daily" },
  };
}

function buildWatchdogReceiver(settings: Settings): ReceiverConfig {
  const url = settings.alertmanager.deadMansSwitchUrl;
  if (url === undefined) return { name: receiverNames.discard };
  return {
    name: receiverNames.deadMansSwitch,
    // When Prometheus stops, the Watchdog times out as "resolved"; a resolved notification would reach the
    // switch as one more ping and delay the very alarm it exists to raise.
    webhook_configs: [{ url, send_resolved: false }],
  };
}

function withPath(base: string, path: string): string {
  return `${base.replace(/\/+$/, "")}${path}`;
}

function absoluteUrl(field: string, url: string): URL {
  try {
    return new URL(url);
  } catch {
    throw new Error(`${field} must be an absolute URL such as http://127.0.0.1:3000, got "${url}"`);
  }
}

/** Where a reader of the e-mail goes next, beside each alert's own Prometheus graph and runbook. */
function consoleLinks(endpoints: Endpoints): ConsoleLink[] {
  const { grafana, prometheus } = endpoints.links;
  // Any replica shows the alerts it was sent and the silences of all; the first is the one always there.
  const alertmanager = firstReplica(endpoints.links.alertmanagers, "Alertmanager");
  absoluteUrl("endpoints.links.grafana", grafana);
  absoluteUrl("endpoints.links.alertmanagers[0]", alertmanager);
  return [
    { label: "Grafana dashboards", url: withPath(grafana, "/dashboards") },
    ...prometheus.map((url, i) => ({
      label: `Prometheus ${absoluteUrl(`endpoints.links.prometheus[${i}]`, url).host} alerts`,
      url: withPath(url, "/alerts"),
    })),
    {
      label: "Alertmanager",
      url: withPath(alertmanager, `/#/alerts?receiver=${encodeURIComponent(receiverNames.email)}`),
    },
  ];
}
