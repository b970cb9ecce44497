/**
 * The settings as every entry point loads them: the settings' own checks (configs/settings/load.ts) joined
 * with those of what reads them, the built-in alerts, the SLOs and the load test. Above all of them, so that
 * none of them, nor the settings, imports another to be validated.
 */
import { loadtestProblems } from "./loadtest/plan";
import { alertSettingFindings } from "./prometheus/built-in-alerts";
import { type CrossFieldProblem, type LoadedSettings, validateSettings } from "./settings/load";
import type { Settings } from "./settings/schema";
import { sloProblems } from "./slo/settings";

/**
 * The load test's plan derives from the HighRequestVolume threshold as much as from the load test's own
 * settings, so a problem depends on both groups. A disabled load test is never planned, so it cannot fail.
 */
function enabledLoadtestProblems(settings: Settings): CrossFieldProblem[] {
  if (!settings.loadtest.enabled) return [];
  return loadtestProblems(settings).map((message) => ({
    paths: [["loadtest"], ["alerts", "highRequestVolume"]],
    message,
  }));
}

function alertProblems(settings: Settings): CrossFieldProblem[] {
  return alertSettingFindings(settings).problems.map((problem) => ({
    paths: problem.keys.map((key) => ["alerts", problem.alert, key]),
    message: problem.message,
  }));
}

/** Validates raw settings (the stack's config without the project namespace) and applies the defaults. */
export function loadSettings(raw: unknown): LoadedSettings {
  return validateSettings(raw, {
    problems: (settings) => [
      ...alertProblems(settings),
      ...enabledLoadtestProblems(settings),
      ...sloProblems(settings),
    ],
    warnings: (settings) => alertSettingFindings(settings).warnings,
  });
}
