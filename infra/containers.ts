/**
 * What the stack's containers have in common: joining the private network under their alias, publishing
 * ports only on the bind address, hardening, log rotation, healthchecks and file uploads. Pure helpers that
 * return `docker.Container` arguments, so each service component only states what is particular to it.
 */
import type * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { HostPort } from "../configs/endpoints";

type ContainerArgs = docker.ContainerArgs;
type Healthcheck = docker.types.input.ContainerHealthcheck;
type Upload = docker.types.input.ContainerUpload;

/** Names of Docker objects (containers, volumes, network, image): `<project>-<stack>-<what>`. */
export function dockerName(prefix: string, what: string): string {
  return `${prefix}-${what}`;
}

/** Splits `host:port` as the renderers write endpoints; the alias is the host part. */
export function splitHostPort(endpoint: HostPort): { host: string; port: number } {
  const separator = endpoint.lastIndexOf(":");
  return { host: endpoint.slice(0, separator), port: Number(endpoint.slice(separator + 1)) };
}

/** A long-running service that the stack keeps up. */
export interface ServiceContainerSpec {
  /** Docker container name, fixed so that `docker logs <name>` works (hence delete-before-replace). */
  readonly name: string;
  /** Image id or digest: a new image replaces the container. */
  readonly image: pulumi.Input<string>;
  /** The stack's private network. */
  readonly network: pulumi.Input<string>;
  /** The container's name on the network: what the rendered configs call it. */
  readonly alias: string;
  /** `user` or `user:group` the process runs as; every service runs as a non-root user. */
  readonly user: string;
  /** Hard memory limit in MB. */
  readonly memoryMb: number;
  /** Container ports published on the host, each bound to `bindAddress` only. */
  readonly published: readonly { readonly internal: number; readonly external: number }[];
  readonly bindAddress: string;
  readonly healthcheck: Healthcheck;
  /** Longest time `pulumi up` waits for the healthcheck to pass on creation. */
  readonly healthyWithinSeconds: number;
  readonly command?: pulumi.Input<string>[];
  readonly entrypoints?: pulumi.Input<string>[];
  readonly envs?: pulumi.Input<string>[];
  readonly uploads?: pulumi.Input<Upload>[];
  readonly volumes?: docker.types.input.ContainerVolume[];
  readonly workingDir?: string;
}

/**
 * Docker's published ports bypass host firewalls, and Prometheus and Alertmanager have no authentication:
 * every port is bound to the configured address (127.0.0.1 unless the user chose otherwise).
 */
function publishedPorts(
  bindAddress: string,
  published: ServiceContainerSpec["published"],
): docker.types.input.ContainerPort[] {
  return published.map(({ internal, external }) => ({
    internal,
    external,
    ip: bindAddress,
    protocol: "tcp",
  }));
}

/**
 * A healthcheck that reports within seconds of start-up (start interval) and then checks every 10s; three
 * failures in a row mark the container unhealthy.
 */
export function healthcheck(test: string[], startPeriod = "30s"): Healthcheck {
  return {
    tests: ["CMD", ...test],
    interval: "10s",
    timeout: "5s",
    retries: 3,
    startPeriod,
    startInterval: "1s",
  };
}

/** `nobody`: the user the Prometheus and Alertmanager images run as, and enough for Mailpit. */
export const nobodyUid = 65534;

/**
 * How long a container may take to stop before Docker kills it. Without it the provider removes a replaced
 * or destroyed container at once: Alertmanager, which writes its silences and notification log on a clean
 * shutdown, would lose the last minutes of both and send again what it had sent; Prometheus would have to
 * replay its write-ahead log; the service would drop requests in flight.
 */
const gracefulStopSeconds = 30;

/** Settings every container of the stack shares, long-running or not. */
export const containerBaseline = {
  stopTimeout: gracefulStopSeconds,
  destroyGraceSeconds: gracefulStopSeconds,
  // setuid binaries cannot raise privileges, and no process needs a Linux capability: every one listens
  // above port 1024 and owns the files it writes.
  securityOpts: ["no-new-privileges"],
  capabilities: { drops: ["ALL"] },
  // Docker keeps json-file logs forever by default; a stack left running for weeks would fill the disk.
  logDriver: "json-file",
  logOpts: { "max-size": "10m", "max-file": "3" },
} satisfies Partial<ContainerArgs>;

export function serviceContainerArgs(spec: ServiceContainerSpec): ContainerArgs {
  return {
    ...containerBaseline,
    name: spec.name,
    image: spec.image,
    user: spec.user,
    memory: spec.memoryMb,
    networksAdvanced: [{ name: spec.network, aliases: [spec.alias] }],
    ports: publishedPorts(spec.bindAddress, spec.published),
    restart: "unless-stopped",
    healthcheck: spec.healthcheck,
    // `pulumi up` fails, naming the container, if a service never becomes healthy.
    wait: true,
    waitTimeout: spec.healthyWithinSeconds,
    command: spec.command,
    entrypoints: spec.entrypoints,
    envs: spec.envs,
    uploads: spec.uploads,
    volumes: spec.volumes,
    workingDir: spec.workingDir,
  };
}

/**
 * Options of a service container: its name and host ports are fixed, so the old container must go before its
 * replacement starts; and Docker cannot change a healthcheck in place, so a changed one replaces the container.
 */
export function serviceContainerOptions(parent: pulumi.Resource): pulumi.CustomResourceOptions {
  return { parent, deleteBeforeReplace: true, replaceOnChanges: ["healthcheck"] };
}

/**
 * Options of a data volume. Its name is fixed, and Docker hands back an existing volume of that name instead of
 * creating one, so a replacement must delete first. With `keepData` the volume outlives the stack, and the next
 * `pulumi up` finds it by name.
 */
export function volumeOptions(parent: pulumi.Resource, keepData: boolean): pulumi.CustomResourceOptions {
  return { parent, deleteBeforeReplace: true, retainOnDelete: keepData };
}

/** A config file, readable by everyone in the container. */
export function fileUpload(file: string, content: pulumi.Input<string>): Upload {
  return { file, content, permissions: "0644" };
}

/**
 * A secret file, readable only by the user the service runs as. The content stays a Pulumi secret, so it is
 * encrypted in the state and masked in every diff.
 */
export function secretUpload(file: string, content: pulumi.Input<string>, ownerUid: number): Upload {
  return { file, content: pulumi.secret(content), permissions: "0400", owner: String(ownerUid) };
}
