/**
 * `npm run render -- --stack <name> --out <dir>`: validates a stack's settings and writes every file the stack
 * would deploy, rendered for the Docker stack (container aliases), so it can be read before `npm run up`.
 * Invalid settings list every problem, exit non-zero and write nothing. Secrets are never written: `render`
 * cannot decrypt them, and the files only reference them (Alertmanager reads its SMTP password from a file that
 * `pulumi up` uploads).
 */
import { randomInt } from "node:crypto";
import { chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, relative, resolve, sep } from "node:path";
import { parseArgs } from "node:util";
import { renderCompose } from "../configs/deployment/compose";
import { type RenderedFiles, writeRenderedFiles } from "../configs/runtime/layout";
import { SettingsError } from "../configs/settings/load";
import { projectName, readStackConfig, StackFileError, secretMarker } from "../configs/settings/stack-file";
import { repositoryRoot } from "../infra/repository";
import { stackInputs } from "../infra/stack-inputs";

/** Written into the output directory: the files the last render wrote, so the next one can remove stale ones. */
export const manifestFile = ".rendered-files.json";

const usage = `usage: npm run render -- [--stack <name>] [--out <dir>] [--project <dir>]
  --stack    stack whose Pulumi.<stack>.yaml is read (default: dev)
  --out      directory the files are written to (default: rendered)
  --project  directory of Pulumi.yaml (default: the repository)`;

interface RenderOptions {
  readonly stack: string;
  readonly out: string;
  readonly projectDir: string;
}

interface RenderResult {
  /** Paths written, relative to the output directory. */
  readonly written: readonly string[];
  /** Paths of an earlier render that this one no longer produces, removed. */
  readonly removed: readonly string[];
  readonly warnings: readonly string[];
  /** Whether this render generated the Grafana password into the environment file. */
  readonly generatedPassword: boolean;
}

/** The Compose file, beside the rendered files it mounts. */
export const composeFile = "compose.yaml";

/**
 * Compose's environment file, read by `docker compose` in this folder: the secrets' content, never in
 * compose.yaml. Mode 600, written once and kept across renders (and never removed as stale), so the Grafana
 * password a first render generated stays the password.
 */
export const secretsEnvFile = ".env";
export const composeSecretVariables = {
  grafanaAdminPassword: "WATCHTOWER_GRAFANA_ADMIN_PASSWORD",
  smtpPassword: "WATCHTOWER_SMTP_PASSWORD",
} as const;

/** 24 letters and digits, like the Pulumi program's generated password: typed into a form, pasted into shells. */
function generatedPassword(): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  return Array.from({ length: 24 }, () => alphabet[randomInt(alphabet.length)]).join("");
}

/** Adds a generated Grafana password to the environment file unless it holds one; returns whether it did. */
function ensureGrafanaPassword(out: string): boolean {
  const path = join(out, secretsEnvFile);
  const existing = existsSync(path) ? readFileSync(path, "utf8") : "";
  const variable = composeSecretVariables.grafanaAdminPassword;
  if (new RegExp(`^${variable}=.+$`, "m").test(existing)) return false;
  const separator = existing === "" || existing.endsWith("\n") ? "" : "\n";
  writeFileSync(path, `${existing}${separator}${variable}=${generatedPassword()}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
  return true;
}

/** Renders a stack into `out`; throws SettingsError (nothing written) when its settings are invalid. */
function renderStack(options: RenderOptions): RenderResult {
  const { warnings, plan, settings, ...rendered } = stackInputs(
    readStackConfig(options.projectDir, options.stack),
    projectName(options.projectDir),
    options.stack,
    { ruleTests: true },
  );
  const files: Record<string, string> = { ...rendered.files };
  // The load test's script files are mounted from here too, so the folder holds everything Compose mounts.
  for (const service of plan.services) for (const file of service.files) files[file.source] = file.content;
  files[composeFile] = renderCompose({
    plan,
    repositoryRoot: relative(resolve(options.out), repositoryRoot) || ".",
    secrets: {
      grafanaAdminPassword: { environment: composeSecretVariables.grafanaAdminPassword },
      // Compose bind-mounts a file secret with the file's own permissions: Alertmanager's user must read it.
      smtpPassword: settings.email.authPasswordFile
        ? { file: resolve(options.projectDir, settings.email.authPasswordFile) }
        : { environment: composeSecretVariables.smtpPassword },
    },
  });
  assertNoSecrets(files);
  const removed = removeStale(options.out, Object.keys(files));
  writeRenderedFiles(options.out, files);
  writeFileSync(join(options.out, manifestFile), `${JSON.stringify(Object.keys(files), null, 2)}\n`);
  const generated = ensureGrafanaPassword(options.out);
  return {
    written: Object.keys(files),
    removed,
    warnings,
    generatedPassword: generated,
  };
}

/** A secret read from the stack file is the marker; finding it in a file means a renderer wrote a secret. */
function assertNoSecrets(files: RenderedFiles): void {
  const leaking = Object.entries(files)
    .filter(([, content]) => content.includes(secretMarker))
    .map(([path]) => path);
  if (leaking.length > 0) throw new Error(`refusing to write a secret setting into ${leaking.join(", ")}`);
}

/** Removes files listed by the previous render's manifest that this render does not produce. */
function removeStale(out: string, current: readonly string[]): string[] {
  const manifest = join(out, manifestFile);
  if (!existsSync(manifest)) return [];
  const previous: unknown = JSON.parse(readFileSync(manifest, "utf8"));
  if (!Array.isArray(previous)) return [];
  const root = resolve(out);
  return previous
    .filter((path): path is string => typeof path === "string" && !current.includes(path))
    .filter((path) => resolve(root, path).startsWith(root + sep))
    .filter((path) => {
      const target = join(out, path);
      if (!existsSync(target)) return false;
      rmSync(target);
      return true;
    });
}

function main(argv: readonly string[]): number {
  let options: RenderOptions;
  try {
    const { values } = parseArgs({
      args: [...argv],
      options: {
        stack: { type: "string", default: "dev" },
        out: { type: "string", default: "rendered" },
        project: { type: "string", default: resolve(__dirname, "..") },
        help: { type: "boolean", default: false },
      },
      strict: true,
    });
    if (values.help) {
      console.log(usage);
      return 0;
    }
    options = { stack: values.stack, out: values.out, projectDir: values.project };
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n${usage}`);
    return 2;
  }

  try {
    const result = renderStack(options);
    for (const warning of result.warnings) console.warn(`warning: ${warning}`);
    console.log(`Rendered stack "${options.stack}" into ${options.out}:`);
    for (const path of result.written) console.log(`  wrote   ${join(options.out, path)}`);
    for (const path of result.removed)
      console.log(`  removed ${join(options.out, path)} (no longer rendered)`);
    if (result.generatedPassword) {
      console.log(
        `  wrote   ${join(options.out, secretsEnvFile)} (mode 600): a generated Grafana admin password for docker compose`,
      );
    }
    console.log(
      `Secrets are not written into any config file: pulumi up uploads them, and docker compose reads them from ${secretsEnvFile}` +
        ` (set ${composeSecretVariables.smtpPassword} there or in the environment when email.authUsername is set).`,
    );
    return 0;
  } catch (error) {
    if (error instanceof SettingsError) {
      console.error(`Stack "${options.stack}" has ${error.message}\nNothing was written.`);
      return 1;
    }
    if (error instanceof StackFileError) {
      console.error(`${error.message}\nNothing was written.`);
      return 1;
    }
    throw error;
  }
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
