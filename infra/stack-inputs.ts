/**
 * Everything a stack is deployed from, computed before anything is created: its settings validated, every file
 * rendered and the deployment plan (configs/pipeline.ts), around it the load test's script read from the
 * repository and custom rules judged by promtool. The Pulumi program and `npm run render` both start here, so
 * they cannot differ in what they deploy.
 */
import type { DeploymentPlan } from "../configs/deployment/plan";
import { loadtestScriptFiles } from "../configs/loadtest/plan";
import { planStack } from "../configs/pipeline";
import type { RenderOptions } from "../configs/render";
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

/**
 * Throws SettingsError, listing every problem with its key path, when the settings are invalid. The rules'
 * unit tests are rendered only when `render` asks: nothing deployed reads them.
 */
export function stackInputs(
  rawSettings: unknown,
  project: string,
  stack: string,
  render: RenderOptions = { ruleTests: false },
): StackInputs {
  const { settings, warnings } = loadSettings(rawSettings);
  const loadtestScript = settings.loadtest.enabled ? readRepositoryFiles(loadtestScriptFiles) : {};
  const { endpoints, files, plan } = planStack({ settings, project, stack, loadtestScript, render });
  const unjudged = judgeCustomRules(settings, files[renderedPaths.alertRules] ?? "");
  return { settings, warnings: unjudged ? [...warnings, unjudged] : warnings, endpoints, files, plan };
}
