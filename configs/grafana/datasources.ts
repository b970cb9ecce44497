/**
 * Grafana's datasource provisioning file: one Prometheus datasource per replica and one Alertmanager
 * datasource.
 *
 * Why one datasource per replica: Grafana has no failover between datasources, and the replicas exist so
 * that the stack keeps working when one of them dies. Replica 0 is the default datasource under the fixed
 * uid `datasourceUids.prometheus`; every dashboard queries a `datasource` variable that defaults to it, so
 * when replica 0 is down the user picks another replica in the variable's drop-down and every panel follows.
 */

import { datasourceUids, replicaName } from "../names";
import { type Endpoints, firstReplica } from "../runtime/endpoints";
import { type Settings, settingsSchema } from "../settings/schema";
import { generatedYaml } from "../yaml";

/** Grafana's default organisation, which the stack provisions into. */
export const grafanaOrgId = 1;

/** The most replicas the settings allow: datasources of replicas beyond the configured count are deleted. */
function maxPrometheusReplicas(): number {
  const max = settingsSchema.shape.prometheus.unwrap().shape.replicas.unwrap().maxValue;
  if (max === null) throw new Error("the settings schema sets no maximum for prometheus.replicas");
  return max;
}

/** Grafana's datasource type ids. */
export const datasourceTypes = {
  prometheus: "prometheus",
  alertmanager: "alertmanager",
} as const;

/**
 * Name of the Prometheus datasource of a replica. Grafana matches provisioned datasources by name and then
 * refuses a changed uid, so a replica's name and uid must never change once deployed.
 */
export function prometheusDatasourceName(replica: number): string {
  return `Prometheus (${replicaName(replica)})`;
}

/** Uid of the Prometheus datasource of a replica: replica 0 carries the fixed uid dashboards default to. */
export function prometheusDatasourceUid(replica: number): string {
  return replica === 0 ? datasourceUids.prometheus : replicaName(replica);
}

const alertmanagerDatasourceName = "Alertmanager";

interface ProvisionedDatasource {
  readonly name: string;
  readonly uid: string;
  readonly type: string;
  readonly orgId: number;
  readonly access: "proxy";
  readonly url: string;
  readonly isDefault: boolean;
  readonly editable: boolean;
  readonly jsonData: Readonly<Record<string, string | boolean>>;
}

function prometheusDatasource(settings: Settings, address: string, replica: number): ProvisionedDatasource {
  return {
    name: prometheusDatasourceName(replica),
    uid: prometheusDatasourceUid(replica),
    type: datasourceTypes.prometheus,
    orgId: grafanaOrgId,
    access: "proxy",
    url: `http://${address}`,
    isDefault: replica === 0,
    editable: false,
    jsonData: {
      // POST keeps long expressions out of URL length limits.
      httpMethod: "POST",
      // Grafana's $__rate_interval is four times this: it must be the real scrape interval.
      timeInterval: settings.scrape.interval,
      prometheusType: "Prometheus",
    },
  };
}

/** The datasource provisioning file (YAML, apiVersion 1). */
export function renderDatasources(settings: Settings, endpoints: Endpoints): string {
  const replicas = settings.prometheus.replicas;
  if (endpoints.prometheus.length !== replicas) {
    throw new Error(
      `endpoints.prometheus lists ${endpoints.prometheus.length} address(es) but prometheus.replicas is ${replicas}: ` +
        "Grafana needs one datasource address per replica",
    );
  }
  const prometheus = endpoints.prometheus.map((address, replica) =>
    prometheusDatasource(settings, address, replica),
  );
  const alertmanager: ProvisionedDatasource = {
    name: alertmanagerDatasourceName,
    uid: datasourceUids.alertmanager,
    type: datasourceTypes.alertmanager,
    orgId: grafanaOrgId,
    access: "proxy",
    // Grafana takes one URL: the first replica, whose silences the cluster shares with the others.
    url: `http://${firstReplica(endpoints.alertmanagers, "Alertmanager")}`,
    isDefault: false,
    editable: false,
    jsonData: {
      implementation: "prometheus",
      // Alerts come from Prometheus rules; Grafana-managed alerts would bypass the rules under test.
      handleGrafanaManagedAlerts: false,
    },
  };
  // A stack that ran more replicas before leaves their datasources in Grafana's database; Grafana ignores
  // names in this list that do not exist.
  const retired = Array.from({ length: maxPrometheusReplicas() - replicas }, (_, i) => ({
    name: prometheusDatasourceName(replicas + i),
    orgId: grafanaOrgId,
  }));
  return generatedYaml({
    apiVersion: 1,
    ...(retired.length > 0 ? { deleteDatasources: retired } : {}),
    datasources: [...prometheus, alertmanager],
  });
}
