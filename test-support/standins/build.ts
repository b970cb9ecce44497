/**
 * `npm run standins`: builds stand-ins for the images the stack pins, tagged exactly as configs/runtime/versions.ts pins
 * them, for the Docker tests on a machine that cannot pull from Docker Hub. Each is built from
 * test-support/standins/<name>/Dockerfile on a busybox base (Debian's busybox-static), with the pinned binaries
 * of `npm run tools` and files from the pinned Go modules, in a build context assembled in a temporary
 * directory; the Dockerfiles say what each stand-in does and does not do. The stack itself always names the
 * official images. A stand-in whose inputs did not change is kept (a label holds their digest), and an image at
 * a pinned tag that this script did not build, such as the official one, is never replaced.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
} from "node:fs";
import { delimiter, dirname, join } from "node:path";
import { type BinaryName, pinnedBuild, stampFile, toolsBinDir } from "../../configs/runtime/tool-builds";
import {
  alertmanager,
  blackboxExporter,
  type GoTool,
  grafanaImage,
  prometheus,
} from "../../configs/runtime/versions";
import { makeTempDir } from "../cleanup";
import {
  standinBaseImage as baseTag,
  dockerCommandTimeoutMs,
  runBounded,
  standinImages,
  standinLabel,
} from "../docker";

const standinsDir = __dirname;
const busybox = "/bin/busybox";
/** Far above what the largest build (the Node.js base, about 200 MB of context) takes on two busy cores. */
const buildTimeoutMs = 10 * 60_000;
const goEnv = { ...process.env, CGO_ENABLED: "0", GOFLAGS: "-buildvcs=false" };

type StandinName = keyof typeof standinImages;

interface Standin {
  /** Directory under test-support/standins, copied into the context first; "base" for the base image. */
  readonly name: StandinName | "base";
  readonly tag: string;
  /** Adds what the Dockerfile copies beyond the directory's own files. */
  readonly assemble: (context: string) => void;
  readonly buildArgs?: Readonly<Record<string, string>>;
}

function docker(args: readonly string[], timeoutMs = dockerCommandTimeoutMs): string {
  const result = runBounded("docker", args, { timeoutMs });
  if (result.status !== 0) {
    const output = `${result.stdout}\n${result.stderr}`.trim().split("\n").slice(-30).join("\n");
    throw new Error(`docker ${args.join(" ")} failed (exit ${result.status}):\n${output}`);
  }
  return result.stdout;
}

function copyInto(context: string, target: string, source: string): void {
  mkdirSync(dirname(join(context, target)), { recursive: true });
  cpSync(source, join(context, target), { recursive: true, dereference: true });
}

/** A binary of `npm run tools`, refused unless its stamp says it is the pinned build: the tag says it is. */
function pinnedBinary(name: BinaryName): string {
  const wanted = pinnedBuild(name);
  let stamp: string | undefined;
  try {
    stamp = readFileSync(stampFile(name), "utf8").trim();
  } catch {
    stamp = undefined;
  }
  if (stamp !== wanted) {
    throw new Error(
      `.tools/bin/${name} is not the pinned ${wanted} (stamp: ${stamp ?? "none"}): run \`npm run tools\``,
    );
  }
  return join(toolsBinDir, name);
}

/** The source of a pinned Go module (from the module cache that `npm run tools` filled). */
function moduleDir(tool: GoTool): string {
  const download = execFileSync("go", ["mod", "download", "-json", `${tool.goModule}@${tool.goVersion}`], {
    env: goEnv,
    encoding: "utf8",
  });
  return (JSON.parse(download) as { Dir: string }).Dir;
}

/** A program on PATH, as `command -v` finds it. */
function onPath(program: string): string {
  const found = (process.env.PATH ?? "")
    .split(delimiter)
    .filter(Boolean)
    .map((dir) => join(dir, program))
    .find((candidate) => existsSync(candidate));
  if (found === undefined) throw new Error(`${program} is not on PATH`);
  return found;
}

/** The host's node with every shared library and the loader that `ldd` lists, and its npm, under rootfs/. */
function assembleNode(context: string): void {
  const node = realpathSync(process.execPath);
  copyInto(context, "rootfs/usr/local/bin/node", node);
  const libraries = execFileSync("ldd", [node], { encoding: "utf8" })
    .split("\n")
    .map((line) => /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(line)?.[1])
    .filter((path): path is string => path !== undefined);
  if (libraries.length === 0) throw new Error(`ldd ${node} listed no libraries`);
  for (const library of libraries) copyInto(context, join("rootfs", library), library);
  // npm's bin/npm-cli.js, two levels below the package.
  const npm = dirname(dirname(realpathSync(onPath("npm"))));
  const { name } = JSON.parse(readFileSync(join(npm, "package.json"), "utf8")) as { name?: string };
  if (name !== "npm") throw new Error(`${npm} is not npm's package directory`);
  copyInto(context, "rootfs/usr/local/lib/node_modules/npm", npm);
  copyInto(context, "rootfs/etc/ssl/certs/ca-certificates.crt", "/etc/ssl/certs/ca-certificates.crt");
}

function buildGrafanaStandin(context: string): void {
  const version = grafanaImage.slice(grafanaImage.lastIndexOf(":") + 1);
  execFileSync(
    "go",
    [
      "build",
      "-trimpath",
      "-ldflags",
      `-s -w -X main.version=${version}`,
      "-o",
      join(context, "grafana"),
      ".",
    ],
    { cwd: join(standinsDir, "grafana"), env: goEnv, stdio: "inherit" },
  );
}

/** cAdvisor's stand-in: a small program of ours (cadvisor/main.go), as cAdvisor's module is not served here. */
function buildCadvisorStandin(context: string): void {
  execFileSync("go", ["build", "-trimpath", "-ldflags", "-s -w", "-o", join(context, "cadvisor"), "."], {
    cwd: join(standinsDir, "cadvisor"),
    env: goEnv,
    stdio: "inherit",
  });
}

const standins: readonly Standin[] = [
  { name: "base", tag: baseTag, assemble: (context) => copyInto(context, "busybox", busybox) },
  {
    name: "prometheus",
    tag: standinImages.prometheus,
    assemble: (context) => {
      for (const binary of ["prometheus", "promtool"] as const)
        copyInto(context, binary, pinnedBinary(binary));
      const source = moduleDir(prometheus);
      copyInto(context, "prometheus.yml", join(source, "documentation", "examples", "prometheus.yml"));
      for (const file of ["LICENSE", "NOTICE"]) copyInto(context, file, join(source, file));
    },
  },
  {
    name: "alertmanager",
    tag: standinImages.alertmanager,
    assemble: (context) => {
      for (const binary of ["alertmanager", "amtool"] as const)
        copyInto(context, binary, pinnedBinary(binary));
      copyInto(
        context,
        "alertmanager.yml",
        join(moduleDir(alertmanager), "examples", "ha", "alertmanager.yml"),
      );
    },
  },
  { name: "k6", tag: standinImages.k6, assemble: (context) => copyInto(context, "k6", pinnedBinary("k6")) },
  {
    name: "mailpit",
    tag: standinImages.mailpit,
    assemble: (context) => copyInto(context, "mailpit", pinnedBinary("mailpit")),
  },
  {
    name: "node-exporter",
    tag: standinImages["node-exporter"],
    assemble: (context) => copyInto(context, "node_exporter", pinnedBinary("node_exporter")),
  },
  {
    name: "blackbox-exporter",
    tag: standinImages["blackbox-exporter"],
    assemble: (context) => {
      copyInto(context, "blackbox_exporter", pinnedBinary("blackbox_exporter"));
      copyInto(context, "blackbox.yml", join(moduleDir(blackboxExporter), "blackbox.yml"));
    },
  },
  { name: "cadvisor", tag: standinImages.cadvisor, assemble: buildCadvisorStandin },
  { name: "grafana", tag: standinImages.grafana, assemble: buildGrafanaStandin },
  {
    name: "node",
    tag: standinImages.node,
    assemble: assembleNode,
    buildArgs: { NODE_VERSION: process.versions.node },
  },
];

/** Digest of a build context: every path, its type and executable bit, and its content or link target. */
function contextDigest(context: string, extra: string): string {
  const hash = createHash("sha256").update(extra);
  const paths = readdirSync(context, { recursive: true, encoding: "utf8" }).sort();
  for (const path of paths) {
    const full = join(context, path);
    const stat = lstatSync(full);
    hash.update(`\0${path}\0${stat.mode & 0o170111}\0`);
    if (stat.isSymbolicLink()) hash.update(readlinkSync(full));
    else if (stat.isFile()) hash.update(readFileSync(full));
  }
  return hash.digest("hex");
}

function imageId(tag: string): string {
  return docker(["image", "inspect", "--format", "{{.Id}}", tag]).trim();
}

/** The labels of the image at `tag`, or undefined when there is none. */
function labelsOf(tag: string): Record<string, string> | undefined {
  const result = runBounded("docker", ["image", "inspect", "--format", "{{json .Config.Labels}}", tag]);
  if (result.status !== 0) return undefined;
  return (JSON.parse(result.stdout) as Record<string, string> | null) ?? {};
}

function build(standin: Standin): void {
  const labels = labelsOf(standin.tag);
  if (labels !== undefined && labels[standinLabel] === undefined) {
    console.log(`${standin.tag}: an image not built by npm run standins (the official one?) is there: kept`);
    return;
  }
  const context = makeTempDir(`standin-${standin.name}-`);
  try {
    cpSync(join(standinsDir, standin.name), context.path, { recursive: true });
    standin.assemble(context.path);
    const buildArgs = { ...standin.buildArgs, ...(standin.name === "base" ? {} : { BASE: baseTag }) };
    const baseId = standin.name === "base" ? "" : imageId(baseTag);
    const digest = contextDigest(context.path, JSON.stringify({ buildArgs, baseId }));
    if (labels?.[standinLabel] === digest) {
      console.log(`${standin.tag}: stand-in up to date`);
      return;
    }
    const previous = labels === undefined ? undefined : imageId(standin.tag);
    console.log(`${standin.tag}: building the stand-in from test-support/standins/${standin.name}`);
    const started = Date.now();
    docker(
      [
        "build",
        // The stand-ins need nothing from the network: everything is in the context.
        "--network",
        "none",
        "--label",
        `${standinLabel}=${digest}`,
        ...Object.entries(buildArgs).flatMap(([name, value]) => ["--build-arg", `${name}=${value}`]),
        "-t",
        standin.tag,
        context.path,
      ],
      buildTimeoutMs,
    );
    console.log(`${standin.tag}: built in ${Math.round((Date.now() - started) / 1000)} s`);
    // The stand-in it replaces, now untagged; kept if a container still uses it.
    if (previous !== undefined && previous !== imageId(standin.tag))
      runBounded("docker", ["image", "rm", previous]);
  } finally {
    context.remove();
  }
}

/** The base image has no loader or libraries: its busybox must be the static one. */
function requireStaticBusybox(): void {
  const ldd = runBounded("ldd", [busybox]);
  if (!existsSync(busybox) || !`${ldd.stdout}${ldd.stderr}`.includes("not a dynamic executable")) {
    throw new Error(
      `${busybox} is missing or not static: install Debian's busybox-static (scripts/docker-engine.sh start does)`,
    );
  }
}

/** `npm run standins -- <name>…` builds only those (and the base); no names, every stand-in. */
const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !standins.some((standin) => standin.name === name));
if (unknown.length > 0) throw new Error(`no stand-in named ${unknown.join(", ")}`);
docker(["version", "--format", "{{.Server.Version}}"]);
requireStaticBusybox();
for (const standin of standins) {
  if (standin.name === "base" || wanted.length === 0 || wanted.includes(standin.name)) build(standin);
}
