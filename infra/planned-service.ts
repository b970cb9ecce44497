/**
 * One component per service of the deployment plan, or per group of replicas: its image (pulled, or built from
 * this repository), its volumes, its containers and any secret the plan has generated for it. Every service
 * of the stack, the user's own included, comes through this one class; what differs between them is data in
 * the plan (an image to build, a group of replicas, a secret to generate).
 */
import * as path from "node:path";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { PlannedImage, SecretName, ServicePlan } from "../configs/deployment/plan";
import {
  type CopiedContents,
  containerArgs,
  containerOptions,
  type SecretContents,
  volumeOptions,
} from "./containers";
import { repositoryRoot } from "./repository";

/** A secret the plan generates, declared by the first component whose services name it. */
export interface GeneratedSecret {
  readonly secret: SecretName;
  /** Letters and digits. */
  readonly length: number;
}

export interface PlannedServiceArgs {
  /**
   * The planned services this component runs: one, or the replicas of one group, which share one image. Each
   * comes after those of the component it starts after (`componentsInStartOrder` orders them so).
   */
  readonly services: readonly [ServicePlan, ...ServicePlan[]];
  /** The private network's name. */
  readonly network: pulumi.Input<string>;
  /** Docker volume names by the plan's volume key (`DeploymentPlan.volumes`). */
  readonly volumeNames: Readonly<Record<string, string>>;
  /** Whether the volumes outlive the stack (`DeploymentPlan.keepVolumesOnDestroy`); false by default. */
  readonly keepVolumesOnDestroy?: boolean;
  /** The content of each secret the services name and this component does not generate. */
  readonly secrets?: SecretContents;
  /** Secrets this component generates and keeps in the state; see `generatedSecrets`. */
  readonly generate?: readonly GeneratedSecret[];
  /** The content of the user's files the services are handed, by source path (`PlannedCopy`). */
  readonly copies?: CopiedContents;
  /** The containers of other components that these services start after, by plan key. */
  readonly startAfter?: Readonly<Record<string, docker.Container>>;
  /** The platform an image built here is built for (the Docker host's, `linux/arm64`); unset lets Docker pick. */
  readonly platform?: string;
  /**
   * The component's Pulumi type. A URN is made of type and name, so each of the stack's services keeps the type
   * it had when it had a class of its own; `watchtower:index:PlannedService` by default.
   */
  readonly type?: string;
}

export class PlannedService extends pulumi.ComponentResource {
  readonly image: docker.RemoteImage | docker.Image;
  /** The data volumes, in the order of the services and their volumes. */
  readonly volumes: readonly docker.Volume[];
  /** Each service's container, by plan key. */
  readonly containers: ReadonlyMap<string, docker.Container>;
  /** The secrets generated here, as Pulumi secrets. */
  readonly generatedSecrets: SecretContents;

  constructor(name: string, args: PlannedServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    super(args.type ?? "watchtower:index:PlannedService", name, {}, opts);
    const services = args.services;
    const startAfter = args.startAfter ?? {};
    const keepVolumes = args.keepVolumesOnDestroy ?? false;

    const generated: Partial<Record<SecretName, pulumi.Output<string>>> = {};
    for (const { secret, length } of args.generate ?? []) {
      generated[secret] = pulumi.secret(
        new random.RandomPassword(
          `${name}-${generatedSecretResourceNames[secret]}`,
          { length, special: false },
          { parent: this },
        ).result,
      );
    }
    this.generatedSecrets = generated;
    const secrets: SecretContents = { ...args.secrets, ...generated };

    const image = sharedImage(services);
    const built = image.kind === "build";
    this.image = built
      ? new docker.Image(
          `${name}-image`,
          {
            // A local tag for `docker images`; containers use the image's digest, which changes with every build.
            imageName: image.tag,
            build: buildContext(process.cwd(), image, args.platform),
            skipPush: true,
          },
          { parent: this },
        )
      : // Kept on the host when the stack is destroyed: pulling it again is slow.
        new docker.RemoteImage(`${name}-image`, { name: image.ref, keepLocally: true }, { parent: this });
    const imageId = this.image instanceof docker.Image ? this.image.repoDigest : this.image.imageId;

    const volumes: docker.Volume[] = [];
    const containers = new Map<string, docker.Container>();
    for (const service of services) {
      // A replica is named by its number in the group; a service alone is the component's container.
      const member = service.group === undefined ? name : `${name}-${service.group.index}`;
      const volumeNames: Record<string, pulumi.Output<string>> = {};
      for (const { volume } of service.volumes) {
        const volumeName = args.volumeNames[volume];
        if (volumeName === undefined) throw new Error(`${service.key} mounts the unknown volume ${volume}`);
        const resourceName = service.volumes.length === 1 ? `${member}-data` : `${member}-${volume}`;
        const created = new docker.Volume(
          resourceName,
          { name: volumeName },
          volumeOptions(this, keepVolumes),
        );
        volumes.push(created);
        volumeNames[volume] = created.name;
      }
      const after = service.after.map((key) => {
        const container = containers.get(key) ?? startAfter[key];
        if (container === undefined) {
          throw new Error(
            `${service.key} starts after ${key}, which is neither given nor declared before it`,
          );
        }
        return container;
      });
      containers.set(
        service.key,
        new docker.Container(
          service.group === undefined ? `${name}-container` : member,
          containerArgs(service, {
            image: imageId,
            network: args.network,
            volumeNames,
            secrets,
            copies: args.copies,
          }),
          containerOptions(this, service, after),
        ),
      );
    }
    this.volumes = volumes;
    this.containers = containers;

    this.registerOutputs({
      containers: [...containers.values()].map((container) => container.name),
      ...(built ? { imageName: (this.image as docker.Image).imageName } : {}),
    });
  }
}

/** Pulumi names of generated secrets under their component: `monitoring-grafana-admin-password`. */
const generatedSecretResourceNames: Readonly<Record<SecretName, string>> = {
  grafanaAdminPassword: "admin-password",
  smtpPassword: "smtp-password",
  hostExporterPassword: "host-exporter-password",
};

/** The one image every service of the component runs. */
function sharedImage(services: readonly [ServicePlan, ...ServicePlan[]]): PlannedImage {
  const [first] = services;
  for (const other of services) {
    if (JSON.stringify(other.image) !== JSON.stringify(first.image)) {
      throw new Error(`${first.key} and ${other.key} share a component but not an image`);
    }
  }
  return first.image;
}

/**
 * `items` ordered so that each comes after the items its `dependencies` name, keeping the given order where the
 * dependencies leave a choice. Dependencies that name no item are ignored here (the caller resolves them).
 * Throws, naming the keys, when the dependencies form a cycle.
 */
export function topologicalOrder<T>(
  items: readonly T[],
  key: (item: T) => string,
  dependencies: (item: T) => readonly string[],
): T[] {
  const keys = new Set(items.map(key));
  const ordered: T[] = [];
  const placed = new Set<string>();
  let pending = [...items];
  while (pending.length > 0) {
    const ready = pending.find((item) =>
      dependencies(item).every((dependency) => !keys.has(dependency) || placed.has(dependency)),
    );
    if (ready === undefined) {
      throw new Error(`the plan's start order has a cycle among ${pending.map(key).join(", ")}`);
    }
    ordered.push(ready);
    placed.add(key(ready));
    pending = pending.filter((item) => item !== ready);
  }
  return ordered;
}

/**
 * The build context and Dockerfile, relative to the directory Pulumi runs the program in (the project root),
 * so the state holds the same paths on every machine.
 */
function buildContext(
  workingDirectory: string,
  image: Extract<PlannedImage, { kind: "build" }>,
  platform: string | undefined,
): docker.types.input.DockerBuild {
  const context = path.relative(workingDirectory, repositoryRoot) || ".";
  return {
    context,
    dockerfile: path.join(context, image.dockerfile),
    args: { ...image.args },
    ...(platform === undefined ? {} : { platform }),
  };
}
