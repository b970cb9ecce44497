/**
 * The arithmetic of the bench's scale part (bench/scale-math.ts). The part itself runs twenty-odd processes
 * for minutes, so `npm test` never runs it: `npm run bench -- --only scale` does.
 */
import { expect } from "chai";
import {
  addedPerInstance,
  parseInstanceCounts,
  type ReplicaReading,
  readinessQueries,
  readingQueries,
  ruleGroupsQuery,
  type ScaleReading,
  scaleFigures,
  scaleTargets,
} from "../bench/scale-math";
import { promqlErrors } from "../configs/promql/lint";
import { loadSettings } from "../configs/validate";

const mib = 2 ** 20;

function replica(overrides: Partial<ReplicaReading> = {}): ReplicaReading {
  return {
    scrapeMeanSeconds: 0.002,
    scrapeMaxSeconds: 0.01,
    ruleEvaluationSeconds: 0.02,
    rules: 38,
    headSeries: 2700,
    residentBytes: 100 * mib,
    cpuCores: 0.02,
    failedScrapes: 0,
    ...overrides,
  };
}

describe("the scale bench's arithmetic", () => {
  describe("--scale-instances", () => {
    it("reads ascending counts, spaces allowed", () => {
      expect(parseInstanceCounts("1,5,20")).to.deep.equal([1, 5, 20]);
      expect(parseInstanceCounts(" 2 , 3")).to.deep.equal([2, 3]);
      expect(parseInstanceCounts("7")).to.deep.equal([7]);
    });

    for (const text of ["", "0,5", "1,x", "1.5", "-1", "1,,5"]) {
      it(`refuses ${JSON.stringify(text)} as not whole numbers of at least 1`, () => {
        expect(() => parseInstanceCounts(text)).to.throw(RangeError, "whole numbers of at least 1");
      });
    }

    for (const text of ["5,1", "1,5,5"]) {
      it(`refuses ${JSON.stringify(text)}, which does not ascend`, () => {
        expect(() => parseInstanceCounts(text)).to.throw(RangeError, "ascend without repeats");
      });
    }
  });

  it("makes each address its own target job with the HTTP contract, which the settings accept", () => {
    const targets = scaleTargets(["127.0.0.1:20001", "127.0.0.1:20002"]);
    expect(targets).to.deep.equal([
      { job: "app-1", addresses: ["127.0.0.1:20001"], httpContract: true },
      { job: "app-2", addresses: ["127.0.0.1:20002"], httpContract: true },
    ]);
    const { settings } = loadSettings({ targets });
    expect(settings.targets.map((target) => target.job)).to.deep.equal(["app-1", "app-2"]);
  });

  describe("the queries", () => {
    const reading = readingQueries(["app-1", "app-2"], "127.0.0.1:9090", 60);
    const readiness = readinessQueries(["app-1", "app-2"]);

    it("are valid PromQL that yields an instant vector", () => {
      const groups = ruleGroupsQuery("127.0.0.1:9090", 60);
      for (const expr of [...Object.values(reading), ...Object.values(readiness), groups]) {
        expect(promqlErrors(expr), expr).to.deep.equal([]);
      }
    });

    it("read the targets by their jobs and the replica from its own scrape of itself, over the window", () => {
      expect(reading.scrapeMeanSeconds).to.equal(
        'avg(avg_over_time(scrape_duration_seconds{job=~"app-1|app-2"}[60s]))',
      );
      expect(reading.ruleEvaluationSeconds).to.equal(
        'sum(avg_over_time(prometheus_rule_group_last_duration_seconds{job="prometheus",instance="127.0.0.1:9090"}[60s]))',
      );
      expect(reading.headSeries).to.equal(
        'sum(prometheus_tsdb_head_series{job="prometheus",instance="127.0.0.1:9090"})',
      );
    });
  });

  describe("the figures", () => {
    const readings: ScaleReading[] = [
      { instances: 1, replicas: [replica(), replica({ headSeries: 2600, residentBytes: 90 * mib })] },
      {
        instances: 5,
        replicas: [
          replica({ headSeries: 3500 }),
          replica({ headSeries: 3400, residentBytes: 99 * mib, failedScrapes: 2 }),
        ],
      },
      {
        instances: 20,
        replicas: [
          replica({ headSeries: 6500, scrapeMeanSeconds: 0.004 }),
          replica({ headSeries: 6400, residentBytes: 135 * mib, scrapeMeanSeconds: 0.003 }),
        ],
      },
    ];
    const figures = scaleFigures(readings, 60);
    const named = (name: string) => {
      const figure = figures.find((each) => each.name === name);
      if (figure === undefined) throw new Error(`no figure ${name} in ${figures.map((each) => each.name)}`);
      return figure;
    };

    it("gives each count one round per replica, in the figure's unit, against the first count", () => {
      const series = named("series in the head, N=5");
      expect(series.part).to.equal("scale");
      expect(series.rounds).to.deep.equal([3500, 3400]);
      expect(series.median).to.equal(3450);
      expect(series.baseline?.name).to.equal("series in the head, N=1");
      expect(series.baseline?.median).to.equal(2650);
      expect(named("series in the head, N=1").baseline).to.equal(undefined);
      expect(named("Prometheus resident memory, N=20").rounds).to.deep.equal([100, 135]);
      expect(named("scrape duration, mean over the target jobs, N=20").rounds).to.deep.equal([4, 3]);
    });

    it("gives the growth from the first count to the last, per replica", () => {
      const growth = named("series in the head, growth N=1→20");
      expect(growth.unit).to.equal("×");
      expect(growth.rounds).to.deep.equal([6500 / 2700, 6400 / 2600]);
      expect(growth.baseline).to.equal(undefined);
      expect(named("Prometheus resident memory, growth N=1→20").rounds).to.deep.equal([1, 1.5]);
    });

    it("notes the source and what each added instance cost on the last figure of each quantity", () => {
      expect(named("series in the head, growth N=1→20").note).to.equal(
        "prometheus_tsdb_head_series at the end of the 60 s window, one round per replica; +200 per added instance",
      );
      expect(named("series in the head, N=20").note).to.equal(undefined);
      expect(named("scrape duration, mean over the target jobs, growth N=1→20").note).to.include(
        "failed scrapes in the window, per replica: N=5: 0, 2",
      );
      expect(named("series in the head, growth N=1→20").note).not.to.include("failed");
    });

    it("orders the figures by quantity, every count and then the growth", () => {
      expect(figures.slice(0, 4).map((figure) => figure.name)).to.deep.equal([
        "scrape duration, mean over the target jobs, N=1",
        "scrape duration, mean over the target jobs, N=5",
        "scrape duration, mean over the target jobs, N=20",
        "scrape duration, mean over the target jobs, growth N=1→20",
      ]);
      expect(figures).to.have.length(7 * 4);
    });

    it("has no growth for a single count, and refuses none", () => {
      const single = scaleFigures([readings[0] as ScaleReading], 60);
      expect(single.filter((figure) => figure.name.includes("growth"))).to.deep.equal([]);
      expect(single).to.have.length(7);
      expect(() => scaleFigures([], 60)).to.throw("no count of instances");
    });
  });

  it("divides what the instances added by how many were added", () => {
    expect(addedPerInstance({ instances: 1, median: 2650 }, { instances: 20, median: 6450 })).to.equal(200);
  });
});
