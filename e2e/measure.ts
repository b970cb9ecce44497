/**
 * When a condition held, by Prometheus's own account: a range query over the stored samples says when the
 * request count in the window went above the threshold and when it fell back, which is where the time to an
 * alert starts counting.
 */
import type { PrometheusClient } from "../test-support/prometheus-client";

export interface ConditionPeriod {
  readonly start: Date;
  /** Undefined while the condition still holds at the end of the queried range. */
  readonly end: Date | undefined;
}

/** Steps of the range query: fine enough that the measured times are not blurred by it. */
const stepSeconds = 0.25;

/**
 * When a condition held as Alertmanager learns of it from several replicas: each replica sees it start and end
 * at its own scrapes, and Alertmanager acts on whichever reports first, so the earliest start and the earliest
 * end count. Undefined if some replica never saw it.
 */
export async function conditionPeriod(
  clients: readonly PrometheusClient[],
  expr: string,
  from: Date,
  to: Date,
): Promise<ConditionPeriod | undefined> {
  const periods = await Promise.all(clients.map((client) => replicaConditionPeriod(client, expr, from, to)));
  if (periods.length === 0 || periods.some((period) => period === undefined)) return undefined;
  const seen = periods.filter((period) => period !== undefined);
  const start = Math.min(...seen.map((period) => period.start.getTime()));
  const ends = seen.flatMap((period) => (period.end ? [period.end.getTime()] : []));
  return { start: new Date(start), end: ends.length > 0 ? new Date(Math.min(...ends)) : undefined };
}

/**
 * The first stretch within [from, to] in which `expr` (a filter such as `x > 60`) returned a sample on one
 * replica, or undefined if it never did.
 *
 * The range query sees the condition only at its steps: it began after the last step without it and at the
 * latest at the first step with it, and ended after the last step with it. Both bounds are taken at the early
 * side, the step before the first and the last step with it, so that a time measured from them to an e-mail is
 * never shorter than the real one: a pipeline that respects `for`, or that resolves only after the condition
 * ended, can then never measure below those limits. The measured times are at most one step longer instead.
 */
async function replicaConditionPeriod(
  client: PrometheusClient,
  expr: string,
  from: Date,
  to: Date,
): Promise<ConditionPeriod | undefined> {
  const times = new Set<number>();
  for (const series of await client.queryRange(expr, from, to, stepSeconds)) {
    for (const [time] of series.values) times.add(Math.round(time * 1000));
  }
  const sorted = [...times].sort((a, b) => a - b);
  const [first] = sorted;
  if (first === undefined) return undefined;
  const stepMs = stepSeconds * 1000;
  let last = first;
  for (const time of sorted) {
    if (time - last > stepMs * 1.5) break;
    last = time;
  }
  // Without a step after `last` within the range, nothing says the condition ended.
  const ended = last + stepMs <= to.getTime();
  return { start: new Date(first - stepMs), end: ended ? new Date(last) : undefined };
}

/** The wall-clock time of a `performance.now()` mark, comparable with Prometheus's timestamps. */
export function wallClock(mark: number): Date {
  return new Date(performance.timeOrigin + mark);
}
