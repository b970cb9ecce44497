/**
 * The direction of the house (shared STYLE.md, section 7): settings are the root, infra never reaches into
 * the command-line scripts, and test kits stay with the tests. Checked on the import statements themselves,
 * so that a new import against the flow fails here with the file that made it. Cycles are madge's to find
 * (`npm run lint`).
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { expect } from "chai";
import { repositoryRoot } from "../infra/repository";

/** Every TypeScript source under `folder`, relative to the repository root. */
function sources(folder: string): string[] {
  return readdirSync(join(repositoryRoot, folder), { recursive: true, encoding: "utf8" })
    .filter((path) => path.endsWith(".ts") && !path.includes("node_modules"))
    .map((path) => join(folder, path));
}

const isTest = (path: string) => path.endsWith(".test.ts");

/** The repository paths a file imports, from its relative `import`/`export ... from` specifiers. */
function importsOf(path: string): string[] {
  const text = readFileSync(join(repositoryRoot, path), "utf8");
  const specifiers = [...text.matchAll(/^(?:import|export)\s[^;]*?from\s+"(\.[^"]+)"/gms)].map(
    (match) => match[1] ?? "",
  );
  return specifiers.map((specifier) =>
    relative(repositoryRoot, resolve(repositoryRoot, dirname(path), specifier)),
  );
}

/** `file imports target` for every import of `files` that starts with one of `forbidden`. */
function violations(files: readonly string[], forbidden: readonly string[]): string[] {
  return files.flatMap((file) =>
    importsOf(file)
      .filter((target) => forbidden.some((folder) => target === folder || target.startsWith(`${folder}/`)))
      .map((target) => `${file} imports ${target}`),
  );
}

describe("the direction of the house", () => {
  it("finds the imports it checks", () => {
    expect(importsOf("configs/validate.ts")).to.include("configs/settings/load");
  });

  it("settings import nothing that reads them", () => {
    const above = ["prometheus", "slo", "grafana", "alertmanager", "loadtest", "blackbox", "deployment"].map(
      (folder) => `configs/${folder}`,
    );
    expect(
      violations(
        sources("configs/settings").filter((path) => !isTest(path)),
        [...above, "configs/render", "configs/validate"],
      ),
    ).to.deep.equal([]);
  });

  it("configs/ is pure: it imports neither the Pulumi program, the scripts nor the test kits", () => {
    const shipped = sources("configs").filter((path) => !isTest(path));
    expect(violations(shipped, ["infra", "scripts", "test-support", "e2e", "bench"])).to.deep.equal([]);
  });

  it("the Pulumi program never imports scripts/", () => {
    expect(violations(sources("infra"), ["scripts"])).to.deep.equal([]);
  });

  it("nothing outside the tests imports test-support/", () => {
    const shipped = ["configs", "infra", "scripts", "service", "loadtest"]
      .flatMap(sources)
      .filter((path) => !isTest(path));
    expect(violations(shipped, ["test-support"])).to.deep.equal([]);
  });
});
