/**
 * Everything a stack is deployed from, computed before anything is created: its settings validated, every file
 * rendered, custom rules judged by promtool, and the deployment plan. The Pulumi program and `npm run render`
 * both start here, so they cannot differ in what they deploy.
 */
import { appImageTag, type DeploymentPlan, deploymentPlan, stackPrefix } from "../configs/deployment/plan";
import { loadtestScriptFiles } from "../configs/loadtest/plan";
import { renderAll } from "../configs/render";
import { dockerEndpoints } from "../configs/runtime/docker-endpoints";
import type { Endpoints } from "../configs/runtime/endpoints";
import { type RenderedFiles, renderedPaths } from "../configs/runtime/layout";
import type { Settings } from "../configs/settings/schema";
import { loadSettings } from "../configs/validate";
import { readRepositoryFiles } from "./repository";
import { judgeCustomRules } from "./rules-judge";

export interface StackInputs {
  readonly settings: Settings;
  /** Valid but risky settings, and checks that could not run. */
  readonly warnings: readonly string[];
  readonly endpoints: Endpoints;
  readonly files: RenderedFiles;
  readonly plan: DeploymentPlan;
}

/** Throws SettingsError, listing every problem with its key path, when the settings are invalid. */
export function stackInputs(rawSettings: unknown, project: string, stack: string): StackInputs {
  const { settings, warnings } = loadSettings(rawSettings);
  const endpoints = dockerEndpoints(settings);
  const files = renderAll(settings, endpoints);
  const unjudged = judgeCustomRules(settings, files[renderedPaths.alertRules] ?? "");
  const prefix = stackPrefix(project, stack);
  const plan = deploymentPlan({
    settings,
    endpoints,
    files,
    loadtestScript: settings.loadtest.enabled ? readRepositoryFiles(loadtestScriptFiles) : {},
    prefix,
    appImageTag: appImageTag(prefix, stack),
  });
  return { settings, warnings: unjudged ? [...warnings, unjudged] : warnings, endpoints, files, plan };
}
