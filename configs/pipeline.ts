/**
 * Settings in, the deployment plan and every rendered file out: the pure half of what a stack is deployed
 * from. Reading the load test's script and judging custom rules with promtool are input and output, done
 * around it by infra/stack-inputs.ts.
 */
import { appImageTag, type DeploymentPlan, deploymentPlan } from "./deployment/plan";
import { type RenderOptions, renderAll } from "./render";
import { dockerEndpoints, stackPrefix } from "./runtime/docker-endpoints";
import type { Endpoints } from "./runtime/endpoints";
import type { RenderedFiles } from "./runtime/layout";
import type { Settings } from "./settings/schema";

export interface PlanInputs {
  /** Validated settings, defaults applied (`loadSettings`). */
  readonly settings: Settings;
  readonly project: string;
  readonly stack: string;
  /** The load test's script files by repository path; empty while the load test is off. */
  readonly loadtestScript: Readonly<Record<string, string>>;
  readonly render: RenderOptions;
}

export interface PlannedStack {
  readonly endpoints: Endpoints;
  readonly files: RenderedFiles;
  readonly plan: DeploymentPlan;
}

export function planStack(inputs: PlanInputs): PlannedStack {
  const { settings, project, stack } = inputs;
  const prefix = stackPrefix(project, stack);
  const endpoints = dockerEndpoints(settings, prefix);
  const files = renderAll(settings, endpoints, inputs.render);
  const plan = deploymentPlan({
    settings,
    endpoints,
    files,
    loadtestScript: inputs.loadtestScript,
    prefix,
    appImageTag: appImageTag(prefix, stack),
  });
  return { endpoints, files, plan };
}
