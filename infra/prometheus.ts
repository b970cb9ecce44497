/**
 * The Prometheus replicas: identical servers that each scrape the app, Alertmanager and one another, so that
 * a survivor reports a dead replica. Each keeps its TSDB on its own volume.
 */
import * as path from "node:path";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { HostPort } from "../configs/endpoints";
import { type RenderedFiles, renderedPaths } from "../configs/layout";
import { prometheusFlags } from "../configs/server-flags";
import { imageRef, prometheus } from "../configs/versions";
import {
  dockerName,
  fileUpload,
  healthcheck,
  nobodyUid,
  serviceContainerArgs,
  serviceContainerOptions,
  splitHostPort,
  volumeOptions,
} from "./containers";
import { requireRendered } from "./rendered";

/** Where the image looks for its config; the rules sit beside it as they do in the rendered layout. */
export const prometheusConfigFile = "/etc/prometheus/prometheus.yml";
/** The image's data directory, owned by its unprivileged user. */
const prometheusDataDir = "/prometheus";
/** `nobody`, the user the official image runs as. */
const prometheusUser = `${nobodyUid}:${nobodyUid}`;

/**
 * Path of the rules file inside the container. The rendered config names its rule files relative to itself
 * (`rules/*.yml`), so they keep the position they have next to the config in the rendered layout.
 */
export function prometheusRulesFile(): string {
  const relative = path.posix.relative(
    path.posix.dirname(renderedPaths.prometheusConfig(0)),
    renderedPaths.alertRules,
  );
  return path.posix.join(path.posix.dirname(prometheusConfigFile), relative);
}

export interface PrometheusReplicasArgs {
  /** Name of the stack's private network. */
  readonly network: pulumi.Input<string>;
  /** Alias and port of each replica on the network, in replica order; the rendered configs target these. */
  readonly endpoints: readonly HostPort[];
  /** URL a person opens for each replica, in replica order: links in alerts and the UI point there. */
  readonly externalUrls: readonly string[];
  /** Host port each replica is published on, in replica order. */
  readonly hostPorts: readonly number[];
  /** Host address every published port binds to. */
  readonly bindAddress: string;
  /** Every rendered file: each replica takes its own config and the shared rules. */
  readonly files: RenderedFiles;
  /** How long the TSDB keeps samples (`prometheus.retention`). */
  readonly retention: string;
  /** Keep the TSDB volumes when the stack is destroyed. */
  readonly keepData: boolean;
  /** Prefix of the Docker object names. */
  readonly dockerPrefix: string;
  /** Memory limit of each replica in MB; 1024 by default. */
  readonly memoryMb?: number;
  /** Resources the replicas start after; none of them is an input, so they never cause a replacement. */
  readonly waitFor?: pulumi.Input<pulumi.Resource>[];
}

export class PrometheusReplicas extends pulumi.ComponentResource {
  readonly image: docker.RemoteImage;
  readonly volumes: docker.Volume[];
  readonly containers: docker.Container[];

  constructor(name: string, args: PrometheusReplicasArgs, opts?: pulumi.ComponentResourceOptions) {
    super("watchtower:index:PrometheusReplicas", name, {}, opts);
    const rules = requireRendered(args.files, renderedPaths.alertRules);
    const replicas = args.endpoints.map((endpoint, replica) => {
      const externalUrl = args.externalUrls[replica];
      const hostPort = args.hostPorts[replica];
      if (externalUrl === undefined || hostPort === undefined) {
        throw new Error(
          `PrometheusReplicas: replica ${replica} (${endpoint}) has no external URL or host port`,
        );
      }
      return { replica, externalUrl, hostPort, ...splitHostPort(endpoint) };
    });

    this.image = new docker.RemoteImage(
      `${name}-image`,
      { name: imageRef(prometheus), keepLocally: true },
      { parent: this },
    );

    const created = replicas.map(({ replica, externalUrl, hostPort, host: alias, port }) => {
      const volume = new docker.Volume(
        `${name}-${replica}-data`,
        { name: dockerName(args.dockerPrefix, `${alias}-data`) },
        volumeOptions(this, args.keepData),
      );
      const container = new docker.Container(
        `${name}-${replica}`,
        serviceContainerArgs({
          name: dockerName(args.dockerPrefix, alias),
          image: this.image.imageId,
          network: args.network,
          alias,
          user: prometheusUser,
          memoryMb: args.memoryMb ?? 1024,
          published: [{ internal: port, external: hostPort }],
          bindAddress: args.bindAddress,
          command: prometheusFlags(
            {
              configFile: prometheusConfigFile,
              dataDir: prometheusDataDir,
              listenAddress: `:${port}`,
              externalUrl,
            },
            args.retention,
          ),
          uploads: [
            fileUpload(
              prometheusConfigFile,
              requireRendered(args.files, renderedPaths.prometheusConfig(replica)),
            ),
            fileUpload(prometheusRulesFile(), rules),
          ],
          volumes: [{ volumeName: volume.name, containerPath: prometheusDataDir }],
          // The image has promtool, and no shell utilities are guaranteed: it asks the server whether it is ready.
          healthcheck: healthcheck(["/bin/promtool", "check", "ready", `--url=http://127.0.0.1:${port}`]),
          // Replaying a large write-ahead log after a restart can take a while.
          healthyWithinSeconds: 180,
        }),
        { ...serviceContainerOptions(this), dependsOn: args.waitFor },
      );
      return { volume, container };
    });
    this.volumes = created.map(({ volume }) => volume);
    this.containers = created.map(({ container }) => container);

    this.registerOutputs({ containers: this.containers.map((container) => container.name) });
  }
}
