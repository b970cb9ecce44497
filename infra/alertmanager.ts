/**
 * Alertmanager: one instance that both Prometheus replicas send to, so it deduplicates their alerts. Silences
 * and the notification log live on a volume, so a config change that replaces the container forgets neither.
 */
import * as path from "node:path";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { smtpPasswordFile } from "../configs/alertmanager";
import type { HostPort } from "../configs/endpoints";
import { type RenderedFiles, renderedPaths } from "../configs/layout";
import { alertmanagerFlags } from "../configs/server-flags";
import { alertmanager, imageRef } from "../configs/versions";
import {
  dockerName,
  fileUpload,
  healthcheck,
  nobodyUid,
  secretUpload,
  serviceContainerArgs,
  serviceContainerOptions,
  splitHostPort,
  volumeOptions,
} from "./containers";
import { requireRendered } from "./rendered";

/** Where the image looks for alertmanager.yml. */
const alertmanagerConfigDir = "/etc/alertmanager";
const alertmanagerConfigFile = path.posix.join(
  alertmanagerConfigDir,
  path.posix.basename(renderedPaths.alertmanagerConfig),
);
/** The SMTP password file, at the path the rendered config names relative to the config's directory. */
export const alertmanagerSmtpPasswordFile = path.posix.join(alertmanagerConfigDir, smtpPasswordFile);
/** The image's data directory, owned by its unprivileged user. */
const alertmanagerDataDir = "/alertmanager";
/** `nobody`, the user the official image runs as. */
const alertmanagerUid = nobodyUid;

export interface AlertmanagerServiceArgs {
  /** Name of the stack's private network. */
  readonly network: pulumi.Input<string>;
  /** Alias and port on the network, as the rendered Prometheus configs target it. */
  readonly endpoint: HostPort;
  /** URL a person opens; links in notifications point there. */
  readonly externalUrl: string;
  /** Host port Alertmanager is published on. */
  readonly hostPort: number;
  /** Host address every published port binds to. */
  readonly bindAddress: string;
  /** Every rendered file: Alertmanager takes alertmanager.yml. */
  readonly files: RenderedFiles;
  /** The SMTP password (`email.authPassword`); uploaded as a secret file, never written into the config. */
  readonly smtpPassword?: pulumi.Input<string>;
  /** Keep the data volume when the stack is destroyed. */
  readonly keepData: boolean;
  /** Prefix of the Docker object names. */
  readonly dockerPrefix: string;
  /** Memory limit in MB; 128 by default. */
  readonly memoryMb?: number;
}

export class AlertmanagerService extends pulumi.ComponentResource {
  readonly image: docker.RemoteImage;
  readonly volume: docker.Volume;
  readonly container: docker.Container;

  constructor(name: string, args: AlertmanagerServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("watchtower:index:AlertmanagerService", name, {}, opts);
    const { host: alias, port } = splitHostPort(args.endpoint);
    const config = requireRendered(args.files, renderedPaths.alertmanagerConfig);

    this.image = new docker.RemoteImage(
      `${name}-image`,
      { name: imageRef(alertmanager), keepLocally: true },
      { parent: this },
    );
    this.volume = new docker.Volume(
      `${name}-data`,
      { name: dockerName(args.dockerPrefix, `${alias}-data`) },
      volumeOptions(this, args.keepData),
    );

    const uploads = [fileUpload(alertmanagerConfigFile, config)];
    if (args.smtpPassword !== undefined) {
      uploads.push(secretUpload(alertmanagerSmtpPasswordFile, args.smtpPassword, alertmanagerUid));
    }

    this.container = new docker.Container(
      `${name}-container`,
      serviceContainerArgs({
        name: dockerName(args.dockerPrefix, alias),
        image: this.image.imageId,
        network: args.network,
        alias,
        user: `${alertmanagerUid}:${alertmanagerUid}`,
        memoryMb: args.memoryMb ?? 128,
        published: [{ internal: port, external: args.hostPort }],
        bindAddress: args.bindAddress,
        command: alertmanagerFlags({
          configFile: alertmanagerConfigFile,
          dataDir: alertmanagerDataDir,
          listenAddress: `:${port}`,
          externalUrl: args.externalUrl,
        }),
        // Alertmanager reads `auth_password_file` relative to its working directory, not to the config file.
        workingDir: alertmanagerConfigDir,
        uploads,
        volumes: [{ volumeName: this.volume.name, containerPath: alertmanagerDataDir }],
        // amtool ships in the image; it fails unless the API answers.
        healthcheck: healthcheck([
          "/bin/amtool",
          "cluster",
          "show",
          `--alertmanager.url=http://127.0.0.1:${port}`,
        ]),
        healthyWithinSeconds: 60,
      }),
      serviceContainerOptions(this),
    );

    this.registerOutputs({ container: this.container.name });
  }
}
