/**
 * The noop-up bench part's arithmetic (bench/noop-up-math.ts): reading the probe's report and splitting a run
 * into phases. The part itself runs the program for minutes and is run by `npm run bench -- --only noop-up`;
 * how fast anything was is for the benchmark to measure, never for a test to assert.
 */
import { expect } from "chai";
import {
  formatShares,
  type ProbeReport,
  parseProbeReport,
  phaseNames,
  phasesOf,
  shares,
} from "../bench/noop-up-math";

const report: ProbeReport = {
  code: 0,
  marks: {
    probeLoaded: 60,
    programLoadStart: 700,
    programLoaded: 7300,
    programStart: 7310,
    preflightStart: 7311,
    preflightEnd: 7318,
    inputsStart: 7320,
    inputsEnd: 7400,
    programEnd: 7800,
    exit: 8200,
  },
  sums: { typescriptMs: 6300, typescriptModules: 66, closureMs: 450 },
};

const stderr = (line: string) => `warning: [runtime] something\n${line}\n`;

describe("the noop-up bench part's arithmetic", () => {
  it("reads the probe's last report from a child's standard error", () => {
    const parsed = parseProbeReport(stderr(`noop-up-probe ${JSON.stringify(report)}`));
    expect(parsed).to.deep.equal(report);
  });

  it("names what is missing when the program did not run to its end", () => {
    expect(() => parseProbeReport("Error: cannot find module\n")).to.throw(
      /no probe report.*\n.*cannot find/s,
    );
    const { exit: _exit, programEnd: _end, ...partial } = report.marks;
    expect(() =>
      parseProbeReport(stderr(`noop-up-probe ${JSON.stringify({ ...report, marks: partial })}`)),
    ).to.throw("lacks programEnd, exit");
  });

  it("splits a run into phases that add up to the whole the parent measured", () => {
    const phases = phasesOf(report, 8300);
    expect(phases).to.include({
      sdk: 700,
      typescript: 6300,
      modules: 300,
      preflight: 7,
      inputs: 80,
      resources: 890 - 87,
      other: 8300 - 700 - 6600 - 890,
      whole: 8300,
      closure: 450,
    });
    const sum = phaseNames.reduce((total, name) => total + phases[name], 0);
    expect(sum).to.be.closeTo(phases.whole, 1e-9);
    const percent = Object.values(shares(phases)).reduce((total, share) => total + share, 0);
    expect(percent).to.be.closeTo(100, 1e-9);
  });

  it("treats a run without preflight or inputs marks (a program that skipped them) as spending nothing there", () => {
    const { preflightStart: _a, preflightEnd: _b, inputsStart: _c, inputsEnd: _d, ...marks } = report.marks;
    const phases = phasesOf({ ...report, marks }, 8300);
    expect(phases).to.include({ preflight: 0, inputs: 0, resources: 890 });
  });

  it("lists the shares largest first and leaves out those under half a percent", () => {
    expect(formatShares(phasesOf(report, 8300))).to.equal(
      "TypeScript compile 76%, resources under mocks 10%, start, SDK, ts-node 8%, modules loaded 4%, " +
        "process start and exit 1%, settings, render, plan 1%",
    );
  });
});
