/**
 * Last-resort cleanup. Tests stop their processes and remove their directories in `after` hooks; these
 * synchronous actions additionally run when the runner exits or is interrupted (SIGINT, SIGTERM, SIGHUP), so
 * that a failed or aborted run never leaves a Prometheus listening or a temporary directory behind.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { constants, tmpdir } from "node:os";
import { join } from "node:path";

const actions = new Set<() => void>();
let installed = false;

function runAll(): void {
  for (const action of [...actions].reverse()) {
    try {
      action();
    } catch {
      // Best effort: one resource that cannot be cleaned must not keep the others alive.
    }
  }
  actions.clear();
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on("exit", runAll);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.once(signal, () => {
      runAll();
      process.exit(128 + constants.signals[signal]);
    });
  }
}

/** Registers a synchronous action for exit and interruption; call the returned function once it is done. */
export function onExitCleanup(action: () => void): () => void {
  install();
  actions.add(action);
  return () => {
    actions.delete(action);
  };
}

export interface TempDir {
  readonly path: string;
  remove(): void;
}

/** A fresh directory under the OS temp dir, removed by `remove()` or, failing that, when the process exits. */
export function makeTempDir(prefix: string): TempDir {
  const path = mkdtempSync(join(tmpdir(), prefix));
  const removeNow = () => rmSync(path, { recursive: true, force: true });
  const unregister = onExitCleanup(removeNow);
  return {
    path,
    remove() {
      removeNow();
      unregister();
    },
  };
}
