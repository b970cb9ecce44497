/**
 * `npm run tools`: builds the pinned Prometheus, promtool, Alertmanager, amtool and k6 into .tools/bin from the
 * Go module proxy, so the tests run exactly the releases that the Docker stack deploys. A binary already built
 * at the pinned version is kept; a stamp file beside it records which module version produced it.
 */
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type PinnedTool, pinnedTools } from "../configs/versions";
import { pinnedBuild, stampFile, toolsBinDir } from "../test-support/binaries";

const goEnv = { ...process.env, GOBIN: toolsBinDir, CGO_ENABLED: "0", GOFLAGS: "-buildvcs=false" };

/** The upstream Makefiles stamp the release into the binary this way; a plain Go build leaves it empty. */
function linkerFlags(tool: PinnedTool): string[] {
  if (tool.goModule.startsWith("github.com/prometheus/")) {
    return ["-ldflags", `-X github.com/prometheus/common/version.Version=${tool.version}`];
  }
  return [];
}

function isInstalled(binary: string, wanted: string): boolean {
  const stamp = stampFile(binary);
  return (
    existsSync(join(toolsBinDir, binary)) &&
    existsSync(stamp) &&
    readFileSync(stamp, "utf8").trim() === wanted
  );
}

/** A writable copy of the module source with placeholder pages where the web UI's build output would be. */
function sourceWithWebPlaceholders(tool: PinnedTool, webAssetDirs: readonly string[]): string {
  const download = execFileSync("go", ["mod", "download", "-json", `${tool.goModule}@${tool.goVersion}`], {
    env: goEnv,
    encoding: "utf8",
  });
  const { Dir: moduleDir } = JSON.parse(download) as { Dir: string };
  const copy = mkdtempSync(join(tmpdir(), `${tool.image.replace(/\W/g, "-")}-src-`));
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

function build(tool: PinnedTool, binary: string, packagePath: string): void {
  const pkg = packagePath ? `${tool.goModule}/${packagePath}` : tool.goModule;
  if (!tool.webAssetDirs) {
    execFileSync("go", ["install", ...linkerFlags(tool), `${pkg}@${tool.goVersion}`], {
      stdio: "inherit",
      env: goEnv,
    });
    return;
  }
  const source = sourceWithWebPlaceholders(tool, tool.webAssetDirs);
  try {
    execFileSync("go", ["build", ...linkerFlags(tool), "-o", join(toolsBinDir, binary), `./${packagePath}`], {
      cwd: source,
      stdio: "inherit",
      env: goEnv,
    });
  } finally {
    rmSync(source, { recursive: true, force: true });
  }
}

mkdirSync(toolsBinDir, { recursive: true });
for (const tool of pinnedTools) {
  for (const [binary, packagePath] of Object.entries(tool.binaries)) {
    const wanted = pinnedBuild(binary);
    if (isInstalled(binary, wanted)) {
      console.log(`${binary}: ${wanted} already installed`);
      continue;
    }
    console.log(`${binary}: building ${wanted}`);
    const started = Date.now();
    build(tool, binary, packagePath);
    writeFileSync(stampFile(binary), `${wanted}\n`);
    console.log(`${binary}: built in ${Math.round((Date.now() - started) / 1000)} s`);
  }
}
