/**
 * The k6 load test: a container that runs the test once and exits. It is replaced, and so runs again, when the
 * script or its options change; otherwise `pulumi up` leaves the exited container alone.
 */
import type * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { ServicePlan } from "../configs/deployment/plan";
import { declarePinnedService, type StackContext } from "./service";

export class LoadTest extends pulumi.ComponentResource {
  readonly image: docker.RemoteImage;
  readonly container: docker.Container;
  /** The Docker container name, for `docker start --attach` to run the test again. */
  readonly containerName: string;

  constructor(
    name: string,
    service: ServicePlan,
    context: StackContext,
    opts?: pulumi.ComponentResourceOptions,
  ) {
    super("watchtower:index:LoadTest", name, {}, opts);
    this.containerName = service.containerName;
    ({ image: this.image, container: this.container } = declarePinnedService(this, name, service, context));

    this.registerOutputs({ container: this.container.name });
  }
}
