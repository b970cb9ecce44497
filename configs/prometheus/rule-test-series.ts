/**
 * The input series of generated rule unit tests, in promtool's notation, and the text Prometheus's templates
 * print for the values the tests expect.
 *
 * The scenarios choose every expected value to have at most four significant digits, the precision of
 * Prometheus's `humanize*` functions (Go's `%.4g`). Such a value sits in the middle of its rounding interval,
 * so the engine's floating-point noise (rate extrapolation, summed series) cannot change its text, and the
 * text is the value's shortest decimal. A value the scenarios did not choose that way is refused here.
 */

/** A run of samples as promtool's series notation writes it: `start+step x (count-1)`. */
export interface Segment {
  readonly start: number;
  /** Added to each sample to get the next. */
  readonly step: number;
  readonly count: number;
}

/**
 * Samples a series lacks, as when its target stops exposing it: the first a staleness marker, which Prometheus
 * writes at the first scrape without the series, so that it is gone at once rather than after the lookback.
 */
export interface Gap {
  readonly stale: true;
  readonly count: number;
}

/** A series of a unit test: samples every `interval` ms from time 0. */
export interface TestSeries {
  readonly metric: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly segments: readonly (Segment | Gap)[];
}

/**
 * The last sample of a segment as promtool computes it: by adding the step once per sample (parser's
 * `series_item` rule), so with the same rounding.
 */
function lastSample({ start, step, count }: Segment): number {
  let value = start;
  for (let i = 1; i < count; i++) value += step;
  return value;
}

/**
 * A counter through phases of constant increase, without a jump between them: each phase starts one step
 * after the previous phase's last sample as promtool computed it. (Computing it another way could land a
 * rounding error below that sample, which PromQL reads as a counter reset.)
 */
export function counterPhases(start: number, phases: readonly { step: number; count: number }[]): Segment[] {
  const segments: Segment[] = [];
  let last: number | undefined;
  for (const { step, count } of phases) {
    if (count === 0) continue;
    const segment = { start: last === undefined ? start : last + step, step, count };
    segments.push(segment);
    last = lastSample(segment);
  }
  return segments;
}

/** `1+2x3 7x1 stale _x2`: promtool's notation, where `a+bxn` stands for n+1 samples and `_xn` for n missing. */
export function seriesValues(segments: readonly (Segment | Gap)[]): string {
  return segments
    .filter(({ count }) => count > 0)
    .map((segment) => {
      if ("stale" in segment) return segment.count === 1 ? "stale" : `stale _x${segment.count - 1}`;
      const { start, step, count } = segment;
      if (count === 1) return String(start);
      if (step === 0) return `${start}x${count - 1}`;
      return `${start}${step < 0 ? "-" : "+"}${Math.abs(step)}x${count - 1}`;
    })
    .join(" ");
}

/** The number with at most four significant digits nearest to `value`, rounded up or down. */
export function fourDigits(value: number, direction: "up" | "down"): number {
  if (value === 0) return 0;
  const unit = 10 ** (Math.floor(Math.log10(Math.abs(value))) - 3);
  const rounded =
    (direction === "up" ? Math.ceil(value / unit - 1e-9) : Math.floor(value / unit + 1e-9)) * unit;
  return Number(rounded.toPrecision(4));
}

/** `%.4g` of a value with at most four significant digits, from 1e-4 to below 1e4: its shortest decimal. */
function shortDecimal(value: number): string {
  const rounded = Number(value.toPrecision(4));
  const representable = value === 0 || (Math.abs(value) >= 1e-4 && Math.abs(value) < 1e4);
  if (!representable || Math.abs(rounded - value) > 1e-6 * Math.abs(value)) {
    throw new Error(
      `a generated unit test expects ${value}, which has more than four significant digits: its text would depend on rounding`,
    );
  }
  return String(rounded);
}

const largerPrefixes = ["k", "M", "G", "T", "P", "E", "Z", "Y"];
const smallerPrefixes = ["m", "u", "n", "p", "f", "a", "z", "y"];

/** The value scaled into [1, 1000) with its SI prefix, as Prometheus's template functions scale it. */
function withPrefix(value: number): { scaled: number; prefix: string } {
  let scaled = value;
  let prefix = "";
  if (Math.abs(scaled) >= 1) {
    for (const next of largerPrefixes) {
      if (Math.abs(scaled) < 1000) break;
      prefix = next;
      scaled /= 1000;
    }
  } else {
    for (const next of smallerPrefixes) {
      if (Math.abs(scaled) >= 1) break;
      prefix = next;
      scaled *= 1000;
    }
  }
  return { scaled, prefix };
}

/** Prometheus's `humanize`. */
export function humanize(value: number): string {
  if (value === 0) return "0";
  const { scaled, prefix } = withPrefix(value);
  return `${shortDecimal(scaled)}${prefix}`;
}

/** Prometheus's `humanizePercentage`. */
export function humanizePercentage(value: number): string {
  return `${shortDecimal(value * 100)}%`;
}

/** Prometheus's `humanizeDuration`, for the latencies the tests expect: below a minute. */
export function humanizeDuration(value: number): string {
  if (value >= 60)
    throw new Error(`a generated unit test expects a latency of ${value}s; they stay below 60s`);
  if (value === 0 || value >= 1) return `${shortDecimal(value)}s`;
  const { scaled, prefix } = withPrefix(value);
  return `${shortDecimal(scaled)}${prefix}s`;
}
