/**
 * Every upstream series name the rules and dashboards read, defined once: what Prometheus writes about its
 * scrapes and alerts, Prometheus's and Alertmanager's own metrics, prom-client's default metrics for the
 * service's Node.js process, node exporter's host metrics, and k6's tags. upstream-metrics.test.ts checks these names against the real binaries at the pinned versions and against prom-client, so an
 * upstream rename fails a test instead of silently emptying a panel.
 */

/** Series Prometheus synthesises itself; they appear in queries, never on a /metrics page. */
export const prometheusSyntheticSeries = {
  /** 1 when the last scrape of a target succeeded, 0 when it failed. */
  up: "up",
  scrapeDurationSeconds: "scrape_duration_seconds",
  /** One series per pending or firing alert of the replica that evaluates the rules. */
  alerts: "ALERTS",
} as const;

/** Labels of the `ALERTS` series besides the alert's own labels. */
export const alertsSeriesLabels = {
  alertname: "alertname",
  alertstate: "alertstate",
} as const;

/** Values of `alertstate`. */
export const alertStates = {
  firing: "firing",
} as const;

/** Metrics that Prometheus and Alertmanager expose about themselves, that alert rules read to monitor the monitoring. */
export const stackMetricNames = {
  /** Counter per `rule_group` of a Prometheus replica. */
  ruleEvaluationFailures: "prometheus_rule_evaluation_failures_total",
  /** Gauge: Alertmanagers a Prometheus replica currently sends alerts to. */
  alertmanagersDiscovered: "prometheus_notifications_alertmanagers_discovered",
  /** Counters per `alertmanager` of alerts a Prometheus replica sent, or failed to send. */
  prometheusNotificationsSent: "prometheus_notifications_sent_total",
  prometheusNotificationErrors: "prometheus_notifications_errors_total",
  /** Counters per `integration` (email, webhook) of notifications Alertmanager attempted, or failed. */
  alertmanagerNotifications: "alertmanager_notifications_total",
  alertmanagerNotificationsFailed: "alertmanager_notifications_failed_total",
  /** Gauges of an Alertmanager replica's gossip: the members it sees, itself included, and those it lost. */
  alertmanagerClusterMembers: "alertmanager_cluster_members",
  alertmanagerClusterFailedPeers: "alertmanager_cluster_failed_peers",
} as const;

/** Labels Prometheus attaches to every scraped series. */
export const targetLabels = {
  job: "job",
  instance: "instance",
} as const;

/**
 * Prometheus's and Alertmanager's own metrics that only the dashboards read. The ones alert rules read too
 * are `stackMetricNames` in configs/queries.ts.
 */
export const stackHealthMetrics = {
  /** Alerts a Prometheus replica dropped because its queue to Alertmanager was full. */
  prometheusNotificationsDropped: "prometheus_notifications_dropped_total",
  prometheusConfigReloadSuccessful: "prometheus_config_last_reload_successful",
  alertmanagerConfigReloadSuccessful: "alertmanager_config_last_reload_successful",
} as const;

/** client_golang's and prom-client's process collector: the same names from Prometheus and from the service. */
const processCollectorMetrics = {
  cpuSecondsTotal: "process_cpu_seconds_total",
  residentMemoryBytes: "process_resident_memory_bytes",
} as const;

/**
 * What a Prometheus exposes about its own work, which the scale benchmark reads: "The duration of the last rule
 * group evaluation." and "The number of rules." (one series per `rule_group`, rules/group.go), "Total number of
 * series in the head block.", and client_golang's process collector's memory and CPU.
 */
export const prometheusWorkloadMetrics = {
  ruleGroupLastDurationSeconds: "prometheus_rule_group_last_duration_seconds",
  ruleGroupRules: "prometheus_rule_group_rules",
  ruleGroupIntervalSeconds: "prometheus_rule_group_interval_seconds",
  headSeries: "prometheus_tsdb_head_series",
  ...processCollectorMetrics,
} as const;

/** prom-client's default metrics (`collectDefaultMetrics`), which the service exports without a prefix. */
export const nodeProcessMetrics = {
  ...processCollectorMetrics,
  heapUsedBytes: "nodejs_heap_size_used_bytes",
  heapTotalBytes: "nodejs_heap_size_total_bytes",
  eventLoopLagP50Seconds: "nodejs_eventloop_lag_p50_seconds",
  eventLoopLagP99Seconds: "nodejs_eventloop_lag_p99_seconds",
} as const;

/**
 * node exporter's metrics (github.com/prometheus/node_exporter, collector/*_linux.go), which the host alerts and
 * the Hosts dashboard read. Filesystem sizes are per `device`, `mountpoint` and `fstype`; CPU time per `cpu`
 * and `mode`; disk I/O per `device`; network traffic per `device` (interface).
 */
export const nodeExporterMetrics = {
  filesystemAvailBytes: "node_filesystem_avail_bytes",
  filesystemSizeBytes: "node_filesystem_size_bytes",
  memoryAvailableBytes: "node_memory_MemAvailable_bytes",
  memoryTotalBytes: "node_memory_MemTotal_bytes",
  cpuSecondsTotal: "node_cpu_seconds_total",
  load1: "node_load1",
  load5: "node_load5",
  load15: "node_load15",
  diskReadBytesTotal: "node_disk_read_bytes_total",
  diskWrittenBytesTotal: "node_disk_written_bytes_total",
  diskIoTimeSecondsTotal: "node_disk_io_time_seconds_total",
  networkReceiveBytesTotal: "node_network_receive_bytes_total",
  networkTransmitBytesTotal: "node_network_transmit_bytes_total",
  /** The kernel's offset from its time source (collector/timex.go, enabled by default), in seconds. */
  timexOffsetSeconds: "node_timex_offset_seconds",
} as const;

/** The CPU mode of node exporter's idle time: the rest of `node_cpu_seconds_total` is busy. */
export const nodeCpuIdleMode = "idle";

/** Labels of node exporter's filesystem series. */
export const nodeFilesystemLabels = {
  device: "device",
  mountpoint: "mountpoint",
  fstype: "fstype",
} as const;

/**
 * The blackbox exporter's metrics (github.com/prometheus/blackbox_exporter, prober/*.go), of each probe, which
 * the probe alerts and the Probes dashboard read. `probe_http_duration_seconds` is per `phase` (resolve,
 * connect, tls, processing, transfer); the certificate's expiry is a Unix time, exported by https probes only.
 */
export const blackboxMetrics = {
  success: "probe_success",
  durationSeconds: "probe_duration_seconds",
  httpDurationSeconds: "probe_http_duration_seconds",
  sslEarliestCertExpiry: "probe_ssl_earliest_cert_expiry",
} as const;

/** The label of `probe_http_duration_seconds` that names the phase of the request. */
export const blackboxPhaseLabel = "phase";

/**
 * cAdvisor's container metrics (github.com/google/cadvisor, metrics/prometheus.go, as its docs/storage/prometheus.md
 * lists them), which the container alerts and the Containers dashboard read; the scrape job keeps these and no
 * other. Each series is of one container's cgroup, named by `name` (the Docker container's name); network
 * series also by `interface`. Not checked against a real binary: cAdvisor's module is not served here.
 */
export const cadvisorMetrics = {
  memoryWorkingSetBytes: "container_memory_working_set_bytes",
  specMemoryLimitBytes: "container_spec_memory_limit_bytes",
  cpuUsageSecondsTotal: "container_cpu_usage_seconds_total",
  oomEventsTotal: "container_oom_events_total",
  startTimeSeconds: "container_start_time_seconds",
  networkReceiveBytesTotal: "container_network_receive_bytes_total",
  networkTransmitBytesTotal: "container_network_transmit_bytes_total",
} as const;

/** Labels of cAdvisor's series that the alerts and the dashboard use; the scrape job drops the others. */
export const cadvisorLabels = {
  /** The container's name: the Docker container name, without its leading slash. */
  name: "name",
  /** A network interface of the container, on the network series. */
  networkInterface: "interface",
} as const;
