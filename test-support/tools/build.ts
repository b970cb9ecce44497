/**
 * `npm run tools`: builds the pinned Prometheus, promtool, Alertmanager, amtool, k6, Mailpit, node exporter, the
 * blackbox exporter and Docker Compose into .tools/bin from the Go module proxy, so the tests run exactly the releases that the Docker
 * stack deploys.
 * A binary already built at the pinned version is kept; a stamp file beside it records which module version
 * produced it. Compose is also installed as a Docker CLI plugin under .tools/docker, the DOCKER_CONFIG that the
 * Docker tests set, so nothing outside the repository is touched.
 */
import { execFileSync, spawn } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import {
  type BinaryName,
  dockerConfigDir,
  pinnedBuild,
  stampFile,
  toolsBinDir,
} from "../../configs/runtime/tool-builds";
import { compose, type GoTool, goTools } from "../../configs/runtime/versions";

const repoRoot = resolve(__dirname, "..", "..");
/** A cold Go build prints nothing for minutes; a line this often says the build is still going. */
const heartbeatMs = 30_000;
// Static binaries: they also run in the busybox-based stand-in images (`npm run standins`).
const goEnv = { ...process.env, GOBIN: toolsBinDir, CGO_ENABLED: "0", GOFLAGS: "-buildvcs=false" };

/** The upstream release builds stamp the release into the binary this way; a plain Go build leaves a default. */
function buildFlags(tool: GoTool): string[] {
  const tags = tool.buildTags?.length ? ["-tags", tool.buildTags.join(",")] : [];
  if (!tool.versionVariable) return tags;
  const { name, withV } = tool.versionVariable;
  return [...tags, "-ldflags", `-X ${name}=${withV ? "v" : ""}${tool.version}`];
}

/** Runs `go` and prints the elapsed time every `heartbeatMs` until it ends. */
function go(binary: string, args: readonly string[], cwd?: string): Promise<void> {
  const started = Date.now();
  const heartbeat = setInterval(
    () => console.log(`${binary}: still building, ${Math.round((Date.now() - started) / 1000)} s`),
    heartbeatMs,
  );
  return new Promise<void>((resolvePromise, reject) => {
    const child = spawn("go", args, { cwd, stdio: "inherit", env: goEnv });
    child.on("error", reject);
    child.on("exit", (code, signal) =>
      code === 0 ? resolvePromise() : reject(new Error(`go ${args.join(" ")}: exit ${code ?? signal}`)),
    );
  }).finally(() => clearInterval(heartbeat));
}

function isInstalled(binary: BinaryName, wanted: string): boolean {
  const stamp = stampFile(binary);
  return (
    existsSync(join(toolsBinDir, binary)) &&
    existsSync(stamp) &&
    readFileSync(stamp, "utf8").trim() === wanted
  );
}

/** A writable copy of the module source with placeholder pages where the web UI's build output would be. */
function sourceWithWebPlaceholders(tool: GoTool, webAssetDirs: readonly string[]): string {
  const download = execFileSync("go", ["mod", "download", "-json", `${tool.goModule}@${tool.goVersion}`], {
    env: goEnv,
    encoding: "utf8",
  });
  const { Dir: moduleDir } = JSON.parse(download) as { Dir: string };
  const copy = mkdtempSync(join(tmpdir(), `${tool.goModule.replace(/\W/g, "-")}-src-`));
  cpSync(moduleDir, copy, { recursive: true });
  execFileSync("chmod", ["-R", "u+w", copy]);
  for (const dir of webAssetDirs) {
    mkdirSync(join(copy, dir), { recursive: true });
    writeFileSync(
      join(copy, dir, "index.html"),
      "<!doctype html><title>web UI not built</title><p>This binary was built for tests; use the API.</p>\n",
    );
  }
  return copy;
}

/**
 * The module of ours that `tool.buildModule` names, after checking that it requires the pinned version: its
 * go.mod and go.sum are in the repository, and the build must not change them (`go build` is read-only there).
 */
function buildModuleDir(tool: GoTool, buildModule: string, pkg: string): string {
  const dir = join(repoRoot, buildModule);
  const listed = execFileSync("go", ["list", "-m", "-f", "{{.Version}}", tool.goModule], {
    cwd: dir,
    env: goEnv,
    encoding: "utf8",
  }).trim();
  if (listed !== tool.goVersion) {
    throw new Error(
      `${buildModule}/go.mod requires ${tool.goModule}@${listed}, but configs/runtime/versions.ts pins ${tool.goVersion}: ` +
        `run \`go get -tool ${pkg}@${tool.goVersion}\` in ${buildModule}`,
    );
  }
  return dir;
}

async function build(tool: GoTool, binary: string, packagePath: string): Promise<void> {
  const pkg = packagePath ? `${tool.goModule}/${packagePath}` : tool.goModule;
  const output = join(toolsBinDir, binary);
  if (tool.buildModule) {
    await go(
      binary,
      ["build", ...buildFlags(tool), "-o", output, pkg],
      buildModuleDir(tool, tool.buildModule, pkg),
    );
    return;
  }
  if (!tool.webAssetDirs) {
    await go(binary, ["install", ...buildFlags(tool), `${pkg}@${tool.goVersion}`]);
    return;
  }
  const source = sourceWithWebPlaceholders(tool, tool.webAssetDirs);
  try {
    await go(binary, ["build", ...buildFlags(tool), "-o", output, `./${packagePath}`], source);
  } finally {
    rmSync(source, { recursive: true, force: true });
  }
}

/**
 * Makes `docker compose` find the pinned Compose: a symlink in the cli-plugins directory of the DOCKER_CONFIG
 * the tests use, relative so the checkout can move.
 */
function installCliPlugin(binary: string): void {
  const pluginDir = join(dockerConfigDir, "cli-plugins");
  const link = join(pluginDir, binary);
  const target = relative(pluginDir, join(toolsBinDir, binary));
  mkdirSync(pluginDir, { recursive: true });
  if (existsSync(link) && readlinkSync(link) === target) return;
  rmSync(link, { force: true });
  symlinkSync(target, link);
  console.log(`${binary}: installed as a Docker CLI plugin in ${relative(repoRoot, pluginDir)}`);
}

async function buildAll(): Promise<void> {
  mkdirSync(toolsBinDir, { recursive: true });
  const started = Date.now();
  for (const tool of goTools) {
    for (const [name, packagePath] of Object.entries(tool.binaries)) {
      const binary = name as BinaryName;
      const wanted = pinnedBuild(binary);
      if (isInstalled(binary, wanted)) {
        console.log(`${binary}: ${wanted} already installed`);
        continue;
      }
      console.log(`${binary}: building ${wanted}`);
      const toolStarted = Date.now();
      await build(tool, binary, packagePath);
      writeFileSync(stampFile(binary), `${wanted}\n`);
      console.log(`${binary}: built in ${Math.round((Date.now() - toolStarted) / 1000)} s`);
    }
  }
  for (const binary of Object.keys(compose.binaries)) installCliPlugin(binary);
  console.log(`tools: done in ${Math.round((Date.now() - started) / 1000)} s`);
}

buildAll().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
