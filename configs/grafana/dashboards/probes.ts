/**
 * "Probes": the blackbox exporter's checks of `probes`: whether each succeeds, how long it takes and in which
 * phase of the request, and how many days its TLS certificate has left, with ProbeSlow's and
 * ProbeCertificateExpiring's stack-wide thresholds as red lines on the series they fire on. A `probe` variable
 * selects one probe or all of them.
 */

import {
  type Dashboard,
  QueryVariableBuilder,
  VariableRefresh,
  VariableSort,
} from "@grafana/grafana-foundation-sdk/dashboard";
import { jobs, probeLabel } from "../../names";
import { certificateDaysLeft, jobSelector } from "../../promql/queries";
import { blackboxMetrics, blackboxPhaseLabel } from "../../promql/upstream-metrics";
import { alertNames } from "../../settings/alert-specs";
import type { Settings } from "../../settings/schema";
import {
  addSections,
  alertLine,
  booleanMapping,
  goodFromOne,
  newDashboard,
  prometheusDatasource,
  stat,
  timeSeries,
} from "../panels";

export const probesDashboard = {
  uid: "watchtower-probes",
  title: "Probes",
  description:
    "The probes of `probes`: success, duration by phase and certificate expiry, with the alert thresholds.",
} as const;

/** The dashboard shows the probes its `probe` variable selects: all of them when it opens. */
export const probeVariable = probeLabel;
/** The selector of the selected probes' series. */
export const selectedProbes = `${jobSelector(jobs.probe)},${probeLabel}=~"$${probeVariable}"`;

function probeVariableBuilder(): QueryVariableBuilder {
  const query = `label_values(${blackboxMetrics.success}{${jobSelector(jobs.probe)}}, ${probeLabel})`;
  return new QueryVariableBuilder(probeVariable)
    .label("Probe")
    .description("The `name` of a probe of `probes` in the settings.")
    .datasource(prometheusDatasource)
    .query(query)
    .definition(query)
    .refresh(VariableRefresh.OnTimeRangeChanged)
    .sort(VariableSort.AlphabeticalAsc)
    .multi(true)
    .includeAll(true)
    .allValue(".*")
    .current({ text: "All", value: "$__all" });
}

/** When a probe alert fires, as its panel's description ends. */
function probeFiresWhen(series: string): string {
  return `${series} stays past the red line, the stack-wide threshold, for the alert's \`for\` duration; a probe that overrides it has its own`;
}

export function buildProbesDashboard(settings: Settings): Dashboard {
  const { probeSlow, probeCertificateExpiring } = settings.alerts;
  const slowLine = alertLine(
    probeSlow,
    alertNames.probeSlow,
    probeSlow.maxSeconds,
    probeFiresWhen("a probe's duration"),
  );
  const certificateLine = alertLine(
    probeCertificateExpiring,
    alertNames.probeCertificateExpiring,
    probeCertificateExpiring.minDays,
    probeFiresWhen("a certificate's days left"),
  );
  const legend = `{{${probeLabel}}}`;

  const success = [
    stat({
      title: "Probe success",
      description: `Whether each probe's last check succeeded. ${alertNames.probeFailed} fires when one fails for the alert's \`for\` duration.`,
      unit: "none",
      queries: [{ expr: `${blackboxMetrics.success}{${selectedProbes}}`, legend }],
      colors: goodFromOne,
      mappings: booleanMapping("up", "failing"),
    }),
    timeSeries({
      title: "Probe success over time",
      description: "1 while a probe succeeds, 0 while it fails.",
      unit: "short",
      queries: [{ expr: `${blackboxMetrics.success}{${selectedProbes}}`, legend }],
    }),
  ];

  const timing = [
    timeSeries({
      title: "Probe duration",
      description: `How long each probe took, in all.${slowLine.note}`,
      unit: "s",
      queries: [{ expr: `${blackboxMetrics.durationSeconds}{${selectedProbes}}`, legend }],
      thresholdLines: slowLine.thresholdLines,
    }),
    timeSeries({
      title: "HTTP duration by phase",
      description:
        "How long each phase of an http(s) probe's request took: resolve, connect, tls, processing (until the first byte) and transfer.",
      unit: "s",
      queries: [
        {
          expr: `${blackboxMetrics.httpDurationSeconds}{${selectedProbes}}`,
          legend: `${legend} {{${blackboxPhaseLabel}}}`,
        },
      ],
    }),
  ];

  const certificates = [
    timeSeries({
      title: "Certificate expiry",
      description: `Days until the earliest-expiring certificate an https probe is served expires.${certificateLine.note}`,
      unit: "short",
      queries: [{ expr: certificateDaysLeft(selectedProbes), legend }],
      thresholdLines: certificateLine.thresholdLines,
    }),
  ];

  return addSections(newDashboard(probesDashboard).withVariable(probeVariableBuilder()), [
    { title: "Success", panels: success },
    { title: "Timing", panels: timing },
    { title: "Certificates", panels: certificates },
  ]);
}
