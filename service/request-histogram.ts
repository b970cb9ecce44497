/**
 * A labelled histogram whose counts live in typed arrays, indexed by series and bucket, for the request path:
 * observing is a bucket search and two array writes, where prom-client's `observe` validates and hashes the
 * label values on every call. prom-client 15 has no public way to publish counts kept outside it, so `render`
 * writes the family's exposition text itself, exactly as prom-client's Registry writes a Histogram's (label
 * order, `le` first, escaping, number formatting, series in the order they first appeared); its test compares
 * the two byte for byte.
 */

export interface HistogramDefinition<L extends string> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly L[];
  /** Upper bounds, ascending; +Inf is implied. */
  readonly buckets: readonly number[];
}

/** Series capacity the arrays start with; they double when full. */
const initialCapacity = 64;

export class RequestHistogram<L extends string> {
  private readonly bounds: Float64Array;
  /** Slots per series: one per bound, then one for values above every bound. */
  private readonly slots: number;
  /** Observations per series and slot, not cumulative: `series * slots + slot`. */
  private counts: Float64Array;
  private sums: Float64Array;
  /** Per series: its labels as written inside `{}` after `le`, and as written alone. */
  private readonly afterLe: string[] = [];
  private readonly alone: string[] = [];
  /** `name_bucket{le="<bound>"` per bound, then `le="+Inf"`. */
  private readonly bucketPrefixes: readonly string[];
  private size = 0;

  constructor(private readonly definition: HistogramDefinition<L>) {
    this.bounds = Float64Array.from(definition.buckets);
    this.slots = definition.buckets.length + 1;
    this.counts = new Float64Array(initialCapacity * this.slots);
    this.sums = new Float64Array(initialCapacity);
    this.bucketPrefixes = [...definition.buckets.map(String), "+Inf"].map(
      (le) => `${definition.name}_bucket{le="${le}"`,
    );
  }

  /** Series added so far. */
  get seriesCount(): number {
    return this.size;
  }

  /**
   * Adds the series of these label values and returns its index, which the caller keeps: observing takes the
   * index, so that no label is looked up per observation. Adding the same labels twice makes two series.
   */
  addSeries(labels: Readonly<Record<L, string>>): number {
    if (this.size === this.sums.length) this.grow();
    const pairs = this.definition.labelNames.map((label) => `${label}="${escapeLabelValue(labels[label])}"`);
    const text = pairs.join(",");
    this.afterLe.push(pairs.length > 0 ? `,${text}` : "");
    this.alone.push(pairs.length > 0 ? `{${text}}` : "");
    return this.size++;
  }

  /** Records one observation of a finite value into a series returned by `addSeries`. */
  observe(series: number, value: number): void {
    const { bounds } = this;
    let slot = 0;
    while (slot < bounds.length && value > (bounds[slot] as number)) slot++;
    (this.counts[series * this.slots + slot] as number)++;
    (this.sums[series] as number) += value;
  }

  /** Observations of a series so far: its `_count`. */
  count(series: number): number {
    let total = 0;
    const first = series * this.slots;
    for (let slot = first; slot < first + this.slots; slot++) total += this.counts[slot] as number;
    return total;
  }

  /** The family's exposition text, as prom-client's Registry writes a Histogram: no trailing newline. */
  render(): string {
    const { name, help } = this.definition;
    const { counts, slots, bucketPrefixes } = this;
    const lines = [`# HELP ${name} ${escapeText(help)}`, `# TYPE ${name} histogram`];
    for (let series = 0; series < this.size; series++) {
      const afterLe = this.afterLe[series] as string;
      let cumulative = 0;
      for (let slot = 0; slot < slots; slot++) {
        cumulative += counts[series * slots + slot] as number;
        lines.push(`${bucketPrefixes[slot]}${afterLe}} ${cumulative}`);
      }
      const alone = this.alone[series] as string;
      lines.push(`${name}_sum${alone} ${this.sums[series]}`, `${name}_count${alone} ${cumulative}`);
    }
    return lines.join("\n");
  }

  private grow(): void {
    const counts = new Float64Array(this.counts.length * 2);
    counts.set(this.counts);
    this.counts = counts;
    const sums = new Float64Array(this.sums.length * 2);
    sums.set(this.sums);
    this.sums = sums;
  }
}

/** As prom-client escapes HELP text: backslash and line feed. */
function escapeText(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

/** As prom-client escapes a label value: HELP's escapes plus the double quote. */
function escapeLabelValue(value: string): string {
  return escapeText(value).replace(/"/g, '\\"');
}
