/**
 * Durations as Go's `time.Duration.String()` writes them ("10s", "1m0s", "1m30s", "500ms"). The Docker provider
 * reads a container's healthcheck back in this form, so an input written any other way ("60s") differs from the
 * state on every `pulumi up`, and the healthcheck's replace-on-change turns that into a replacement.
 */

/** Go's form of a whole number of milliseconds, as `time.Duration(ms * time.Millisecond).String()` prints it. */
export function goDuration(ms: number): string {
  if (!Number.isInteger(ms) || ms < 0) throw new Error(`${ms} ms is not a whole, non-negative duration`);
  if (ms === 0) return "0s";
  if (ms < 1000) return `${ms}ms`;
  const hours = Math.floor(ms / 3_600_000);
  const minutes = Math.floor((ms % 3_600_000) / 60_000);
  const seconds = (ms % 60_000) / 1000;
  // Go prints every unit below the largest present one, and seconds with their fraction: 1h0m0s, 1m0.5s.
  if (hours > 0) return `${hours}h${minutes}m${seconds}s`;
  if (minutes > 0) return `${minutes}m${seconds}s`;
  return `${seconds}s`;
}

/** Whether a text is exactly what `goDuration` would print for some duration. */
export function isGoDuration(text: string): boolean {
  const match = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s)?$|^(\d+)ms$/.exec(text);
  if (!match || text === "") return false;
  const [, hours, minutes, seconds, millis] = match;
  const ms =
    millis !== undefined
      ? Number(millis)
      : Number(hours ?? 0) * 3_600_000 +
        Number(minutes ?? 0) * 60_000 +
        Math.round(Number(seconds ?? 0) * 1000);
  return Number.isInteger(ms) && goDuration(ms) === text;
}
