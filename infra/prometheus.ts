/**
 * The Prometheus replicas: identical servers that each scrape the app, Alertmanager and one another, so that
 * a survivor reports a dead replica. Each keeps its TSDB on its own volume, and each is replaced only once the
 * one before it is healthy again (the plan's `after`).
 */
import type * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { ServicePlan } from "../configs/deployment/plan";
import { declareService, pinnedImage, type StackContext } from "./service";

export class PrometheusReplicas extends pulumi.ComponentResource {
  readonly image: docker.RemoteImage;
  readonly volumes: docker.Volume[];
  readonly containers: docker.Container[];

  constructor(
    name: string,
    replicas: readonly [ServicePlan, ...ServicePlan[]],
    context: StackContext,
    opts?: pulumi.ComponentResourceOptions,
  ) {
    super("watchtower:index:PrometheusReplicas", name, {}, opts);
    // Every replica runs the same pinned image.
    this.image = pinnedImage(this, `${name}-image`, replicas[0]);
    const declared = replicas.map((replica, index) =>
      declareService(
        this,
        { container: `${name}-${index}`, volume: () => `${name}-${index}-data` },
        replica,
        this.image.imageId,
        context,
      ),
    );
    this.volumes = declared.flatMap(({ volumes }) => volumes);
    this.containers = declared.map(({ container }) => container);

    this.registerOutputs({ containers: this.containers.map((container) => container.name) });
  }
}
