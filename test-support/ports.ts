/**
 * Free loopback ports. Scenarios stop a server and start it again on the same port; a port from the kernel's
 * ephemeral range could meanwhile become the local end of some outgoing connection (a scrape, a fetch) and the
 * restart would fail with EADDRINUSE. So ports are picked below that range and checked by binding them; only
 * if none is free there does the kernel pick one (port 0).
 */
import { readFileSync } from "node:fs";
import { createServer } from "node:net";

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

/** Binds the port on loopback and releases it; resolves with the bound port, or undefined if it is taken. */
function tryBind(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once("error", () => resolve(undefined));
    server.listen({ host: loopback, port, exclusive: true }, () => {
      const address = server.address();
      server.close(() => resolve(address !== null && typeof address === "object" ? address.port : undefined));
    });
  });
}

/** A loopback port that nothing listens on now and that this process has not handed out before. */
export async function freePort(): Promise<number> {
  const rangeEnd = ephemeralRangeStart();
  for (let attempt = 0; attempt < 50 && rangeEnd > lowestCandidate; attempt++) {
    const candidate = lowestCandidate + Math.floor(Math.random() * (rangeEnd - lowestCandidate));
    if (handedOut.has(candidate)) continue;
    if ((await tryBind(candidate)) === candidate) {
      handedOut.add(candidate);
      return candidate;
    }
  }
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await tryBind(0);
    if (port !== undefined && !handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error("no free loopback port: every candidate was taken");
}
