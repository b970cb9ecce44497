/**
 * Serves an app over HTTP and shuts it down gracefully: not ready, stop accepting, let in-flight requests
 * finish within a time limit.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Service } from "./app";

export interface ServeOptions {
  /** 0 picks a free port; `address` tells which. */
  readonly port: number;
  /** Unset means every interface. */
  readonly host?: string;
  /** How long in-flight requests may take to finish once shutdown starts. */
  readonly shutdownTimeoutMs: number;
}

export interface RunningService {
  readonly server: Server;
  readonly address: AddressInfo;
  /**
   * Marks the service not ready, stops accepting connections and waits for in-flight requests. Resolves true
   * when they all finished, false when the timeout ran out and the remaining connections were cut. Calling it
   * again returns the same promise.
   */
  shutdown(): Promise<boolean>;
}

export async function serve(service: Service, options: ServeOptions): Promise<RunningService> {
  const server = createServer(service.app.callback());
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ port: options.port, host: options.host }, () => {
      server.off("error", reject);
      resolve();
    });
  });
  let shuttingDown: Promise<boolean> | undefined;
  return {
    server,
    address: server.address() as AddressInfo,
    shutdown: () => {
      shuttingDown ??= drain(server, service, options.shutdownTimeoutMs);
      return shuttingDown;
    },
  };
}

function drain(server: Server, service: Service, timeoutMs: number): Promise<boolean> {
  service.markNotReady();
  return new Promise((resolve) => {
    const deadline = setTimeout(() => {
      server.closeAllConnections();
      resolve(false);
    }, timeoutMs);
    // close() stops listening and closes idle keep-alive connections at once; the busy ones close after their
    // response, which markNotReady() sends with "Connection: close".
    server.close(() => {
      clearTimeout(deadline);
      resolve(true);
    });
  });
}
