/**
 * The user's files that the plan names (TLS material of `hosts[].docker`), read where the program or render
 * runs: relative to the project directory. Reading them is input, kept out of the pure plan.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { DeploymentPlan } from "../configs/deployment/plan";
import { SettingsError } from "../configs/settings/load";

/**
 * The content of every file the plan hands a service or gives a provider, by the path the settings give.
 * Throws SettingsError naming the setting of every file that cannot be read, before anything is created.
 */
export function readUserFiles(plan: DeploymentPlan, projectDir: string): Record<string, string> {
  const named = [
    ...plan.services.flatMap((service) => service.copies ?? []),
    ...plan.machines.flatMap((machine) => (machine.tls ? Object.values(machine.tls) : [])),
  ];
  const contents: Record<string, string> = {};
  const problems: string[] = [];
  for (const { path, setting } of named) {
    try {
      contents[path] = readFileSync(resolve(projectDir, path), "utf8");
    } catch (error) {
      problems.push(`${setting}: cannot read ${path}: ${(error as Error).message}`);
    }
  }
  if (problems.length > 0) throw new SettingsError(problems);
  return contents;
}
