/**
 * The one model of how long alerting takes: the earliest and the latest e-mail after an event, for an alert,
 * from the settings, each term named. The load test's phases, the end-to-end tests' budgets, the benchmark's
 * worst case and the alerts page's table (docs/alerts.md) all come from here.
 *
 * The latest firing e-mail after an event (a target dying, traffic crossing a threshold):
 * - `window`, for alerts on a rate: until the window holds the new traffic;
 * - `scrape`: until a scrape sees the change;
 * - `scrape in flight`: one more, for a scrape that started just before the change (and, for a rate, for
 *   increase()'s extrapolation at the window's edge);
 * - `evaluation`: until the rule next runs;
 * - `for`, plus one more `evaluation`, as `for` is counted in whole evaluations;
 * - `group wait`: Alertmanager holds a new group that long before its first e-mail;
 * - `cluster wait`, when Alertmanager replicas are down: the replica that sends waits a peer timeout for each
 *   replica before it in the cluster's order (all of them, at worst). With every replica up, the first sends.
 * The earliest is `for` plus group wait: the change lands just before a scrape that lands just before an
 * evaluation. A resolved e-mail leaves with its group's next flush, at most `group interval` after the rule
 * resolves. Counted from stored samples that already show the change, the scrape and window terms drop out.
 */
import { durationMs } from "../settings/duration";
import type { Settings } from "../settings/schema";
import { type BuiltInAlertRegistry, builtInAlertRegistry, builtInAlerts } from "./built-in-alerts";

export interface TimingTerm {
  readonly name: string;
  readonly ms: number;
}

export interface Timing {
  readonly terms: readonly TimingTerm[];
  readonly earliestMs: number;
  readonly latestMs: number;
}

/** The alert's own part: its `for`, and the window of a rate alert. */
export interface TimedAlert {
  readonly for: string;
  readonly window?: string;
}

/** Counted from the event itself, or from stored samples that already show it. */
export type TimingStart = "event" | "stored samples";

/**
 * Prometheus re-sends a firing alert to Alertmanager at most this often (`--rules.alert.resend-delay`, left at
 * its default in server-flags.ts); an Alertmanager that restarted, and so forgot its alerts, hears of them
 * again only then.
 */
export const prometheusResendDelayMs = 60_000;

function timing(terms: TimingTerm[], earliestMs: number): Timing {
  return { terms, earliestMs, latestMs: terms.reduce((total, term) => total + term.ms, 0) };
}

/** Until the rule's verdict changes after the change: the terms before `for`. */
function detectionTerms(settings: Settings, alert: TimedAlert, start: TimingStart): TimingTerm[] {
  const scrapeMs = durationMs(settings.scrape.interval);
  const evaluationMs = durationMs(settings.scrape.evaluationInterval);
  const fromEvent: TimingTerm[] = [
    ...(alert.window === undefined ? [] : [{ name: "window", ms: durationMs(alert.window) }]),
    { name: "scrape", ms: scrapeMs },
    { name: "scrape in flight", ms: scrapeMs },
  ];
  return [...(start === "event" ? fromEvent : []), { name: "evaluation", ms: evaluationMs }];
}

/** From the event until Prometheus has the alert firing. */
export function alertFiringTiming(
  settings: Settings,
  alert: TimedAlert,
  start: TimingStart = "event",
): Timing {
  const forMs = durationMs(alert.for);
  const evaluationMs = durationMs(settings.scrape.evaluationInterval);
  return timing(
    [
      ...detectionTerms(settings, alert, start),
      { name: "for", ms: forMs },
      { name: "evaluation rounding `for`", ms: evaluationMs },
    ],
    forMs,
  );
}

/** From the event until Alertmanager e-mails the firing alert, with `alertmanagersDown` replicas down. */
export function firingEmailTiming(
  settings: Settings,
  alert: TimedAlert,
  start: TimingStart = "event",
  alertmanagersDown = 0,
): Timing {
  const prometheus = alertFiringTiming(settings, alert, start);
  const groupWaitMs = durationMs(settings.alertmanager.groupWait);
  return timing(
    [
      ...prometheus.terms,
      { name: "group wait", ms: groupWaitMs },
      ...(alertmanagersDown > 0
        ? [{ name: "cluster wait", ms: clusterWaitMs(settings, alertmanagersDown) }]
        : []),
    ],
    prometheus.earliestMs + groupWaitMs,
  );
}

/** From the end of the event until Prometheus has resolved the alert. */
export function alertResolvedTiming(
  settings: Settings,
  alert: TimedAlert,
  start: TimingStart = "event",
): Timing {
  return timing(detectionTerms(settings, alert, start), 0);
}

/** From the end of the event until Alertmanager e-mails the resolution. */
export function resolvedEmailTiming(
  settings: Settings,
  alert: TimedAlert,
  start: TimingStart = "event",
): Timing {
  const prometheus = alertResolvedTiming(settings, alert, start);
  return timing(
    [...prometheus.terms, { name: "group interval", ms: durationMs(settings.alertmanager.groupInterval) }],
    prometheus.earliestMs,
  );
}

/**
 * How long an Alertmanager replica waits before it sends, when `replicasAhead` replicas come before it in the
 * cluster's order (its position): each gets a peer timeout to send first, and this one sends only if the
 * notification log it gossips with shows none did. With every replica up, the first sends at once.
 */
export function clusterWaitMs(settings: Settings, replicasAhead: number): number {
  return replicasAhead * durationMs(settings.alertmanager.peerTimeout);
}

/** From an Alertmanager restart until it e-mails an alert that was already firing. */
export function afterAlertmanagerRestartTiming(settings: Settings): Timing {
  const groupWaitMs = durationMs(settings.alertmanager.groupWait);
  return timing(
    [
      { name: "resend delay", ms: prometheusResendDelayMs },
      { name: "evaluation", ms: durationMs(settings.scrape.evaluationInterval) },
      { name: "group wait", ms: groupWaitMs },
    ],
    groupWaitMs,
  );
}

/** `1m0s` → `1m`, `500ms`, `1m30s`: the way docs/alerts.md writes a span. */
function span(ms: number): string {
  if (ms % 1000 !== 0) return `${ms} ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds} s`;
  return seconds % 60 === 0 ? `${seconds / 60} min` : `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
}

/**
 * The alerts page's table (docs/alerts.md): for every built-in alert that waits for a condition (the Watchdog, with no `for`, fires
 * from the start), its e-mails after the event with these settings.
 */
export function alertTimingTableMarkdown(
  settings: Settings,
  registry: BuiltInAlertRegistry = builtInAlertRegistry,
): string {
  const clustered = settings.alertmanager.replicas > 1;
  const rows = builtInAlerts(settings, registry)
    .filter((alert) => "for" in (registry[alert.key]?.spec.settings ?? {}))
    .map((alert) => {
      const timed = { for: alert.for, window: alert.window };
      const firing = firingEmailTiming(settings, timed);
      const resolved = resolvedEmailTiming(settings, timed);
      const failover = clustered
        ? ` at most ${span(firingEmailTiming(settings, timed, "event", 1).latestMs)} |`
        : "";
      return `| ${alert.name} | ${span(firing.earliestMs)} to ${span(firing.latestMs)} |${failover} at most ${span(resolved.latestMs)} |`;
    });
  const clusteredHeader = clustered ? " firing e-mail, one Alertmanager down |" : "";
  return [
    `| alert | firing e-mail after the event |${clusteredHeader} resolved e-mail after it ends |`,
    `| --- | --- |${clustered ? " --- |" : ""} --- |`,
    ...rows,
  ].join("\n");
}
