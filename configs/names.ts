/**
 * Names that several generated files must agree on: scrape jobs, rule groups, the external label that tells
 * the Prometheus replicas apart, and the datasource uids that dashboards point at.
 */

/** Scrape job names; rules, dashboards and Alertmanager routes select on these. */
export const jobs = {
  app: "app",
  prometheus: "prometheus",
  alertmanager: "alertmanager",
  /** Node exporter on every watched machine: the stack's own host (host.enabled) and `hosts`. */
  node: "node",
  /** cAdvisor on every watched machine that has it: the containers' own figures. */
  cadvisor: "cadvisor",
  /** The blackbox exporter's probes of `probes`, one target per probe (docs/probes.md). */
  probe: "probe",
} as const;

/** The label that names the probe of `probes` a blackbox exporter series is about: its `name`. */
export const probeLabel = "probe";

/**
 * The label that names the machine a host exporter's series describe: `host.name` in the settings. Set on the
 * scrape job rather than taken from the exporter's own hostname, which in a container is the container's id.
 */
export const hostLabel = "host";

/** The user the replicas log in as at the exporters the stack runs on other machines (`hosts[].docker`). */
export const hostExporterUser = "prometheus";

/** External label carrying the replica's name; dropped before alerts reach Alertmanager so it deduplicates. */
export const replicaLabel = "replica";

/** Name of Prometheus replica i, the value of its `replicaLabel`: "prometheus-0", "prometheus-1"... */
export function replicaName(replica: number): string {
  return `${jobs.prometheus}-${replica}`;
}

/**
 * Name of Alertmanager replica i: its network alias, service key and `instance`. Replica 0 keeps the name a
 * single Alertmanager had, so a stack that had one keeps its container, volume, silences and notification log.
 */
export function alertmanagerReplicaName(replica: number): string {
  return replica === 0 ? jobs.alertmanager : `${jobs.alertmanager}-${replica}`;
}

/** Groups of the alert rule file; each built-in alert names its group in the registry (built-in-alerts.ts). */
export const ruleGroups = {
  app: "app",
  stack: "monitoring-stack",
  /** The alerts on the watched machines. */
  host: "host",
  /** The alerts on the containers of the watched machines. */
  containers: "containers",
  /** The alerts on `probes` (made only while there are probes). */
  probes: "probes",
  custom: "custom",
} as const;

export type RuleGroup = (typeof ruleGroups)[keyof typeof ruleGroups];

/** The alerts generated from the service level objectives (configs/slo/), one name each for every SLO. */
export const sloAlertNames = {
  errorBudgetBurn: "ErrorBudgetBurn",
  metricsAbsent: "SLOMetricsAbsent",
} as const;

/**
 * The synthetic alert that `npm run check-delivery` (and `pulumi up`) sends to prove that alert e-mail reaches a
 * person. Not a rule: no Prometheus evaluates it, so it is not in the registry of built-in alerts.
 */
export const deliveryCheck = {
  alertname: "DeliveryCheck",
  /** Unique per check: its route groups by it, so no two checks share an e-mail, and the check finds its own. */
  idLabel: "check_id",
} as const;

export const datasourceUids = {
  prometheus: "prometheus",
  alertmanager: "alertmanager",
} as const;

/** Annotations every alert rule sets and the e-mail templates show. */
export const annotationKeys = {
  summary: "summary",
  description: "description",
  /** The humanized value of the expression when the alert fired. */
  value: "value",
  runbookUrl: "runbook_url",
} as const;
