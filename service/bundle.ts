/**
 * Bundles the service into one JavaScript file with esbuild, so that the Docker image's final stage needs
 * Node.js and that file, and none of the repository's node_modules (which also hold the Pulumi SDK).
 *
 * Usage: tsx service/bundle.ts <output directory>
 */
import { resolve } from "node:path";
import { build } from "esbuild";
import { engines } from "../package.json";

/** Name of the bundle inside the output directory; the Dockerfile's CMD runs it. */
const bundleFileName = "main.js";

/** Writes the bundle into `outDir` and returns its path. */
async function bundleService(outDir: string): Promise<string> {
  const outfile = resolve(outDir, bundleFileName);
  await build({
    entryPoints: [resolve(__dirname, "main.ts")],
    outfile,
    bundle: true,
    platform: "node",
    format: "cjs",
    target: `node${minimumNodeVersion(engines.node)}`,
    logLevel: "warning",
  });
  return outfile;
}

/** "20.19" from ">=20.19": the bundle must run on every Node.js the project supports, not only the image's. */
function minimumNodeVersion(range: string): string {
  const match = /^>=\s*(\d+(?:\.\d+){0,2})$/.exec(range.trim());
  if (!match?.[1])
    throw new Error(`package.json engines.node must read ">=<version>", got ${JSON.stringify(range)}`);
  return match[1];
}

if (require.main === module) {
  const [outDir, ...rest] = process.argv.slice(2);
  if (outDir === undefined || rest.length > 0) {
    console.error("usage: tsx service/bundle.ts <output directory>");
    process.exit(2);
  }
  bundleService(outDir).then(
    (outfile) => console.log(`bundled the service into ${outfile}`),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
