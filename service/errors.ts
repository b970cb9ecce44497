/**
 * Every failure leaves the service as a JSON body `{ "error": message, "details"?: [...] }` with the right
 * status. Messages written for clients are shown as they are; anything unexpected becomes a bare 500 so that
 * stack traces and internals stay in the logs.
 */
import { STATUS_CODES } from "node:http";
import Koa from "koa";

/** A failure whose message is meant for the client, such as invalid input. */
export class ApiError extends Error {
  /** Read by Koa and http-errors: this message may be shown to the client. */
  readonly expose = true;

  constructor(
    readonly status: number,
    message: string,
    readonly details?: readonly string[],
  ) {
    super(message);
    this.name = "ApiError";
  }

  /** Alias of `status`, which is how Koa recognises an HTTP error. */
  get statusCode(): number {
    return this.status;
  }
}

export interface ErrorBody {
  readonly error: string;
  readonly details?: readonly string[];
}

export interface ErrorResponse {
  readonly status: number;
  readonly body: ErrorBody;
  /** True when the error is a fault of the service rather than of the request, and belongs in the logs. */
  readonly unexpected: boolean;
}

/** The standard reason phrase of a status, lower-cased, as the message of an error without a better one. */
export function statusMessage(status: number): string {
  return (STATUS_CODES[status] ?? "error").toLowerCase();
}

/** Maps anything a middleware threw to the response the client gets. */
export function errorResponse(err: unknown): ErrorResponse {
  if (err instanceof ApiError) {
    const body = err.details ? { error: err.message, details: err.details } : { error: err.message };
    return { status: err.status, body, unexpected: false };
  }
  // Errors from Koa and the router (http-errors), such as a 405 or a malformed URL: their status is right, and
  // their message is safe to show only when they say so.
  if (err instanceof Koa.HttpError && err.status >= 400 && err.status <= 599) {
    const message = err.expose ? err.message : statusMessage(err.status);
    return { status: err.status, body: { error: message }, unexpected: err.status >= 500 };
  }
  return { status: 500, body: { error: statusMessage(500) }, unexpected: true };
}
