/**
 * The arithmetic of the scale part, kept apart from the processes so that it can be tested: the targets of a
 * run, the PromQL that reads each replica, and the figures, each count of instances read against the first.
 */
import { jobs } from "../configs/names";
import { jobSelector, jobsSelector } from "../configs/promql/queries";
import {
  prometheusSyntheticSeries,
  prometheusWorkloadMetrics,
  targetLabels,
} from "../configs/promql/upstream-metrics";
import type { HostPort } from "../configs/runtime/endpoints";
import type { ScrapeTarget } from "../configs/settings/targets";
import { metricNames } from "../service/metrics-contract";
import { type Figure, type Measured, measured, paired } from "./figures";
import { median } from "./stats";

/** Job of the i-th (from 1) extra instance: each its own target, as each of a user's services would be. */
export function scaleJob(instance: number): string {
  return `${jobs.app}-${instance}`;
}

/** One target per address, `app-1`..`app-N`, each with the HTTP contract and so its own request alerts. */
export function scaleTargets(
  addresses: readonly HostPort[],
): Pick<ScrapeTarget, "job" | "addresses" | "httpContract">[] {
  return addresses.map((address, index) => ({
    job: scaleJob(index + 1),
    addresses: [address],
    httpContract: true,
  }));
}

/** "1,5,20": counts of instances, each at least 1, ascending; the first is the baseline of the others. */
export function parseInstanceCounts(text: string): number[] {
  const counts = text.split(",").map((part) => part.trim());
  if (counts.some((count) => !/^\d+$/.test(count) || Number(count) < 1)) {
    throw new RangeError(`must be whole numbers of at least 1, comma-separated, got "${text}"`);
  }
  const values = counts.map(Number);
  if (values.some((value, index) => index > 0 && value <= (values[index - 1] as number))) {
    throw new RangeError(`must ascend without repeats, got "${text}"`);
  }
  return values;
}

/** What one replica measured, with N instances, over the settle window. */
export interface ReplicaReading {
  /** Mean of `scrape_duration_seconds` over the window, averaged over the target jobs. */
  readonly scrapeMeanSeconds: number;
  /** Longest scrape of any target job within the window. */
  readonly scrapeMaxSeconds: number;
  /** Mean duration of an evaluation of each rule group over the window, summed over the groups. */
  readonly ruleEvaluationSeconds: number;
  readonly rules: number;
  /** At the end of the window. */
  readonly headSeries: number;
  /** At the end of the window. */
  readonly residentBytes: number;
  /** CPU time per second of wall time, averaged over the window: 1 is one core. */
  readonly cpuCores: number;
  /** Scrapes of the target jobs within the window that failed (`up` 0). */
  readonly failedScrapes: number;
}

export type ReadingKey = keyof ReplicaReading;

/**
 * The PromQL for each field of a reading, on the replica that listens at `self`: its own metrics are read
 * from its own scrape of itself (job "prometheus"), the targets' from its scrapes of them. Each yields one
 * sample.
 */
export function readingQueries(
  targetJobs: readonly string[],
  self: HostPort,
  windowSeconds: number,
): Record<ReadingKey, string> {
  const targets = jobsSelector(targetJobs);
  const itself = `${jobSelector(jobs.prometheus)},${targetLabels.instance}="${self}"`;
  const window = `[${windowSeconds}s]`;
  const { scrapeDurationSeconds, up } = prometheusSyntheticSeries;
  const own = prometheusWorkloadMetrics;
  return {
    scrapeMeanSeconds: `avg(avg_over_time(${scrapeDurationSeconds}{${targets}}${window}))`,
    scrapeMaxSeconds: `max(max_over_time(${scrapeDurationSeconds}{${targets}}${window}))`,
    // The gauge holds the last evaluation only; Prometheus samples it at every self-scrape, about once per
    // evaluation at the shipped intervals, so the mean over the window is the mean per evaluation.
    ruleEvaluationSeconds: `sum(avg_over_time(${own.ruleGroupLastDurationSeconds}{${itself}}${window}))`,
    rules: `sum(${own.ruleGroupRules}{${itself}})`,
    headSeries: `sum(${own.headSeries}{${itself}})`,
    residentBytes: `sum(${own.residentMemoryBytes}{${itself}})`,
    cpuCores: `sum(rate(${own.cpuSecondsTotal}{${itself}}${window}))`,
    failedScrapes: `sum(count_over_time(${up}{${targets}}${window})) - sum(sum_over_time(${up}{${targets}}${window}))`,
  };
}

/** Each rule group's mean evaluation over the window on the replica at `self`, one sample per `rule_group`. */
export function ruleGroupsQuery(self: HostPort, windowSeconds: number): string {
  const itself = `${jobSelector(jobs.prometheus)},${targetLabels.instance}="${self}"`;
  return `avg_over_time(${prometheusWorkloadMetrics.ruleGroupLastDurationSeconds}{${itself}}[${windowSeconds}s])`;
}

/**
 * On a replica, how many of the target jobs are up and how many have request series: the part waits for both
 * to equal N, so that every instance's series exist before the window starts.
 */
export function readinessQueries(targetJobs: readonly string[]): { up: string; withRequests: string } {
  const targets = jobsSelector(targetJobs);
  return {
    up: `count(${prometheusSyntheticSeries.up}{${targets}} == 1)`,
    withRequests: `count(count by (${targetLabels.job}) (${metricNames.requestsTotal}{${targets}}))`,
  };
}

/** Every replica's reading with `instances` extra instances, in replica order. */
export interface ScaleReading {
  readonly instances: number;
  readonly replicas: readonly ReplicaReading[];
}

interface Quantity {
  readonly key: ReadingKey;
  readonly name: string;
  readonly unit: string;
  /** From the reading's unit (seconds, bytes, cores) to the figure's. */
  readonly factor: number;
  /** Where the figure comes from, over a window of so many seconds. */
  readonly source: (windowSeconds: number) => string;
}

const quantities: readonly Quantity[] = [
  {
    key: "scrapeMeanSeconds",
    name: "scrape duration, mean over the target jobs",
    unit: "ms",
    factor: 1000,
    source: (window) => `avg_over_time(${prometheusSyntheticSeries.scrapeDurationSeconds}[${window}s])`,
  },
  {
    key: "scrapeMaxSeconds",
    name: "scrape duration, longest of the target jobs",
    unit: "ms",
    factor: 1000,
    source: (window) => `max_over_time(${prometheusSyntheticSeries.scrapeDurationSeconds}[${window}s])`,
  },
  {
    key: "ruleEvaluationSeconds",
    name: "rule evaluation per cycle, summed over groups",
    unit: "ms",
    factor: 1000,
    source: (window) =>
      `avg_over_time(${prometheusWorkloadMetrics.ruleGroupLastDurationSeconds}[${window}s]), summed over rule groups`,
  },
  {
    key: "rules",
    name: "rules loaded",
    unit: "",
    factor: 1,
    source: () => `${prometheusWorkloadMetrics.ruleGroupRules}, summed over rule groups`,
  },
  {
    key: "headSeries",
    name: "series in the head",
    unit: "",
    factor: 1,
    source: (window) => `${prometheusWorkloadMetrics.headSeries} at the end of the ${window} s window`,
  },
  {
    key: "residentBytes",
    name: "Prometheus resident memory",
    unit: "MiB",
    factor: 1 / 2 ** 20,
    source: (window) =>
      `${prometheusWorkloadMetrics.residentMemoryBytes} at the end of the ${window} s window`,
  },
  {
    key: "cpuCores",
    name: "Prometheus CPU",
    unit: "% of a core",
    factor: 100,
    source: (window) => `rate(${prometheusWorkloadMetrics.cpuSecondsTotal}[${window}s])`,
  },
];

/** What each instance added, from the medians: (last - first) / (lastN - firstN). */
export function addedPerInstance(
  first: { instances: number; median: number },
  last: { instances: number; median: number },
): number {
  return (last.median - first.median) / (last.instances - first.instances);
}

/**
 * For each quantity: one figure per count of instances, its rounds the replicas (prometheus-0, -1...), each
 * read against the first count's figure as its baseline; then the growth from the first count to the last,
 * per replica, with what each added instance cost. The last figure of each quantity carries its note.
 */
export function scaleFigures(readings: readonly ScaleReading[], settleSeconds: number): Figure[] {
  const [first] = readings;
  const last = readings[readings.length - 1];
  if (first === undefined || last === undefined) throw new Error("no count of instances was measured");
  const failed = failedScrapes(readings);
  return quantities.flatMap((quantity) => {
    const byCount = readings.map((reading) =>
      measured(
        `${quantity.name}, N=${reading.instances}`,
        quantity.unit,
        reading.replicas.map((replica) => replica[quantity.key] * quantity.factor),
      ),
    );
    const baseline = byCount[0] as Measured;
    const final = byCount[byCount.length - 1] as Measured;
    const notes = [`${quantity.source(settleSeconds)}, one round per replica`];
    if (failed !== undefined && quantity.key.startsWith("scrape")) notes.push(failed);
    const figures: Figure[] = byCount.map((figure, index) => ({
      part: "scale",
      ...figure,
      ...(index > 0 ? { baseline } : {}),
    }));
    if (readings.length > 1) {
      const perInstance = addedPerInstance(
        { instances: first.instances, median: baseline.median },
        { instances: last.instances, median: final.median },
      );
      notes.push(
        `${signed(perInstance)}${quantity.unit === "" ? "" : ` ${quantity.unit}`} per added instance`,
      );
      figures.push({
        part: "scale",
        ...measured(
          `${quantity.name}, growth N=${first.instances}→${last.instances}`,
          "×",
          paired(baseline, final, (before, after) => after / before),
        ),
      });
    }
    const lastFigure = figures[figures.length - 1] as Figure;
    figures[figures.length - 1] = { ...lastFigure, note: notes.join("; ") };
    return figures;
  });
}

/** Failed scrapes of the target jobs, by count of instances and replica; undefined when none failed. */
function failedScrapes(readings: readonly ScaleReading[]): string | undefined {
  const failed = readings.filter((reading) => reading.replicas.some((replica) => replica.failedScrapes > 0));
  if (failed.length === 0) return undefined;
  const counts = failed.map(
    (reading) =>
      `N=${reading.instances}: ${reading.replicas.map((replica) => replica.failedScrapes).join(", ")}`,
  );
  return `failed scrapes in the window, per replica: ${counts.join("; ")}`;
}

function signed(value: number): string {
  const rounded = Math.abs(value) >= 100 ? Math.round(value) : Number(value.toPrecision(3));
  return `${rounded >= 0 ? "+" : ""}${rounded.toLocaleString("en-US")}`;
}

/** The median over replicas of one field, for logging a reading as it is taken. */
export function replicaMedian(reading: ScaleReading, key: ReadingKey): number {
  return median(reading.replicas.map((replica) => replica[key]));
}
