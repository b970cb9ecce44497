/** Prometheus durations ("30s", "1m30s", "15d"), parsed and printed the way Prometheus does. */
import { z } from "zod";

const durationPattern = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;

const unitMs = [365 * 86_400_000, 7 * 86_400_000, 86_400_000, 3_600_000, 60_000, 1000, 1] as const;
const unitNames = ["y", "w", "d", "h", "m", "s", "ms"] as const;

function isDuration(text: string): boolean {
  return text !== "" && durationPattern.test(text);
}

/** Milliseconds in a Prometheus duration; throws on text that is not one. */
export function durationMs(text: string): number {
  const match = durationPattern.exec(text);
  if (!match || text === "") throw new Error(`"${text}" is not a Prometheus duration`);
  return unitMs.reduce((total, ms, i) => total + Number(match[i + 1] ?? 0) * ms, 0);
}

/** The shortest Prometheus duration for a number of milliseconds: 90000 → "1m30s". */
export function formatDuration(ms: number): string {
  if (!Number.isInteger(ms) || ms < 0) throw new Error(`${ms} ms cannot be written as a Prometheus duration`);
  if (ms === 0) return "0s";
  let rest = ms;
  let text = "";
  unitMs.forEach((unit, i) => {
    if (i < 2 && rest % unit !== 0) return; // years and weeks only when exact, as Prometheus prints them
    const count = Math.floor(rest / unit);
    if (count > 0) {
      text += `${count}${unitNames[i]}`;
      rest -= count * unit;
    }
  });
  return text;
}

export const durationSchema = z
  .string()
  .refine(isDuration, { message: "must be a Prometheus duration such as 30s, 5m, 1h30m or 15d" });

/** A duration that must be longer than zero: intervals, windows and retention. */
export const positiveDurationSchema = durationSchema.refine(
  (text) => !isDuration(text) || durationMs(text) > 0,
  {
    message: "must be longer than 0s",
  },
);
