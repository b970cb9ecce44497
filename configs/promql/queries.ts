/**
 * PromQL shared by alert rules and dashboard panels, so that what a panel shows and what an alert fires on
 * cannot drift apart. Aggregations keep the `job` label: Alertmanager groups notifications by it.
 */
import { metricNames } from "../../service/metrics-contract";
import { hostLabel, jobs } from "../names";
import {
  blackboxMetrics,
  cadvisorMetrics,
  nodeCpuIdleMode,
  nodeExporterMetrics,
  nodeFilesystemLabels,
  prometheusSyntheticSeries,
} from "./upstream-metrics";

/** `job="<job>"`: the selector of one scrape job. */
export function jobSelector(job: string): string {
  return `job="${job}"`;
}

/** Quantile of request duration that the latency alert watches and the dashboards draw its threshold on. */
export const alertedLatencyQuantile = 0.95;

const appSelector = jobSelector(jobs.app);

/** Requests each selected job (by default the demo app) served within the sliding window. */
export function requestsInWindow(window: string, selector: string = appSelector): string {
  return `sum by (job) (increase(${metricNames.requestsTotal}{${selector}}[${window}]))`;
}

/** The selected jobs' requests answered with a 5xx status. */
export function serverErrorSelector(selector: string): string {
  return `${selector},status_code=~"5.."`;
}

/** Share of requests answered with a 5xx status over the window, per selected job. */
export function errorRatio(window: string, selector: string = appSelector): string {
  const total = `sum by (job) (rate(${metricNames.requestsTotal}{${selector}}[${window}]))`;
  const errors = `sum by (job) (rate(${metricNames.requestsTotal}{${serverErrorSelector(selector)}}[${window}]))`;
  return `${errors} / ${total}`;
}

/** A quantile of request duration over the window, from the histogram's buckets, per selected job. */
export function latencyQuantile(quantile: number, window: string, selector: string = appSelector): string {
  return `histogram_quantile(${quantile}, sum by (job, le) (rate(${metricNames.requestDurationSeconds}_bucket{${selector}}[${window}])))`;
}

/**
 * The recorded threshold of an alert for the jobs that override it (configs/prometheus/rules.ts records one
 * series per such job): threshold as data, so that jobs at different thresholds share one rule.
 */
export const alertThresholdRecord = "watchtower:alert_threshold";
/**
 * A container the stack runs on its host, one recorded series each (configs/prometheus/rules.ts records them
 * from the endpoints' list), labelled as cAdvisor's series of it: what ContainerMissing expects to find.
 */
export const expectedContainerRecord = "watchtower:stack_container_expected";

/** The label of `alertThresholdRecord` that names the alert. */
export const alertThresholdLabel = "alert";

/** An alert's threshold for the selected jobs: the recorded one where a job overrides it, else `stackWide`. */
export function alertThresholdQuery(alertName: string, selector: string, stackWide: number): string {
  return `${alertThresholdRecord}{${alertThresholdLabel}="${alertName}",${selector}} or on() vector(${stackWide})`;
}

/** `job=~"a|b"`: the selector of several scrape jobs (of one, `jobSelector`'s). */
export function jobsSelector(jobNames: readonly string[]): string {
  return jobNames.length === 1 ? jobSelector(jobNames[0] ?? "") : `job=~"${jobNames.join("|")}"`;
}

/**
 * `a|b`: a regular expression of exactly these label values, with their dots escaped (a host name has them),
 * as the text of a PromQL string.
 */
export function anyOf(values: readonly string[]): string {
  return values.map((value) => value.replaceAll(".", "\\\\.")).join("|");
}

/** `up` of every target of the job. */
export function targetUp(job: string): string {
  return `${prometheusSyntheticSeries.up}{${jobSelector(job)}}`;
}

/**
 * The `le` label of a histogram bucket as Prometheus 3 stores it: it normalizes the label to a float's text on
 * ingestion, so the bucket exposed as `le="1"` is selected as `le="1.0"` (docs/migration.md of Prometheus 3.0,
 * "le and quantile label values"; model/labels FormatOpenMetricsFloat).
 */
export function bucketLabel(bound: number): string {
  if (bound === Number.POSITIVE_INFINITY) return "+Inf";
  const text = String(bound);
  return /[.e]/.test(text) ? text : `${text}.0`;
}

/**
 * Filesystem types that hold no data of the host's disks: memory, the kernel's pseudo filesystems, container
 * layers and read-only images. node exporter already leaves out most pseudo filesystems
 * (`--collector.filesystem.fs-types-exclude`); these are the ones it keeps and a full disk alert must not see.
 */
export const nonDiskFilesystemTypes = [
  "tmpfs",
  "ramfs",
  "devtmpfs",
  "overlay",
  "aufs",
  "squashfs",
  "nsfs",
  "fuse.lxcfs",
  "iso9660",
] as const;

/** The disk filesystems of the series `selector` selects (node exporter's job, and a host or more). */
function diskFilesystems(selector: string): string {
  return `${selector},${nodeFilesystemLabels.fstype}!~"${nonDiskFilesystemTypes.join("|")}"`;
}

/** Share of each disk filesystem's space that is free to unprivileged users (0 to 1). */
export function filesystemFreeRatio(selector: string): string {
  const disks = diskFilesystems(selector);
  return `${nodeExporterMetrics.filesystemAvailBytes}{${disks}} / ${nodeExporterMetrics.filesystemSizeBytes}{${disks}}`;
}

/**
 * Each disk filesystem's free space `hours` from now, by linear regression over `window`: below zero, it will be
 * full by then at the rate it filled over the window.
 */
export function filesystemFreeInHours(selector: string, window: string, hours: number): string {
  return `predict_linear(${nodeExporterMetrics.filesystemAvailBytes}{${diskFilesystems(selector)}}[${window}], ${hours * 3600})`;
}

/**
 * Share of each host's CPU time that is not idle over `window`, averaged over its CPUs (0 to 1); by host, with
 * the job kept for Alertmanager's grouping.
 */
export function cpuBusyRatio(selector: string, window: string): string {
  return `1 - avg by (job, ${hostLabel}) (rate(${nodeExporterMetrics.cpuSecondsTotal}{${selector},mode="${nodeCpuIdleMode}"}[${window}]))`;
}

/** Share of time each block device had I/O in progress over `window` (0 to 1). */
export function diskBusyRatio(selector: string, window: string): string {
  return `rate(${nodeExporterMetrics.diskIoTimeSecondsTotal}{${selector}}[${window}])`;
}

/** How far the host's clock is from its time source, either way, in seconds. */
export function clockOffsetSeconds(selector: string): string {
  return `abs(${nodeExporterMetrics.timexOffsetSeconds}{${selector}})`;
}

/**
 * Each container's memory working set as a share of its limit (0 to 1), of the containers that have a limit:
 * cAdvisor reports none as 0, which the comparison leaves out.
 */
export function containerMemoryLimitRatio(selector: string): string {
  return `${cadvisorMetrics.memoryWorkingSetBytes}{${selector}} / (${cadvisorMetrics.specMemoryLimitBytes}{${selector}} > 0)`;
}

/** Starts of each container within `window`: its start time taking a new value (cAdvisor writes it per start). */
export function containerRestarts(selector: string, window: string): string {
  return `changes(${cadvisorMetrics.startTimeSeconds}{${selector}}[${window}])`;
}

/** Out-of-memory kills in each container within `window`. */
export function containerOomKills(selector: string, window: string): string {
  return `increase(${cadvisorMetrics.oomEventsTotal}{${selector}}[${window}])`;
}

/** Share of the host's memory available to new programs without swapping (0 to 1). */
export function memoryAvailableRatio(selector: string): string {
  return `${nodeExporterMetrics.memoryAvailableBytes}{${selector}} / ${nodeExporterMetrics.memoryTotalBytes}{${selector}}`;
}

/** Seconds in a day: the certificate alert and panel count in days. */
export const secondsPerDay = 86_400;

/** Days until the certificate a probe was served expires, for the probes `selector` selects. */
export function certificateDaysLeft(selector: string): string {
  return `(${blackboxMetrics.sslEarliestCertExpiry}{${selector}} - time()) / ${secondsPerDay}`;
}
