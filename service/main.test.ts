import { connect } from "node:net";
import { resolve } from "node:path";
import { expect } from "chai";
import {
  rawRequest,
  type ServiceProcess,
  startServiceProcess,
  waitForGetsInFlight,
} from "../test-support/service";
import { waitFor } from "../test-support/wait";
import { apiRoutes } from "./metrics-contract";

const repositoryRoot = resolve(__dirname, "..");

/** The service from its sources, as `npm run service` starts it. */
function startService(env: Record<string, string>): Promise<ServiceProcess> {
  return startServiceProcess(["--import", "tsx", "service/main.ts"], {
    cwd: repositoryRoot,
    env: { PORT: "0", HOST: "127.0.0.1", ...env },
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolveConnect) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolveConnect(true);
    });
    socket.once("error", () => resolveConnect(false));
  });
}

describe("service: process", function () {
  // Each test starts Node.js with tsx, which takes about a second on a busy machine.
  this.timeout(20_000);

  let running: ServiceProcess | undefined;
  afterEach(() => {
    if (running?.child.exitCode === null) running.child.kill("SIGKILL");
    running = undefined;
  });

  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    it(`on ${signal}, stops accepting, finishes the request in flight and exits 0`, async () => {
      const service = await startService({ SHUTDOWN_TIMEOUT_MS: "5000" });
      running = service;
      const url = `http://127.0.0.1:${service.port}`;
      const slow = rawRequest(`${url}${apiRoutes.slow}?ms=700`);
      await waitForGetsInFlight(url, 1);

      service.child.kill(signal);
      await waitFor("the shutdown to start", () => service.logs.find((log) => log.msg === "shutting down"), {
        timeoutMs: 5000,
        intervalMs: 10,
      });
      expect(await canConnect(service.port)).to.equal(false);

      const response = await slow;
      const answeredAt = performance.now();
      expect(response.status).to.equal(200);
      expect(JSON.parse(response.body)).to.deep.equal({ delayedMs: 700 });
      expect(response.headers.connection).to.equal("close");

      expect(await service.exited).to.equal(0);
      // Exits once the last response is out, not after a keep-alive timeout.
      expect(performance.now() - answeredAt).to.be.below(1000);
      const messages = service.logs.map((log) => log.msg);
      expect(messages).to.include.members(["listening", "shutting down", "shutdown complete"]);
      expect(service.logs.find((log) => log.msg === "shutting down")).to.include({ signal });
    });
  }

  it("cuts requests still running when the shutdown timeout runs out, and exits 1", async () => {
    const service = await startService({ SHUTDOWN_TIMEOUT_MS: "300" });
    running = service;
    const url = `http://127.0.0.1:${service.port}`;
    const slow = rawRequest(`${url}${apiRoutes.slow}?ms=4000`).catch((err: unknown) => err);
    await waitForGetsInFlight(url, 1);

    const signalledAt = performance.now();
    service.child.kill("SIGTERM");
    expect(await service.exited).to.equal(1);
    expect(performance.now() - signalledAt).to.be.below(3000);
    expect(await slow).to.be.instanceOf(Error);
    expect(service.logs.map((log) => log.msg)).to.include("shutdown timed out; connections cut");
  });

  it("refuses to start with an invalid environment variable, naming it", async () => {
    const failure = await startService({ PORT: "http" }).catch((err: unknown) => err);
    expect(failure).to.be.instanceOf(Error);
    expect(String(failure))
      .to.include("exited with 1")
      .and.include("PORT must be an integer from 0 to 65535");
  });
});
