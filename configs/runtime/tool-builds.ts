/**
 * Where `npm run tools` puts the pinned binaries and how a build is recognised: a stamp file beside each binary
 * names the Go package, the module version and the build tags it was built from, so a binary built otherwise is
 * never taken for the pinned one.
 */
import { join, resolve } from "node:path";
import { goTools } from "./versions";

export type BinaryName =
  | "prometheus"
  | "promtool"
  | "alertmanager"
  | "amtool"
  | "k6"
  | "mailpit"
  | "node_exporter"
  | "blackbox_exporter"
  | "docker-compose";

const repoRoot = resolve(__dirname, "..", "..");
export const toolsBinDir = join(repoRoot, ".tools", "bin");
/** The DOCKER_CONFIG whose cli-plugins directory `npm run tools` installs the pinned Compose into. */
export const dockerConfigDir = join(repoRoot, ".tools", "docker");

/** What the stamp file of the pinned build holds: the Go package, the module version and any build tags. */
export function pinnedBuild(name: BinaryName): string {
  for (const tool of goTools) {
    const packagePath = tool.binaries[name];
    if (packagePath === undefined) continue;
    const pkg = packagePath ? `${tool.goModule}/${packagePath}` : tool.goModule;
    const tags = tool.buildTags?.length ? ` tags=${tool.buildTags.join(",")}` : "";
    return `${pkg}@${tool.goVersion}${tags}`;
  }
  throw new Error(`configs/runtime/versions.ts pins no tool with a binary named ${name}`);
}

/** The stamp file `npm run tools` writes beside each binary it builds into .tools/bin. */
export function stampFile(name: BinaryName): string {
  return join(toolsBinDir, `.${name}.version`);
}
