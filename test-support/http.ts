/**
 * Every HTTP exchange that tests and benchmarks have with a process under test is bounded in time. A process
 * that accepts the connection and then hangs must fail the exchange: a poll stuck in one request would never
 * get back to its deadline, and a benchmark run outside mocha would hang with nothing to stop it.
 */
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";

/** Far above what any of these exchanges takes on loopback, even on a busy two-core machine. */
export const requestTimeoutMs = 5000;

/** `fetch`, aborted when the exchange, body included, takes longer than `requestTimeoutMs`. */
export async function boundedFetch(url: string, init: Omit<RequestInit, "signal"> = {}): Promise<Response> {
  try {
    return await fetch(url, { ...init, signal: AbortSignal.timeout(requestTimeoutMs) });
  } catch (error) {
    if (error instanceof DOMException && error.name === "TimeoutError") {
      throw new Error(`${init.method ?? "GET"} ${url}: no answer within ${requestTimeoutMs} ms`);
    }
    throw error;
  }
}

/**
 * The same bound for an exchange that takes no abort signal, such as a node:http request: rejects once
 * `requestTimeoutMs` has passed (the request itself is left to the process's exit).
 */
export async function withinRequestTimeout<T>(what: string, exchange: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, fail) => {
    timer = setTimeout(
      () => fail(new Error(`${what}: no answer within ${requestTimeoutMs} ms`)),
      requestTimeoutMs,
    );
  });
  try {
    return await Promise.race([exchange, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The status of a GET of `url` (http or https), trusting only `ca` for https and sending basic auth (`auth`,
 * `user:password`) when given; or the message of the error that ended it, such as a refused certificate.
 * Node's fetch takes no CA of its own, hence node:https.
 */
export function requestStatus(
  url: string,
  options: { ca?: string; auth?: string } = {},
): Promise<number | string> {
  return new Promise((resolve) => {
    const client = url.startsWith("https:") ? httpsRequest : httpRequest;
    const exchange = client(
      url,
      {
        ...(options.ca ? { ca: options.ca } : {}),
        ...(options.auth ? { auth: options.auth } : {}),
        timeout: requestTimeoutMs,
      },
      (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      },
    );
    exchange.on("timeout", () => exchange.destroy(new Error(`timed out after ${requestTimeoutMs} ms`)));
    exchange.on("error", (error) => resolve(error.message));
    exchange.end();
  });
}
