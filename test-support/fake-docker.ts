/**
 * A stand-in Docker API on loopback, for the preflight: it answers `GET /version` (API version, OS and
 * architecture, as Engine 20.10 and later do) and nothing else.
 */
import * as http from "node:http";
import type { AddressInfo } from "node:net";

export interface FakeDocker {
  /** `tcp://127.0.0.1:<port>`, as DOCKER_HOST names it. */
  readonly host: string;
  close(): Promise<void>;
}

/** The engine's OS and architecture as `/version` names them (Go's GOOS and GOARCH); linux/amd64 by default. */
export interface FakeEngine {
  readonly os?: string;
  readonly arch?: string;
}

export async function fakeDocker(apiVersion: string, engine: FakeEngine = {}): Promise<FakeDocker> {
  const version = {
    ApiVersion: apiVersion,
    Version: "test",
    Os: engine.os ?? "linux",
    Arch: engine.arch ?? "amd64",
  };
  const server = http.createServer((request, response) => {
    response.setHeader("content-type", "application/json");
    response.end(request.url === "/version" ? JSON.stringify(version) : "{}");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: `tcp://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
