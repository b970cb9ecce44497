/**
 * Where each service is reachable in the Docker stack: container aliases on the stack's private network and the
 * ports the images listen on inside it. The Pulumi program gives its containers exactly these aliases and
 * ports, and `npm run render` renders with the same endpoints, so what a user reads is what gets deployed.
 *
 * Also the names of its containers, as Docker knows them and cAdvisor labels their series (`name`): one source
 * for the deployment plan, which names and runs its services by them (the Pulumi program and Docker Compose
 * name their containers from the plan), and for the renderers, which learn them here before the plan is made.
 */

import { alertmanagerReplicaName, jobs, replicaName } from "../names";
import type { Settings } from "../settings/schema";
import { type Endpoints, hostPort } from "./endpoints";

/** Network aliases of the containers. */
export const dockerAliases = {
  app: jobs.app,
  prometheus: replicaName,
  alertmanager: alertmanagerReplicaName,
  grafana: "grafana",
  mailpit: "mailpit",
  nodeExporter: "node-exporter",
  cadvisor: jobs.cadvisor,
  blackboxExporter: "blackbox-exporter",
} as const;

/**
 * Ports the processes listen on inside their containers: the images' defaults, and for the app the port the
 * Pulumi program passes it. Host ports (`settings.ports`) only matter for links a person opens.
 */
export const containerPorts = {
  app: 5002,
  prometheus: 9090,
  alertmanager: 9093,
  /** Alertmanager's gossip, TCP and UDP, between the replicas only: never published. */
  alertmanagerCluster: 9094,
  grafana: 3000,
  mailpitSmtp: 1025,
  mailpitWeb: 8025,
  nodeExporter: 9100,
  cadvisor: 8080,
  blackboxExporter: 9115,
} as const;

/** Prefix of every Docker object of a stack: unique per project and stack on one Docker host. */
export function stackPrefix(project: string, stack: string): string {
  return `${project}-${stack}`;
}

/** The Docker name of one object of the stack whose prefix is `prefix`: a container, a volume. */
export function dockerName(prefix: string, key: string): string {
  return `${prefix}-${key}`;
}

/**
 * The keys of the stack's long-running services for these settings, in the plan's order: the demo app, the
 * user's services, the inbox, the exporters, Alertmanager, the replicas and Grafana. Not the load test, which
 * runs once per change and exits.
 */
export function longRunningServiceKeys(settings: Settings): string[] {
  return [
    ...(settings.app.enabled ? [dockerAliases.app] : []),
    ...settings.services.map((service) => service.job),
    ...(settings.email.smarthost === undefined ? [dockerAliases.mailpit] : []),
    ...(settings.host.enabled ? [dockerAliases.nodeExporter] : []),
    ...(settings.host.enabled && settings.host.containers ? [dockerAliases.cadvisor] : []),
    ...(settings.probes.length > 0 ? [dockerAliases.blackboxExporter] : []),
    ...Array.from({ length: settings.alertmanager.replicas }, (_, replica) =>
      dockerAliases.alertmanager(replica),
    ),
    ...Array.from({ length: settings.prometheus.replicas }, (_, replica) =>
      dockerAliases.prometheus(replica),
    ),
    dockerAliases.grafana,
  ];
}

/** The renderers' endpoints for the Docker stack whose objects' names start with `prefix` (`stackPrefix`). */
export function dockerEndpoints(settings: Settings, prefix: string): Endpoints {
  const replicas = Array.from({ length: settings.prometheus.replicas }, (_, replica) => replica);
  const alertmanagerReplicas = Array.from(
    { length: settings.alertmanager.replicas },
    (_, replica) => replica,
  );
  return {
    app: hostPort(dockerAliases.app, containerPorts.app),
    prometheus: replicas.map((replica) =>
      hostPort(dockerAliases.prometheus(replica), containerPorts.prometheus),
    ),
    alertmanagers: alertmanagerReplicas.map((replica) =>
      hostPort(dockerAliases.alertmanager(replica), containerPorts.alertmanager),
    ),
    alertmanagerCluster: alertmanagerReplicas.map((replica) =>
      hostPort(dockerAliases.alertmanager(replica), containerPorts.alertmanagerCluster),
    ),
    nodeExporter: hostPort(dockerAliases.nodeExporter, containerPorts.nodeExporter),
    cadvisor: hostPort(dockerAliases.cadvisor, containerPorts.cadvisor),
    blackboxExporter: hostPort(dockerAliases.blackboxExporter, containerPorts.blackboxExporter),
    inboxSmtp: hostPort(dockerAliases.mailpit, containerPorts.mailpitSmtp),
    containers: longRunningServiceKeys(settings).map((key) => dockerName(prefix, key)),
    links: {
      grafana: publishedUrl(settings, settings.ports.grafana),
      prometheus: replicas.map((replica) => publishedUrl(settings, prometheusHostPort(settings, replica))),
      alertmanagers: alertmanagerReplicas.map((replica) =>
        publishedUrl(settings, alertmanagerHostPort(settings, replica)),
      ),
    },
  };
}

/** The host port Prometheus replica `replica` is published on: `ports.prometheus` is replica 0's. */
export function prometheusHostPort(settings: Pick<Settings, "ports">, replica: number): number {
  return settings.ports.prometheus + replica;
}

/** The host port Alertmanager replica `replica` is published on: `ports.alertmanager` is replica 0's. */
export function alertmanagerHostPort(settings: Pick<Settings, "ports">, replica: number): number {
  return settings.ports.alertmanager + replica;
}

/**
 * URL of a port published on the host, as a person on that host opens it. Ports published on every interface
 * (0.0.0.0 or ::) are opened through localhost.
 */
export function publishedUrl(settings: Settings, port: number): string {
  const { bindAddress } = settings.network;
  const host =
    bindAddress === "0.0.0.0" || bindAddress === "::"
      ? "localhost"
      : bindAddress.includes(":")
        ? `[${bindAddress}]`
        : bindAddress;
  return `http://${host}:${port}`;
}
