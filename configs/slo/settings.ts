/**
 * The checks that relate the service level objectives to the rest of the settings and to what their alerts can
 * measure (`sloProblems`, run with the other checks by configs/validate.ts).
 */
import { minSamplesPerWindow } from "../settings/alert-settings";
import { durationMs, formatDuration } from "../settings/duration";
import type { Settings } from "../settings/schema";
import { type SloName, sloNames } from "../settings/slo";
import { type BurnRatePair, effectivePairs } from "./windows";

export interface SloProblem {
  readonly paths: (string | number)[][];
  readonly message: string;
}

/** Checks of the SLOs against the scrape interval and against what their alerts can measure. */
export function sloProblems(settings: Settings): SloProblem[] {
  return sloNames.flatMap((name) => {
    const slo = settings.slo[name];
    if (!slo.enabled) return [];
    const pairs = effectivePairs(settings, slo.window);
    return [...shortWindowProblems(settings, name, pairs), ...unreachableFactorProblems(name, slo, pairs)];
  });
}

function shortWindowProblems(settings: Settings, name: SloName, pairs: BurnRatePair[]): SloProblem[] {
  const { interval } = settings.scrape;
  const minimumMs = minSamplesPerWindow * durationMs(interval);
  const shortest = pairs.reduce((a, b) => (b.shortMs < a.shortMs ? b : a));
  if (shortest.shortMs >= minimumMs) return [];
  const compression = settings.slo.timeCompression;
  const compressed =
    compression === 1
      ? ""
      : ` (${formatDuration(shortest.shortMs * compression)} / slo.timeCompression ${compression})`;
  return [
    {
      paths: [
        ["slo", name],
        ["slo", "timeCompression"],
        ["scrape", "interval"],
      ],
      message:
        `slo.${name}: its shortest alert window, ${shortest.short}${compressed}, is shorter than ` +
        `${minSamplesPerWindow} x scrape.interval (${minSamplesPerWindow} x ${interval} = ${formatDuration(minimumMs)}), ` +
        "so rate() would not see enough samples; lower slo.timeCompression or scrape more often",
    },
  ];
}

/**
 * The fastest page must be reachable with requests to spare: a factor times the budget of 1 needs every request
 * to fail, and past two thirds the page only comes when nearly everything fails, too late to protect a budget
 * (and too close to 100% for its unit test to drive it 1.5 times over the factor).
 */
export const maxPageErrorShare = 2 / 3;

function unreachableFactorProblems(
  name: SloName,
  slo: { readonly objective: number; readonly window: string },
  pairs: BurnRatePair[],
): SloProblem[] {
  const budget = 1 - slo.objective;
  const fastest = pairs.reduce((a, b) => (b.factor > a.factor ? b : a));
  if (fastest.factor * budget < maxPageErrorShare) return [];
  const minimum = 1 - maxPageErrorShare / fastest.factor;
  return [
    {
      paths: [
        ["slo", name, "objective"],
        ["slo", name, "window"],
      ],
      message:
        `slo.${name}.objective: ${slo.objective} leaves an error budget of ${formatPercent(budget)}, too large for the ` +
        `${fastest.long}/${fastest.short} page over ${slo.window}: it fires at a burn rate of ${fastest.factor}, when ` +
        `${formatPercent(fastest.factor * budget)} of requests fail, more than two thirds; the objective must be above ${minimum.toPrecision(6)}`,
    },
  ];
}

function formatPercent(share: number): string {
  return `${Number((share * 100).toPrecision(6))}%`;
}
