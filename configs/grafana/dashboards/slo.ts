/**
 * "SLOs": per enabled SLO, the error budget left over its window, the measured SLI beside the objective, and the
 * burn rate over every window the ErrorBudgetBurn alerts read, with the alerts' factors drawn as lines (red for
 * the pages, orange for the tickets). The burn rates are the recorded series the alerts compare, so a line
 * crossed on both windows of a pair is the alert firing.
 */
import type { Dashboard } from "@grafana/grafana-foundation-sdk/dashboard";
import { sloAlertNames } from "../../names";
import { formatDuration } from "../../settings/duration";
import type { Settings } from "../../settings/schema";
import { burnRate, errorRatioFromRecords, type Objective, objectives } from "../../slo/rules";
import { alertWindowsMs } from "../../slo/windows";
import { addSections, colors, newDashboard, stat, type ThresholdLine, timeSeries } from "../panels";

export const sloDashboard = {
  uid: "watchtower-slo",
  title: "SLOs",
  description:
    "Service level objectives: error budget left, SLI against objective, and burn rates against the ErrorBudgetBurn factors.",
} as const;

function factorLines(objective: Objective): ThresholdLine[] {
  return objective.pairs
    .map((pair) => ({ value: pair.factor, color: pair.severity === "critical" ? colors.bad : colors.warn }))
    .sort((a, b) => a.value - b.value);
}

function section(settings: Settings, objective: Objective) {
  const window = formatDuration(objective.windowMs);
  const budget = `(1 - ${objective.objective})`;
  const errorRatio = errorRatioFromRecords(settings, objective, objective.windowMs);
  const sli = `1 - (${errorRatio})`;
  const pairs = objective.pairs.map(
    (pair) => `${pair.factor} over ${pair.long} and ${pair.short} (${pair.severity})`,
  );
  return {
    title: `${objective.name}: ${objective.promise}`,
    panels: [
      stat({
        title: `Error budget left over ${window}`,
        description:
          `Share of the error budget (${budget}) not yet spent over the last ${window}: 100% with no bad request, 0% ` +
          "when the objective is exactly met, below 0 when it is missed.",
        unit: "percentunit",
        queries: [{ expr: `1 - (${errorRatio}) / ${budget}`, legend: "budget left" }],
        colors: {
          base: colors.bad,
          steps: [
            { value: 0, color: colors.warn },
            { value: 0.5, color: colors.ok },
          ],
        },
      }).span(8),
      stat({
        title: `SLI and objective over ${window}`,
        description: `The measured share of good requests over the last ${window}, beside the objective it must meet.`,
        unit: "percentunit",
        queries: [
          { expr: sli, legend: "measured" },
          { expr: `vector(${objective.objective})`, legend: "objective" },
        ],
        colors: { base: colors.bad, steps: [{ value: objective.objective, color: colors.ok }] },
      }).span(16),
      timeSeries({
        title: "Burn rate by window",
        description:
          `How many times as fast as the objective allows the budget burns, over each window the ${sloAlertNames.errorBudgetBurn} ` +
          `alerts read. 1 spends exactly the budget over ${window}. An alert fires when both windows of its pair are above ` +
          `its line: ${pairs.join("; ")}.`,
        unit: "short",
        queries: alertWindowsMs(settings).map((windowMs) => ({
          expr: burnRate(objective, windowMs),
          legend: formatDuration(windowMs),
        })),
        thresholdLines: factorLines(objective),
      }).span(24),
    ],
  };
}

/** The dashboard, or none while every SLO is disabled. */
export function buildSloDashboard(settings: Settings): Dashboard | undefined {
  const enabled = objectives(settings);
  if (enabled.length === 0) return undefined;
  return addSections(
    newDashboard(sloDashboard),
    enabled.map((objective) => section(settings, objective)),
  );
}
