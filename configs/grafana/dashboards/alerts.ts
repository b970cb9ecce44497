/**
 * "Alerts and stack health": whether the monitoring itself works. Every target's health as the selected
 * Prometheus replica sees it, the alerts it evaluates, whether its rules evaluate, whether notifications
 * leave Prometheus and Alertmanager, and whether the last configuration reload succeeded.
 */

import type { Dashboard } from "@grafana/grafana-foundation-sdk/dashboard";
import { jobs } from "../../names";
import { jobSelector, targetUp } from "../../promql/queries";
import {
  alertStates,
  alertsSeriesLabels,
  prometheusSyntheticSeries,
  stackHealthMetrics,
  stackMetricNames,
  targetLabels,
} from "../../promql/upstream-metrics";
import { alertNames } from "../../settings/alert-specs";
import { durationMs } from "../../settings/duration";
import { monitoredJobs } from "../../settings/monitored-jobs";
import type { Settings } from "../../settings/schema";
import {
  addSections,
  alertThreshold,
  badFromOne,
  booleanMapping,
  goodFromOne,
  newDashboard,
  rateInterval,
  stat,
  timeSeries,
} from "../panels";

export const alertsDashboard = {
  uid: "watchtower-stack-health",
  title: "Alerts and stack health",
  description: "Targets, alerts, rule evaluation, notification delivery and reloads of the monitoring stack.",
} as const;

const { job, instance } = targetLabels;
const { alertname, alertstate } = alertsSeriesLabels;
const prometheusJob = jobSelector(jobs.prometheus);
const alertmanagerJob = jobSelector(jobs.alertmanager);
const targetLegend = `{{${job}}} {{${instance}}}`;

/** Events per minute: notifications and rule failures are rare, and per second they read as noise. */
function perMinute(counter: string, by?: string): string {
  const rate = `rate(${counter}[${rateInterval}])`;
  return by === undefined ? `60 * sum(${rate})` : `60 * sum by (${by}) (${rate})`;
}

export function buildAlertsDashboard(settings: Settings): Dashboard {
  const targets = [
    stat({
      title: "Targets up",
      description:
        "Every scrape target as the selected Prometheus replica sees it: the service, Alertmanager, and each " +
        "Prometheus replica. Pick another replica in the variable above to see the stack from its side.",
      unit: "short",
      queries: [{ expr: prometheusSyntheticSeries.up, legend: targetLegend }],
      colors: goodFromOne,
      mappings: booleanMapping("UP", "DOWN"),
    }).span(24),
    timeSeries({
      title: "Scrape duration",
      description: `How long each scrape takes; a scrape that reaches the line (scrape.timeout, ${settings.scrape.timeout}) fails.`,
      unit: "s",
      queries: [{ expr: prometheusSyntheticSeries.scrapeDurationSeconds, legend: targetLegend }],
      thresholdLines: alertThreshold(durationMs(settings.scrape.timeout) / 1000),
    }).span(24),
  ];

  const alerts = [
    stat({
      title: "Firing alerts",
      description: `Alerts firing now, not counting ${alertNames.watchdog}, which fires all the time on purpose.`,
      unit: "short",
      queries: [
        {
          expr:
            `count(${prometheusSyntheticSeries.alerts}{${alertstate}="${alertStates.firing}", ` +
            `${alertname}!="${alertNames.watchdog}"}) or vector(0)`,
          legend: "firing",
        },
      ],
      colors: badFromOne,
    }).span(6),
    timeSeries({
      title: "Alerts by state",
      description:
        `Pending and firing alerts of the selected replica. ${alertNames.watchdog} is always here while it is ` +
        "enabled; with it disabled, an empty panel means nothing is pending or firing.",
      unit: "short",
      queries: [
        {
          expr: `count by (${alertname}, ${alertstate}) (${prometheusSyntheticSeries.alerts})`,
          legend: `{{${alertname}}} {{${alertstate}}}`,
        },
      ],
    }).span(18),
  ];

  const rules = [
    timeSeries({
      title: "Rule evaluation failures",
      description: `Failed rule evaluations per minute on each Prometheus replica: what ${alertNames.ruleEvaluationFailures} watches.`,
      unit: "opm",
      queries: [
        {
          expr: perMinute(`${stackMetricNames.ruleEvaluationFailures}{${prometheusJob}}`, instance),
          legend: `{{${instance}}}`,
        },
      ],
    }),
    stat({
      title: "Alertmanagers discovered",
      description: `Alertmanagers each Prometheus replica sends alerts to: what ${alertNames.notConnectedToAlertmanager} watches.`,
      unit: "short",
      queries: [
        {
          expr: `${stackMetricNames.alertmanagersDiscovered}{${prometheusJob}}`,
          legend: `{{${instance}}}`,
        },
      ],
      colors: goodFromOne,
    }).height(9),
  ];

  const notifications = [
    timeSeries({
      title: "Prometheus → Alertmanager",
      description:
        "Alerts each Prometheus replica sent to Alertmanager, failed to send, or dropped, per minute.",
      unit: "opm",
      queries: [
        {
          expr: perMinute(`${stackMetricNames.prometheusNotificationsSent}{${prometheusJob}}`, instance),
          legend: `sent {{${instance}}}`,
        },
        {
          expr: perMinute(`${stackMetricNames.prometheusNotificationErrors}{${prometheusJob}}`, instance),
          legend: `failed {{${instance}}}`,
        },
        {
          expr: perMinute(`${stackHealthMetrics.prometheusNotificationsDropped}{${prometheusJob}}`, instance),
          legend: `dropped {{${instance}}}`,
        },
      ],
    }),
    timeSeries({
      title: "Alertmanager → receivers",
      description:
        "Notifications Alertmanager attempted (e-mail, webhooks) and the ones that failed, per minute.",
      unit: "opm",
      queries: [
        {
          expr: perMinute(`${stackMetricNames.alertmanagerNotifications}{${alertmanagerJob}}`),
          legend: "attempted",
        },
        {
          expr: perMinute(`${stackMetricNames.alertmanagerNotificationsFailed}{${alertmanagerJob}}`),
          legend: "failed",
        },
      ],
    }),
  ];

  const reloads = [
    stat({
      title: "Last configuration reload",
      description: "Whether each Prometheus replica and Alertmanager loaded its latest configuration.",
      unit: "short",
      queries: [
        {
          expr: `${stackHealthMetrics.prometheusConfigReloadSuccessful}{${prometheusJob}}`,
          legend: `Prometheus {{${instance}}}`,
        },
        {
          expr: `${stackHealthMetrics.alertmanagerConfigReloadSuccessful}{${alertmanagerJob}}`,
          legend: `Alertmanager {{${instance}}}`,
        },
      ],
      colors: goodFromOne,
      mappings: booleanMapping("OK", "FAILED"),
    }).span(24),
  ];

  // One row of panels per monitored job (the app, each target and service): whether each instance answers.
  const monitored = monitoredJobs(settings).map((monitoredJob) =>
    stat({
      title: `${monitoredJob.job} up`,
      description:
        `Each instance of job ${monitoredJob.job} as the selected replica sees it: what ${alertNames.instanceDown} ` +
        "watches for this job.",
      unit: "short",
      queries: [{ expr: targetUp(monitoredJob.job), legend: `{{${instance}}}` }],
      colors: goodFromOne,
      mappings: booleanMapping("UP", "DOWN"),
    }).span(8),
  );

  return addSections(newDashboard(alertsDashboard), [
    { title: "Targets", panels: targets },
    { title: "Monitored services", panels: monitored },
    { title: "Alerts", panels: alerts },
    { title: "Rules", panels: rules },
    { title: "Notifications", panels: notifications },
    { title: "Configuration", panels: reloads },
  ]);
}
