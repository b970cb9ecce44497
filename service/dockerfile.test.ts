/**
 * Docker cannot run here, so this suite reads service/Dockerfile (with dockerfile-ast) and the root
 * .dockerignore (with @balena/dockerignore, a port of Docker's own matcher) and replays the build on the local
 * file system: each stage gets a directory standing in for its root file system, COPY copies
 * what the build context would contain, RUN runs its command, and the final stage's CMD is started and probed
 * with the image's own HEALTHCHECK command.
 */
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync } from "node:fs";
import { dirname, join, posix, relative, resolve } from "node:path";
import ignore from "@balena/dockerignore";
import { expect } from "chai";
import { Arg, Copy, DockerfileParser, Env, From, type Instruction } from "dockerfile-ast";
import { appBuildArgs } from "../configs/deployment/plan";
import { nodeImage } from "../configs/runtime/versions";
import { makeTempDir, type TempDir } from "../test-support/cleanup";
import { startServiceProcess } from "../test-support/service";
import { probePaths } from "./metrics-contract";

const contextRoot = resolve(__dirname, "..");
const dockerfilePath = join(__dirname, "Dockerfile");

interface Stage {
  readonly from: From;
  readonly instructions: readonly Instruction[];
}

/** The instructions of each stage, grouped at each FROM. */
function stagesOf(instructions: readonly Instruction[]): Stage[] {
  const stages: { from: From; instructions: Instruction[] }[] = [];
  for (const instruction of instructions) {
    if (instruction instanceof From) stages.push({ from: instruction, instructions: [] });
    else stages.at(-1)?.instructions.push(instruction);
  }
  return stages;
}

/** Arguments of an exec-form (JSON array) instruction such as CMD ["node", "main.js"]. */
function execForm(args: string): string[] {
  const parsed: unknown = JSON.parse(args);
  if (!Array.isArray(parsed) || !parsed.every((arg) => typeof arg === "string")) {
    throw new Error(`expected the exec form (a JSON array of strings), got ${args}`);
  }
  return parsed;
}

interface CopyInstruction {
  readonly from: string | undefined;
  readonly sources: readonly string[];
  readonly destination: string;
}

function parseCopy(copy: Copy): CopyInstruction {
  const paths = copy.getArguments().map((argument) => argument.getValue());
  const destination = paths.pop();
  if (destination === undefined || paths.length === 0) {
    throw new Error(`COPY needs sources and a destination: ${copy.getArgumentsContent()}`);
  }
  return { from: copy.getFromFlag()?.getValue() ?? undefined, sources: paths, destination };
}

/** Files under `dir` (recursively), relative to the context root. */
function filesUnder(dir: string): string[] {
  return readdirSync(join(contextRoot, dir), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(contextRoot, join(entry.parentPath, entry.name)));
}

function instructionsOf(stage: Stage, keyword: string): Instruction[] {
  return stage.instructions.filter((instruction) => instruction.getKeyword() === keyword);
}

function argumentsOf(stage: Stage, keyword: string): string[] {
  return instructionsOf(stage, keyword).map((instruction) => instruction.getArgumentsContent() ?? "");
}

function copiesOf(stage: Stage): CopyInstruction[] {
  return stage.instructions.filter((instruction) => instruction instanceof Copy).map(parseCopy);
}

function stageEnv(stage: Stage): Record<string, string> {
  const properties = stage.instructions.flatMap((env) => (env instanceof Env ? env.getProperties() : []));
  return Object.fromEntries(properties.map((property) => [property.getName(), property.getValue() ?? ""]));
}

describe("service: Dockerfile", () => {
  let dockerfile: ReturnType<typeof DockerfileParser.parse>;
  let stages: Stage[];
  let dockerIgnore: ReturnType<typeof ignore>;
  let finalStage: Stage;
  before(() => {
    dockerfile = DockerfileParser.parse(readFileSync(dockerfilePath, "utf8"));
    stages = stagesOf(dockerfile.getInstructions());
    dockerIgnore = ignore().add(readFileSync(join(contextRoot, ".dockerignore"), "utf8").split("\n"));
    const last = stages.at(-1);
    if (last === undefined) throw new Error(`${dockerfilePath} has no FROM`);
    finalStage = last;
  });

  it("takes its base image only from the NODE_IMAGE build argument, which has no default", () => {
    const instructions = dockerfile.getInstructions();
    const beforeFirstFrom = instructions.slice(
      0,
      instructions.findIndex((i) => i instanceof From),
    );
    expect(beforeFirstFrom.map(String)).to.deep.equal(["ARG NODE_IMAGE"]);
    const stageNames = new Set<string>();
    for (const { from } of stages) {
      const base = from.getImage() ?? "";
      expect(base === `\${NODE_IMAGE}` || stageNames.has(base), `FROM ${base}`).to.equal(true);
      const name = from.getBuildStage();
      if (name) stageNames.add(name);
    }
  });

  it("is built on a Node.js that package.json's engines allow", () => {
    const packageJson = JSON.parse(readFileSync(join(contextRoot, "package.json"), "utf8")) as {
      engines: { node: string };
    };
    const [imageMajor = 0, imageMinor = 0] = (/^node:(\d+)\.(\d+)/.exec(nodeImage) ?? [])
      .slice(1)
      .map(Number);
    const [minMajor = 0, minMinor = 0] = (/(\d+)\.(\d+)/.exec(packageJson.engines.node) ?? [])
      .slice(1)
      .map(Number);
    expect(imageMajor * 1000 + imageMinor, `${nodeImage} against ${packageJson.engines.node}`).to.be.at.least(
      minMajor * 1000 + minMinor,
    );
  });

  it("keeps dependencies, tools, state and tests out of the build context", () => {
    for (const path of [
      "node_modules/koa/package.json",
      ".git/HEAD",
      ".tools/bin/promtool",
      ".pulumi/state",
      "dist/service/main.js",
      "rendered/prometheus/prometheus-0.yml",
      "Pulumi.dev.yaml",
      "configs/settings/schema.ts",
      "service/app.test.ts",
      "test-support/service.ts",
    ]) {
      expect(dockerIgnore.ignores(path), path).to.equal(true);
    }
    for (const path of [
      "package.json",
      "package-lock.json",
      "service/main.ts",
      "service/metrics-contract.ts",
    ]) {
      expect(dockerIgnore.ignores(path), path).to.equal(false);
    }
  });

  it("copies only sources that exist in the build context", () => {
    const copies = stages.flatMap(copiesOf);
    const fromContext = copies.filter((copy) => copy.from === undefined).flatMap((copy) => copy.sources);
    expect(fromContext).to.not.be.empty;
    for (const source of fromContext) {
      expect(existsSync(join(contextRoot, source)), `${source} exists`).to.equal(true);
      const files = statSync(join(contextRoot, source)).isDirectory() ? filesUnder(source) : [source];
      expect(
        files.filter((file) => !dockerIgnore.ignores(file)),
        `${source} after .dockerignore`,
      ).to.not.be.empty;
    }
  });

  it("runs as the node user, exposes and listens on the PORT build argument, and checks /healthz", () => {
    expect(argumentsOf(finalStage, "USER")).to.deep.equal(["node"]);
    // One port from one definition: the build argument, without a default, is both what the image exposes and
    // what the app listens on.
    const args = finalStage.instructions.filter((instruction) => instruction instanceof Arg);
    expect(args.map(String)).to.deep.equal(["ARG PORT"]);
    expect(stageEnv(finalStage).PORT).to.equal(`\${PORT}`);
    expect(argumentsOf(finalStage, "EXPOSE")).to.deep.equal([`\${PORT}`]);
    expect(appBuildArgs).to.deep.equal({ NODE_IMAGE: nodeImage, PORT: appBuildArgs.PORT });
    const [healthcheck] = argumentsOf(finalStage, "HEALTHCHECK");
    expect(healthcheck).to.include(probePaths.liveness);
    // The final stage takes only what the build stage produced, never anything from the build context.
    expect(copiesOf(finalStage).every((copy) => copy.from !== undefined)).to.equal(true);
  });

  describe("replayed build", function () {
    // npx, tsx and esbuild run once: a few seconds on a busy machine.
    this.timeout(60_000);

    let workspace: TempDir | undefined;
    /** Root file system of each stage, by stage name and by index. */
    const stageRoots = new Map<string, string>();
    let finalWorkdir = "/";

    before(() => {
      workspace = makeTempDir("watchtower-docker-");
      stages.forEach((stage, index) => {
        const root = stageRoot(index);
        mkdirSync(root);
        const name = stage.from.getBuildStage();
        if (name) stageRoots.set(name, root);
        finalWorkdir = replayStage(stage, root);
      });
    });
    after(() => {
      workspace?.remove();
    });

    function stageRoot(index: number): string {
      if (workspace === undefined) throw new Error("the workspace is made in before()");
      return join(workspace.path, `stage-${index}`);
    }

    function replayStage(stage: Stage, root: string): string {
      let workdir = "/";
      const env = stageEnv(stage);
      for (const instruction of stage.instructions) {
        const args = instruction.getArgumentsContent() ?? "";
        if (instruction.getKeyword() === "WORKDIR") {
          workdir = posix.resolve(workdir, args);
          mkdirSync(join(root, workdir), { recursive: true });
        } else if (instruction instanceof Copy) {
          replayCopy(parseCopy(instruction), root, workdir);
        } else if (instruction.getKeyword() === "RUN") {
          replayRun(args, join(root, workdir), env);
        }
      }
      return workdir;
    }

    function replayCopy(copy: CopyInstruction, root: string, workdir: string): void {
      const sourceRoot = copy.from === undefined ? contextRoot : stageRoots.get(copy.from);
      if (sourceRoot === undefined) throw new Error(`COPY --from=${copy.from} names no earlier stage`);
      const destination = join(root, posix.resolve(workdir, copy.destination));
      const intoDirectory = copy.destination.endsWith("/") || copy.sources.length > 1;
      for (const source of copy.sources) {
        const from = join(sourceRoot, source);
        if (statSync(from).isDirectory()) {
          // Docker copies a directory's contents, and only what .dockerignore lets into the context.
          cpSync(from, destination, {
            recursive: true,
            filter: (path) =>
              copy.from !== undefined ||
              statSync(path).isDirectory() ||
              !dockerIgnore.ignores(relative(contextRoot, path)),
          });
        } else {
          const target = intoDirectory ? join(destination, posix.basename(source)) : destination;
          mkdirSync(dirname(target), { recursive: true });
          cpSync(from, target);
        }
      }
    }

    function replayRun(command: string, cwd: string, env: Record<string, string>): void {
      if (/^npm ci\b/.test(command)) {
        // npm ci from the same package-lock.json made the repository's node_modules: link it rather than
        // download everything again.
        symlinkSync(join(contextRoot, "node_modules"), join(cwd, "node_modules"), "dir");
        return;
      }
      const result = spawnSync("sh", ["-c", command], {
        cwd,
        env: { ...process.env, ...env },
        encoding: "utf8",
        timeout: 50_000,
      });
      if (result.status !== 0) {
        throw new Error(`RUN ${command} failed with ${result.status}: ${result.stdout}${result.stderr}`);
      }
    }

    it("leaves tests out of the sources it bundles", () => {
      const build = stageRoots.get("build") as string;
      const copied = readdirSync(join(build, "build", "service"));
      expect(copied).to.include("main.ts");
      expect(copied.filter((file) => file.endsWith(".test.ts") || file === "testing.ts")).to.deep.equal([]);
    });

    it("produces the file that CMD runs, without node_modules", () => {
      const [command, ...args] = execForm(argumentsOf(finalStage, "CMD")[0] ?? "");
      expect(command).to.equal("node");
      const finalRoot = stageRoot(stages.length - 1);
      const script = args.find((arg) => !arg.startsWith("-")) ?? "";
      expect(existsSync(join(finalRoot, posix.resolve(finalWorkdir, script))), script).to.equal(true);
      expect(
        readdirSync(finalRoot, { recursive: true }).some((path) => String(path).includes("node_modules")),
      ).to.equal(false);
    });

    it("starts from the bundle alone, passes its own HEALTHCHECK and stops cleanly on SIGTERM", async () => {
      const [, ...args] = execForm(argumentsOf(finalStage, "CMD")[0] ?? "");
      const finalRoot = stageRoot(stages.length - 1);
      const service = await startServiceProcess(args, {
        cwd: join(finalRoot, finalWorkdir),
        env: { ...stageEnv(finalStage), PORT: "0", HOST: "127.0.0.1" },
      });
      try {
        const healthcheck = (argumentsOf(finalStage, "HEALTHCHECK")[0] ?? "").replace(/^CMD\s+/, "");
        const [probe, ...probeArgs] = execForm(healthcheck);
        expect(probe).to.equal("node");
        const runProbe = (port: number) =>
          spawnSync(process.execPath, probeArgs, { env: { PORT: String(port) }, timeout: 10_000 }).status;
        expect(runProbe(service.port)).to.equal(0);
        service.child.kill("SIGTERM");
        expect(await service.exited).to.equal(0);
        // The same probe fails once nothing answers, so a passing probe means something.
        expect(runProbe(service.port)).to.equal(1);
      } finally {
        if (service.child.exitCode === null) service.child.kill("SIGKILL");
      }
    });
  });
});
