/**
 * What one watched machine of the scale part exposes, beside the jobs of ./fleet-exposition.ts: node exporter's
 * page, copied from the real exporter run once on this machine (`captureNodeExporterPage` in ./scale.ts), and a
 * cAdvisor page made up in cAdvisor's shape (its command module is not served here, so no real page can be captured).
 *
 * The cAdvisor page has the families cAdvisor 0.52 writes for a Docker container, with their labels (`id`,
 * `image`, `name`, and `device`, `interface`, `state`, `failure_type`/`scope` where cAdvisor adds them), for
 * `containersPerHost` named containers and the host's root cgroup, which has no name: the scrape job keeps 7 of
 * those families, of named containers only, so what it drops is part of what is measured.
 */
import { cadvisorMetrics, nodeExporterMetrics } from "../configs/promql/upstream-metrics";

/** Containers on each machine: a small Docker host's worth. */
export const containersPerHost = 20;

/** cAdvisor's families besides the ones the scrape job keeps, each with the extra labels of its series. */
const droppedCadvisorFamilies: readonly (readonly [string, readonly Record<string, string>[]])[] = [
  ...[
    "container_cpu_cfs_periods_total",
    "container_cpu_cfs_throttled_periods_total",
    "container_cpu_cfs_throttled_seconds_total",
    "container_cpu_load_average_10s",
    "container_cpu_system_seconds_total",
    "container_cpu_user_seconds_total",
    "container_file_descriptors",
    "container_last_seen",
    "container_memory_cache",
    "container_memory_failcnt",
    "container_memory_mapped_file",
    "container_memory_max_usage_bytes",
    "container_memory_rss",
    "container_memory_swap",
    "container_memory_usage_bytes",
    "container_processes",
    "container_scrape_error",
    "container_sockets",
    "container_spec_cpu_period",
    "container_spec_cpu_shares",
    "container_spec_memory_reservation_limit_bytes",
    "container_spec_memory_swap_limit_bytes",
    "container_threads",
    "container_threads_max",
  ].map((name) => [name, [{}]] as const),
  ...[
    "container_fs_inodes_free",
    "container_fs_inodes_total",
    "container_fs_io_current",
    "container_fs_io_time_seconds_total",
    "container_fs_limit_bytes",
    "container_fs_reads_bytes_total",
    "container_fs_reads_total",
    "container_fs_usage_bytes",
    "container_fs_writes_bytes_total",
    "container_fs_writes_total",
  ].map((name) => [name, [{ device: "/dev/vda1" }]] as const),
  ...[
    "container_network_receive_errors_total",
    "container_network_receive_packets_dropped_total",
    "container_network_receive_packets_total",
    "container_network_transmit_errors_total",
    "container_network_transmit_packets_dropped_total",
    "container_network_transmit_packets_total",
  ].map((name) => [name, [{ interface: "eth0" }]] as const),
  [
    "container_tasks_state",
    ["iowaiting", "running", "sleeping", "stopped", "uninterruptible"].map((state) => ({ state })),
  ],
  [
    "container_memory_failures_total",
    ["pgfault", "pgmajfault"].flatMap((failure_type) =>
      ["container", "hierarchy"].map((scope) => ({ failure_type, scope })),
    ),
  ],
  ["container_ulimits_soft", [{ ulimit: "max_open_files" }]],
];

/** The kept families, each with the extra labels of its series. */
const keptCadvisorFamilies: readonly (readonly [string, readonly Record<string, string>[]])[] = Object.values(
  cadvisorMetrics,
).map((name) => [name, name.startsWith("container_network_") ? [{ interface: "eth0" }] : [{}]] as const);

function labelText(labels: Readonly<Record<string, string>>): string {
  return Object.entries(labels)
    .map(([label, value]) => `${label}="${value}"`)
    .join(",");
}

/**
 * A gauge's value for the `index`-th cgroup (0 the root): memory well under its limit and one start long ago, so
 * that no container alert is pending; the root has no limit, as cAdvisor reports it.
 */
function gaugeValue(family: string, index: number): number {
  const mib = 2 ** 20;
  if (family === cadvisorMetrics.specMemoryLimitBytes) return index === 0 ? 0 : 512 * mib;
  if (family === cadvisorMetrics.memoryWorkingSetBytes) return (64 + index) * mib;
  if (family === cadvisorMetrics.startTimeSeconds) return 1_700_000_000;
  return 1000 + index;
}

/**
 * A counter's value for the `index`-th cgroup at `elapsedSeconds`: each advances with time, but the OOM events,
 * which stay at none, so that no container alert fires.
 */
function counterValue(family: string, index: number, elapsedSeconds: number): number {
  return family === cadvisorMetrics.oomEventsTotal ? 0 : (index + 1) * elapsedSeconds;
}

/** One machine's cAdvisor page at `elapsedSeconds`: counters advance with time, gauges stay. */
export function renderCadvisorPage(host: number, elapsedSeconds: number): string {
  const cgroups = [
    { id: "/", image: "", name: "" },
    ...Array.from({ length: containersPerHost }, (_, index) => ({
      id: `/system.slice/docker-${host.toString(16).padStart(6, "0")}${index.toString(16).padStart(6, "0")}.scope`,
      image: `example/service-${index}:1.0`,
      name: `host-${host}-container-${index}`,
    })),
  ];
  return [...keptCadvisorFamilies, ...droppedCadvisorFamilies]
    .flatMap(([family, variants]) => {
      const counter = family.endsWith("_total");
      return [
        `# TYPE ${family} ${counter ? "counter" : "gauge"}`,
        ...cgroups.flatMap((cgroup, index) =>
          variants.map(
            (extra) =>
              `${family}{${labelText({ ...extra, ...cgroup })}} ${counter ? counterValue(family, index, elapsedSeconds) : gaugeValue(family, index)}`,
          ),
        ),
      ];
    })
    .join("\n")
    .concat("\n");
}

/**
 * A captured node exporter page at `elapsedSeconds` since the capture: each CPU's idle time advances with it,
 * so the CPUs read idle (HostCpuSaturated stays quiet) as on a machine at rest; everything else is as captured.
 */
export function renderNodeExporterPage(captured: string, elapsedSeconds: number): string {
  const idle = new RegExp(
    `^(${nodeExporterMetrics.cpuSecondsTotal}\\{[^}]*mode="idle"[^}]*\\}) (\\S+)$`,
    "gm",
  );
  return captured.replace(
    idle,
    (_, series: string, value: string) => `${series} ${Number(value) + elapsedSeconds}`,
  );
}
