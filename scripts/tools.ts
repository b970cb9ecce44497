/**
 * `npm run tools`: builds the pinned Prometheus, promtool, Alertmanager, amtool and k6 into .tools/bin with
 * `go install`, so the tests run exactly the releases that the Docker stack deploys. A binary already built
 * at the pinned version is kept; a stamp file beside it records which module version produced it.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type PinnedTool, pinnedTools } from "../configs/versions";
import { toolsBinDir } from "../test-support/binaries";

/** The upstream Makefiles stamp the release into the binary this way; `go install` alone leaves it empty. */
function linkerFlags(tool: PinnedTool): string[] {
  if (tool.goModule.startsWith("github.com/prometheus/")) {
    return ["-ldflags", `-X github.com/prometheus/common/version.Version=${tool.version}`];
  }
  return [];
}

function stampPath(binary: string): string {
  return join(toolsBinDir, `.${binary}.version`);
}

function isInstalled(binary: string, wanted: string): boolean {
  const stamp = stampPath(binary);
  return (
    existsSync(join(toolsBinDir, binary)) &&
    existsSync(stamp) &&
    readFileSync(stamp, "utf8").trim() === wanted
  );
}

function install(tool: PinnedTool): void {
  for (const [binary, packagePath] of Object.entries(tool.binaries)) {
    const pkg = packagePath ? `${tool.goModule}/${packagePath}` : tool.goModule;
    const wanted = `${pkg}@${tool.goVersion}`;
    if (isInstalled(binary, wanted)) {
      console.log(`${binary}: ${wanted} already installed`);
      continue;
    }
    console.log(`${binary}: go install ${wanted}`);
    const started = Date.now();
    execFileSync("go", ["install", ...linkerFlags(tool), wanted], {
      stdio: "inherit",
      env: { ...process.env, GOBIN: toolsBinDir, CGO_ENABLED: "0" },
    });
    writeFileSync(stampPath(binary), `${wanted}\n`);
    console.log(`${binary}: built in ${Math.round((Date.now() - started) / 1000)} s`);
  }
}

mkdirSync(toolsBinDir, { recursive: true });
for (const tool of pinnedTools) install(tool);
