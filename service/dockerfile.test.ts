/**
 * Docker cannot run here, so this suite reads service/Dockerfile and the root .dockerignore and replays the
 * build on the local file system: each stage gets a directory standing in for its root file system, COPY copies
 * what the build context would contain, RUN runs its command, and the final stage's CMD is started and probed
 * with the image's own HEALTHCHECK command.
 */
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync } from "node:fs";
import { dirname, join, posix, relative, resolve } from "node:path";
import { expect } from "chai";
import { nodeImage } from "../configs/versions";
import { makeTempDir, type TempDir } from "../test-support/cleanup";
import { defaultPort } from "./env";
import { probePaths } from "./metrics-contract";
import { startServiceProcess } from "./testing";

const contextRoot = resolve(__dirname, "..");
const dockerfilePath = join(__dirname, "Dockerfile");

interface Instruction {
  readonly keyword: string;
  readonly args: string;
}

interface Stage {
  readonly base: string;
  readonly name: string | undefined;
  readonly instructions: readonly Instruction[];
}

interface Dockerfile {
  /** Instructions before the first FROM: only ARG is allowed there. */
  readonly globalArgs: readonly Instruction[];
  readonly stages: readonly Stage[];
}

/** Instructions with continuation lines joined and comments dropped, grouped into stages at each FROM. */
function parseDockerfile(text: string): Dockerfile {
  const instructions: Instruction[] = [];
  let pending = "";
  for (const line of text.split("\n")) {
    if (line.trim().startsWith("#") || (pending === "" && line.trim() === "")) continue;
    if (line.endsWith("\\")) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    const full = `${pending}${line}`.trim();
    pending = "";
    const match = /^(\S+)\s+(.*)$/.exec(full);
    if (!match?.[1] || match[2] === undefined) throw new Error(`cannot parse Dockerfile line: ${full}`);
    instructions.push({ keyword: match[1].toUpperCase(), args: match[2].trim() });
  }
  const firstFrom = instructions.findIndex((instruction) => instruction.keyword === "FROM");
  const stages: Stage[] = [];
  let current: Instruction[] = [];
  for (const instruction of instructions.slice(firstFrom)) {
    if (instruction.keyword === "FROM") {
      const [base = "", as, name] = instruction.args.split(/\s+/);
      current = [];
      stages.push({ base, name: as?.toUpperCase() === "AS" ? name : undefined, instructions: current });
    } else {
      current.push(instruction);
    }
  }
  return { globalArgs: instructions.slice(0, firstFrom), stages };
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

function parseCopy(args: string): CopyInstruction {
  const words = args.split(/\s+/);
  const flags = words.filter((word) => word.startsWith("--"));
  const paths = words.filter((word) => !word.startsWith("--"));
  const destination = paths.pop();
  if (destination === undefined || paths.length === 0)
    throw new Error(`COPY needs sources and a destination: ${args}`);
  const from = flags.find((flag) => flag.startsWith("--from="))?.slice("--from=".length);
  return { from, sources: paths, destination };
}

/**
 * The .dockerignore rules as Docker applies them (moby's patternmatcher): a pattern matches a path or any of
 * its parent directories, `*` and `?` stay within one path segment, `**` spans segments, and the last matching
 * line wins, so a later `!` line re-includes.
 */
class DockerIgnore {
  private readonly rules: { readonly pattern: RegExp; readonly exclude: boolean }[];

  constructor(text: string) {
    this.rules = text
      .split("\n")
      .map((line) => line.trim())
      .filter((line) => line !== "" && !line.startsWith("#"))
      .map((line) => {
        const exclude = !line.startsWith("!");
        const cleaned = posix.normalize(exclude ? line : line.slice(1).trim()).replace(/^\/+|\/+$/g, "");
        return { pattern: globToRegExp(cleaned), exclude };
      });
  }

  excludes(path: string): boolean {
    const segments = path.split("/");
    const candidates = segments.map((_, index) => segments.slice(0, index + 1).join("/"));
    let excluded = false;
    for (const rule of this.rules) {
      if (candidates.some((candidate) => rule.pattern.test(candidate))) excluded = rule.exclude;
    }
    return excluded;
  }
}

function globToRegExp(glob: string): RegExp {
  let source = "";
  for (let i = 0; i < glob.length; i++) {
    const char = glob[i] as string;
    if (char === "*" && glob[i + 1] === "*") {
      i++;
      if (glob[i + 1] === "/") i++;
      source += i + 1 === glob.length ? ".*" : "(.*/)?";
    } else if (char === "*") source += "[^/]*";
    else if (char === "?") source += "[^/]";
    else source += char.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${source}$`);
}

/** Files under `dir` (recursively), relative to the context root. */
function filesUnder(dir: string): string[] {
  return readdirSync(join(contextRoot, dir), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(contextRoot, join(entry.parentPath, entry.name)));
}

function instructionsOf(stage: Stage, keyword: string): string[] {
  return stage.instructions.filter((instruction) => instruction.keyword === keyword).map((i) => i.args);
}

function stageEnv(stage: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const args of instructionsOf(stage, "ENV")) {
    for (const pair of args.split(/\s+/)) {
      const [key, ...value] = pair.split("=");
      if (key === undefined || value.length === 0) throw new Error(`write ENV as key=value: ENV ${args}`);
      env[key] = value.join("=");
    }
  }
  return env;
}

describe("service: Dockerfile", () => {
  let dockerfile: Dockerfile;
  let dockerIgnore: DockerIgnore;
  let finalStage: Stage;
  before(() => {
    dockerfile = parseDockerfile(readFileSync(dockerfilePath, "utf8"));
    dockerIgnore = new DockerIgnore(readFileSync(join(contextRoot, ".dockerignore"), "utf8"));
    const last = dockerfile.stages.at(-1);
    if (last === undefined) throw new Error(`${dockerfilePath} has no FROM`);
    finalStage = last;
  });

  it("takes its base image only from the NODE_IMAGE build argument, which has no default", () => {
    expect(dockerfile.globalArgs).to.deep.equal([{ keyword: "ARG", args: "NODE_IMAGE" }]);
    const stageNames = new Set<string>();
    for (const stage of dockerfile.stages) {
      expect(stage.base === `\${NODE_IMAGE}` || stageNames.has(stage.base), `FROM ${stage.base}`).to.equal(
        true,
      );
      if (stage.name) stageNames.add(stage.name);
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
      "configs/settings.ts",
      "service/app.test.ts",
      "service/testing.ts",
    ]) {
      expect(dockerIgnore.excludes(path), path).to.equal(true);
    }
    for (const path of [
      "package.json",
      "package-lock.json",
      "service/main.ts",
      "service/metrics-contract.ts",
    ]) {
      expect(dockerIgnore.excludes(path), path).to.equal(false);
    }
  });

  it("copies only sources that exist in the build context", () => {
    const copies = dockerfile.stages.flatMap((stage) => instructionsOf(stage, "COPY").map(parseCopy));
    const fromContext = copies.filter((copy) => copy.from === undefined).flatMap((copy) => copy.sources);
    expect(fromContext).to.not.be.empty;
    for (const source of fromContext) {
      expect(existsSync(join(contextRoot, source)), `${source} exists`).to.equal(true);
      const files = statSync(join(contextRoot, source)).isDirectory() ? filesUnder(source) : [source];
      expect(
        files.filter((file) => !dockerIgnore.excludes(file)),
        `${source} after .dockerignore`,
      ).to.not.be.empty;
    }
  });

  it("runs as the node user, exposes the service's default port and checks /healthz", () => {
    expect(instructionsOf(finalStage, "USER")).to.deep.equal(["node"]);
    expect(stageEnv(finalStage).PORT).to.equal(String(defaultPort));
    expect(instructionsOf(finalStage, "EXPOSE")).to.deep.equal([`\${PORT}`]);
    const [healthcheck] = instructionsOf(finalStage, "HEALTHCHECK");
    expect(healthcheck).to.include(probePaths.liveness);
    // The final stage takes only what the build stage produced, never anything from the build context.
    expect(
      instructionsOf(finalStage, "COPY")
        .map(parseCopy)
        .every((copy) => copy.from !== undefined),
    ).to.equal(true);
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
      dockerfile.stages.forEach((stage, index) => {
        const root = stageRoot(index);
        mkdirSync(root);
        if (stage.name) stageRoots.set(stage.name, root);
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
      for (const { keyword, args } of stage.instructions) {
        if (keyword === "WORKDIR") {
          workdir = posix.resolve(workdir, args);
          mkdirSync(join(root, workdir), { recursive: true });
        } else if (keyword === "COPY") {
          replayCopy(parseCopy(args), root, workdir);
        } else if (keyword === "RUN") {
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
              !dockerIgnore.excludes(relative(contextRoot, path)),
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
      const [command, ...args] = execForm(instructionsOf(finalStage, "CMD")[0] ?? "");
      expect(command).to.equal("node");
      const finalRoot = stageRoot(dockerfile.stages.length - 1);
      const script = args.find((arg) => !arg.startsWith("-")) ?? "";
      expect(existsSync(join(finalRoot, posix.resolve(finalWorkdir, script))), script).to.equal(true);
      expect(
        readdirSync(finalRoot, { recursive: true }).some((path) => String(path).includes("node_modules")),
      ).to.equal(false);
    });

    it("starts from the bundle alone, passes its own HEALTHCHECK and stops cleanly on SIGTERM", async () => {
      const [, ...args] = execForm(instructionsOf(finalStage, "CMD")[0] ?? "");
      const finalRoot = stageRoot(dockerfile.stages.length - 1);
      const service = await startServiceProcess(args, {
        cwd: join(finalRoot, finalWorkdir),
        env: { ...stageEnv(finalStage), PORT: "0", HOST: "127.0.0.1" },
      });
      try {
        const healthcheck = (instructionsOf(finalStage, "HEALTHCHECK")[0] ?? "").replace(/^.*?\bCMD\s+/, "");
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
