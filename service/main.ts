/**
 * Runs the service: reads the environment, listens, and shuts down gracefully on SIGTERM (docker stop) or
 * SIGINT (Ctrl-C). Exit code 0 when every in-flight request finished, 1 when the shutdown timeout cut some
 * off or the service could not start.
 */
import { type Logger, pino } from "pino";
import { createApp } from "./app";
import { parseEnvironment, type ServiceEnvironment } from "./env";
import { packageInfo } from "./package-info";
import { serve } from "./server";

async function run(environment: ServiceEnvironment, logger: Logger): Promise<void> {
  const service = createApp({ logger });
  const running = await serve(service, environment);
  const { address, port } = running.address;
  logger.info({ address, port, version: packageInfo.version, node: process.version }, "listening");

  const shutDown = (signal: NodeJS.Signals): void => {
    logger.info({ signal, timeoutMs: environment.shutdownTimeoutMs }, "shutting down");
    void running.shutdown().then((drained) => {
      if (drained) logger.info("shutdown complete");
      else logger.error({ timeoutMs: environment.shutdownTimeoutMs }, "shutdown timed out; connections cut");
      process.exit(drained ? 0 : 1);
    });
  };
  // `once`: a second Ctrl-C falls through to Node's default handler and stops the process at once.
  process.once("SIGTERM", shutDown);
  process.once("SIGINT", shutDown);
}

function readEnvironment(): ServiceEnvironment {
  try {
    return parseEnvironment(process.env);
  } catch (err) {
    pino().fatal({ err }, "invalid environment");
    process.exit(1);
  }
}

const environment = readEnvironment();
const logger = pino({ name: packageInfo.name, level: environment.logLevel });
process.on("uncaughtException", (err) => {
  logger.fatal({ err }, "uncaught exception");
  process.exit(1);
});
run(environment, logger).catch((err: unknown) => {
  logger.fatal({ err }, "the service could not start");
  process.exit(1);
});
