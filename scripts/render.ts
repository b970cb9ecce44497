/**
 * `npm run render -- --stack <name> --out <dir>`: validates a stack's settings and writes every file the stack
 * would deploy, rendered for the Docker stack (container aliases), so it can be read before `npm run up`.
 * Invalid settings list every problem, exit non-zero and write nothing. Secrets are never written: `render`
 * cannot decrypt them, and the files only reference them (Alertmanager reads its SMTP password from a file that
 * `pulumi up` uploads).
 */
import { randomInt } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { parseArgs } from "node:util";
import { type ComposeSecretSource, renderCompose, renderMachineCompose } from "../configs/deployment/compose";
import type { DeploymentPlan, PlannedSecretSource, SecretName } from "../configs/deployment/plan";
import { type RenderedFiles, renderedPaths, writeRenderedFiles } from "../configs/runtime/layout";
import { SettingsError } from "../configs/settings/load";
import type { Settings } from "../configs/settings/schema";
import { projectName, readStackConfig, StackFileError, secretMarker } from "../configs/settings/stack-file";
import { repositoryRoot } from "../infra/repository";
import { stackInputs } from "../infra/stack-inputs";
import { readUserFiles } from "../infra/user-files";

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
  /** The secrets this render generated into the environment file. */
  readonly generated: readonly SecretName[];
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
  hostExporterPassword: "WATCHTOWER_HOST_EXPORTER_PASSWORD",
} as const;

/**
 * The replicas' password for the exporters of `hosts[].docker`, as Compose mounts it: a file, so that the
 * replicas keep their read-only root (Compose copies a secret from the environment into the container), where
 * the rendered configs name it, so a Prometheus run on the rendered folder finds it too. Mode 644 for
 * Prometheus's user (nobody) through the bind mount; its folder, mode 700, keeps the host's other users out.
 * Written from the environment file on every render.
 */
export const hostExporterPasswordFile = renderedPaths.hostExporterPassword;

/** Where the rendered compose.yaml has Compose read each secret. */
export function composeSecretSources(
  settings: Settings,
  projectDir: string,
): Readonly<Record<SecretName, ComposeSecretSource>> {
  return {
    grafanaAdminPassword: { environment: composeSecretVariables.grafanaAdminPassword },
    // Compose bind-mounts a file secret with the file's own permissions: Alertmanager's user must read it.
    smtpPassword: settings.email.authPasswordFile
      ? { file: resolve(projectDir, settings.email.authPasswordFile) }
      : { environment: composeSecretVariables.smtpPassword },
    hostExporterPassword: { file: `./${hostExporterPasswordFile}` },
  };
}

/** Letters and digits, like the Pulumi program's generated passwords: typed into a form, pasted into shells. */
function generatedPassword(length: number): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  return Array.from({ length }, () => alphabet[randomInt(alphabet.length)]).join("");
}

/**
 * The value of each secret that render generates, from the environment file, where a generated one is added
 * unless the file holds it; returns the values and the secrets it generated now. The Grafana password is
 * always among them: render cannot decrypt a password the stack file holds as a Pulumi secret.
 */
function ensureGeneratedSecrets(
  out: string,
  sources: DeploymentPlan["secrets"],
): { values: Partial<Record<SecretName, string>>; generated: SecretName[] } {
  const lengths: Partial<Record<SecretName, number>> = { grafanaAdminPassword: 24 };
  for (const [secret, source] of Object.entries(sources) as [SecretName, PlannedSecretSource][]) {
    if (source.kind === "generated") lengths[secret] = source.length;
  }
  const path = join(out, secretsEnvFile);
  let content = existsSync(path) ? readFileSync(path, "utf8") : "";
  const values: Partial<Record<SecretName, string>> = {};
  const generated: SecretName[] = [];
  for (const [secret, length] of Object.entries(lengths) as [SecretName, number][]) {
    const variable = composeSecretVariables[secret];
    const existing = new RegExp(`^${variable}=(.+)$`, "m").exec(content)?.[1];
    if (existing !== undefined) {
      values[secret] = existing;
      continue;
    }
    const value = generatedPassword(length);
    const separator = content === "" || content.endsWith("\n") ? "" : "\n";
    content = `${content}${separator}${variable}=${value}\n`;
    values[secret] = value;
    generated.push(secret);
  }
  if (generated.length > 0) {
    mkdirSync(out, { recursive: true });
    writeFileSync(path, content, { mode: 0o600 });
    chmodSync(path, 0o600);
  }
  return { values, generated };
}

/** Renders a stack into `out`; throws SettingsError (nothing written) when its settings are invalid. */
function renderStack(options: RenderOptions): RenderResult {
  const { warnings, plan, settings, ...rendered } = stackInputs(
    readStackConfig(options.projectDir, options.stack),
    projectName(options.projectDir),
    options.stack,
    { ruleTests: true },
  );
  const userFiles = readUserFiles(plan, options.projectDir);
  const files: Record<string, string> = { ...rendered.files };
  for (const copy of plan.services.flatMap((service) => service.copies ?? [])) {
    const content = userFiles[copy.path];
    if (content === undefined) throw new Error(`${copy.setting}: ${copy.path} was not read`);
    files[copy.source] = content;
  }
  // The load test's script files are mounted from here too, so the folder holds everything Compose mounts.
  for (const service of plan.services) for (const file of service.files) files[file.source] = file.content;
  const composeInputs = {
    plan,
    repositoryRoot: relative(resolve(options.out), repositoryRoot) || ".",
    secrets: composeSecretSources(settings, options.projectDir),
  };
  files[composeFile] = renderCompose(composeInputs);
  const { values, generated } = ensureGeneratedSecrets(options.out, plan.secrets);
  const secretFiles: Record<string, string> = {};
  if (values.hostExporterPassword !== undefined) {
    secretFiles[hostExporterPasswordFile] = values.hostExporterPassword;
  }
  for (const machine of plan.machines) {
    const folder = renderedPaths.machineExporters(machine.name);
    files[folder.compose] = renderMachineCompose(composeInputs, machine.name, folder.dir);
    for (const service of plan.services.filter((candidate) => candidate.machine === machine.name)) {
      for (const { secret, derived } of service.secrets) {
        const value = values[secret];
        if (derived === undefined) continue;
        if (value === undefined)
          throw new Error(`${service.key} needs the secret ${secret}, which render has not`);
        files[derived.source] = derived.render(value);
      }
    }
  }
  assertNoSecrets(files);
  const removed = removeStale(options.out, [...Object.keys(files), ...Object.keys(secretFiles)]);
  writeRenderedFiles(options.out, files);
  writeRenderedFiles(options.out, secretFiles);
  for (const secretFile of Object.keys(secretFiles)) chmodSync(dirname(join(options.out, secretFile)), 0o700);
  // A machine's folder holds its exporter's private key, readable by the exporter's user (nobody) through the
  // bind mount: the folder, not the file, keeps the machine's other users out.
  for (const machine of plan.machines)
    chmodSync(join(options.out, renderedPaths.machineExporters(machine.name).dir), 0o700);
  const written = [...Object.keys(files), ...Object.keys(secretFiles)];
  writeFileSync(join(options.out, manifestFile), `${JSON.stringify(written, null, 2)}\n`);
  return { written, removed, warnings, generated };
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
    if (result.generated.length > 0) {
      console.log(
        `  wrote   ${join(options.out, secretsEnvFile)} (mode 600): generated ${result.generated.map((secret) => composeSecretVariables[secret]).join(", ")} for docker compose`,
      );
    }
    console.log(
      `Secrets are not written into any config file: pulumi up uploads them, and docker compose reads them from ${secretsEnvFile}` +
        (result.written.includes(hostExporterPasswordFile) ? ` and ${hostExporterPasswordFile}` : "") +
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
