/**
 * The command-line flags of the Prometheus and Alertmanager servers. The Docker stack and the end-to-end tests
 * start the same binaries with these, differing only in paths and addresses, so what the tests exercise is how
 * the stack runs them.
 */

/** Where one server reads its config, keeps its data, listens and is reached by a person. */
export interface ServerLocation {
  readonly configFile: string;
  readonly dataDir: string;
  /** `host:port`, or `:port` for every interface of a container. */
  readonly listenAddress: string;
  /** The URL links in alerts and in the UI point to. */
  readonly externalUrl: string;
}

export function prometheusFlags(location: ServerLocation, retention: string): string[] {
  return [
    `--config.file=${location.configFile}`,
    `--storage.tsdb.path=${location.dataDir}`,
    `--storage.tsdb.retention.time=${retention}`,
    `--web.listen-address=${location.listenAddress}`,
    `--web.external-url=${location.externalUrl}`,
    // Reloads the config on POST /-/reload, without losing the in-memory state of rules and alerts.
    "--web.enable-lifecycle",
    // k6 pushes its metrics here with the Prometheus remote-write output.
    "--web.enable-remote-write-receiver",
  ];
}

/**
 * Alertmanager reads `auth_password_file` relative to its working directory, not to its config file: start it in
 * the config file's directory.
 */
/** A replica's place in an Alertmanager cluster: where it gossips, its peers, and how long it waits for them. */
export interface AlertmanagerCluster {
  readonly listenAddress: string;
  /** The other replicas' gossip addresses, each its own `--cluster.peer`. */
  readonly peers: readonly string[];
  /** `--cluster.peer-timeout`: the replica at position n waits n times this before it sends. */
  readonly peerTimeout: string;
}

/** Alertmanager's flags; without a cluster, gossip is off. */
export function alertmanagerFlags(location: ServerLocation, cluster?: AlertmanagerCluster): string[] {
  return [
    `--config.file=${location.configFile}`,
    `--storage.path=${location.dataDir}`,
    `--web.listen-address=${location.listenAddress}`,
    `--web.external-url=${location.externalUrl}`,
    ...(cluster
      ? [
          `--cluster.listen-address=${cluster.listenAddress}`,
          ...cluster.peers.map((peer) => `--cluster.peer=${peer}`),
          `--cluster.peer-timeout=${cluster.peerTimeout}`,
        ]
      : // One Alertmanager: no gossip port to bind, and no waiting for peers before sending.
        ["--cluster.listen-address="]),
  ];
}

/** The blackbox exporter's flags: where it listens, and its modules (`blackbox.yml`). */
export function blackboxExporterFlags(location: {
  readonly listenAddress: string;
  readonly configFile: string;
}): string[] {
  return [`--web.listen-address=${location.listenAddress}`, `--config.file=${location.configFile}`];
}

/**
 * cAdvisor's flags: its port, Docker's containers only (and the root cgroup), and no container labels as
 * labels of its series.
 */
export function cadvisorFlags(location: { readonly port: number }): string[] {
  return [`--port=${location.port}`, "--docker_only=true", "--store_container_labels=false"];
}

/**
 * node exporter's flags: where it listens, and where the host's root filesystem is mounted (`/host` in a
 * container, `/` for a process on the host itself), the prefix it strips from the mount points it reports.
 */
export function nodeExporterFlags(location: {
  readonly listenAddress: string;
  readonly rootfs: string;
}): string[] {
  return [`--web.listen-address=${location.listenAddress}`, `--path.rootfs=${location.rootfs}`];
}
