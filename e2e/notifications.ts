/**
 * Reading Alertmanager's notification e-mails as a person does: by their subject and the labelled lines of
 * their body, in the format configs/alertmanager/email-templates.ts writes them.
 */
import type { ReceivedEmail } from "./inbox";
import type { Stack } from "./stack";

export type NotificationStatus = "firing" | "resolved";

export interface NotificationSubject {
  readonly status: NotificationStatus;
  readonly alertname: string;
  readonly severity: string | undefined;
  readonly job: string | undefined;
  readonly summary: string | undefined;
}

/** `[FIRING:1] InstanceDown (critical) job=app: The service is unreachable` and `[RESOLVED] InstanceDown ...`. */
const subjectPattern = /^\[(FIRING|RESOLVED)(?::\d+)?\] (\S+)(?: \(([^)]+)\))?(?: job=(\S+?))?(?:: (.*))?$/;

export function parseSubject(subject: string): NotificationSubject | undefined {
  const match = subjectPattern.exec(subject.trim());
  if (!match) return undefined;
  const [, status = "", alertname = "", severity, job, summary] = match;
  return {
    status: status === "FIRING" ? "firing" : "resolved",
    alertname,
    severity,
    job,
    summary,
  };
}

/** A predicate for `Inbox.waitForEmail`: the notification of `alertname` with that status. */
export function notificationOf(
  alertname: string,
  status: NotificationStatus,
): (email: ReceivedEmail) => boolean {
  return (email) => {
    const subject = parseSubject(email.subject);
    return subject?.alertname === alertname && subject.status === status;
  };
}

/** The value of a `Label:   value` line of the plain-text body, such as `Severity` or `Value`. */
export function bodyField(email: ReceivedEmail, label: string): string | undefined {
  const escaped = label.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`^${escaped}:[ \\t]+(.+)$`, "m").exec(email.text)?.[1]?.trim();
}

/** The SI prefixes Prometheus's `humanize` writes after the number. */
const siPrefixes: Readonly<Record<string, number>> = {
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  m: 1e-3,
  u: 1e-6,
  n: 1e-9,
  p: 1e-12,
};

/** The number in a `{{ $value | humanize }}` rendering: "87.5" → 87.5, "1.2k" → 1200, "250m" → 0.25. */
export function parseHumanized(text: string): number | undefined {
  const match = /^(-?\d+(?:\.\d+)?(?:e[+-]?\d+)?)\s*([kMGTPEmunp]?)$/.exec(text.trim());
  if (!match) return undefined;
  return Number(match[1]) * (siPrefixes[match[2] ?? ""] ?? 1);
}

/** Waits for the notification of `alertname` with that status, accepted by the stack's inbox after `since`. */
export function waitForNotification(
  stack: Stack,
  alertname: string,
  status: "firing" | "resolved",
  since: number,
  timeoutMs: number,
): Promise<ReceivedEmail> {
  return stack.inbox
    .waitForEmail(`${alertname} ${status}`, notificationOf(alertname, status), {
      since,
      timeoutMs,
      diagnostics: () => stack.diagnostics(),
    })
    .then((arrived) => arrived.email);
}
