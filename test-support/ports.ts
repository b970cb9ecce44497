/**
 * Free loopback ports. Scenarios stop a server and start it again on the same port; a port from the kernel's
 * ephemeral range could meanwhile become the local end of some outgoing connection (a scrape, a fetch) and the
 * restart would fail with EADDRINUSE. So ports are picked at random below that range and checked by get-port,
 * which binds them; only if none is free there does the kernel pick one.
 */
import { readFileSync } from "node:fs";
import getPort from "get-port";

export const loopback = "127.0.0.1";

/** Ports already handed out by this process, so that two calls before either port is bound never collide. */
const handedOut = new Set<number>();

/** Below this the kernel never picks ports for outgoing connections (Linux: ip_local_port_range). */
function ephemeralRangeStart(): number {
  try {
    const [start] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/);
    const parsed = Number(start);
    if (Number.isInteger(parsed) && parsed > 1024) return parsed;
  } catch {
    // Not Linux: use the IANA dynamic range's start, which macOS and Windows also use.
  }
  return 49152;
}

const lowestCandidate = 10_000;

/** A loopback port that nothing listens on now and that this process has not handed out before. */
export async function freePort(): Promise<number> {
  const rangeEnd = ephemeralRangeStart();
  const candidates = Array.from(
    { length: rangeEnd > lowestCandidate ? 50 : 0 },
    () => lowestCandidate + Math.floor(Math.random() * (rangeEnd - lowestCandidate)),
  );
  const port = await getPort({ host: loopback, port: candidates, exclude: handedOut });
  handedOut.add(port);
  return port;
}

/** `ports` settings of a stack on free loopback ports, so that a stack of the user's own keeps its ports. */
export async function freeStackPorts() {
  return {
    app: await freePort(),
    prometheus: await freePort(),
    alertmanager: await freePort(),
    grafana: await freePort(),
    mailpit: await freePort(),
  };
}
