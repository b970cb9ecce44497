/**
 * The k6 load test: a container that runs the test once and exits. It is replaced, and so runs again, when the
 * script or its options change; otherwise `pulumi up` leaves the exited container alone.
 */
import { createHash } from "node:crypto";
import * as path from "node:path";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { HostPort } from "../configs/endpoints";
import { renderedPaths } from "../configs/layout";
import { k6RunCommand, loadtestScriptPath } from "../configs/loadtest";
import { imageRef, k6 } from "../configs/versions";
import { containerBaseline, dockerName, fileUpload } from "./containers";

/** Where the script and its options sit in the container, in the repository's layout. */
const loadtestDir = "/home/k6/watchtower";
/** The unprivileged user of the k6 image. */
const k6User = "12345:12345";

/**
 * Value of the run's `testid` tag: a digest of what the run does, so each new script or plan writes series of
 * its own while `pulumi up` with nothing changed keeps the same container.
 */
function loadtestId(script: Readonly<Record<string, string>>, options: string): string {
  const digest = createHash("sha256");
  for (const relativePath of Object.keys(script).sort())
    digest.update(`${relativePath}\0${script[relativePath]}\0`);
  digest.update(options);
  return `watchtower-${digest.digest("hex").slice(0, 12)}`;
}

export interface LoadTestArgs {
  /** Name of the stack's private network. */
  readonly network: pulumi.Input<string>;
  /** The script and every file it imports, keyed by path relative to the repository root. */
  readonly script: Readonly<Record<string, string>>;
  /** The rendered options file. */
  readonly options: string;
  /** Prometheus replica that receives k6's metrics through remote write. */
  readonly remoteWrite: HostPort;
  /** Resources that must be up before the test starts: the app and the whole alerting path. */
  readonly waitFor: pulumi.Input<pulumi.Resource>[];
  /** Prefix of the Docker object names. */
  readonly dockerPrefix: string;
  /** Memory limit in MB; 512 by default. */
  readonly memoryMb?: number;
}

export class LoadTest extends pulumi.ComponentResource {
  readonly image: docker.RemoteImage;
  readonly container: docker.Container;
  /** The Docker container name, for `docker start --attach` to run the test again. */
  readonly containerName: string;
  readonly testId: string;

  constructor(name: string, args: LoadTestArgs, opts?: pulumi.ComponentResourceOptions) {
    super("watchtower:index:LoadTest", name, {}, opts);
    if (args.script[loadtestScriptPath] === undefined) {
      throw new Error(`LoadTest: the script files do not include ${loadtestScriptPath}`);
    }
    this.testId = loadtestId(args.script, args.options);
    this.containerName = dockerName(args.dockerPrefix, "loadtest");
    const optionsPath = path.posix.join(loadtestDir, renderedPaths.loadtestOptions);
    const command = k6RunCommand({
      scriptPath: path.posix.join(loadtestDir, loadtestScriptPath),
      optionsPath,
      remoteWrite: args.remoteWrite,
      testId: this.testId,
    });

    this.image = new docker.RemoteImage(
      `${name}-image`,
      { name: imageRef(k6), keepLocally: true },
      { parent: this },
    );
    this.container = new docker.Container(
      `${name}-container`,
      {
        ...containerBaseline,
        name: this.containerName,
        image: this.image.imageId,
        user: k6User,
        memory: args.memoryMb ?? 512,
        networksAdvanced: [{ name: args.network }],
        workingDir: loadtestDir,
        // The image's entrypoint is k6; these are its arguments.
        command: [...command.args],
        envs: Object.entries(command.env).map(([key, value]) => `${key}=${value}`),
        uploads: [
          ...Object.entries(args.script).map(([relativePath, content]) =>
            fileUpload(path.posix.join(loadtestDir, relativePath), content),
          ),
          fileUpload(optionsPath, args.options),
        ],
        // One run per creation: not restarted when it exits, and an exited container is not a diff.
        restart: "no",
        mustRun: false,
        // `pulumi up` returns while the test runs; its progress is in `docker logs`.
        attach: false,
      },
      { parent: this, deleteBeforeReplace: true, dependsOn: args.waitFor },
    );

    this.registerOutputs({ container: this.container.name, testId: this.testId });
  }
}
