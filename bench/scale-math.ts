/**
 * The arithmetic of the scale part, kept apart from the processes so that it can be tested: the targets of a
 * run, the PromQL that reads each replica, and the figures, each count of jobs read against the first as a
 * ratio beside the ratio of the work.
 */
import { hostLabel, jobs } from "../configs/names";
import { jobSelector } from "../configs/promql/queries";
import {
  alertsSeriesLabels,
  prometheusSyntheticSeries,
  prometheusWorkloadMetrics,
  targetLabels,
} from "../configs/promql/upstream-metrics";
import type { HostPort } from "../configs/runtime/endpoints";
import { alertNames } from "../configs/settings/alert-specs";
import type { SettingsInput } from "../configs/settings/schema";
import type { ScrapeTarget } from "../configs/settings/targets";
import { metricNames } from "../service/metrics-contract";
import { type Figure, type Measured, measured } from "./figures";
import { median, percentile } from "./stats";
import type { PlotLine } from "./svg-plot";

/** Job of the i-th (from 1) monitored job: each its own target, as each of a user's services would be. */
export function scaleJob(instance: number): string {
  return `${jobs.app}-${instance}`;
}

/**
 * Every job `scaleJob` names, and no other (Prometheus anchors the pattern): one short matcher instead of an
 * alternation of 500 names.
 */
export const scaleJobsSelector = `${targetLabels.job}=~"${jobs.app}-[0-9]+"`;

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

/** Monitored jobs per watched machine: 500 jobs come with 50 machines, as issue #21 sizes a fleet. */
export const jobsPerHost = 10;

/** How many machines a run with N jobs watches: one per `jobsPerHost` jobs, at least one. */
export function scaleHostCount(instances: number): number {
  return Math.ceil(instances / jobsPerHost);
}

/** Name of the i-th (from 1) watched machine. */
export function scaleHostName(host: number): string {
  return `host-${host}`;
}

/** One `hosts` entry per pair of addresses, as the settings take it: each machine's node exporter and cAdvisor. */
export function scaleHosts(
  exporters: readonly { readonly nodeExporter: HostPort; readonly cadvisor: HostPort }[],
): NonNullable<SettingsInput["hosts"]> {
  return exporters.map((address, index) => ({ name: scaleHostName(index + 1), address: { ...address } }));
}

/** "1,20,100,500": counts of jobs, each at least 1, ascending; the first is the baseline of the others. */
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

/** Samples in a target's last scrape: a synthetic series no rule or dashboard reads, so named here. */
const scrapeSamplesScraped = "scrape_samples_scraped";

/** What one replica's own metrics say over the settle window, each from one PromQL query of one sample. */
export interface QueriedReading {
  /**
   * Rule evaluation per cycle of the shipped evaluation interval: each group's mean evaluation over the window,
   * scaled by how many of its evaluations fall in one cycle (a group evaluated every minute counts a twelfth
   * of its time in a 5 s cycle), summed over the groups.
   */
  readonly ruleEvaluationSeconds: number;
  readonly rules: number;
  /** At the end of the window. */
  readonly headSeries: number;
  /** At the end of the window. */
  readonly residentBytes: number;
  /** CPU seconds per minute of wall time, averaged over the window: 60 is one core. */
  readonly cpuSecondsPerMinute: number;
  /** Scrapes of the monitored jobs within the window that failed (`up` 0). */
  readonly failedScrapes: number;
  /** Samples per scrape of a monitored job, averaged over the jobs: the series each job exposes. */
  readonly samplesPerScrape: number;
  /**
   * Alerts pending or firing at the end of the window but the Watchdog: 0 when the fleet's figures are those of
   * a quiet fleet, as they should be; an active alert costs its templates and notifications every evaluation.
   */
  readonly activeAlerts: number;
}

export type QueriedKey = keyof QueriedReading;

export interface RuleGroupReading {
  readonly name: string;
  readonly seconds: number;
  readonly intervalSeconds: number;
}

/** How long one dashboard panel's query took on a replica, as a range query over the live data. */
export interface PanelTiming {
  readonly dashboard: string;
  readonly panel: string;
  readonly seconds: number;
  /** Why the query failed; `seconds` is then how long it took to fail. */
  readonly error?: string;
}

/** What one replica measured with N jobs. */
export interface ReplicaReading extends QueriedReading {
  /** Median and 99th percentile of the monitored jobs' scrape durations within the window. */
  readonly scrapeMedianSeconds: number;
  readonly scrapeP99Seconds: number;
  /** The rule group with the longest mean evaluation over the window, by name (`<file>;<group>`). */
  readonly largestGroup: { readonly name: string; readonly seconds: number };
  /** Every rule group's mean evaluation over the window, and its interval. */
  readonly groups: readonly RuleGroupReading[];
  /** Series in the head of the first watched machine, by job (`node`, `cadvisor`): what one more machine adds. */
  readonly seriesPerHost: { readonly node: number; readonly cadvisor: number };
  readonly panels: readonly PanelTiming[];
}

/**
 * The PromQL for each queried field, on the replica that listens at `self`: its own metrics are read from its
 * own scrape of itself (job "prometheus"), the jobs' from its scrapes of them. Each yields one sample.
 */
export function readingQueries(
  self: HostPort,
  windowSeconds: number,
  cycleSeconds: number,
): Record<QueriedKey, string> {
  const targets = scaleJobsSelector;
  const itself = replicaSelector(self);
  const window = `[${windowSeconds}s]`;
  const { up } = prometheusSyntheticSeries;
  const own = prometheusWorkloadMetrics;
  return {
    // The gauge holds the last evaluation only; Prometheus samples it at every self-scrape, about once per
    // evaluation at the shipped intervals, so the mean over the window is the mean per evaluation.
    ruleEvaluationSeconds: `sum(${ruleGroupsQuery(self, windowSeconds)} / ${own.ruleGroupIntervalSeconds}{${itself}}) * ${cycleSeconds}`,
    rules: `sum(${own.ruleGroupRules}{${itself}})`,
    headSeries: `sum(${own.headSeries}{${itself}})`,
    residentBytes: `sum(${own.residentMemoryBytes}{${itself}})`,
    cpuSecondsPerMinute: `sum(rate(${own.cpuSecondsTotal}{${itself}}${window})) * 60`,
    failedScrapes: `sum(count_over_time(${up}{${targets}}${window})) - sum(sum_over_time(${up}{${targets}}${window}))`,
    samplesPerScrape: `avg(avg_over_time(${scrapeSamplesScraped}{${targets}}${window}))`,
    activeAlerts: `count(${prometheusSyntheticSeries.alerts}{${alertsSeriesLabels.alertname}!="${alertNames.watchdog}"}) or vector(0)`,
  };
}

function replicaSelector(self: HostPort): string {
  return `${jobSelector(jobs.prometheus)},${targetLabels.instance}="${self}"`;
}

/** Every monitored job's scrape durations: run as a range query at the scrape interval, one value a scrape. */
export const scrapeDurationsQuery = `${prometheusSyntheticSeries.scrapeDurationSeconds}{${scaleJobsSelector}}`;

/** Each rule group's mean evaluation over the window on the replica at `self`, one sample per `rule_group`. */
export function ruleGroupsQuery(self: HostPort, windowSeconds: number): string {
  return `avg_over_time(${prometheusWorkloadMetrics.ruleGroupLastDurationSeconds}{${replicaSelector(self)}}[${windowSeconds}s])`;
}

/** Each rule group's evaluation interval on the replica at `self`, one sample per `rule_group`. */
export function ruleGroupIntervalsQuery(self: HostPort): string {
  return `${prometheusWorkloadMetrics.ruleGroupIntervalSeconds}{${replicaSelector(self)}}`;
}

/** The first watched machine's scraped series, one sample per job (not its alerts' ALERTS series). */
export function hostSeriesQuery(): string {
  return `count by (${targetLabels.job}) ({${hostLabel}="${scaleHostName(1)}",__name__!~"ALERTS.*"})`;
}

/** `rule_group` is "<file>;<group>", the file an absolute path into the stack's temporary directory. */
export function ruleGroupName(label: string): string {
  return label.replace(/^.*\//, "");
}

/** The median and 99th percentile of every scrape duration read. */
export function scrapeDurationStats(values: readonly number[]): { median: number; p99: number } {
  return { median: median([...values]), p99: percentile(values, 0.99) };
}

/**
 * On a replica, how many of the monitored jobs are up and how many have request series: the part waits for both
 * to equal N, so that every job's series exist before the window starts.
 */
export function readinessQueries(): { up: string; withRequests: string } {
  return {
    up: `count(${prometheusSyntheticSeries.up}{${scaleJobsSelector}} == 1)`,
    withRequests: `count(count by (${targetLabels.job}) (${metricNames.requestsTotal}{${scaleJobsSelector}}))`,
  };
}

/** How long rendering every file of the stack took for the settings with N jobs, or why it failed. */
export interface RenderReading {
  /** One per render, in order. */
  readonly seconds: readonly number[];
  /** The first line of the error, when rendering failed: then the stack did not start. */
  readonly error?: string;
}

/** Everything measured with N jobs; `replicas` is empty when the stack could not be measured (`error`). */
export interface ScaleReading {
  readonly instances: number;
  readonly render: RenderReading;
  readonly replicas: readonly ReplicaReading[];
  readonly error?: string;
}

interface Quantity {
  readonly name: string;
  readonly unit: string;
  /** One replica's value, in the figure's unit. */
  readonly value: (replica: ReplicaReading) => number;
  /** Where the figure comes from, over a window of so many seconds. */
  readonly source: (windowSeconds: number) => string;
  /** What to say about the figure at one count, such as which group or panel was the largest. */
  readonly detail?: (reading: ScaleReading) => string;
}

const ms = 1000;

const quantities: readonly Quantity[] = [
  {
    name: "series in the head",
    unit: "",
    value: (replica) => replica.headSeries,
    source: (window) => `${prometheusWorkloadMetrics.headSeries} at the end of the ${window} s window`,
  },
  {
    name: "Prometheus resident memory",
    unit: "MiB",
    value: (replica) => replica.residentBytes / 2 ** 20,
    source: (window) =>
      `${prometheusWorkloadMetrics.residentMemoryBytes} at the end of the ${window} s window`,
  },
  {
    name: "Prometheus CPU",
    unit: "CPU s/min",
    value: (replica) => replica.cpuSecondsPerMinute,
    source: (window) => `rate(${prometheusWorkloadMetrics.cpuSecondsTotal}[${window}s]) * 60`,
  },
  {
    name: "rule evaluation per cycle, summed over groups",
    unit: "ms",
    value: (replica) => replica.ruleEvaluationSeconds * ms,
    source: (window) =>
      `avg_over_time(${prometheusWorkloadMetrics.ruleGroupLastDurationSeconds}[${window}s]) / ${prometheusWorkloadMetrics.ruleGroupIntervalSeconds} × the evaluation interval, summed over rule groups`,
  },
  {
    name: "largest rule group per cycle",
    unit: "ms",
    value: (replica) => replica.largestGroup.seconds * ms,
    source: () => "the rule group with the longest mean evaluation",
    detail: (reading) => reading.replicas.map((replica) => replica.largestGroup.name).join(", "),
  },
  {
    name: "series of one watched machine, node exporter",
    unit: "",
    value: (replica) => replica.seriesPerHost.node,
    source: () => `${hostSeriesQuery()} at the end of the window, job node`,
  },
  {
    name: "series of one watched machine, cAdvisor (kept)",
    unit: "",
    value: (replica) => replica.seriesPerHost.cadvisor,
    source: () =>
      `${hostSeriesQuery()} at the end of the window, job cadvisor, after its metric_relabel_configs`,
  },
  {
    name: "rules loaded",
    unit: "",
    value: (replica) => replica.rules,
    source: () => `${prometheusWorkloadMetrics.ruleGroupRules}, summed over rule groups`,
  },
  {
    name: "scrape duration of a job, median",
    unit: "ms",
    value: (replica) => replica.scrapeMedianSeconds * ms,
    source: () =>
      `${prometheusSyntheticSeries.scrapeDurationSeconds} of every monitored job, every scrape in the window`,
  },
  {
    name: "scrape duration of a job, p99",
    unit: "ms",
    value: (replica) => replica.scrapeP99Seconds * ms,
    source: () =>
      `${prometheusSyntheticSeries.scrapeDurationSeconds} of every monitored job, every scrape in the window`,
  },
  {
    name: "slowest dashboard panel query",
    unit: "ms",
    value: (replica) => slowestPanel(replica).seconds * ms,
    source: () => "each panel's query as a range query over the live data at the dashboards' step",
    detail: (reading) =>
      reading.replicas
        .map((replica) => slowestPanel(replica))
        .map((panel) => `${panel.dashboard} / ${panel.panel}`)
        .join(", "),
  },
  {
    name: "every dashboard panel query, summed",
    unit: "ms",
    value: (replica) => replica.panels.reduce((total, panel) => total + panel.seconds, 0) * ms,
    source: () => "the panels' queries one after another, as a dashboard's first load asks them",
  },
  {
    name: "samples per scrape of a job",
    unit: "",
    value: (replica) => replica.samplesPerScrape,
    source: (window) => `avg_over_time(${scrapeSamplesScraped}[${window}s]), averaged over the jobs`,
  },
];

export function slowestPanel(replica: ReplicaReading): PanelTiming {
  const [slowest] = [...replica.panels].sort((a, b) => b.seconds - a.seconds);
  return slowest ?? { dashboard: "(none)", panel: "(none)", seconds: Number.NaN };
}

/** The counts whose stacks were measured: the figures read each against the first of these. */
function measuredReadings(readings: readonly ScaleReading[]): ScaleReading[] {
  return readings.filter((reading) => reading.replicas.length > 0);
}

/** The work's ratio and a measured ratio, as the figure's baseline and its rounds. */
function workRatio(first: number, instances: number): Measured {
  return measured(`work N=${first}→${instances}`, "×", [instances / first]);
}

/**
 * For each quantity: one figure per measured count of jobs, its rounds the replicas (prometheus-0, -1...),
 * each read against the first count's figure; then one ratio per later count, replica by replica, beside the
 * work's ratio. Then the render time, its rounds the renders, and its ratios; a count whose render failed says
 * so in a note, as does a count whose stack could not be measured.
 */
export function scaleFigures(readings: readonly ScaleReading[], settleSeconds: number): Figure[] {
  if (readings.length === 0) throw new Error("no count of jobs was run");
  const live = measuredReadings(readings);
  const figures: Figure[] = [];
  const first = live[0];
  for (const quantity of quantities) {
    if (first === undefined) break;
    const baseline = measured(
      `${quantity.name}, N=${first.instances}`,
      quantity.unit,
      first.replicas.map(quantity.value),
    );
    const ofQuantity: Figure[] = live.map((reading, index) => ({
      part: "scale",
      ...measured(
        `${quantity.name}, N=${reading.instances}`,
        quantity.unit,
        reading.replicas.map(quantity.value),
      ),
      ...(index > 0 ? { baseline } : {}),
      ...(quantity.detail ? { note: quantity.detail(reading) } : {}),
    }));
    for (const reading of live.slice(1)) {
      ofQuantity.push({
        part: "scale",
        ...measured(
          `${quantity.name}, ratio N=${first.instances}→${reading.instances}`,
          "×",
          ratios(first.replicas.map(quantity.value), reading.replicas.map(quantity.value)),
        ),
        baseline: workRatio(first.instances, reading.instances),
      });
    }
    const last = ofQuantity[ofQuantity.length - 1] as Figure;
    const notes = [`${quantity.source(settleSeconds)}, one round per replica`];
    if (last.note !== undefined) notes.unshift(last.note);
    ofQuantity[ofQuantity.length - 1] = { ...last, note: notes.join("; ") };
    figures.push(...ofQuantity);
  }
  figures.push(...renderFigures(readings));
  const failures = readings.filter((reading) => reading.error !== undefined);
  if (failures.length > 0 && figures.length > 0) {
    const last = figures[figures.length - 1] as Figure;
    const said = failures.map((reading) => `N=${reading.instances}: ${reading.error}`).join("; ");
    figures[figures.length - 1] = {
      ...last,
      note: [last.note, `not measured: ${said}`].filter(Boolean).join("; "),
    };
  }
  return figures;
}

/** The render time of every count that rendered, each against the first, and the ratios beside the work's. */
function renderFigures(readings: readonly ScaleReading[]): Figure[] {
  const rendered = readings.filter((reading) => reading.render.error === undefined);
  const first = rendered[0];
  if (first === undefined) return [];
  const name = (instances: number) => `render of the whole stack, N=${instances}`;
  const baseline = measured(name(first.instances), "s", first.render.seconds);
  const figures: Figure[] = rendered.map((reading, index) => ({
    part: "scale",
    ...measured(name(reading.instances), "s", reading.render.seconds),
    ...(index > 0 ? { baseline } : {}),
  }));
  for (const reading of rendered.slice(1)) {
    figures.push({
      part: "scale",
      ...measured(`render of the whole stack, ratio N=${first.instances}→${reading.instances}`, "×", [
        median([...reading.render.seconds]) / baseline.median,
      ]),
      baseline: workRatio(first.instances, reading.instances),
    });
  }
  const failed = readings.filter((reading) => reading.render.error !== undefined);
  const last = figures[figures.length - 1] as Figure;
  const notes = ["renderAll (configs/render.ts) in the bench's process, one round per render"];
  for (const reading of failed) {
    notes.push(
      `N=${reading.instances}: render failed after ${formatSeconds(median([...reading.render.seconds]))}: ${reading.render.error}`,
    );
  }
  figures[figures.length - 1] = { ...last, note: notes.join("; ") };
  return figures;
}

function formatSeconds(value: number): string {
  return `${Number(value.toPrecision(3))} s`;
}

/** Replica by replica, the later value over the first; a count with fewer replicas pairs what it has. */
function ratios(first: readonly number[], later: readonly number[]): number[] {
  return later.map((value, index) => value / (first[index] ?? first[0] ?? Number.NaN));
}

/** The median over replicas of one quantity at one count; NaN if the count was not measured. */
function quantityMedian(reading: ScaleReading, quantity: Quantity): number {
  return median(reading.replicas.map(quantity.value));
}

/** Each quantity by name, its median at each measured count, for the results file and the docs' table. */
export function scaleTable(readings: readonly ScaleReading[]): {
  readonly counts: readonly number[];
  readonly rows: readonly {
    name: string;
    unit: string;
    values: readonly number[];
    ratios: readonly number[];
  }[];
} {
  const live = measuredReadings(readings);
  const counts = live.map((reading) => reading.instances);
  const rows = quantities.map((quantity) => {
    const values = live.map((reading) => quantityMedian(reading, quantity));
    return {
      name: quantity.name,
      unit: quantity.unit,
      values,
      ratios: values.map((value) => value / (values[0] as number)),
    };
  });
  const rendered = live.map((reading) =>
    reading.render.error === undefined ? median([...reading.render.seconds]) : Number.NaN,
  );
  rows.push({
    name: "render of the whole stack",
    unit: "s",
    values: rendered,
    ratios: rendered.map((value) => value / (rendered[0] as number)),
  });
  return { counts, rows };
}

/** The quantities the plot draws, as ratios to the first count, with the work's own ratio as the reference. */
const plotted = [
  "series in the head",
  "Prometheus resident memory",
  "Prometheus CPU",
  "rule evaluation per cycle, summed over groups",
  "scrape duration of a job, p99",
  "slowest dashboard panel query",
  "render of the whole stack",
];

export function scalePlotLines(readings: readonly ScaleReading[]): PlotLine[] {
  const { counts, rows } = scaleTable(readings);
  const first = counts[0] ?? 1;
  const lines: PlotLine[] = [
    { name: "work (N)", points: counts.map((count) => [count, count / first] as const), dashed: true },
  ];
  for (const row of rows.filter((each) => plotted.includes(each.name))) {
    lines.push({
      name: row.name,
      points: counts
        .map((count, index) => [count, row.ratios[index] as number] as const)
        .filter(([, ratio]) => Number.isFinite(ratio)),
    });
  }
  return lines;
}
