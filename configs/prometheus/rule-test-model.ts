/**
 * What Prometheus computes for the series of a generated rule unit test, to the last bit: the samples promtool
 * expands from a series description, increase() and rate() with their extrapolation, a single-bucket
 * histogram_quantile, the `for` state of an alerting rule, and the template functions that print `$value`.
 *
 * The generated tests assert exact evaluation times and the exact text of each description, and the value in
 * a description is a float that went through extrapolation. Rather than guessing it, the generator computes it
 * with the same floating-point operations in the same order as Prometheus 3 (promql/functions.go
 * extrapolatedRate, promql/quantile.go BucketQuantile, template/template.go). promtool then checks the result
 * against the real engine, so a mistake here fails the tests instead of hiding.
 */

/** A run of samples as promtool's series notation writes it: `start+step x (count-1)`. */
export interface Segment {
  readonly start: number;
  /** Added to each sample to get the next; promtool accumulates it, and so does `expandSegments`. */
  readonly step: number;
  readonly count: number;
}

/** A series of a unit test: samples every `interval` ms from time 0. */
export interface TestSeries {
  readonly metric: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly segments: readonly Segment[];
}

interface Sample {
  readonly t: number;
  readonly v: number;
}

/** Sample values in the order promtool produces them. */
export function expandSegments(segments: readonly Segment[]): number[] {
  return segments.flatMap(({ start, step, count }) => {
    const values: number[] = [];
    let value = start;
    for (let i = 0; i < count; i++) {
      values.push(value);
      value += step;
    }
    return values;
  });
}

/**
 * A counter through phases of constant increase, without a jump between them: each phase's first sample is the
 * previous phase's last sample, as promtool computed it, plus the phase's step. (Starting a phase from a value
 * computed another way could land a rounding error below the previous sample, which PromQL reads as a reset.)
 */
export function counterPhases(start: number, phases: readonly { step: number; count: number }[]): Segment[] {
  const segments: Segment[] = [];
  let last: number | undefined;
  for (const { step, count } of phases) {
    if (count === 0) continue;
    const segment = { start: last === undefined ? start : last + step, step, count };
    segments.push(segment);
    last = expandSegments([segment]).at(-1);
  }
  return segments;
}

/** `1+2x3 7x1`: promtool's notation, where `a+bxn` stands for n+1 samples. */
export function seriesValues(segments: readonly Segment[]): string {
  return segments
    .filter(({ count }) => count > 0)
    .map(({ start, step, count }) => {
      if (count === 1) return formatNumber(start);
      if (step === 0) return `${formatNumber(start)}x${count - 1}`;
      const sign = step < 0 ? "-" : "+";
      return `${formatNumber(start)}${sign}${formatNumber(Math.abs(step))}x${count - 1}`;
    })
    .join(" ");
}

/** The shortest text that parses back to the same float, in Go as in JavaScript. */
function formatNumber(value: number): string {
  return String(value);
}

/** Samples of a series as stored: value i at time i x interval. */
export function samplesOf(series: TestSeries, intervalMs: number): Sample[] {
  return expandSegments(series.segments).map((v, i) => ({ t: i * intervalMs, v }));
}

/** Go's time.Duration.Seconds() for a whole number of milliseconds. */
function durationSeconds(ms: number): number {
  return Math.trunc(ms / 1000) + ((ms % 1000) * 1e6) / 1e9;
}

/**
 * increase() (or rate()) of a counter at time `at` over the range `rangeMs`, or undefined when fewer than two
 * samples fall in the range. Ranges are left-open, (at - range, at], as in Prometheus 3.
 */
export function counterIncrease(
  samples: readonly Sample[],
  at: number,
  rangeMs: number,
  perSecond = false,
): number | undefined {
  const rangeStart = at - rangeMs;
  const inRange = samples.filter((sample) => sample.t > rangeStart && sample.t <= at);
  const first = inRange[0];
  const last = inRange[inRange.length - 1];
  if (!first || !last || inRange.length < 2) return undefined;

  let result = last.v - first.v;
  inRange.forEach((sample, i) => {
    const previous = inRange[i - 1];
    if (previous && sample.v < previous.v) result += previous.v;
  });

  let durationToStart = (first.t - rangeStart) / 1000;
  let durationToEnd = (at - last.t) / 1000;
  const sampledInterval = (last.t - first.t) / 1000;
  const averageDurationBetweenSamples = sampledInterval / (inRange.length - 1);
  const extrapolationThreshold = averageDurationBetweenSamples * 1.1;
  if (durationToStart >= extrapolationThreshold) durationToStart = averageDurationBetweenSamples / 2;
  let durationToZero = durationToStart;
  if (result > 0 && first.v >= 0) durationToZero = sampledInterval * (first.v / result);
  if (durationToZero < durationToStart) durationToStart = durationToZero;
  if (durationToEnd >= extrapolationThreshold) durationToEnd = averageDurationBetweenSamples / 2;

  let factor = 1;
  if (sampledInterval !== 0) factor = (sampledInterval + durationToStart + durationToEnd) / sampledInterval;
  if (perSecond) factor /= durationSeconds(rangeMs);
  return result * factor;
}

/** The latest sample at or before `at` within Prometheus's default 5m lookback, as an instant selector sees it. */
export function instantValue(samples: readonly Sample[], at: number): number | undefined {
  const lookbackMs = 5 * 60_000;
  const candidates = samples.filter((sample) => sample.t <= at && sample.t > at - lookbackMs);
  return candidates[candidates.length - 1]?.v;
}

/**
 * histogram_quantile() for a histogram whose observations all lie in one bucket (`lower`, `upper`]: every
 * cumulative bucket from `upper` on has the same rate `observations`, every one below has none. With the +Inf
 * bucket as `upper`, Prometheus answers with the largest finite bound, `lower`.
 */
export function singleBucketQuantile(q: number, lower: number, upper: number, observations: number): number {
  if (upper === Number.POSITIVE_INFINITY) return lower;
  const rank = q * observations;
  return lower + (upper - lower) * (rank / observations);
}

/** State of an alerting rule at one evaluation. */
export interface AlertStep {
  readonly at: number;
  readonly state: "inactive" | "pending" | "firing";
  /** The expression's value, when it returned a sample. */
  readonly value: number | undefined;
}

/**
 * The rule's state at each evaluation 0, e, 2e... up to `untilMs`: active from the first evaluation that
 * returns a sample, firing once active for `forMs`, inactive again as soon as an evaluation returns nothing.
 */
export function evaluateAlert(
  condition: (at: number) => number | undefined,
  evaluationMs: number,
  forMs: number,
  untilMs: number,
): AlertStep[] {
  const steps: AlertStep[] = [];
  let activeAt: number | undefined;
  for (let at = 0; at <= untilMs; at += evaluationMs) {
    const value = condition(at);
    if (value === undefined) {
      activeAt = undefined;
      steps.push({ at, state: "inactive", value });
      continue;
    }
    activeAt ??= at;
    steps.push({ at, state: at - activeAt >= forMs ? "firing" : "pending", value });
  }
  return steps;
}

/** A comparison the way PromQL filters: the left value when the comparison holds, nothing otherwise. */
export function filter(value: number | undefined, holds: (value: number) => boolean): number | undefined {
  return value !== undefined && !Number.isNaN(value) && holds(value) ? value : undefined;
}

/**
 * Go's fmt `%.4g`, as strconv implements it: the value rounded to four significant digits (exact halves to
 * even), trailing zeros dropped, and exponent notation when the exponent is below -4 or at least the number of
 * digits printed.
 */
export function formatG4(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (!Number.isFinite(value)) return value > 0 ? "+Inf" : "-Inf";
  if (value === 0) return Object.is(value, -0) ? "-0" : "0";
  const precision = 4;
  const sign = value < 0 ? "-" : "";
  // toExponential is exact to the digits asked for; 40 tell an exact half from a value just beside it.
  const [mantissa = "", exponentText = ""] = Math.abs(value).toExponential(39).split("e");
  const allDigits = mantissa.replace(".", "");
  let decimalPoint = Number(exponentText) + 1;

  const rest = allDigits.slice(precision);
  let kept = BigInt(allDigits.slice(0, precision));
  const firstDropped = rest[0] ?? "0";
  const exactHalf = /^50*$/.test(rest);
  if (firstDropped > "5" || (firstDropped === "5" && (!exactHalf || kept % 2n === 1n))) kept += 1n;
  let digits = kept.toString();
  if (digits.length > precision) {
    digits = digits.slice(0, precision);
    decimalPoint += 1;
  }
  digits = digits.replace(/0+$/, "");

  const count = digits.length;
  const exponent = decimalPoint - 1;
  const exponentPrecision = precision > count && count >= decimalPoint ? count : precision;
  if (exponent < -4 || exponent >= exponentPrecision) {
    const magnitude = String(Math.abs(exponent)).padStart(2, "0");
    const fraction = digits.slice(1);
    return `${sign}${digits[0]}${fraction ? `.${fraction}` : ""}e${exponent < 0 ? "-" : "+"}${magnitude}`;
  }
  if (decimalPoint <= 0) return `${sign}0.${"0".repeat(-decimalPoint)}${digits}`;
  const integer = digits.slice(0, decimalPoint).padEnd(decimalPoint, "0");
  const fraction = digits.slice(decimalPoint);
  return `${sign}${integer}${fraction ? `.${fraction}` : ""}`;
}

/** Prometheus's `humanize`: SI prefixes, four significant digits. */
export function humanize(value: number): string {
  if (value === 0 || !Number.isFinite(value)) return formatG4(value);
  let v = value;
  let prefix = "";
  if (Math.abs(v) >= 1) {
    for (const p of ["k", "M", "G", "T", "P", "E", "Z", "Y"]) {
      if (Math.abs(v) < 1000) break;
      prefix = p;
      v /= 1000;
    }
    return `${formatG4(v)}${prefix}`;
  }
  for (const p of ["m", "u", "n", "p", "f", "a", "z", "y"]) {
    if (Math.abs(v) >= 1) break;
    prefix = p;
    v *= 1000;
  }
  return `${formatG4(v)}${prefix}`;
}

/** Prometheus's `humanizePercentage`. */
export function humanizePercentage(value: number): string {
  return `${formatG4(value * 100)}%`;
}

/** Prometheus's `humanizeDuration`, for a value in seconds. */
export function humanizeDuration(value: number): string {
  if (!Number.isFinite(value)) return formatG4(value);
  if (value === 0) return `${formatG4(value)}s`;
  if (Math.abs(value) >= 1) {
    const sign = value < 0 ? "-" : "";
    const v = Math.abs(value);
    const duration = Math.trunc(v);
    const seconds = duration % 60;
    const minutes = Math.trunc(duration / 60) % 60;
    const hours = Math.trunc(duration / 3600) % 24;
    const days = Math.trunc(duration / 86400);
    if (days !== 0) return `${sign}${days}d ${hours}h ${minutes}m ${seconds}s`;
    if (hours !== 0) return `${sign}${hours}h ${minutes}m ${seconds}s`;
    if (minutes !== 0) return `${sign}${minutes}m ${seconds}s`;
    return `${sign}${formatG4(v)}s`;
  }
  let v = value;
  let prefix = "";
  for (const p of ["m", "u", "n", "p", "f", "a", "z", "y"]) {
    if (Math.abs(v) >= 1) break;
    prefix = p;
    v *= 1000;
  }
  return `${formatG4(v)}${prefix}s`;
}
