import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";
import { parse } from "yaml";
import { loadSettings } from "../configs/validate";
import { fakeDocker } from "../test-support/fake-docker";
import { mockProject } from "../test-support/pulumi-mocks";
import { repositoryRoot } from "./repository";

const run = promisify(execFile);

function readYaml(file: string): Record<string, unknown> {
  return parse(fs.readFileSync(path.join(repositoryRoot, file), "utf8")) as Record<string, unknown>;
}

/** `a.b.c` for every leaf of a settings object; arrays are leaves. */
function leafPaths(value: unknown, prefix = ""): string[] {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return [prefix];
  return Object.entries(value)
    .filter(([, element]) => element !== undefined)
    .flatMap(([key, element]) => leafPaths(element, prefix === "" ? key : `${prefix}.${key}`));
}

describe("the Pulumi project", () => {
  const project = readYaml("Pulumi.yaml");
  const packageJson = JSON.parse(fs.readFileSync(path.join(repositoryRoot, "package.json"), "utf8")) as {
    name: string;
    main: string;
  };

  it("is a TypeScript program that runs from the project root, with its state in the project", () => {
    expect(project.name).to.equal(mockProject);
    expect(project.runtime).to.deep.equal({ name: "nodejs", options: { typescript: true } });
    expect(project.backend).to.deep.equal({ url: "file://." });
    // No `main`: Pulumi would run the program from that directory, away from tsconfig.json and node_modules.
    expect(project).not.to.have.property("main");
    expect(packageJson.main).to.equal("infra/index.ts");
    expect(fs.existsSync(path.join(repositoryRoot, packageJson.main))).to.equal(true);
  });

  describe("the dev stack's settings file", () => {
    const stackFile = readYaml("Pulumi.dev.yaml");
    const config = stackFile.config as Record<string, unknown>;
    const raw = Object.fromEntries(
      Object.entries(config).map(([key, value]) => [key.slice(key.indexOf(":") + 1), value]),
    );

    it("holds the project's settings only", () => {
      for (const key of Object.keys(config)) expect(key).to.match(new RegExp(`^${mockProject}:`));
    });

    it("spells out every default, so that editing it is how a setting changes", () => {
      const defaults = loadSettings({}).settings;
      expect(loadSettings(raw).settings).to.deep.equal(defaults);
      // requireTls is derived from smarthost unless set; the file explains both instead of fixing one.
      const derived = ["email.requireTls"];
      expect(leafPaths(raw).sort()).to.deep.equal(
        leafPaths(defaults)
          .filter((leaf) => !derived.includes(leaf))
          .sort(),
      );
    });

    it("explains every group of settings, and every setting or run of related settings, with a comment", () => {
      const lines = fs.readFileSync(path.join(repositoryRoot, "Pulumi.dev.yaml"), "utf8").split("\n");
      const isComment = (line: string | undefined) => /^\s+#/.test(line ?? "");
      lines.forEach((line, index) => {
        if (/^ {2}\S+:$/.test(line))
          expect(isComment(lines[index + 1]), `below "${line.trim()}"`).to.equal(true);
        if (!/^ {4}\w+:/.test(line)) return;
        let above = index - 1;
        while (/^ {4}\w+:/.test(lines[above] ?? "")) above -= 1;
        expect(isComment(lines[above]), `above "${line.trim()}"`).to.equal(true);
      });
    });
  });

  it("loads and runs as Pulumi runs it: ts-node, the project's tsconfig.json, type-checked", async function () {
    let outputNames: unknown;
    this.timeout(90_000);
    // Nothing from this shell may change how Pulumi compiles: no PULUMI_NODEJS_* or TS_NODE_* overrides, and an
    // empty ts-node cache, which would otherwise skip type-checking files it compiled before.
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([key]) => !/^(PULUMI_|TS_NODE_)/.test(key)),
    ) as NodeJS.ProcessEnv;
    const cacheDirectory = fs.mkdtempSync(path.join(os.tmpdir(), "ts-node-cache-"));
    // The program checks Docker before its first resource: a stand-in answers as Engine 20.10 would.
    const docker = await fakeDocker("1.41");
    try {
      const { stdout } = await run(
        process.execPath,
        [path.join(__dirname, "..", "test-support", "load-as-pulumi.cjs")],
        {
          cwd: repositoryRoot,
          env: {
            ...env,
            PULUMI_NODEJS_TYPESCRIPT: "true",
            TS_NODE_CACHE_DIRECTORY: cacheDirectory,
            DOCKER_HOST: docker.host,
          },
          timeout: 80_000,
        },
      );
      outputNames = JSON.parse(stdout.trim().split("\n").pop() ?? "");
    } finally {
      fs.rmSync(cacheDirectory, { recursive: true, force: true });
      await docker.close();
    }
    expect(outputNames).to.deep.equal([
      "appUrl",
      "prometheusUrls",
      "alertmanagerUrls",
      "grafanaUrl",
      "mailpitUrl",
      "grafanaAdminUser",
      "grafanaAdminPassword",
      "loadtestRerun",
      "deliveryCheck",
    ]);
  });
});
