/**
 * Where each service is reachable, as an input of the renderers. The Docker stack passes container aliases on
 * its private network, and the names of its containers; the end-to-end tests pass loopback addresses, and no
 * container, as their services are processes. Nothing else differs between the two.
 */

/** `host:port`, as Prometheus targets and SMTP smarthosts are written. */
export type HostPort = `${string}:${number}`;

export interface Endpoints {
  /** The service that is monitored. */
  readonly app: HostPort;
  /** One entry per Prometheus replica, in replica order. */
  readonly prometheus: readonly HostPort[];
  /** One entry per Alertmanager replica, in replica order: their web API, where alerts are sent. */
  readonly alertmanagers: readonly HostPort[];
  /** Each replica's gossip address (`--cluster.listen-address`), in replica order. */
  readonly alertmanagerCluster: readonly HostPort[];
  /** The node exporter of the stack's own host; scraped while `host.enabled`. */
  readonly nodeExporter: HostPort;
  /** The blackbox exporter that runs `probes`; scraped while there are any. */
  readonly blackboxExporter: HostPort;
  /** cAdvisor on the stack's own host; scraped while `host.enabled` and `host.containers`. */
  readonly cadvisor: HostPort;
  /** SMTP server used when `email.smarthost` is not set: the stack's own inbox. */
  readonly inboxSmtp: HostPort;
  /**
   * The Docker names of the stack's long-running containers on its own host, which ContainerMissing expects
   * among cAdvisor's series (`name`); none where the services are processes.
   */
  readonly containers: readonly string[];
  /** Base URLs a person opens in a browser; used for links in e-mail and in Grafana. */
  readonly links: {
    readonly grafana: string;
    readonly prometheus: readonly string[];
    /** One per Alertmanager replica: each its own `--web.external-url`. */
    readonly alertmanagers: readonly string[];
  };
}

export function hostPort(host: string, port: number): HostPort {
  return `${host}:${port}`;
}

/** Replica 0 of a list of replicas' endpoints: what a consumer that takes one address (a datasource) names. */
export function firstReplica<T>(replicas: readonly T[], what: string): T {
  const first = replicas[0];
  if (first === undefined) throw new Error(`the endpoints list no ${what} replica`);
  return first;
}
