/**
 * The multiwindow, multi-burn-rate alerts of Google's SRE workbook, chapter "Alerting on SLOs": each pair of
 * windows alerts when the error ratio over both windows burns the error budget faster than the pair's factor.
 * The long window says enough budget is gone to matter; the short one (1/12 of it) that it is still going, so
 * the alert resolves minutes after the burn stops. The workbook's Table 5-8 recommends 1h/5m (2% of the budget)
 * and 6h/30m (5%) as pages and 3d/6h (10%) as a ticket; Sloth's defaults (slok/sloth, alert windows for 30d)
 * add 1d/2h (10%) as a faster ticket. These four are the pairs here.
 *
 * A burn rate is the error ratio divided by the error budget (1 - objective): at 1 the budget lasts exactly
 * the SLO window W. A pair that alerts once `share` of the budget is gone within its long window L fires at
 *
 *   factor = share × W / L     (30d: 2% × 720h / 1h = 14.4; 5% × 120 = 6; 10% × 30 = 3; 10% × 10 = 1)
 *
 * because burning at rate B for L spends B × L / W of the budget. For a window other than 30d the same
 * formula keeps each factor meaning the same share of the budget spent; Sloth's GetBurnRateFactor computes its
 * speeds the same way. For 28d that gives 13.44, 5.6, 2.8 and 0.93: below 30d the ticket pairs' factors drop
 * under 1 and open a ticket somewhat before the budget is on course to run out, which is what the shares ask.
 *
 * `slo.timeCompression` divides every window, W included, by the same number, so the factors stay as they are
 * and a compressed SLO behaves over W / c as the real one does over W. It exists for tests and demonstrations
 * that cannot wait an hour for the fastest page.
 */
import { durationMs, formatDuration } from "../settings/duration";
import type { Settings } from "../settings/schema";
import { burnRatePairs, type PairSeverity } from "../settings/slo";

/** A pair as it is in effect: windows compressed, factor scaled to the SLO window. */
export interface BurnRatePair {
  readonly long: string;
  readonly short: string;
  readonly longMs: number;
  readonly shortMs: number;
  readonly budgetPercent: number;
  readonly severity: PairSeverity;
  readonly factor: number;
}

/** A duration of the settings divided by `slo.timeCompression`. */
export function compressedMs(settings: Settings, duration: string): number {
  return durationMs(duration) / settings.slo.timeCompression;
}

/** The four pairs in effect for an SLO over `window`, fastest first. */
export function effectivePairs(settings: Settings, window: string): BurnRatePair[] {
  return burnRatePairs.map((pair) => {
    const longMs = compressedMs(settings, pair.long);
    const shortMs = compressedMs(settings, pair.short);
    return {
      long: formatDuration(longMs),
      short: formatDuration(shortMs),
      longMs,
      shortMs,
      budgetPercent: pair.budgetPercent,
      severity: pair.severity,
      // One division of whole numbers, so the factor is the double nearest the exact quotient (14.4, not 14.400000000000002).
      factor: (pair.budgetPercent * durationMs(window)) / (100 * durationMs(pair.long)),
    };
  });
}

/** Every window the alerts read, shortest first, each once: the windows the recording rules compute. */
export function alertWindowsMs(settings: Settings): number[] {
  const all = burnRatePairs.flatMap((pair) => [
    compressedMs(settings, pair.long),
    compressedMs(settings, pair.short),
  ]);
  return [...new Set(all)].sort((a, b) => a - b);
}

/** The shortest window the alerts read: the only one computed from the service's own series. */
export function shortestWindowMs(settings: Settings): number {
  return Math.min(...alertWindowsMs(settings));
}

/** The SLO window in effect, compressed. */
export function effectiveWindowMs(settings: Settings, window: string): number {
  return compressedMs(settings, window);
}
