/**
 * How tests find the real monitoring binaries. The pinned build comes first: the one in .tools/bin whose stamp
 * file says `npm run tools` built it from the module version configs/runtime/versions.ts pins. Outside CI another
 * build (a stale one in .tools/bin, or one on PATH) is used with a warning naming its version, and a missing
 * binary skips the tests that need it. Under CI=true both fail those tests instead: a CI run that checked the
 * wrong release, or silently skipped the real checks, would prove nothing.
 */
import { spawnSync } from "node:child_process";
import { accessSync, constants, readFileSync } from "node:fs";
import { delimiter, join } from "node:path";
import { type BinaryName, pinnedBuild, stampFile, toolsBinDir } from "../configs/runtime/tool-builds";

const isCI = process.env.CI === "true";

/** `--version` of a binary that is not the pinned build, for the warning; bounded, as the binary is unknown. */
const versionTimeoutMs = 10_000;

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function readStamp(name: BinaryName): string | undefined {
  try {
    return readFileSync(stampFile(name), "utf8").trim();
  } catch {
    return undefined;
  }
}

/** The first line the binary prints for `--version`, or why it printed none. */
function versionOf(path: string): string {
  const result = spawnSync(path, ["--version"], { encoding: "utf8", timeout: versionTimeoutMs });
  if (result.error) return `--version failed: ${result.error.message}`;
  const line = `${result.stdout}\n${result.stderr}`.split("\n").find((text) => text.trim() !== "");
  return line?.trim() ?? "--version printed nothing";
}

type Lookup = { readonly path: string } | { readonly problem: string };

/** One look-up per binary and process, so that a warning is printed once, not by every suite. */
const lookups = new Map<BinaryName, Lookup>();

function lookUp(name: BinaryName): Lookup {
  let lookup = lookups.get(name);
  if (lookup === undefined) {
    lookup = lookUpUncached(name);
    lookups.set(name, lookup);
  }
  return lookup;
}

function lookUpUncached(name: BinaryName): Lookup {
  const wanted = pinnedBuild(name);
  const toolsPath = join(toolsBinDir, name);
  const stamp = readStamp(name);
  const inTools = isExecutable(toolsPath);
  if (inTools && stamp === wanted) return { path: toolsPath };

  const notPinned = !inTools
    ? `.tools/bin has no ${name}`
    : stamp === undefined
      ? `.tools/bin/${name} has no stamp file`
      : `.tools/bin/${name} was built from ${stamp}`;
  const advice = `run \`npm run tools\` to build the pinned ${wanted} into .tools/bin`;
  const other = [toolsBinDir, ...(process.env.PATH ?? "").split(delimiter).filter(Boolean)]
    .map((dir) => join(dir, name))
    .find(isExecutable);
  if (other === undefined) return { problem: `${name} is missing (${notPinned}, none on PATH): ${advice}` };
  if (isCI) {
    return {
      problem: `${name} at ${other} (${versionOf(other)}) is not the pinned build (${notPinned}): ${advice}`,
    };
  }
  console.warn(
    `      warning: using ${other} (${versionOf(other)}), not the pinned ${wanted}: ${notPinned}; ${advice}`,
  );
  return { path: other };
}

/** The binary to run: the pinned build, or outside CI another one (with a warning); undefined if none will do. */
export function findBinary(name: BinaryName): string | undefined {
  const lookup = lookUp(name);
  return "path" in lookup ? lookup.path : undefined;
}

/**
 * Resolves the binaries a suite needs, for use in a `before` hook. Missing ones skip the suite with a message
 * naming `npm run tools`; under CI=true missing or unpinned ones throw.
 */
export function requireBinaries<N extends BinaryName>(ctx: Mocha.Context, ...names: N[]): Record<N, string> {
  const found = {} as Record<N, string>;
  const problems: string[] = [];
  for (const name of names) {
    const lookup = lookUp(name);
    if ("path" in lookup) found[name] = lookup.path;
    else problems.push(lookup.problem);
  }
  if (problems.length > 0) {
    const message = problems.join("; ");
    if (isCI) throw new Error(`CI=true requires the pinned binaries: ${message}`);
    console.warn(`      skipped: ${message}`);
    ctx.skip();
  }
  return found;
}
