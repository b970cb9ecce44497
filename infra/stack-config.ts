/**
 * The stack's settings as `loadSettings` takes them: every key of the Pulumi project's config namespace, with
 * the namespace removed (`watchtower:alerts` → `alerts`).
 *
 * Values are read with Pulumi's raw getter. `pulumi config set --secret --path email.authPassword` marks the
 * whole `email` key secret, so reading it through `Config.getObject` would be Pulumi's "secret read as plain"
 * case; the raw getter neither warns nor wraps, which keeps validation synchronous. The two settings that
 * really are secret (`secretSettingPaths`) are wrapped with `pulumi.secret` by the components that use them,
 * and validation never prints them.
 */
import * as pulumi from "@pulumi/pulumi";

/**
 * The Pulumi CLI hands every config value to the program as a string: structured values as JSON, scalars as
 * their text. Keys that are not JSON (`bindAddress: 0.0.0.0` given as a top-level string) stay strings, so the
 * settings' validation reports them against the key they were given for.
 */
function parseConfigValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * Every key of the project's namespace, unknown ones included: a misspelt top-level key is then reported by
 * validation instead of being silently ignored.
 */
export function readStackSettings(project: string = pulumi.getProject()): Record<string, unknown> {
  const prefix = `${project}:`;
  const raw: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(pulumi.runtime.allConfig())) {
    if (key.startsWith(prefix)) raw[key.slice(prefix.length)] = parseConfigValue(value);
  }
  return raw;
}
