/**
 * A container of the user's own (`services` in the settings): their pinned image on the stack's private
 * network, hardened like the stack's own, reached by its job name and scraped there. It publishes no port.
 */
import type * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { ServicePlan } from "../configs/deployment/plan";
import { declarePinnedService, type StackContext } from "./service";

export class UserService extends pulumi.ComponentResource {
  readonly image: docker.RemoteImage;
  readonly container: docker.Container;

  constructor(
    name: string,
    service: ServicePlan,
    context: StackContext,
    opts?: pulumi.ComponentResourceOptions,
  ) {
    super("watchtower:index:UserService", name, {}, opts);
    ({ image: this.image, container: this.container } = declarePinnedService(this, name, service, context));

    this.registerOutputs({ container: this.container.name });
  }
}
