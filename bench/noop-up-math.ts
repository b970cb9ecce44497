/**
 * The arithmetic of the noop-up part (./noop-up.ts), kept pure so its test runs in milliseconds: reading the
 * probe's line (./noop-up-probe.cjs) and turning its marks into the phases of one run of the program.
 */

/** Milliseconds since the child process's time origin (its start), as the probe marked them. */
export interface ProbeMarks {
  /** The probe itself loaded: Node.js has started. */
  readonly probeLoaded: number;
  /** `require` of the program (package.json's `main`) began: the SDK is loaded and ts-node registered. */
  readonly programLoadStart: number;
  /** The program module and everything it imports are loaded (and compiled). */
  readonly programLoaded: number;
  /** The SDK called the program's exported function. */
  readonly programStart: number;
  /** The program's promise settled: every resource is declared. */
  readonly programEnd: number;
  readonly preflightStart?: number;
  readonly preflightEnd?: number;
  readonly inputsStart?: number;
  readonly inputsEnd?: number;
  /** The process is exiting: every registration has been answered. */
  readonly exit: number;
}

export interface ProbeReport {
  readonly code: number;
  readonly marks: ProbeMarks;
  readonly sums: {
    /** ts-node's compilation of the .ts modules, type-check included, or the reading of its cache. */
    readonly typescriptMs: number;
    readonly typescriptModules: number;
    /** The SDK serializing dynamic providers' closures, from call to settled; overlaps the resources phase. */
    readonly closureMs: number;
  };
}

const probePrefix = "noop-up-probe ";
const requiredMarks = [
  "probeLoaded",
  "programLoadStart",
  "programLoaded",
  "programStart",
  "programEnd",
  "exit",
] as const satisfies readonly (keyof ProbeMarks)[];

/** The probe's report in a child's standard error; throws, quoting the output, when it is missing or partial. */
export function parseProbeReport(stderr: string): ProbeReport {
  const line = stderr
    .split("\n")
    .reverse()
    .find((candidate) => candidate.startsWith(probePrefix));
  if (line === undefined) throw new Error(`the program's run printed no probe report; stderr:\n${stderr}`);
  const report = JSON.parse(line.slice(probePrefix.length)) as ProbeReport;
  const missing = requiredMarks.filter((mark) => typeof report.marks?.[mark] !== "number");
  if (missing.length > 0) {
    throw new Error(`the probe report lacks ${missing.join(", ")}: the program did not run to its end`);
  }
  return report;
}

/** The phases of one run, in milliseconds; together with `other` they add up to `whole`. */
export interface Phases {
  /** Process start to the program's `require`: Node.js, the Pulumi SDK (with the TypeScript compiler) and ts-node. */
  readonly sdk: number;
  /** ts-node compiling the program's modules: transpiling, type-checking, or reading its cache. */
  readonly typescript: number;
  /** Loading the program's modules, less their compilation: resolving and running them, and their packages. */
  readonly modules: number;
  /** `checkDocker`: the engine's `GET /version`. */
  readonly preflight: number;
  /** `stackInputs`: settings validated, every file rendered, the deployment plan. */
  readonly inputs: number;
  /** The rest of the program and its registrations under mocks, up to the process's exit. */
  readonly resources: number;
  /** What no mark covers: process creation before the time origin, and exit after the probe's last mark. */
  readonly other: number;
  /** As the parent measured it, from spawn to exit. */
  readonly whole: number;
  /** Within `resources`: the SDK serializing dynamic providers (the delivery check's), from call to settled. */
  readonly closure: number;
}

export const phaseNames = [
  "sdk",
  "typescript",
  "modules",
  "preflight",
  "inputs",
  "resources",
  "other",
] as const;
export type PhaseName = (typeof phaseNames)[number];

/** Readable names of the phases, for the table. */
export const phaseLabels: Readonly<Record<PhaseName | "whole", string>> = {
  sdk: "start, SDK, ts-node",
  typescript: "TypeScript compile",
  modules: "modules loaded",
  preflight: "Docker preflight",
  inputs: "settings, render, plan",
  resources: "resources under mocks",
  other: "process start and exit",
  whole: "whole run",
};

/** The label of `Phases.closure`, which is part of the resources phase, not a phase of its own. */
export const closureLabel = "of which dynamic provider serialized";

const span = (start: number | undefined, end: number | undefined) =>
  start === undefined || end === undefined ? 0 : Math.max(0, end - start);

/** The phases of a run whose probe reported `report` and which the parent timed at `wholeMs`. */
export function phasesOf(report: ProbeReport, wholeMs: number): Phases {
  const { marks, sums } = report;
  const load = span(marks.programLoadStart, marks.programLoaded);
  const typescript = Math.min(load, sums.typescriptMs);
  const preflight = span(marks.preflightStart, marks.preflightEnd);
  const inputs = span(marks.inputsStart, marks.inputsEnd);
  const resources = Math.max(0, span(marks.programStart, marks.exit) - preflight - inputs);
  const sdk = marks.programLoadStart;
  const marked = sdk + load + preflight + inputs + resources;
  return {
    sdk,
    typescript,
    modules: load - typescript,
    preflight,
    inputs,
    resources,
    other: Math.max(0, wholeMs - marked),
    whole: wholeMs,
    closure: sums.closureMs,
  };
}

/** Each phase's share of the whole, in percent. */
export function shares(phases: Phases): Record<PhaseName, number> {
  const total = phases.whole > 0 ? phases.whole : 1;
  return Object.fromEntries(phaseNames.map((name) => [name, (100 * phases[name]) / total])) as Record<
    PhaseName,
    number
  >;
}

/** "TypeScript compile 76%, modules loaded 3%, ...": the shares of the medians, largest first, above 0.5%. */
export function formatShares(median: Phases): string {
  const of = shares(median);
  return phaseNames
    .filter((name) => of[name] >= 0.5)
    .sort((a, b) => of[b] - of[a])
    .map((name) => `${phaseLabels[name]} ${Math.round(of[name])}%`)
    .join(", ");
}
