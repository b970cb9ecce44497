/** The repository on disk: the app's build context and the home of the files the load test runs. */
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";

export const repositoryRoot = resolve(__dirname, "..");

/** Files of the repository by their path relative to its root. */
export function readRepositoryFiles(relativePaths: readonly string[]): Record<string, string> {
  return Object.fromEntries(
    relativePaths.map((relativePath) => [
      relativePath,
      readFileSync(join(repositoryRoot, relativePath), "utf8"),
    ]),
  );
}
