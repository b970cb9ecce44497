import { expect } from "chai";
import { defaultPort, defaultShutdownTimeoutMs, parseEnvironment } from "./env";

describe("service: environment", () => {
  it("defaults to every interface on the default port, at info level", () => {
    expect(parseEnvironment({})).to.deep.equal({
      port: defaultPort,
      host: undefined,
      logLevel: "info",
      shutdownTimeoutMs: defaultShutdownTimeoutMs,
    });
  });

  it("treats empty variables as unset", () => {
    expect(parseEnvironment({ PORT: "", HOST: " ", LOG_LEVEL: "" })).to.deep.equal(parseEnvironment({}));
  });

  it("reads every variable", () => {
    expect(
      parseEnvironment({ PORT: "8080", HOST: "127.0.0.1", LOG_LEVEL: "DEBUG", SHUTDOWN_TIMEOUT_MS: "250" }),
    ).to.deep.equal({ port: 8080, host: "127.0.0.1", logLevel: "debug", shutdownTimeoutMs: 250 });
  });

  const invalid: [Record<string, string>, string][] = [
    [{ PORT: "http" }, 'PORT must be an integer from 0 to 65535, got "http"'],
    [{ PORT: "65536" }, 'PORT must be an integer from 0 to 65535, got "65536"'],
    [{ PORT: "-1" }, "PORT must be an integer"],
    [{ PORT: "30.5" }, "PORT must be an integer"],
    [{ SHUTDOWN_TIMEOUT_MS: "1e3" }, "SHUTDOWN_TIMEOUT_MS must be an integer from 0 to 600000"],
    [
      { LOG_LEVEL: "verbose" },
      'LOG_LEVEL must be one of trace, debug, info, warn, error, fatal, silent, got "verbose"',
    ],
  ];
  for (const [env, message] of invalid) {
    it(`rejects ${JSON.stringify(env)}, naming the variable`, () => {
      expect(() => parseEnvironment(env)).to.throw(message);
    });
  }
});
