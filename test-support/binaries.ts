/**
 * How tests find the real monitoring binaries: .tools/bin first (what `npm run tools` builds at the pinned
 * versions), then PATH. Outside CI a missing binary skips the tests that need it; under CI=true it fails them,
 * because a CI run that silently skipped the real checks would prove nothing.
 */
import { accessSync, constants } from "node:fs";
import { delimiter, join, resolve } from "node:path";

export const toolsBinDir = resolve(__dirname, "..", ".tools", "bin");

export type BinaryName = "prometheus" | "promtool" | "alertmanager" | "amtool" | "k6";

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function findBinary(name: BinaryName): string | undefined {
  const dirs = [toolsBinDir, ...(process.env.PATH ?? "").split(delimiter).filter(Boolean)];
  return dirs.map((dir) => join(dir, name)).find(isExecutable);
}

export const isCI = process.env.CI === "true";

/**
 * Resolves the binaries a suite needs, for use in a `before` hook. Missing ones skip the suite with a message
 * naming `npm run tools`, or throw under CI.
 */
export function requireBinaries<N extends BinaryName>(ctx: Mocha.Context, ...names: N[]): Record<N, string> {
  const found = {} as Record<N, string>;
  const missing: N[] = [];
  for (const name of names) {
    const path = findBinary(name);
    if (path) found[name] = path;
    else missing.push(name);
  }
  if (missing.length > 0) {
    const message = `missing ${missing.join(", ")}: run \`npm run tools\` to build the pinned versions into .tools/bin`;
    if (isCI) throw new Error(`CI=true and ${message}`);
    console.warn(`      skipped: ${message}`);
    ctx.skip();
  }
  return found;
}
