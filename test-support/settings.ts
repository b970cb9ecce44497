/** Settings as the tests load them. */
import { SettingsError } from "../configs/settings/load";
import { loadSettings } from "../configs/validate";

/** The problems loadSettings reports for an input, each a line of its message; none when it accepts it. */
export function settingsProblems(input: object): string[] {
  try {
    loadSettings(input);
  } catch (error) {
    if (error instanceof SettingsError) return error.problems;
    throw error;
  }
  return [];
}
