/**
 * What every benchmark produces: figures, each a median over its rounds beside the baseline it is read
 * against, measured in the same invocation. The table on stdout and the JSON file carry the same figures.
 */
import { median } from "./stats";

export const partNames = [
  "http",
  "instructions",
  "scrape",
  "cardinality",
  "alert",
  "footprint",
  "noop-up",
  "scale",
] as const;
export type PartName = (typeof partNames)[number];

export interface Measured {
  readonly name: string;
  readonly unit: string;
  readonly median: number;
  /** One value per round, in the order measured. */
  readonly rounds: readonly number[];
}

export interface Goal {
  /** Such as "<= 2 µs"; the figure's median is compared with it. */
  readonly text: string;
  /** "inconclusive" when the run could not measure what the goal is about; `why` then says what was missing. */
  readonly verdict: "met" | "not met" | "inconclusive";
  readonly why?: string;
}

export interface Figure extends Measured {
  readonly part: PartName;
  /** What the figure is read against, measured in the same run; absent for a figure that is its own reference. */
  readonly baseline?: Measured;
  readonly goal?: Goal;
  /** How the figure was derived, when its name cannot say it. */
  readonly note?: string;
}

export function measured(name: string, unit: string, rounds: readonly number[]): Measured {
  if (rounds.length === 0) throw new Error(`${name}: no rounds were measured`);
  return { name, unit, median: median(rounds), rounds };
}

/** Values of two figures measured in the same rounds, combined round by round: paired, so drift cancels. */
export function paired(a: Measured, b: Measured, combine: (a: number, b: number) => number): number[] {
  if (a.rounds.length !== b.rounds.length) {
    throw new Error(`${a.name} and ${b.name} were not measured in the same rounds`);
  }
  return a.rounds.map((value, round) => combine(value, b.rounds[round] as number));
}

export function atMost(limit: number, unit: string, value: number): Goal {
  return goal(`<= ${withUnit(limit, unit)}`, value <= limit);
}

export function below(limit: number, unit: string, value: number): Goal {
  return goal(`< ${withUnit(limit, unit)}`, value < limit);
}

export function atLeast(limit: number, unit: string, value: number): Goal {
  return goal(`>= ${withUnit(limit, unit)}`, value >= limit);
}

export function goal(text: string, met: boolean): Goal {
  return { text, verdict: met ? "met" : "not met" };
}

/** The goal's text with no verdict, because the measurement it needs did not happen. */
export function inconclusive(of: Goal, why: string): Goal {
  return { text: of.text, verdict: "inconclusive", why };
}

/** Three significant digits, whole numbers from 100 on with thousands separators: 25,310, 14.2, 0.971. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value) || Math.abs(value) >= 100) return Math.round(value).toLocaleString("en-US");
  return Number(value.toPrecision(3)).toString();
}

/** The figures as a plain-text table, one line per figure, grouped by part. */
export function formatTable(figures: readonly Figure[]): string {
  const header = ["part", "figure", "median", "baseline (median)", "goal", "rounds"];
  const rows = figures.map((figure) => [
    figure.part,
    figure.name,
    withUnit(figure.median, figure.unit),
    figure.baseline
      ? `${withUnit(figure.baseline.median, figure.baseline.unit)} ${figure.baseline.name}`
      : "",
    figure.goal
      ? `${figure.goal.text}: ${figure.goal.verdict === "not met" ? "NOT met" : figure.goal.verdict}`
      : "",
    figure.rounds.map(formatNumber).join(" "),
  ]);
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] as string).length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column] as number))
      .join("  ")
      .trimEnd();
  const notes = figures.flatMap((figure) => [
    ...(figure.note ? [`  ${figure.name}: ${figure.note}`] : []),
    ...(figure.goal?.why ? [`  ${figure.name}: goal ${figure.goal.verdict}: ${figure.goal.why}`] : []),
  ]);
  return [
    line(header),
    line(widths.map((width) => "-".repeat(width))),
    ...rows.map(line),
    ...(notes.length > 0 ? ["", "notes:", ...notes] : []),
  ].join("\n");
}

function withUnit(value: number, unit: string): string {
  return unit === "" ? formatNumber(value) : `${formatNumber(value)} ${unit}`;
}
