/**
 * Alertmanager: one instance that both Prometheus replicas send to, so it deduplicates their alerts. Silences
 * and the notification log live on a volume, so a config change that replaces the container forgets neither.
 */
import type * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { ServicePlan } from "../configs/deployment/plan";
import { declarePinnedService, type StackContext } from "./service";

export class AlertmanagerService extends pulumi.ComponentResource {
  readonly image: docker.RemoteImage;
  readonly volume: docker.Volume;
  readonly container: docker.Container;

  constructor(
    name: string,
    service: ServicePlan,
    context: StackContext,
    opts?: pulumi.ComponentResourceOptions,
  ) {
    super("watchtower:index:AlertmanagerService", name, {}, opts);
    const declared = declarePinnedService(this, name, service, context);
    this.image = declared.image;
    this.container = declared.container;
    const { volume } = declared;
    if (volume === undefined) throw new Error(`${service.key} has no data volume in the plan`);
    this.volume = volume;

    this.registerOutputs({ container: this.container.name });
  }
}
