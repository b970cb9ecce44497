/** The settings every built-in alert is made of: a switch, a severity, a `for` and, for rates, a window. */
import { z } from "zod";
import { durationSchema, positiveDurationSchema } from "./duration";

export const severitySchema = z.enum(["critical", "warning", "info"]);
export type Severity = z.infer<typeof severitySchema>;

/** Every built-in alert can be switched off and has its own severity. */
export const switchable = (severity: Severity) => ({
  enabled: z.boolean().default(true),
  severity: severitySchema.default(severity),
});

/** How long the condition must hold before the alert fires. */
export const forSetting = (value: string) => durationSchema.default(value);

/** The range a rate() or increase() looks back over. */
export const windowSetting = (value: string) => positiveDurationSchema.default(value);

/** rate() and increase() need several samples in their range to give a stable value: every window holds this many scrapes. */
export const minSamplesPerWindow = 4;
