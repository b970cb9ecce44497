/**
 * The arithmetic of the bench's footprint part (bench/footprint-math.ts). The part itself runs the stack on
 * Docker for minutes, so `npm test` never runs it: `npm run bench -- --only footprint` does.
 */
import { expect } from "chai";
import {
  compactedBytesPerSample,
  headHours,
  type MemoryReading,
  memoryReading,
  projectedDiskBytes,
  summarizeMemory,
  tsdbGrowth,
  tsdbReading,
} from "../bench/footprint-math";
import { parseExposition } from "../test-support/service";

const mib = 1024 * 1024;

describe("the footprint bench's arithmetic", () => {
  describe("a memory reading from the Engine API's stats", () => {
    it("on cgroup v1 is usage less total_inactive_file, beside the kernel's high-water mark", () => {
      const reading = memoryReading({
        usage: 120 * mib,
        max_usage: 150 * mib,
        limit: 256 * mib,
        stats: { total_inactive_file: 20 * mib, inactive_file: 5 * mib, cache: 30 * mib },
      });
      expect(reading).to.deep.equal({
        workingSetBytes: 100 * mib,
        highWaterBytes: 150 * mib,
        limitBytes: 256 * mib,
      });
    });

    it("on cgroup v2 is usage less inactive_file, with no high-water mark", () => {
      const reading = memoryReading({
        usage: 120 * mib,
        limit: 256 * mib,
        stats: { inactive_file: 5 * mib },
      });
      expect(reading?.workingSetBytes).to.equal(115 * mib);
      expect(reading?.highWaterBytes).to.equal(undefined);
    });

    it("is the whole usage when the inactive cache is not below it", () => {
      expect(
        memoryReading({ usage: 10, limit: 100, stats: { total_inactive_file: 10 } })?.workingSetBytes,
      ).to.equal(10);
    });

    it("is none for a container that is not running: the engine sends empty memory_stats", () => {
      expect(memoryReading({})).to.equal(undefined);
    });
  });

  describe("a container's memory summary", () => {
    const reading = (workingSet: number, highWater: number | undefined): MemoryReading => ({
      workingSetBytes: workingSet,
      highWaterBytes: highWater,
      limitBytes: 1000,
    });

    it("peaks at the high-water mark, which holds what the samples missed, and is steady at the median of the quiet readings", () => {
      const load = [reading(300, 320), reading(500, 610), reading(400, 610)];
      const steady = [reading(210, 610), reading(200, 610), reading(260, 610)];
      expect(summarizeMemory([...load, ...steady], steady)).to.deep.equal({
        peakBytes: 610,
        peakIsHighWaterMark: true,
        sampledPeakBytes: 500,
        steadyBytes: 210,
        limitBytes: 1000,
      });
    });

    it("peaks at the highest sample where the engine has no high-water mark, and says so", () => {
      const all = [reading(300, undefined), reading(500, undefined)];
      const summary = summarizeMemory(all, all);
      expect(summary.peakBytes).to.equal(500);
      expect(summary.peakIsHighWaterMark).to.equal(false);
    });

    it("refuses to summarise without steady readings", () => {
      expect(() => summarizeMemory([reading(1, 1)], [])).to.throw("no memory reading");
    });
  });

  describe("the TSDB", () => {
    const page = (disk: [number, number, number], appended: [number, number], series: number) =>
      parseExposition(
        [
          "# HELP prometheus_tsdb_head_series Total number of series in the head block.",
          "# TYPE prometheus_tsdb_head_series gauge",
          `prometheus_tsdb_head_series ${series}`,
          `prometheus_tsdb_storage_blocks_bytes ${disk[0]}`,
          `prometheus_tsdb_wal_storage_size_bytes ${disk[1]}`,
          `prometheus_tsdb_head_chunks_storage_size_bytes ${disk[2]}`,
          `prometheus_tsdb_head_samples_appended_total{type="float"} ${appended[0]}`,
          `prometheus_tsdb_head_samples_appended_total{type="histogram"} ${appended[1]}`,
          "prometheus_tsdb_head_series_created_total 99999",
        ].join("\n"),
      );

    it("is read from Prometheus's own metrics: disk as blocks + WAL + head chunks, samples of every type", () => {
      expect(tsdbReading(page([1000, 2e6, 3000], [5000, 40], 1234), 7)).to.deep.equal({
        atMs: 7,
        headSeries: 1234,
        diskBytes: 1000 + 2e6 + 3000,
        samplesAppended: 5040,
      });
    });

    it("refuses a page without one of the metrics, naming it", () => {
      expect(() => tsdbReading(parseExposition("prometheus_tsdb_head_series 3"), 0)).to.throw(
        "prometheus_tsdb_storage_blocks_bytes",
      );
    });

    it("grows in a straight line from two readings, scaled to an hour", () => {
      const first = tsdbReading(page([0, 1e6, 0], [1000, 0], 500), 0);
      const last = tsdbReading(page([0, 1.5e6, 0], [61_000, 0], 500), 300_000);
      expect(tsdbGrowth(first, last)).to.deep.equal({ diskBytesPerHour: 6e6, samplesPerSecond: 200 });
      expect(() => tsdbGrowth(last, first)).to.throw("apart in time");
    });

    it("projects to the retention: every retained sample compacted, plus the head's hours at the measured rate", () => {
      const fifteenDaysMs = 15 * 24 * 3600 * 1000;
      const growth = { diskBytesPerHour: 6e6, samplesPerSecond: 200 };
      expect(projectedDiskBytes(growth, fifteenDaysMs)).to.equal(
        200 * 15 * 24 * 3600 * compactedBytesPerSample + headHours * 6e6,
      );
    });
  });
});
