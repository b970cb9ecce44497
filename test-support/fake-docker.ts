/** A stand-in Docker API on loopback, for the preflight: it answers `GET /version` and nothing else. */
import * as http from "node:http";
import type { AddressInfo } from "node:net";

export interface FakeDocker {
  /** `tcp://127.0.0.1:<port>`, as DOCKER_HOST names it. */
  readonly host: string;
  close(): Promise<void>;
}

export async function fakeDocker(apiVersion: string): Promise<FakeDocker> {
  const server = http.createServer((request, response) => {
    response.setHeader("content-type", "application/json");
    response.end(
      request.url === "/version" ? JSON.stringify({ ApiVersion: apiVersion, Version: "test" }) : "{}",
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: `tcp://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
