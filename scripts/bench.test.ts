/**
 * A smoke test of `npm run bench`: the parts that take seconds, with tiny durations, through the real command
 * line. It checks the shape and the internal consistency of what is reported, never how fast anything was:
 * speed is for the benchmark to measure, not for a test to assert.
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { expect } from "chai";
import { dumpedInstructions } from "../bench/instructions";
import { firstMomentAbove } from "../bench/time-to-alert";
import { makeTempDir, type TempDir } from "../test-support/cleanup";

const repoRoot = resolve(__dirname, "..");

interface Measured {
  name: string;
  unit: string;
  median: number;
  rounds: number[];
}

interface ReportedFigure extends Measured {
  part: string;
  baseline?: Measured;
}

interface Report {
  machine: { cores: number; node: string };
  figures: ReportedFigure[];
  failures: { part: string; error: string }[];
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function bench(args: readonly string[], timeoutMs: number): Promise<Run> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      ["--import", "tsx", "bench/run.ts", ...args],
      { cwd: repoRoot, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : null) : 0;
        done({ code, stdout, stderr });
      },
    );
  });
}

function middle(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const half = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[half] as number)
    : ((sorted[half - 1] as number) + (sorted[half] as number)) / 2;
}

function expectConsistent(measured: Measured, where: string): void {
  expect(measured.rounds, `${where}: rounds`).to.be.an("array").that.is.not.empty;
  for (const value of measured.rounds)
    expect(Number.isFinite(value), `${where}: round ${value}`).to.equal(true);
  expect(measured.median, `${where}: the median of its rounds`).to.be.closeTo(middle(measured.rounds), 1e-9);
}

describe("npm run bench", () => {
  let dir: TempDir;
  before(() => {
    dir = makeTempDir("watchtower-bench-");
  });
  after(() => dir.remove());

  it("measures the http, scrape and cardinality parts and writes the table's figures as JSON", async function () {
    this.timeout(120_000);
    const jsonFile = join(dir.path, "bench.json");
    const run = await bench(
      [
        "--only",
        "http,scrape,cardinality",
        "--rounds",
        "1",
        "--duration",
        "1",
        "--warmup",
        "0",
        "--renders",
        "2",
        "--attack-requests",
        "200",
        "--json",
        jsonFile,
      ],
      110_000,
    );
    expect(run.code, run.stderr).to.equal(0);
    const report = JSON.parse(readFileSync(jsonFile, "utf8")) as Report;
    expect(report.failures).to.deep.equal([]);
    expect(report.machine.node).to.equal(process.version);
    expect(new Set(report.figures.map((figure) => figure.part))).to.deep.equal(
      new Set(["http", "scrape", "cardinality"]),
    );

    for (const figure of report.figures) {
      expectConsistent(figure, figure.name);
      if (figure.baseline) expectConsistent(figure.baseline, `${figure.name}, baseline`);
      expect(run.stdout, "the table").to.include(figure.name);
    }

    const throughputs = report.figures.filter((figure) => figure.part === "http" && figure.unit === "req/s");
    expect(throughputs, "a throughput per server").to.have.length(3);
    for (const figure of throughputs) expect(figure.median, figure.name).to.be.above(0);

    const synthetic = report.figures.find(
      (figure) => figure.name === "/metrics series, 10,000 synthetic request series",
    );
    expect(synthetic?.median, "series rendered from the 10,000-series registry").to.be.at.least(10_000);

    const requestSeries = report.figures.find((figure) => figure.name.startsWith("request series"));
    expect(requestSeries?.baseline, "request series before the attack").to.not.equal(undefined);
    expect(requestSeries?.rounds, "request series after each batch of random requests").to.satisfy(
      (rounds: number[]) => rounds.every((value) => value === requestSeries?.baseline?.median),
    );
  });

  it("refuses an unknown part, naming it and the parts there are", async function () {
    this.timeout(30_000);
    const run = await bench(["--only", "http,latency"], 25_000);
    expect(run.code).to.equal(2);
    expect(run.stderr).to.include(
      "--only: unknown part latency; the parts are http, instructions, scrape, cardinality, alert",
    );
  });

  // The instructions part itself is not run here: node's start-up alone takes a minute or more under callgrind.
  describe("the instructions of a callgrind dump", () => {
    it("are its summary line", () => {
      const dump =
        "version: 1\ncreator: callgrind-3.19.0\nevents: Ir\nsummary: 12999891\n\nfl=(1) ???\ntotals: 12999891\n";
      expect(dumpedInstructions(dump, "cg.out.2")).to.equal(12_999_891);
    });

    it("are refused, naming the file, when it has no summary", () => {
      expect(() => dumpedInstructions("version: 1\n", "cg.out.2")).to.throw("cg.out.2 has no");
    });
  });

  describe("the moment the request count in the window crosses the threshold", () => {
    it("is the first answer that makes the trailing window hold more than the limit", () => {
      expect(firstMomentAbove([0, 10, 20, 30], 25, 2)).to.equal(20);
    });

    it("counts an answer exactly one window old as out of the window, as the range (t - window, t] does", () => {
      expect(firstMomentAbove([0, 25, 50], 25, 1)).to.equal(undefined);
      expect(firstMomentAbove([0, 24, 50], 25, 1)).to.equal(24);
    });

    it("is undefined when the answers never crowd into one window", () => {
      expect(firstMomentAbove([0, 30, 60, 90], 25, 1)).to.equal(undefined);
      expect(firstMomentAbove([], 25, 0)).to.equal(undefined);
    });
  });
});
