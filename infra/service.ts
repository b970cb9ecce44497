/**
 * Declares one planned service's volumes and container under its component. Shared by every component, so each
 * states only what is particular to it (an image to build, a password to generate, replicas to group).
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { DeploymentPlan, ServicePlan } from "../configs/deployment/plan";
import { containerArgs, containerOptions, type SecretContents, volumeOptions } from "./containers";

/** What every service is declared with: the plan, the network, the secrets, and the containers so far. */
export interface StackContext {
  readonly plan: DeploymentPlan;
  readonly network: pulumi.Input<string>;
  readonly secrets: SecretContents;
  /** Containers declared so far, by plan key: a service's `after` names them. */
  readonly containers: Map<string, docker.Container>;
}

/** The planned service with this key; a missing one means the plan and the program disagree. */
export function plannedService(plan: DeploymentPlan, key: string): ServicePlan {
  const service = plan.services.find((candidate) => candidate.key === key);
  if (service === undefined) {
    throw new Error(
      `the deployment plan has no service ${key}; it has ${plan.services.map((s) => s.key).join(", ")}`,
    );
  }
  return service;
}

/**
 * The service's container (Pulumi name `containerName`) and its volumes (`<volumeKey>`-derived names under
 * `resourcePrefix`), parented to `parent`.
 */
export function declareService(
  parent: pulumi.Resource,
  names: { readonly container: string; readonly volume: (volumeKey: string) => string },
  service: ServicePlan,
  image: pulumi.Input<string>,
  context: StackContext,
): { container: docker.Container; volumes: docker.Volume[] } {
  const volumes = service.volumes.map(
    ({ volume }) =>
      new docker.Volume(
        names.volume(volume),
        { name: context.plan.volumes[volume] },
        volumeOptions(parent, context.plan.keepVolumesOnDestroy),
      ),
  );
  const volumeNames = Object.fromEntries(
    service.volumes.map(({ volume }, i) => [volume, volumes[i]?.name ?? ""]),
  );
  const after = service.after.map((key) => {
    const container = context.containers.get(key);
    if (container === undefined)
      throw new Error(`${service.key} starts after ${key}, which is not declared before it`);
    return container;
  });
  const container = new docker.Container(
    names.container,
    containerArgs(service, { image, network: context.network, volumeNames, secrets: context.secrets }),
    containerOptions(parent, service, after),
  );
  context.containers.set(service.key, container);
  return { container, volumes };
}

/** The service's pinned image, kept on the host when the stack is destroyed (pulling it again is slow). */
export function pinnedImage(parent: pulumi.Resource, name: string, service: ServicePlan): docker.RemoteImage {
  if (service.image.kind !== "pinned") throw new Error(`${service.key} has no pinned image`);
  return new docker.RemoteImage(name, { name: service.image.ref, keepLocally: true }, { parent });
}

/**
 * A service that runs a pinned image, under the names every such component uses: `<name>-image`,
 * `<name>-container` and, for its data volume, `<name>-data`.
 */
export function declarePinnedService(
  parent: pulumi.Resource,
  name: string,
  service: ServicePlan,
  context: StackContext,
): { image: docker.RemoteImage; container: docker.Container; volume?: docker.Volume } {
  const image = pinnedImage(parent, `${name}-image`, service);
  const { container, volumes } = declareService(
    parent,
    { container: `${name}-container`, volume: () => `${name}-data` },
    service,
    image.imageId,
    context,
  );
  if (volumes.length > 1)
    throw new Error(`${service.key}: a component names one data volume, the plan gives more`);
  return { image, container, volume: volumes[0] };
}

/**
 * A component that is one pinned image and its container, under the type the caller names: a service of the
 * user's own (`services` in the settings) is one, hardened like the stack's own by `declareService`.
 */
export class PinnedContainer extends pulumi.ComponentResource {
  readonly image: docker.RemoteImage;
  readonly container: docker.Container;

  constructor(
    type: string,
    name: string,
    service: ServicePlan,
    context: StackContext,
    opts?: pulumi.ComponentResourceOptions,
  ) {
    super(type, name, {}, opts);
    ({ image: this.image, container: this.container } = declarePinnedService(this, name, service, context));
    this.registerOutputs({ container: this.container.name });
  }
}
