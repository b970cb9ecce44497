/** Looking up rendered files by their path in `configs/layout.ts`. */
import * as path from "node:path";
import type { RenderedFiles } from "../configs/layout";

/** The text of one rendered file; a missing one means the renderers and this program disagree on the layout. */
export function requireRendered(files: RenderedFiles, relativePath: string): string {
  const content = files[relativePath];
  if (content === undefined) {
    throw new Error(
      `the renderers produced no ${relativePath}; rendered: ${Object.keys(files).sort().join(", ")}`,
    );
  }
  return content;
}

/** Rendered files directly inside a directory of the layout, keyed by file name. */
export function renderedFilesIn(files: RenderedFiles, directory: string): Record<string, string> {
  return Object.fromEntries(
    Object.entries(files)
      .filter(([relativePath]) => path.posix.dirname(relativePath) === directory)
      .map(([relativePath, content]) => [path.posix.basename(relativePath), content]),
  );
}
