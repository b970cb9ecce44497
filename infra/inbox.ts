/**
 * The Mailpit inbox: Alertmanager's default smarthost, so a fresh stack shows its alert e-mail without any SMTP
 * account. Messages live in Mailpit's temporary database inside the container and go with it: this is an inbox
 * to look at alerts in, not an archive.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { HostPort } from "../configs/endpoints";
import { mailpitImage } from "../configs/versions";
import {
  dockerName,
  healthcheck,
  nobodyUid,
  serviceContainerArgs,
  serviceContainerOptions,
  splitHostPort,
} from "./containers";

/** `nobody`: Mailpit needs no privileges and writes only its temporary database. */
const mailpitUser = `${nobodyUid}:${nobodyUid}`;

export interface MailpitInboxArgs {
  /** Name of the stack's private network. */
  readonly network: pulumi.Input<string>;
  /** Alias and SMTP port on the network, as the rendered alertmanager.yml names its smarthost. */
  readonly smtpEndpoint: HostPort;
  /** The port the web UI listens on inside the container. */
  readonly webPort: number;
  /** Host port the web UI is published on. */
  readonly hostPort: number;
  /** Host address every published port binds to. */
  readonly bindAddress: string;
  /** Prefix of the Docker object names. */
  readonly dockerPrefix: string;
  /** Memory limit in MB; 128 by default. */
  readonly memoryMb?: number;
}

export class MailpitInbox extends pulumi.ComponentResource {
  readonly image: docker.RemoteImage;
  readonly container: docker.Container;

  constructor(name: string, args: MailpitInboxArgs, opts?: pulumi.ComponentResourceOptions) {
    super("watchtower:index:MailpitInbox", name, {}, opts);
    const { host: alias, port: smtpPort } = splitHostPort(args.smtpEndpoint);

    this.image = new docker.RemoteImage(
      `${name}-image`,
      { name: mailpitImage, keepLocally: true },
      { parent: this },
    );
    this.container = new docker.Container(
      `${name}-container`,
      serviceContainerArgs({
        name: dockerName(args.dockerPrefix, alias),
        image: this.image.imageId,
        network: args.network,
        alias,
        user: mailpitUser,
        memoryMb: args.memoryMb ?? 128,
        // Only the web UI is published: SMTP is for the containers on the private network.
        published: [{ internal: args.webPort, external: args.hostPort }],
        bindAddress: args.bindAddress,
        envs: [`MP_SMTP_BIND_ADDR=0.0.0.0:${smtpPort}`, `MP_UI_BIND_ADDR=0.0.0.0:${args.webPort}`],
        // Mailpit's own probe, the one its image declares.
        healthcheck: healthcheck(["/mailpit", "readyz"]),
        healthyWithinSeconds: 60,
      }),
      serviceContainerOptions(this),
    );

    this.registerOutputs({ container: this.container.name });
  }
}
