/**
 * The monitored service: its image built from this repository, and one container on the private network.
 */
import * as path from "node:path";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { HostPort } from "../configs/endpoints";
import { nodeImage } from "../configs/versions";
import { probePaths } from "../service/metrics-contract";
import {
  dockerName,
  healthcheck,
  serviceContainerArgs,
  serviceContainerOptions,
  splitHostPort,
} from "./containers";

/** The repository root: the build context, since the image is built from package.json and its lockfile. */
export const repositoryRoot = path.resolve(__dirname, "..");

/** The service's Dockerfile, relative to the repository root. */
const appDockerfile = "service/Dockerfile";

/** The unprivileged user of the official Node.js images. */
const nodeImageUser = "node";

export interface AppServiceArgs {
  /** Name of the stack's private network. */
  readonly network: pulumi.Input<string>;
  /** Alias and port of the app on the network, as the rendered scrape config targets it. */
  readonly endpoint: HostPort;
  /** Host port the app is published on. */
  readonly hostPort: number;
  /** Host address every published port binds to. */
  readonly bindAddress: string;
  /** Prefix of the Docker object names. */
  readonly dockerPrefix: string;
  /** Memory limit in MB; 256 by default. */
  readonly memoryMb?: number;
}

export class AppService extends pulumi.ComponentResource {
  readonly image: docker.Image;
  readonly container: docker.Container;

  constructor(name: string, args: AppServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("watchtower:index:AppService", name, {}, opts);
    const { host: alias, port } = splitHostPort(args.endpoint);

    this.image = new docker.Image(
      `${name}-image`,
      {
        // A local tag for `docker images`; containers use the image id, which changes with every build.
        imageName: `${dockerName(args.dockerPrefix, "app")}:${pulumi.getStack()}`,
        build: buildContext(process.cwd()),
        skipPush: true,
      },
      { parent: this },
    );

    this.container = new docker.Container(
      `${name}-container`,
      serviceContainerArgs({
        name: dockerName(args.dockerPrefix, alias),
        image: this.image.repoDigest,
        network: args.network,
        alias,
        user: nodeImageUser,
        memoryMb: args.memoryMb ?? 256,
        published: [{ internal: port, external: args.hostPort }],
        bindAddress: args.bindAddress,
        envs: [`PORT=${port}`],
        // The image is built FROM a Node.js image, so node itself can probe: no curl or wget needed.
        healthcheck: healthcheck([
          "node",
          "-e",
          `fetch("http://127.0.0.1:${port}${probePaths.readiness}").then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))`,
        ]),
        healthyWithinSeconds: 60,
      }),
      serviceContainerOptions(this),
    );

    this.registerOutputs({ imageName: this.image.imageName, container: this.container.name });
  }
}

/**
 * The build context and Dockerfile, relative to the directory Pulumi runs the program in (the project root),
 * so the state holds the same paths on every machine.
 */
function buildContext(workingDirectory: string): docker.types.input.DockerBuild {
  const context = path.relative(workingDirectory, repositoryRoot) || ".";
  return {
    context,
    dockerfile: path.join(context, appDockerfile),
    args: { NODE_IMAGE: nodeImage },
  };
}
