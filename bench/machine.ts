/** The machine a benchmark ran on, saved beside its figures. */
import { availableParallelism, cpus, platform, release, totalmem } from "node:os";

export function machine() {
  const [first] = cpus();
  return {
    cpuModel: first?.model ?? "unknown",
    cores: availableParallelism(),
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    os: `${platform()} ${release()}`,
  };
}
