/**
 * Mocha glue: one stack per `describe`, started in `before` and stopped in `after`, shared by the scenarios in
 * it. Scenarios run in order and each leaves the stack as it found it (every process up, no alert of its own
 * still firing), so that the next can rely on it.
 */
import type { SettingsInput } from "../configs/settings/schema";
import { requireBinaries } from "../test-support/binaries";
import { stopGraceMs } from "../test-support/processes";
import { mochaTimeoutMs } from "./budgets";
import { readinessTimeoutMs, Stack } from "./stack";

/**
 * The processes start side by side, each waiting for its readiness; if one fails, the others are stopped, all
 * at once, each given its grace. Stopping the suite's stack is the same.
 */
const startTimeoutMs = mochaTimeoutMs(readinessTimeoutMs, stopGraceMs);
const stopTimeoutMs = mochaTimeoutMs(stopGraceMs);

export interface RunningSuite {
  readonly stack: Stack;
  /** Path of the k6 binary, when the suite asked for it. */
  readonly k6: string | undefined;
}

/**
 * Registers the hooks of the calling `describe` and returns an accessor for its stack. Missing binaries skip
 * the suite outside CI and fail it under CI=true (see test-support/binaries.ts).
 */
/** The suite's settings, or a function that makes them when the suite starts (to pick free ports, say). */
export type SuiteSettings = SettingsInput | (() => Promise<SettingsInput>);

export function useStack(settings: SuiteSettings, options: { withK6: boolean }): () => RunningSuite {
  let running: RunningSuite | undefined;
  before(async function () {
    this.timeout(startTimeoutMs);
    const { prometheus, alertmanager, k6 } = options.withK6
      ? requireBinaries(this, "prometheus", "alertmanager", "k6")
      : { ...requireBinaries(this, "prometheus", "alertmanager"), k6: undefined };
    const resolved = typeof settings === "function" ? await settings() : settings;
    running = {
      stack: await Stack.start({ settings: resolved, binaries: { prometheus, alertmanager } }),
      k6,
    };
  });
  after(async function () {
    this.timeout(stopTimeoutMs);
    await running?.stack.stop();
    running = undefined;
  });
  return () => {
    if (!running)
      throw new Error("the end-to-end stack is not running: see the failure of the `before all` hook");
    return running;
  };
}
