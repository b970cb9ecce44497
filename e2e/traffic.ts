/**
 * A steady trickle of requests at a fixed rate, for scenarios that need the request count in a window to sit at
 * a known level without a k6 run. Bounded in time: it stops by itself after `maxDurationMs`.
 */
import { boundedFetch } from "../test-support/http";

export interface SteadyTraffic {
  /** Stops sending and resolves with how many requests were answered, once the last one settled. */
  stop(): Promise<number>;
}

export function startSteadyTraffic(
  url: string,
  requestsPerSecond: number,
  maxDurationMs: number,
): SteadyTraffic {
  if (!(requestsPerSecond > 0))
    throw new RangeError(`requestsPerSecond must be positive, got ${requestsPerSecond}`);
  const inFlight = new Set<Promise<void>>();
  let answered = 0;
  const send = () => {
    const request = boundedFetch(url)
      .then(async (response) => {
        await response.arrayBuffer();
        answered++;
      })
      // A refused or failed request is simply not counted: the scenario checks what Prometheus saw.
      .catch(() => undefined)
      .finally(() => inFlight.delete(request));
    inFlight.add(request);
  };
  const timer = setInterval(send, 1000 / requestsPerSecond);
  const deadline = setTimeout(() => clearInterval(timer), maxDurationMs);
  return {
    async stop() {
      clearInterval(timer);
      clearTimeout(deadline);
      await Promise.all(inFlight);
      return answered;
    },
  };
}
