/**
 * Reads a JSON request body with a size limit. Koa has no body parser of its own, and the API needs only this:
 * UTF-8 JSON, uncompressed, at most `limitBytes`.
 */
import type { IncomingMessage } from "node:http";
import type Koa from "koa";
import { ApiError } from "./errors";

/** Parses the request body as JSON; answers 415, 413 or 400 through `ApiError` when it is not acceptable. */
export async function readJsonBody(ctx: Koa.Context, limitBytes: number): Promise<unknown> {
  if (!ctx.is("application/json")) {
    throw new ApiError(415, "the request body must be JSON, sent with Content-Type: application/json");
  }
  const charset = ctx.request.charset;
  if (charset !== "" && charset !== "utf-8" && charset !== "utf8") {
    throw new ApiError(415, `JSON bodies must be UTF-8, not ${charset}`);
  }
  const encoding = ctx.get("Content-Encoding");
  if (encoding !== "" && encoding.toLowerCase() !== "identity") {
    throw new ApiError(415, `compressed request bodies (${encoding}) are not accepted`);
  }
  const declaredLength = ctx.request.length;
  if (declaredLength !== undefined && declaredLength > limitBytes) {
    throw tooLarge(limitBytes);
  }
  const raw = await readRawBody(ctx.req, limitBytes);
  try {
    return JSON.parse(raw.toString("utf8"));
  } catch (err) {
    throw new ApiError(400, `malformed JSON body: ${(err as SyntaxError).message}`);
  }
}

function tooLarge(limitBytes: number): ApiError {
  return new ApiError(413, `the request body exceeds the limit of ${limitBytes} bytes`);
}

/**
 * Collects the body, rejecting as soon as it passes the limit. The rest of an oversized body is read and
 * discarded rather than left in the socket, so that the 413 still reaches the client on a keep-alive
 * connection; Node's `requestTimeout` bounds how long a client can keep sending.
 */
function readRawBody(req: IncomingMessage, limitBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;

    const onData = (chunk: Buffer): void => {
      received += chunk.length;
      if (received > limitBytes) {
        cleanUp();
        req.resume();
        reject(tooLarge(limitBytes));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanUp();
      resolve(Buffer.concat(chunks, received));
    };
    // The client went away mid-body: "close" before "end" (or an "error") means nobody waits for an answer.
    const onAbort = (): void => {
      cleanUp();
      reject(new ApiError(400, "the request body was not received completely"));
    };
    function cleanUp(): void {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onAbort);
      req.off("close", onAbort);
    }

    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onAbort);
    req.on("close", onAbort);
  });
}
