/**
 * Polling with a deadline. A test that waits on a real process must say what it waited for, how long it
 * allowed, and what it last saw, or a failure in CI is a guessing game.
 */
import { setMaxListeners } from "node:events";
import pWaitFor from "p-wait-for";

export interface WaitOptions {
  readonly timeoutMs: number;
  readonly intervalMs?: number;
  /** Extra text for the timeout error, such as the tails of the processes' logs. */
  readonly diagnostics?: () => string;
  /** Returns a reason to give up before the deadline, such as "prometheus-0 exited". */
  readonly hopeless?: () => string | undefined;
}

export interface Waited<T> {
  readonly value: T;
  readonly elapsedMs: number;
}

/**
 * Calls `probe` until it returns something other than `undefined`, and returns that with the time it took.
 * A probe that throws (a refused connection, a 503) counts as "not yet"; its last error is part of the
 * timeout message.
 */
export async function waitFor<T>(
  description: string,
  probe: () => Promise<T | undefined> | T | undefined,
  options: WaitOptions,
): Promise<Waited<T>> {
  const started = performance.now();
  let lastProblem = "the probe never succeeded";
  const failure = (reason: string) => {
    const extra = options.diagnostics?.();
    return new Error(
      `${reason} waiting for ${description} (last: ${lastProblem})${extra ? `\n${extra}` : ""}`,
    );
  };
  // Our own deadline rather than p-wait-for's timeout: p-wait-for 6 adds an abort listener to the signal at every
  // interval and never removes it, so a long wait would print a listener-leak warning; ours allows them.
  const deadline = AbortSignal.timeout(Math.ceil(options.timeoutMs));
  setMaxListeners(0, deadline);
  let value: T;
  try {
    value = await pWaitFor(
      async () => {
        try {
          const value = await probe();
          if (value !== undefined) return pWaitFor.resolveWith(value);
          lastProblem = "the condition did not hold yet";
        } catch (error) {
          lastProblem = error instanceof Error ? error.message : String(error);
        }
        const hopeless = options.hopeless?.();
        if (hopeless !== undefined) throw failure(hopeless);
        return false;
      },
      { interval: options.intervalMs ?? 200, signal: deadline },
    );
  } catch (error) {
    if (deadline.aborted) throw failure(`timed out after ${seconds(performance.now() - started)}`);
    throw error;
  }
  return { value, elapsedMs: performance.now() - started };
}

/** "7.3 s": how measured times are printed. */
export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
