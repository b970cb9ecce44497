/**
 * "Hosts": the watched machines, the stack's own (`host.enabled`) and `hosts`, from node exporter: CPU, memory,
 * disk space, disk I/O, network and load, one host at a time by its `host` label. The CPU, memory, disk space and disk busy
 * panels show the series HostCpuSaturated, HostMemoryLow, HostDiskFillingUp and HostDiskIoSaturated fire on,
 * from the same queries (configs/promql/queries.ts), with the alert's threshold as a red line.
 */

import type { Dashboard } from "@grafana/grafana-foundation-sdk/dashboard";
import { hostLabel, jobs } from "../../names";
import {
  clockOffsetSeconds,
  cpuBusyRatio,
  diskBusyRatio,
  filesystemFreeRatio,
  jobSelector,
  memoryAvailableRatio,
} from "../../promql/queries";
import { nodeExporterMetrics, nodeFilesystemLabels } from "../../promql/upstream-metrics";
import { alertNames } from "../../settings/alert-specs";
import type { Settings } from "../../settings/schema";
import {
  addSections,
  alertLine,
  labelValuesVariable,
  newDashboard,
  rateInterval,
  staysPastLine,
  timeSeries,
} from "../panels";

export const hostsDashboard = {
  uid: "watchtower-hosts",
  title: "Hosts",
  description:
    "CPU, memory, disk space, disk I/O, network and load of the stack's host, from node exporter, with the alert thresholds.",
} as const;

/** The dashboard shows one host at a time, by its `host` label: `host.name` when it opens. */
export const hostVariable = hostLabel;
const host = `,${hostLabel}="$${hostVariable}"`;
/** Every node exporter series of the selected host. */
const selected = `${jobSelector(jobs.node)}${host}`;

function hostVariableBuilder(settings: Settings) {
  return labelValuesVariable({
    name: hostVariable,
    label: "Host",
    description: "The `host` label of node exporter's series: `host.name` in the settings.",
    series: `${nodeExporterMetrics.load1}{${jobSelector(jobs.node)}}`,
    labelName: hostLabel,
    current: settings.host.name,
  });
}

const rate = (metric: string, extra = "") => `rate(${metric}{${selected}${extra}}[${rateInterval}])`;

export function buildHostsDashboard(settings: Settings): Dashboard {
  const { hostDiskFillingUp, hostMemoryLow, hostCpuSaturated, hostDiskIoSaturated, hostClockSkew } =
    settings.alerts;
  const clockLine = alertLine(
    hostClockSkew,
    alertNames.hostClockSkew,
    hostClockSkew.maxSeconds,
    staysPastLine("the offset", "above"),
  );
  const cpuLine = alertLine(
    hostCpuSaturated,
    alertNames.hostCpuSaturated,
    hostCpuSaturated.maxRatio,
    staysPastLine("the share busy in all modes", "above"),
  );
  const diskIoLine = alertLine(
    hostDiskIoSaturated,
    alertNames.hostDiskIoSaturated,
    hostDiskIoSaturated.maxRatio,
    staysPastLine("a device's share", "above"),
  );
  const memoryLine = alertLine(
    hostMemoryLow,
    alertNames.hostMemoryLow,
    hostMemoryLow.minAvailableRatio,
    staysPastLine("this share", "below"),
  );
  const diskLine = alertLine(
    hostDiskFillingUp,
    alertNames.hostDiskFillingUp,
    hostDiskFillingUp.minFreeRatio,
    staysPastLine("a filesystem's share", "below"),
  );
  const { device, mountpoint } = nodeFilesystemLabels;

  const compute = [
    timeSeries({
      title: "CPU busy by mode",
      description: `Share of the host's CPU time spent in each mode but idle, averaged over its CPUs, and in all of them together: 100% is every core busy.${cpuLine.note}`,
      unit: "percentunit",
      queries: [
        {
          expr: `avg without (cpu) (${rate(nodeExporterMetrics.cpuSecondsTotal, ',mode!="idle"')})`,
          legend: "{{mode}}",
        },
        { expr: cpuBusyRatio(selected, rateInterval), legend: "all modes" },
      ],
      thresholdLines: cpuLine.thresholdLines,
    }),
    timeSeries({
      title: "Load average",
      description:
        "Runnable and uninterruptible tasks, averaged over 1, 5 and 15 minutes; compare with the number of CPUs.",
      unit: "short",
      queries: [
        { expr: `${nodeExporterMetrics.load1}{${selected}}`, legend: "1m" },
        { expr: `${nodeExporterMetrics.load5}{${selected}}`, legend: "5m" },
        { expr: `${nodeExporterMetrics.load15}{${selected}}`, legend: "15m" },
      ],
    }),
    timeSeries({
      title: "Memory available",
      description: `Share of the host's memory available to new programs without swapping (MemAvailable / MemTotal).${memoryLine.note}`,
      unit: "percentunit",
      queries: [{ expr: memoryAvailableRatio(selected), legend: "available" }],
      thresholdLines: memoryLine.thresholdLines,
    }),
    timeSeries({
      title: "Clock offset",
      description: `How far the host's clock is from its time source, ahead or behind, as its kernel reports it.${clockLine.note}`,
      unit: "s",
      queries: [{ expr: clockOffsetSeconds(selected), legend: "offset" }],
      thresholdLines: clockLine.thresholdLines,
    }),
  ];

  const disks = [
    timeSeries({
      title: "Disk space free",
      description: `Share of each disk filesystem's space free to unprivileged programs; in-memory and container filesystems are left out.${diskLine.note}`,
      unit: "percentunit",
      queries: [{ expr: filesystemFreeRatio(selected), legend: `{{${mountpoint}}} ({{${device}}})` }],
      thresholdLines: diskLine.thresholdLines,
    }),
    timeSeries({
      title: "Disk throughput",
      description: "Bytes read and written per second, by block device.",
      unit: "Bps",
      queries: [
        { expr: rate(nodeExporterMetrics.diskReadBytesTotal), legend: `read {{${device}}}` },
        { expr: rate(nodeExporterMetrics.diskWrittenBytesTotal), legend: `written {{${device}}}` },
      ],
    }),
    timeSeries({
      title: "Disk busy",
      description: `Share of time each block device had I/O in progress: near 100% it is saturated.${diskIoLine.note}`,
      unit: "percentunit",
      queries: [{ expr: diskBusyRatio(selected, rateInterval), legend: `{{${device}}}` }],
      thresholdLines: diskIoLine.thresholdLines,
    }),
  ];

  const network = [
    timeSeries({
      title: "Network traffic",
      description:
        "Bytes received and sent per second, by interface. In the Docker stack node exporter runs on the stack's private network, not the host's, so these are its container's interfaces (docs/hosts.md).",
      unit: "Bps",
      queries: [
        { expr: rate(nodeExporterMetrics.networkReceiveBytesTotal), legend: `received {{${device}}}` },
        { expr: rate(nodeExporterMetrics.networkTransmitBytesTotal), legend: `sent {{${device}}}` },
      ],
    }),
  ];

  return addSections(newDashboard(hostsDashboard).withVariable(hostVariableBuilder(settings)), [
    { title: "CPU and memory", panels: compute },
    { title: "Disks", panels: disks },
    { title: "Network", panels: network },
  ]);
}
