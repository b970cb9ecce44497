/**
 * How long the shipped settings take to tell someone: the end-to-end harness (e2e/stack.ts: the service, the
 * Prometheus replicas, Alertmanager and an SMTP inbox, each a real process, configured by the same renderers
 * as the Docker stack) with the shipped defaults, not the sped-up test settings.
 *
 * - HighRequestVolume: requests at the load test's spike rate, sent from here on a fixed schedule; the time of
 *   each answer is recorded, so the moment the count of requests in the alert's window first exceeded
 *   `maxRequests` is known exactly. Measured from that moment to the e-mail.
 * - InstanceDown: from killing the service (SIGKILL, as a crash) to the e-mail.
 *
 * Each cause is started at a random point of the scrape and evaluation cycle, as a real one comes, and each
 * round runs on a fresh stack, so that every alert group is new and waits its whole group_wait.
 *
 * Each is printed beside the latest e-mail the timing model (configs/prometheus/alert-timing.ts) allows for the
 * same settings, term by term, and the earliest: one measurement lies anywhere between, plus delivery.
 */

import { setTimeout as sleep } from "node:timers/promises";
import { loadtestPlan } from "../configs/loadtest/plan";
import { jobs } from "../configs/names";
import { firingEmailTiming } from "../configs/prometheus/alert-timing";
import { requestsInWindow, targetUp } from "../configs/promql/queries";
import type { BinaryName } from "../configs/runtime/tool-builds";
import { alertNames } from "../configs/settings/alert-specs";
import { durationMs } from "../configs/settings/duration";
import type { Settings } from "../configs/settings/schema";
import { firingEmailBudgetMs } from "../e2e/budgets";
import { notificationOf } from "../e2e/notifications";
import { Stack } from "../e2e/stack";
import { apiRoutes } from "../service/metrics-contract";
import { findBinary } from "../test-support/binaries";
import { boundedFetch } from "../test-support/http";
import { seconds } from "../test-support/wait";
import { type Figure, measured } from "./figures";

export interface AlertBenchOptions {
  readonly rounds: number;
  readonly log: (line: string) => void;
}

/** The shipped defaults: no overrides, as a stack without settings of its own deploys. */
const shippedSettings = {};

/** Milliseconds from each cause to its e-mail, in one round. */
interface AlertRound {
  readonly highRequestVolumeMs: number;
  readonly instanceDownMs: number;
}

export async function benchTimeToAlert(options: AlertBenchOptions): Promise<Figure[]> {
  const binaries = requireStackBinaries();
  const rounds: AlertRound[] = [];
  let settings: Settings | undefined;
  for (let round = 1; round <= options.rounds; round++) {
    options.log(
      `alert: round ${round}/${options.rounds}: starting the stack with the shipped default settings`,
    );
    const stack = await Stack.start({ settings: shippedSettings, binaries, log: options.log });
    try {
      settings = stack.settings;
      await waitForAppTarget(stack);
      const highRequestVolumeMs = await timeHighRequestVolume(stack);
      const instanceDownMs = await timeInstanceDown(stack);
      rounds.push({ highRequestVolumeMs, instanceDownMs });
    } finally {
      await stack.stop();
    }
  }
  if (!settings) throw new Error("no round of the time-to-alert benchmark ran");
  const { highRequestVolume, instanceDown } = settings.alerts;
  return [
    alertFigure(
      settings,
      `${alertNames.highRequestVolume} e-mail after the count crossed ${highRequestVolume.maxRequests}`,
      rounds.map((round) => round.highRequestVolumeMs),
      highRequestVolume.for,
      `requests at ${spikeRate(settings).toFixed(2)} req/s (the load test's spike rate) from the benchmark; the ` +
        `crossing is the first moment more than ${highRequestVolume.maxRequests} answers lay within the last ` +
        highRequestVolume.window,
    ),
    alertFigure(
      settings,
      `${alertNames.instanceDown} e-mail after SIGKILL`,
      rounds.map((round) => round.instanceDownMs),
      instanceDown.for,
      "the service killed by SIGKILL, as a crash would",
    ),
  ];
}

/** The shipped defaults watch the host (host.enabled), so the stack runs node exporter too. */
function requireStackBinaries(): { prometheus: string; alertmanager: string; nodeExporter: string } {
  const find = (name: BinaryName) => ({ name, path: findBinary(name) });
  const found = [find("prometheus"), find("alertmanager"), find("node_exporter")];
  const missing = found.filter((binary) => binary.path === undefined).map((binary) => binary.name);
  const [prometheus, alertmanager, nodeExporter] = found.map((binary) => binary.path);
  if (prometheus === undefined || alertmanager === undefined || nodeExporter === undefined) {
    throw new Error(
      `time to alert needs ${missing.join(" and ")}: run \`npm run tools\` to build the pinned versions into ` +
        ".tools/bin, or leave this part out with --skip alert",
    );
  }
  return { prometheus, alertmanager, nodeExporter };
}

/** Until every replica has scraped the service successfully, an InstanceDown could not even start. */
async function waitForAppTarget(stack: Stack): Promise<void> {
  const query = targetUp(jobs.app);
  await stack.waitFor(
    `${query} == 1 on every replica`,
    async () => {
      for (const client of stack.prometheus) {
        const samples = await client.query(query);
        if (samples.length === 0 || samples.some((sample) => sample.value !== 1)) return undefined;
      }
      return true;
    },
    3 * durationMs(stack.settings.scrape.interval) + 30_000,
  );
}

/** The load test's spike rate: the traffic the stack is demonstrated with. */
function spikeRate(settings: Settings): number {
  return loadtestPlan(settings).phases.spike.requestsPerSecond;
}

async function timeHighRequestVolume(stack: Stack): Promise<number> {
  const { settings } = stack;
  const alert = settings.alerts.highRequestVolume;
  const windowMs = durationMs(alert.window);
  const rate = spikeRate(settings);
  const expectedCrossingMs = ((alert.maxRequests + 1) * 1000) / rate;
  const timeoutMs = expectedCrossingMs + 2 * firingEmailBudgetMs(settings, alert.for);
  stack.log(
    `alert: ${rate.toFixed(2)} req/s to ${apiRoutes.items}; ${requestsInWindow(alert.window)} should exceed ` +
      `${alert.maxRequests} after about ${(expectedCrossingMs / 1000).toFixed(1)} s`,
  );
  await randomPhase(settings);
  const traffic = startScheduledTraffic(`http://${stack.endpoints.app}${apiRoutes.items}`, rate, timeoutMs);
  try {
    const { email } = await stack.inbox.waitForEmail(
      `${alertNames.highRequestVolume} firing`,
      notificationOf(alertNames.highRequestVolume, "firing"),
      { since: traffic.startedAt, timeoutMs, diagnostics: () => stack.diagnostics() },
    );
    const crossedAt = firstMomentAbove(traffic.answeredAt, windowMs, alert.maxRequests);
    if (crossedAt === undefined || crossedAt > email.receivedAt) {
      throw new Error(
        `${alertNames.highRequestVolume} arrived before ${alert.maxRequests} requests were answered within ` +
          `${alert.window}: something else sent traffic to the service`,
      );
    }
    stack.log(
      `alert: ${alertNames.highRequestVolume} e-mail ${seconds(email.receivedAt - crossedAt)} after the crossing`,
    );
    return email.receivedAt - crossedAt;
  } finally {
    await traffic.stop();
  }
}

async function timeInstanceDown(stack: Stack): Promise<number> {
  const { settings } = stack;
  const alert = settings.alerts.instanceDown;
  await randomPhase(settings);
  const killedAt = performance.now();
  await stack.killApp();
  stack.log("alert: killed the service");
  const { email } = await stack.inbox.waitForEmail(
    `${alertNames.instanceDown} firing`,
    notificationOf(alertNames.instanceDown, "firing"),
    {
      since: killedAt,
      timeoutMs: 2 * firingEmailBudgetMs(settings, alert.for),
      diagnostics: () => stack.diagnostics(),
    },
  );
  stack.log(
    `alert: ${alertNames.instanceDown} e-mail ${seconds(email.receivedAt - killedAt)} after the kill`,
  );
  return email.receivedAt - killedAt;
}

function alertFigure(
  settings: Settings,
  name: string,
  roundsMs: readonly number[],
  forDuration: string,
  how: string,
): Figure {
  // Both causes are timed from the moment they hold: a window, if any, is already full.
  const timing = firingEmailTiming(settings, { for: forDuration });
  return {
    part: "alert",
    ...measured(
      name,
      "s",
      roundsMs.map((ms) => ms / 1000),
    ),
    baseline: measured(timing.terms.map((term) => `${term.name} ${term.ms / 1000}s`).join(" + "), "s", [
      timing.latestMs / 1000,
    ]),
    note:
      `${how}; shipped default settings, a fresh stack per round; the baseline is the latest e-mail the timing ` +
      `model allows; the earliest it allows is ${timing.earliestMs / 1000} s (for + group wait)`,
  };
}

/**
 * Waits a random part of the scrape and evaluation cycle, so that the cause lands at a random point of both, as
 * a real crash or surge does. Started straight after the previous step, it would be locked to their phase: that
 * step ended on an evaluation (an alert's e-mail) or a scrape (the target seen up).
 */
async function randomPhase({ scrape }: Settings): Promise<void> {
  const scrapeMs = durationMs(scrape.interval);
  const evaluationMs = durationMs(scrape.evaluationInterval);
  const cycleMs = (scrapeMs * evaluationMs) / greatestCommonDivisor(scrapeMs, evaluationMs);
  await sleep(Math.random() * cycleMs);
}

function greatestCommonDivisor(a: number, b: number): number {
  return b === 0 ? a : greatestCommonDivisor(b, a % b);
}

/** The first answer time at which more than `limit` answers lie within the trailing window, if any. */
export function firstMomentAbove(
  answeredAt: readonly number[],
  windowMs: number,
  limit: number,
): number | undefined {
  let oldest = 0;
  for (let newest = 0; newest < answeredAt.length; newest++) {
    const now = answeredAt[newest] as number;
    while ((answeredAt[oldest] as number) <= now - windowMs) oldest++;
    if (newest - oldest + 1 > limit) return now;
  }
  return undefined;
}

interface ScheduledTraffic {
  /** `performance.now()` when the first request was sent. */
  readonly startedAt: number;
  /** `performance.now()` of every successful answer, in order. */
  readonly answeredAt: readonly number[];
  /** Stops sending and waits for the requests in flight. */
  stop(): Promise<void>;
}

/**
 * Requests on a fixed schedule (the n-th at start + n / rate, sent late rather than skipped if the event loop
 * was busy), until stopped or `maxDurationMs` has passed.
 */
function startScheduledTraffic(
  url: string,
  requestsPerSecond: number,
  maxDurationMs: number,
): ScheduledTraffic {
  const intervalMs = 1000 / requestsPerSecond;
  const startedAt = performance.now();
  const answeredAt: number[] = [];
  const inFlight = new Set<Promise<void>>();
  let sent = 0;
  let timer: NodeJS.Timeout | undefined;
  const send = () => {
    const request = boundedFetch(url)
      .then(async (response) => {
        await response.arrayBuffer();
        if (response.ok) answeredAt.push(performance.now());
      })
      // A failed request is not counted, by the service or here.
      .catch(() => undefined)
      .finally(() => inFlight.delete(request));
    inFlight.add(request);
  };
  const tick = () => {
    const now = performance.now();
    if (now - startedAt >= maxDurationMs) return;
    while (startedAt + sent * intervalMs <= now) {
      send();
      sent++;
    }
    timer = setTimeout(tick, startedAt + sent * intervalMs - performance.now());
  };
  tick();
  return {
    startedAt,
    answeredAt,
    async stop() {
      clearTimeout(timer);
      await Promise.all(inFlight);
    },
  };
}
