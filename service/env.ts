/**
 * The service's configuration, from environment variables. An invalid value stops the service at startup with
 * a message naming the variable, rather than surfacing later as a confusing failure.
 */
import { type LevelWithSilent, levels } from "pino";

/** The port the service listens on when PORT is unset; the Dockerfile exposes the same port. */
export const defaultPort = 3000;

/** How long in-flight requests may take to finish after SIGTERM, under Docker's default 10 s stop timeout. */
export const defaultShutdownTimeoutMs = 8000;

export interface ServiceEnvironment {
  /** 0 picks a free port. */
  readonly port: number;
  /** Unset means every interface. */
  readonly host: string | undefined;
  readonly logLevel: LevelWithSilent;
  readonly shutdownTimeoutMs: number;
}

const logLevels: readonly string[] = [...Object.keys(levels.values), "silent"];

export function parseEnvironment(env: NodeJS.ProcessEnv): ServiceEnvironment {
  return {
    port: integerVariable(env, "PORT", 0, 65535, defaultPort),
    host: nonEmpty(env.HOST),
    logLevel: logLevel(env),
    shutdownTimeoutMs: integerVariable(env, "SHUTDOWN_TIMEOUT_MS", 0, 600_000, defaultShutdownTimeoutMs),
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === "" ? undefined : trimmed;
}

function integerVariable(env: NodeJS.ProcessEnv, name: string, min: number, max: number, fallback: number) {
  const value = nonEmpty(env[name]);
  if (value === undefined) return fallback;
  const parsed = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!(parsed >= min && parsed <= max)) {
    throw new Error(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return parsed;
}

function logLevel(env: NodeJS.ProcessEnv): LevelWithSilent {
  const value = nonEmpty(env.LOG_LEVEL)?.toLowerCase() ?? "info";
  if (!isLogLevel(value)) {
    throw new Error(`LOG_LEVEL must be one of ${logLevels.join(", ")}, got ${JSON.stringify(env.LOG_LEVEL)}`);
  }
  return value;
}

function isLogLevel(value: string): value is LevelWithSilent {
  return logLevels.includes(value);
}
