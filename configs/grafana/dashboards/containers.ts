/**
 * "Containers": the containers of the watched machines, from cAdvisor (`host.containers`,
 * `hosts[].address.cadvisor`), the stack's own among them by name: CPU, memory against each limit, OOM kills,
 * restarts and network, one host at a time by its `host` label. The memory panel shows the series ContainerNearMemoryLimit fires on, from the same query
 * (configs/promql/queries.ts), with the alert's threshold as a red line.
 */

import type { Dashboard } from "@grafana/grafana-foundation-sdk/dashboard";
import { hostLabel, jobs } from "../../names";
import {
  containerMemoryLimitRatio,
  containerOomKills,
  containerRestarts,
  jobSelector,
} from "../../promql/queries";
import { cadvisorLabels, cadvisorMetrics } from "../../promql/upstream-metrics";
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

export const containersDashboard = {
  uid: "watchtower-containers",
  title: "Containers",
  description:
    "CPU, memory against limit, OOM kills, restarts and network of the containers on the stack's host, from cAdvisor, with the alert thresholds.",
} as const;

/** The dashboard shows one host at a time, by its `host` label: `host.name` when it opens. */
export const containerHostVariable = hostLabel;
const host = `,${hostLabel}="$${containerHostVariable}"`;
const selected = `${jobSelector(jobs.cadvisor)}${host}`;
const byName = `{{${cadvisorLabels.name}}}`;

function hostVariableBuilder(settings: Settings) {
  return labelValuesVariable({
    name: containerHostVariable,
    label: "Host",
    description: "The `host` label of cAdvisor's series: `host.name` in the settings.",
    series: `${cadvisorMetrics.memoryWorkingSetBytes}{${jobSelector(jobs.cadvisor)}}`,
    labelName: hostLabel,
    current: settings.host.name,
  });
}

const rate = (metric: string) => `rate(${metric}{${selected}}[${rateInterval}])`;

export function buildContainersDashboard(settings: Settings): Dashboard {
  const { containerNearMemoryLimit, containerRestarting } = settings.alerts;
  const restartLine = alertLine(
    containerRestarting,
    alertNames.containerRestarting,
    containerRestarting.maxRestarts,
    "a container goes above the red line",
  );
  const memoryLine = alertLine(
    containerNearMemoryLimit,
    alertNames.containerNearMemoryLimit,
    containerNearMemoryLimit.maxRatio,
    staysPastLine("a container", "above"),
  );

  const resources = [
    timeSeries({
      title: "CPU",
      description: "CPU time each container uses per second: 1 is one core busy.",
      unit: "short",
      queries: [{ expr: rate(cadvisorMetrics.cpuUsageSecondsTotal), legend: byName }],
    }),
    timeSeries({
      title: "Memory against limit",
      description: `Each container's working set as a share of its memory limit; containers without a limit are left out.${memoryLine.note}`,
      unit: "percentunit",
      queries: [{ expr: containerMemoryLimitRatio(selected), legend: byName }],
      thresholdLines: memoryLine.thresholdLines,
    }),
    timeSeries({
      title: "Memory working set",
      description: "Memory each container uses that the kernel cannot reclaim without swapping.",
      unit: "bytes",
      queries: [{ expr: `${cadvisorMetrics.memoryWorkingSetBytes}{${selected}}`, legend: byName }],
    }),
  ];

  const events = [
    timeSeries({
      title: "OOM kills",
      description: "Processes the kernel's OOM killer ended in each container.",
      unit: "short",
      queries: [{ expr: containerOomKills(selected, rateInterval), legend: byName }],
    }),
    timeSeries({
      title: "Restarts",
      description: `Starts of each container within the last ${containerRestarting.window} (its start time changing).${restartLine.note}`,
      unit: "short",
      queries: [{ expr: containerRestarts(selected, containerRestarting.window), legend: byName }],
      thresholdLines: restartLine.thresholdLines,
    }),
  ];

  const network = [
    timeSeries({
      title: "Network traffic",
      description: "Bytes each container receives and sends per second, by interface.",
      unit: "Bps",
      queries: [
        {
          expr: `sum by (${cadvisorLabels.name}) (${rate(cadvisorMetrics.networkReceiveBytesTotal)})`,
          legend: `received ${byName}`,
        },
        {
          expr: `sum by (${cadvisorLabels.name}) (${rate(cadvisorMetrics.networkTransmitBytesTotal)})`,
          legend: `sent ${byName}`,
        },
      ],
    }),
  ];

  return addSections(newDashboard(containersDashboard).withVariable(hostVariableBuilder(settings)), [
    { title: "CPU and memory", panels: resources },
    { title: "OOM kills and restarts", panels: events },
    { title: "Network", panels: network },
  ]);
}
