/**
 * Reads a stack's settings from `Pulumi.<stack>.yaml` without the Pulumi CLI, for `npm run render`. The Pulumi
 * program reads the same keys from the config the CLI hands it (`pulumi.runtime.allConfig()`, in
 * infra/stack-config.ts); both hand the result to `loadSettings`, so both see the same values.
 *
 * Secrets: `render` cannot decrypt a `{ secure: ... }` value, and must not write one anyway. Each becomes the
 * string `secretMarker`, so the settings still say that the secret is set (renderers only ever need to know
 * that, e.g. to reference Alertmanager's password file) while its value never enters the process.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";

/** What a secret setting holds when read from a stack file: "set, but not readable here". */
export const secretMarker = "[secret: set in the stack file, not decrypted by render]";

export function isSecretMarker(value: unknown): boolean {
  return value === secretMarker;
}

/** Error in a Pulumi project or stack file, naming the file. */
export class StackFileError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
    this.name = "StackFileError";
  }
}

/**
 * The stack's settings: each `<project>:<key>` of the stack file's `config`, without the project namespace.
 * Keys of other namespaces (providers such as `docker:host`) are left out. A missing stack file is an error:
 * a misspelt `--stack` would otherwise render or load-test the defaults under the wrong name.
 */
export function readStackConfig(projectDir: string, stack: string): Record<string, unknown> {
  const project = projectName(projectDir);
  const file = join(projectDir, `Pulumi.${stack}.yaml`);
  if (!existsSync(file)) {
    throw new StackFileError(
      file,
      `not found: stack "${stack}" has no settings file (is the stack name right?)`,
    );
  }
  const document = readYaml(file) ?? {};
  if (!isRecord(document)) throw new StackFileError(file, "must be a YAML mapping");
  const config = document.config ?? {};
  if (!isRecord(config))
    throw new StackFileError(file, "`config` must be a mapping of <namespace>:<key> to values");

  const prefix = `${project}:`;
  const settings: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config)) {
    if (!key.startsWith(prefix)) continue;
    settings[key.slice(prefix.length)] = withSecretsMarked(asStructured(value));
  }
  return settings;
}

/** The `name` of the Pulumi project in `projectDir`, the namespace of its config keys. */
export function projectName(projectDir: string): string {
  const file = join(projectDir, "Pulumi.yaml");
  if (!existsSync(file))
    throw new StackFileError(file, "not found: the Pulumi project file names the config namespace");
  const document = readYaml(file);
  const name = isRecord(document) ? document.name : undefined;
  if (typeof name !== "string" || name === "") throw new StackFileError(file, "has no project `name`");
  return name;
}

function readYaml(file: string): unknown {
  try {
    return parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new StackFileError(
      file,
      `is not valid YAML: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

/**
 * The Pulumi CLI hands each top-level value to the program as text, structured values as JSON, and the program
 * parses it as JSON where it can; the stack file reader does the same, so a value given as a JSON string
 * (`pulumi config set watchtower:scrape '{"interval":"10s"}'`) reads the same both ways.
 */
function asStructured(value: unknown): unknown {
  if (typeof value !== "string") return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

function withSecretsMarked(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withSecretsMarked);
  if (!isRecord(value)) return value;
  if (Object.keys(value).length === 1 && typeof value.secure === "string") return secretMarker;
  return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, withSecretsMarked(inner)]));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
