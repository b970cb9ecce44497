/**
 * The Mailpit inbox: Alertmanager's default smarthost, so a fresh stack shows its alert e-mail without any SMTP
 * account. Messages live in Mailpit's temporary database inside the container and go with it: this is an inbox
 * to look at alerts in, not an archive.
 */
import type * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { ServicePlan } from "../configs/deployment/plan";
import { declarePinnedService, type StackContext } from "./service";

export class MailpitInbox extends pulumi.ComponentResource {
  readonly image: docker.RemoteImage;
  readonly container: docker.Container;

  constructor(
    name: string,
    service: ServicePlan,
    context: StackContext,
    opts?: pulumi.ComponentResourceOptions,
  ) {
    super("watchtower:index:MailpitInbox", name, {}, opts);
    ({ image: this.image, container: this.container } = declarePinnedService(this, name, service, context));

    this.registerOutputs({ container: this.container.name });
  }
}
