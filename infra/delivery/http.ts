/**
 * Every exchange the delivery check has with Alertmanager or the inbox is bounded in time: a server that accepts
 * the connection and then hangs must fail the exchange, not the whole check's deadline.
 */

/** Far above what one exchange takes on a healthy host, well below a check's timeout. */
export const requestTimeoutMs = 5000;

/** `fetch`, aborted when the exchange, body included, takes longer than `requestTimeoutMs`; non-2xx throws. */
export async function fetchText(url: string, init: Omit<RequestInit, "signal"> = {}): Promise<string> {
  const what = `${init.method ?? "GET"} ${url}`;
  let response: Response;
  let body: string;
  try {
    response = await fetch(url, { ...init, signal: AbortSignal.timeout(requestTimeoutMs) });
    body = await response.text();
  } catch (error) {
    if (error instanceof DOMException && error.name === "TimeoutError") {
      throw new Error(`${what}: no answer within ${requestTimeoutMs} ms`);
    }
    // fetch reports "fetch failed" and keeps the reason (ECONNREFUSED, ENOTFOUND) in `cause`.
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : undefined;
    throw new Error(`${what}: ${cause ?? (error instanceof Error ? error.message : String(error))}`);
  }
  if (!response.ok) throw new Error(`${what} answered ${response.status}: ${body.trim().slice(0, 200)}`);
  return body;
}
