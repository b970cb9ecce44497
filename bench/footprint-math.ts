/**
 * The arithmetic of the footprint part, kept apart from Docker so that it can be tested: reading the Engine
 * API's memory statistics, summarising a container's readings, and Prometheus's on-disk growth and its
 * projection to the retention.
 */
import type { Sample } from "../test-support/service";
import { median } from "./stats";

/** `memory_stats` of the Engine API's `GET /containers/{id}/stats`, the fields read here. */
export interface EngineMemoryStats {
  readonly usage?: number;
  /** The kernel's high-water mark of `usage` (cgroup v1 `memory.max_usage_in_bytes`); absent on cgroup v2. */
  readonly max_usage?: number;
  readonly limit?: number;
  readonly stats?: Readonly<Record<string, number>>;
}

export interface MemoryReading {
  /** What `docker stats` shows: usage less the inactive page cache, which the kernel reclaims before an OOM kill. */
  readonly workingSetBytes: number;
  /** Highest usage since the container started, page cache included; undefined where the engine has none. */
  readonly highWaterBytes: number | undefined;
  readonly limitBytes: number;
}

/**
 * One reading, or undefined when the container is not running (the engine then sends empty memory_stats).
 * The working set is the Docker CLI's: usage minus `total_inactive_file` on cgroup v1, minus `inactive_file`
 * on v2 (docker/cli cli/command/container/stats_helpers.go, calculateMemUsageUnixNoCache). The Engine API
 * reference (ContainerStats) says `max_usage` is set on cgroup v1 hosts only.
 */
export function memoryReading(memory: EngineMemoryStats): MemoryReading | undefined {
  const { usage, limit } = memory;
  if (usage === undefined || limit === undefined) return undefined;
  const inactive = memory.stats?.total_inactive_file ?? memory.stats?.inactive_file ?? 0;
  return {
    workingSetBytes: inactive < usage ? usage - inactive : usage,
    highWaterBytes: memory.max_usage,
    limitBytes: limit,
  };
}

export interface MemorySummary {
  /** The high-water mark where the engine reports one, else the highest sampled working set. */
  readonly peakBytes: number;
  readonly peakIsHighWaterMark: boolean;
  readonly sampledPeakBytes: number;
  /** Median working set of the steady readings. */
  readonly steadyBytes: number;
  readonly limitBytes: number;
}

/**
 * `all` is every reading of one container, `steady` those of its quiet phase. The high-water mark is
 * monotonic over a container's life, so the last reading that has one holds the peak, whatever happened
 * between samples.
 */
export function summarizeMemory(
  all: readonly MemoryReading[],
  steady: readonly MemoryReading[],
): MemorySummary {
  const [first] = all;
  if (first === undefined || steady.length === 0) throw new Error("no memory reading to summarise");
  const sampledPeakBytes = Math.max(...all.map((reading) => reading.workingSetBytes));
  const highWater = all.flatMap((reading) =>
    reading.highWaterBytes === undefined ? [] : [reading.highWaterBytes],
  );
  return {
    peakBytes: highWater.length > 0 ? Math.max(...highWater) : sampledPeakBytes,
    peakIsHighWaterMark: highWater.length > 0,
    sampledPeakBytes,
    steadyBytes: median(steady.map((reading) => reading.workingSetBytes)),
    limitBytes: first.limitBytes,
  };
}

/** Prometheus's own gauges and counter of its TSDB, as its /metrics page has them at one moment. */
export interface TsdbReading {
  readonly atMs: number;
  readonly headSeries: number;
  /** Persisted blocks + write-ahead log (checkpoints included) + memory-mapped head chunks. */
  readonly diskBytes: number;
  readonly samplesAppended: number;
}

/** The metrics whose sum is what the TSDB keeps on disk, each the size of one of its directories. */
export const tsdbDiskMetrics = [
  "prometheus_tsdb_storage_blocks_bytes",
  "prometheus_tsdb_wal_storage_size_bytes",
  "prometheus_tsdb_head_chunks_storage_size_bytes",
] as const;

function total(samples: readonly Sample[], name: string): number {
  const found = samples.filter((sample) => sample.name === name);
  if (found.length === 0) throw new Error(`Prometheus's /metrics has no ${name}`);
  return found.reduce((sum, sample) => sum + sample.value, 0);
}

/** Samples appended are counted by type (float, histogram); each counts as one sample. */
export function tsdbReading(samples: readonly Sample[], atMs: number): TsdbReading {
  return {
    atMs,
    headSeries: total(samples, "prometheus_tsdb_head_series"),
    diskBytes: tsdbDiskMetrics.reduce((sum, name) => sum + total(samples, name), 0),
    samplesAppended: total(samples, "prometheus_tsdb_head_samples_appended_total"),
  };
}

export interface TsdbGrowth {
  readonly diskBytesPerHour: number;
  readonly samplesPerSecond: number;
}

/** Straight-line growth between two readings of one replica, scaled to an hour. */
export function tsdbGrowth(first: TsdbReading, last: TsdbReading): TsdbGrowth {
  const seconds = (last.atMs - first.atMs) / 1000;
  if (!(seconds > 0)) throw new Error("the TSDB readings must be apart in time, the later last");
  return {
    diskBytesPerHour: ((last.diskBytes - first.diskBytes) / seconds) * 3600,
    samplesPerSecond: (last.samplesAppended - first.samplesAppended) / seconds,
  };
}

/**
 * Bytes per sample in compacted blocks: the upper end of Prometheus's "around 1-2 bytes per sample" for
 * capacity planning (prometheus docs/storage.md, "Operational aspects":
 * needed_disk_space = retention_time_seconds * ingested_samples_per_second * bytes_per_sample).
 */
export const compactedBytesPerSample = 2;

/**
 * Hours of samples the head keeps outside blocks, in the WAL and head chunks: it is compacted once it spans
 * 1.5 block ranges of 2 h. A short window measures the growth of exactly that uncompacted form.
 */
export const headHours = 3;

/**
 * What a replica holds on disk once it has run for the whole retention: the blocks at the compacted rate,
 * plus the head at the rate measured before any compaction. Prometheus deletes a block only once all of it
 * lies beyond the retention, so the oldest block can add up to a tenth of the retention more.
 */
export function projectedDiskBytes(growth: TsdbGrowth, retentionMs: number): number {
  const blocks = growth.samplesPerSecond * (retentionMs / 1000) * compactedBytesPerSample;
  return blocks + headHours * growth.diskBytesPerHour;
}
