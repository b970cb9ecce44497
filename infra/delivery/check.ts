/**
 * The delivery check: proves that an alert reaches a person, through the same Alertmanager, templates and SMTP
 * settings as every real alert. It posts one synthetic DeliveryCheck alert with a unique id, waits until the
 * e-mail is in the inbox (or, with a real SMTP server, until Alertmanager counts it accepted), and resolves the
 * alert again. Used by `npm run check-delivery` and, on `pulumi up`, by infra/delivery-check.ts.
 *
 * No classes and no module-level objects beyond plain data: Pulumi serializes this code into its dynamic
 * provider by value, function by function.
 */
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { deliveryCheckTiming } from "../../configs/alertmanager/config";
import { annotationKeys, deliveryCheck } from "../../configs/names";
import { durationMs } from "../../configs/settings/duration";
import { type AlertmanagerApi, alertmanagerApi, type EmailCounters, type PostedAlert } from "./alertmanager";
import type { InboxClient } from "./inbox";
import { type AlertmanagerLog, notifyErrors } from "./logs";

/**
 * Alertmanager's notify.MinTimeout: a flush retries a failing receiver for max(group_interval, 10s) before it
 * counts the notification as failed.
 */
const alertmanagerMinNotifyTimeoutMs = 10_000;
const notifyTimeoutMs = Math.max(
  durationMs(deliveryCheckTiming.group_interval),
  alertmanagerMinNotifyTimeoutMs,
);

/**
 * The default timeout: group_wait (0s on the check's route), then the first flush's attempts (one notify timeout,
 * 10s), a second flush's for a slow or greylisting server, and 10s for the SMTP exchange and the inbox to index
 * the message. 30s with the shipped route.
 */
export const defaultTimeoutMs = durationMs(deliveryCheckTiming.group_wait) + 2 * notifyTimeoutMs + 10_000;

/**
 * How long the check's alert lives if the check dies before resolving it: long enough for any timeout, far
 * shorter than the route's repeat_interval, so that it never sends a second e-mail.
 */
const alertLifetimeMs = 5 * 60_000;

const pollIntervalMs = 250;

export interface DeliveryCheckOptions {
  /** Alertmanager's base URL, such as http://127.0.0.1:9093. */
  readonly alertmanagerUrl: string;
  /** The stack's own inbox; without one the check trusts Alertmanager's count of accepted e-mail. */
  readonly inbox?: InboxClient;
  /** Where Alertmanager's log is read from to name the SMTP error of a failed delivery. */
  readonly log?: AlertmanagerLog;
  readonly timeoutMs?: number;
  /** Unique per check; a fresh UUID by default. */
  readonly checkId?: string;
}

export type DeliveryCheckResult =
  /** The e-mail is in the inbox. */
  | { readonly outcome: "delivered"; readonly checkId: string; readonly recipients: readonly string[] }
  /** No inbox to look in: the smarthost accepted the e-mail. */
  | { readonly outcome: "accepted"; readonly checkId: string }
  /** Alertmanager could not deliver it, or it did not arrive in time. */
  | { readonly outcome: "failed"; readonly checkId: string }
  /** Alertmanager did not take the alert: nothing was checked. */
  | { readonly outcome: "unreachable"; readonly checkId: string };

export type DeliveryCheckReport = DeliveryCheckResult & {
  /** One line (or a few) for a person: what happened, and on failure why and what to look at. */
  readonly message: string;
  /** From posting the alert to the verdict. */
  readonly elapsedMs: number;
};

/** 0 delivered or accepted, 1 not delivered, 2 Alertmanager unreachable: the exit code of the CLI. */
export function exitCodeOf(report: DeliveryCheckReport): 0 | 1 | 2 {
  if (report.outcome === "unreachable") return 2;
  return report.outcome === "failed" ? 1 : 0;
}

/** The alert the check posts: its own name and id, info severity, and a summary that says it needs no action. */
export function deliveryCheckAlert(checkId: string, now: Date): PostedAlert {
  return {
    labels: { alertname: deliveryCheck.alertname, severity: "info", [deliveryCheck.idLabel]: checkId },
    annotations: {
      [annotationKeys.summary]: "Delivery check: proves that alert e-mail reaches you; no action needed",
      [annotationKeys.description]:
        `A test alert sent by watchtower's delivery check (${deliveryCheck.idLabel}=${checkId}) on pulumi up or ` +
        "npm run check-delivery, through the same Alertmanager and SMTP settings as every alert. It is resolved " +
        "at once and sends no resolved e-mail.",
    },
    startsAt: now.toISOString(),
    endsAt: new Date(now.getTime() + alertLifetimeMs).toISOString(),
  };
}

export async function runDeliveryCheck(options: DeliveryCheckOptions): Promise<DeliveryCheckReport> {
  const checkId = options.checkId ?? randomUUID();
  const alertmanager = alertmanagerApi(options.alertmanagerUrl);
  const firedAt = new Date();
  const started = performance.now();
  const elapsed = () => performance.now() - started;
  const alert = deliveryCheckAlert(checkId, firedAt);

  let before: EmailCounters;
  try {
    before = await alertmanager.emailCounters();
    await alertmanager.postAlerts([alert]);
  } catch (error) {
    const message = `cannot reach Alertmanager at ${alertmanager.url}: ${messageOf(error)}`;
    return { outcome: "unreachable", checkId, message, elapsedMs: elapsed() };
  }

  const result = await awaitDelivery(options, alertmanager, checkId, before, firedAt, elapsed);
  const verdictMs = elapsed();
  // Cleanup whatever the verdict: nothing stays firing. Failing that, the alert ends by itself at endsAt.
  try {
    await alertmanager.postAlerts([{ ...alert, endsAt: new Date().toISOString() }]);
    return { ...result, elapsedMs: verdictMs };
  } catch (error) {
    const note = `; its alert could not be resolved (${messageOf(error)}) and ends by itself at ${alert.endsAt}`;
    return { ...result, message: `${result.message}${note}`, elapsedMs: verdictMs };
  }
}

type Verdict = DeliveryCheckResult & { readonly message: string };

async function awaitDelivery(
  options: DeliveryCheckOptions,
  alertmanager: AlertmanagerApi,
  checkId: string,
  before: EmailCounters,
  firedAt: Date,
  elapsed: () => number,
): Promise<Verdict> {
  const timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
  const { inbox } = options;
  const failed = (message: string): Verdict => ({ outcome: "failed", checkId, message });
  let lastProblem: string | undefined;
  let counters = before;
  for (;;) {
    try {
      const status = await alertmanager.alertStatus(deliveryCheck.idLabel, checkId);
      const muted = status && (await mutedBy(alertmanager, status));
      if (muted)
        return failed(`no e-mail is sent: the ${deliveryCheck.alertname} alert (${checkId}) is ${muted}`);

      if (inbox) {
        const [message] = await inbox.messagesWith(checkId);
        if (message) {
          const recipients = [...new Set(message.recipients)];
          const text = `delivered to ${recipients.join(", ")} in ${seconds(elapsed())}`;
          return { outcome: "delivered", checkId, recipients, message: text };
        }
      }
      counters = await alertmanager.emailCounters();
      // An attempt is counted once its SMTP exchange has ended; notifications_total, by contrast, rises before.
      // The counters are per integration, not per alert: another alert's e-mail accepted at the same moment
      // counts too, which is why the inbox, when there is one, is the proof instead.
      if (!inbox && succeeded(counters) > succeeded(before)) {
        return {
          outcome: "accepted",
          checkId,
          message:
            `the smarthost accepted the ${deliveryCheck.alertname} e-mail (${deliveryCheck.idLabel}=${checkId}) in ` +
            `${seconds(elapsed())}: look for "[FIRING:1] ${deliveryCheck.alertname} (info)" at email.to`,
        };
      }
      const givenUp = risenReasons(before, counters);
      if (givenUp.length > 0) {
        const metric = givenUp
          .map((reason) => `alertmanager_notifications_failed_total{integration="email",reason="${reason}"}`)
          .join(", ");
        return failed(
          `Alertmanager gave up sending the ${deliveryCheck.alertname} e-mail after ${seconds(elapsed())} ` +
            `(${metric} rose): ${await smtpError(options.log, checkId, firedAt)}`,
        );
      }
      lastProblem = undefined;
    } catch (error) {
      lastProblem = messageOf(error);
    }
    if (elapsed() >= timeoutMs) {
      const where = inbox ? `in ${inbox.url}` : "accepted by the smarthost";
      const attempts = counters.failedAttempts - before.failedAttempts;
      const why =
        lastProblem !== undefined
          ? `; last problem: ${lastProblem}`
          : attempts > 0
            ? `; ${attempts} delivery attempts failed: ${await smtpError(options.log, checkId, firedAt)}`
            : "";
      return failed(
        `no ${deliveryCheck.alertname} e-mail (${deliveryCheck.idLabel}=${checkId}) ${where} within ${seconds(timeoutMs)}${why}`,
      );
    }
    await sleep(Math.min(pollIntervalMs, Math.max(0, timeoutMs - elapsed())));
  }
}

/** SMTP exchanges that succeeded: attempts minus failed attempts. */
function succeeded(counters: EmailCounters): number {
  return counters.attempts - counters.failedAttempts;
}

function risenReasons(before: EmailCounters, now: EmailCounters): string[] {
  return Object.entries(now.givenUpByReason)
    .filter(([reason, count]) => count > (before.givenUpByReason[reason] ?? 0))
    .map(([reason]) => reason);
}

/** "silenced by silence 1a2b (severity=\"info\"); …" or "inhibited by …"; undefined when nothing mutes it. */
async function mutedBy(
  alertmanager: AlertmanagerApi,
  status: { silencedBy: readonly string[]; inhibitedBy: readonly string[] },
): Promise<string | undefined> {
  const [silence] = status.silencedBy;
  if (silence !== undefined) {
    const matchers = await alertmanager.silenceMatchers(silence).catch(() => "matchers unknown");
    return `silenced by silence ${silence} (${matchers}); expire it or narrow its matchers`;
  }
  if (status.inhibitedBy.length > 0) return `inhibited by alert ${status.inhibitedBy.join(", ")}`;
  return undefined;
}

/**
 * The last SMTP error Alertmanager logged for this check, with the setting it points at; or where to look when
 * the log cannot be read.
 */
async function smtpError(log: AlertmanagerLog | undefined, checkId: string, since: Date): Promise<string> {
  if (!log) return "Alertmanager's log names the SMTP error (docker logs on its container)";
  let errors: string[];
  try {
    errors = notifyErrors(await log.read(since), checkId);
  } catch (error) {
    return `could not read Alertmanager's log (${log.where}: ${messageOf(error)}); it names the SMTP error`;
  }
  const last = errors.at(-1);
  if (last === undefined) return `no error for this check in ${log.where} yet`;
  return `${last}${settingHint(last)}`;
}

/** Which setting an SMTP error points at, so the reader knows what to change. */
function settingHint(error: string): string {
  if (/STARTTLS|TLS|x509|certificate/i.test(error)) return " (check email.requireTls and email.smarthost)";
  if (/dial tcp|connection refused|no such host|i\/o timeout|network is unreachable/i.test(error))
    return " (check email.smarthost)";
  if (/\bauth\b|\b53[045]\b/i.test(error))
    return " (check email.authUsername and the email.authPassword secret)";
  if (/\b(RCPT|MAIL)\b|\b55[034]\b/.test(error)) return " (check email.to and email.from)";
  return "";
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
