/**
 * Where each service is reachable, as an input of the renderers. The Docker stack passes container aliases on
 * its private network; the end-to-end tests pass loopback addresses. Nothing else differs between the two.
 */

/** `host:port`, as Prometheus targets and SMTP smarthosts are written. */
export type HostPort = `${string}:${number}`;

export interface Endpoints {
  /** The service that is monitored. */
  readonly app: HostPort;
  /** One entry per Prometheus replica, in replica order. */
  readonly prometheus: readonly HostPort[];
  readonly alertmanager: HostPort;
  /** The node exporter of the stack's own host; scraped while `host.enabled`. */
  readonly nodeExporter: HostPort;
  /** The blackbox exporter that runs `probes`; scraped while there are any. */
  readonly blackboxExporter: HostPort;
  /** cAdvisor on the stack's own host; scraped while `host.enabled` and `host.containers`. */
  readonly cadvisor: HostPort;
  /** SMTP server used when `email.smarthost` is not set: the stack's own inbox. */
  readonly inboxSmtp: HostPort;
  /** Base URLs a person opens in a browser; used for links in e-mail and in Grafana. */
  readonly links: {
    readonly grafana: string;
    readonly prometheus: readonly string[];
    readonly alertmanager: string;
  };
}

export function hostPort(host: string, port: number): HostPort {
  return `${host}:${port}`;
}
