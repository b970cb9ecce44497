/**
 * The monitored service: its image built from this repository, and one container on the private network.
 */
import * as path from "node:path";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { ServicePlan } from "../configs/deployment/plan";
import { repositoryRoot } from "./repository";
import { declareService, type StackContext } from "./service";

export class AppService extends pulumi.ComponentResource {
  readonly image: docker.Image;
  readonly container: docker.Container;

  constructor(
    name: string,
    service: ServicePlan,
    context: StackContext,
    opts?: pulumi.ComponentResourceOptions,
  ) {
    super("watchtower:index:AppService", name, {}, opts);
    if (service.image.kind !== "build")
      throw new Error(`AppService: ${service.key} is not built from this repository`);

    this.image = new docker.Image(
      `${name}-image`,
      {
        // A local tag for `docker images`; containers use the image's digest, which changes with every build.
        imageName: service.image.tag,
        build: buildContext(process.cwd(), service.image.dockerfile, service.image.args),
        skipPush: true,
      },
      { parent: this },
    );
    ({ container: this.container } = declareService(
      this,
      { container: `${name}-container`, volume: (key) => `${name}-${key}` },
      service,
      this.image.repoDigest,
      context,
    ));

    this.registerOutputs({ imageName: this.image.imageName, container: this.container.name });
  }
}

/**
 * The build context and Dockerfile, relative to the directory Pulumi runs the program in (the project root),
 * so the state holds the same paths on every machine.
 */
function buildContext(
  workingDirectory: string,
  dockerfile: string,
  args: Readonly<Record<string, string>>,
): docker.types.input.DockerBuild {
  const context = path.relative(workingDirectory, repositoryRoot) || ".";
  return { context, dockerfile: path.join(context, dockerfile), args: { ...args } };
}
