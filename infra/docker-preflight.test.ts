import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as pulumi from "@pulumi/pulumi";
import { expect } from "chai";
import { fakeDocker } from "../test-support/fake-docker";
import { mockProject, mockStack, runStack } from "../test-support/pulumi-mocks";
import {
  apiVersionAtLeast,
  checkDocker,
  DockerPreflightError,
  dockerEndpoint,
  enginePlatform,
  minimumApiVersion,
} from "./docker-preflight";
import { runProgram } from "./stack";

/** A loopback port with nothing listening: bound, then released. */
async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe("the Docker preflight", function () {
  this.timeout(30_000);

  it("looks for Docker where the provider does: docker:host, DOCKER_HOST, the CLI's context, the socket", () => {
    const noContext = () => undefined;
    expect(dockerEndpoint("tcp://a:2375", { DOCKER_HOST: "tcp://b:2375" }, noContext).chosenBy).to.equal(
      "the stack's docker:host setting",
    );
    expect(dockerEndpoint(undefined, { DOCKER_HOST: "tcp://b:2375" }, noContext)).to.deep.equal({
      host: "tcp://b:2375",
      chosenBy: "DOCKER_HOST",
    });
    expect(dockerEndpoint(undefined, {}, () => "unix:///home/me/.colima/docker.sock").host).to.equal(
      "unix:///home/me/.colima/docker.sock",
    );
    expect(dockerEndpoint(undefined, {}, noContext).host).to.equal("unix:///var/run/docker.sock");
  });

  it("compares API versions numerically", () => {
    expect(apiVersionAtLeast("1.41", minimumApiVersion)).to.equal(true);
    expect(apiVersionAtLeast("1.47", minimumApiVersion)).to.equal(true);
    expect(apiVersionAtLeast("1.40", minimumApiVersion)).to.equal(false);
    expect(apiVersionAtLeast("1.9", minimumApiVersion)).to.equal(false);
    expect(apiVersionAtLeast("2.0", minimumApiVersion)).to.equal(true);
  });

  it("names the engine's platform as `docker build --platform` takes it, from Go's names", () => {
    expect(enginePlatform("linux", "amd64")).to.equal("linux/amd64");
    expect(enginePlatform("linux", "arm64")).to.equal("linux/arm64");
    expect(enginePlatform("linux", "ppc64le")).to.equal("linux/ppc64le");
    // What uname prints, which some engines answer with.
    expect(enginePlatform("linux", "x86_64")).to.equal("linux/amd64");
    expect(enginePlatform("linux", "aarch64")).to.equal("linux/arm64");
    expect(enginePlatform(undefined, "amd64")).to.equal(undefined);
    expect(enginePlatform("linux", "")).to.equal(undefined);
  });

  it("accepts Engine 20.10's API and newer, and reports the engine's platform", async () => {
    for (const [version, arch] of [
      ["1.41", "amd64"],
      ["1.52", "arm64"],
    ] as const) {
      const docker = await fakeDocker(version, { arch });
      try {
        expect(await checkDocker({ host: docker.host, chosenBy: "DOCKER_HOST" })).to.deep.equal({
          apiVersion: version,
          platform: `linux/${arch}`,
        });
      } finally {
        await docker.close();
      }
    }
  });

  it("refuses an older engine with found and needed in one line", async () => {
    const docker = await fakeDocker("1.40");
    try {
      const failure = await checkDocker({ host: docker.host, chosenBy: "DOCKER_HOST" }).catch(
        (error) => error,
      );
      expect(failure).to.be.instanceOf(DockerPreflightError);
      expect(failure.message)
        .to.include("API 1.40")
        .and.include("API 1.41 or newer")
        .and.include("Upgrade Docker");
      expect(failure.message).not.to.include("\n");
    } finally {
      await docker.close();
    }
  });

  it("says where it looked and how to point it elsewhere when nothing answers", async () => {
    const host = `tcp://127.0.0.1:${await closedPort()}`;
    const failure = await checkDocker({ host, chosenBy: "DOCKER_HOST" }).catch((error) => error);
    expect(failure).to.be.instanceOf(DockerPreflightError);
    expect(failure.message).to.include(host).and.include("from DOCKER_HOST").and.include("docker:host");
  });

  it("stops the program before its first resource", async () => {
    const saved = process.env.DOCKER_HOST;
    process.env.DOCKER_HOST = `tcp://127.0.0.1:${await closedPort()}`;
    const registered: string[] = [];
    try {
      const failure = await runStack({}, [], registered, runProgram).catch((error) => error);
      expect(pulumi.RunError.isInstance(failure)).to.equal(true);
      expect((failure as Error).message).to.include("Docker does not answer");
      expect(
        registered.filter((entry) => entry !== `pulumi:pulumi:Stack ${mockProject}-${mockStack}`),
      ).to.deep.equal([]);
    } finally {
      if (saved === undefined) delete process.env.DOCKER_HOST;
      else process.env.DOCKER_HOST = saved;
    }
  });

  it("declares the stack once Docker answers, building the app image for the engine's own platform", async () => {
    for (const arch of ["amd64", "arm64"]) {
      const docker = await fakeDocker("1.41", { arch });
      const saved = process.env.DOCKER_HOST;
      process.env.DOCKER_HOST = docker.host;
      try {
        const run = await runStack({}, [], [], runProgram);
        expect([...run.resources.keys()]).to.include("monitoring-grafana-container");
        const build = run.resources.get("monitoring-app-image")?.inputs.build as { platform?: string };
        expect(build.platform, arch).to.equal(`linux/${arch}`);
      } finally {
        if (saved === undefined) delete process.env.DOCKER_HOST;
        else process.env.DOCKER_HOST = saved;
        await docker.close();
      }
    }
  });
});
