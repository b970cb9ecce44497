/**
 * How long each step of the pipeline may take: the timing model (configs/prometheus/alert-timing.ts) for the
 * settings under test, plus a margin. A scenario waits exactly its budget, so a slower pipeline fails the test rather than stretching it, and prints what it measured.
 */
import {
  afterAlertmanagerRestartTiming,
  firingEmailTiming,
  resolvedEmailTiming,
} from "../configs/prometheus/alert-timing";
import { durationMs } from "../configs/settings/duration";
import type { Settings } from "../configs/settings/schema";
import { requestTimeoutMs } from "../test-support/http";
import { seconds } from "../test-support/wait";

/**
 * Slack for what the formulas leave out: process scheduling on a busy two-core machine, the SMTP exchange,
 * and the first scrape's random offset within its interval.
 */
export const marginMs = 5000;

/** Prometheus applies its scrape targets some seconds after it starts (its discovery reload interval). */
export const targetsUpTimeoutMs = 20_000;

/**
 * How far a wait can run past its budget: it checks its deadline between probes, so a probe started just before
 * the deadline may take up to `requestTimeoutMs` more; then comes the failure message with the logs' tails.
 */
export const waitOverrunMs = requestTimeoutMs + 1000;

/**
 * The mocha timeout of a test or hook made of these steps one after another (waits with their budgets, sleeps):
 * their sum, each one's overrun, and `marginMs`. Mocha must never stop a test before its own wait gives up:
 * its bare "Timeout exceeded" would replace the wait's message, which says what was awaited and shows the logs.
 */
export function mochaTimeoutMs(...stepsMs: readonly number[]): number {
  return stepsMs.reduce((total, step) => total + step, 0) + stepsMs.length * waitOverrunMs + marginMs;
}

/**
 * Alertmanager's shortest notification timeout (`notify.MinTimeout`): one flush keeps retrying a failing
 * receiver, with growing pauses, for max(group_interval, this) before giving up until the next flush.
 */
const alertmanagerMinNotifyTimeoutMs = 10_000;

const ms = durationMs;

/**
 * From the moment a condition starts to its e-mail, with `alertmanagersDown` Alertmanager replicas down: the
 * timing model's latest, and the margin.
 */
export function firingEmailBudgetMs(settings: Settings, forDuration: string, alertmanagersDown = 0): number {
  return firingEmailTiming(settings, { for: forDuration }, "event", alertmanagersDown).latestMs + marginMs;
}

/** From the moment a condition ends to its resolved e-mail. */
export function resolvedEmailBudgetMs(settings: Settings): number {
  return resolvedEmailTiming(settings, { for: "0s" }).latestMs + marginMs;
}

/** From the moment the stored samples first satisfy an alert's expression to its e-mail. */
export function afterConditionBudgetMs(settings: Settings, forDuration: string): number {
  return firingEmailTiming(settings, { for: forDuration }, "stored samples").latestMs + marginMs;
}

/** From the moment the stored samples stop satisfying an alert's expression to its resolved e-mail. */
export function afterRecoveryBudgetMs(settings: Settings): number {
  return resolvedEmailTiming(settings, { for: "0s" }, "stored samples").latestMs + marginMs;
}

/** From an Alertmanager restart to the e-mail of an alert that was already firing. */
export function afterAlertmanagerRestartBudgetMs(settings: Settings): number {
  return afterAlertmanagerRestartTiming(settings).latestMs + marginMs;
}

/**
 * From the moment a receiver that was down comes back to the delivery Alertmanager kept retrying: at worst the
 * current flush's retries run out just before, and the group's next flush delivers.
 */
export function redeliveryBudgetMs(settings: Settings): number {
  const groupIntervalMs = ms(settings.alertmanager.groupInterval);
  return Math.max(groupIntervalMs, alertmanagerMinNotifyTimeoutMs) + groupIntervalMs + marginMs;
}

/** Prints a measured time beside its budget, the line every scenario leaves in the test output. */
export function formatMeasurement(what: string, measuredMs: number, budgetMs: number): string {
  return `      ${what}: ${seconds(measuredMs)} (budget ${seconds(budgetMs)})`;
}
