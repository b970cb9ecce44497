/**
 * A cardinality attack from a child program: requests with random paths, random query strings and random
 * methods, as a scanner or a fuzzer sends them. Every path and query is new, so a service that put raw paths or
 * methods into labels would grow one series per request.
 *
 * Methods are drawn from `http.METHODS`, the methods Node's HTTP parser accepts: any other token is refused by
 * the parser with a 400 before the app, and its metrics, ever see it. CONNECT is left out because Node hands it
 * to the server's "connect" event instead of the app, and closes the socket when nobody listens.
 *
 * Each method is sent to two shapes of path: an unknown path (the router matches nothing) and an unknown item
 * under a real route template (the router matches a template, the handler answers 404). The answer depends only
 * on the method and the shape, so `prime` mode, which sends every combination once, reaches every label value
 * the attack can reach; what the attack adds after that is what its randomness leaks into the metrics.
 *
 * Parent side: `runAttack(...)`. Child side: `node --import tsx bench/attack-client.ts '<JSON>'`.
 */
import { randomBytes } from "node:crypto";
import { Agent, METHODS, request } from "node:http";
import { z } from "zod";
import { apiRoutes } from "../service/metrics-contract";
import { childInput, runChildProgram } from "./child-program";

export const attackMethods: readonly string[] = METHODS.filter((method) => method !== "CONNECT");

const pathShapes = {
  unknownPath: () =>
    `/${hex(1 + random(8))}/${hex(1 + random(16))}${random(2) === 0 ? "" : `?${hex(3)}=${hex(1 + random(8))}`}`,
  unknownItem: () => apiRoutes.item.replace(":id", `x${hex(1 + random(12))}`),
} as const;

const attackSchema = z.strictObject({
  /** Such as http://127.0.0.1:41234 */
  url: z.url(),
  /** `prime`: every method to every path shape once, in turn. `attack`: `requests` random ones. */
  mode: z.enum(["prime", "attack"]),
  requests: z.number().int().nonnegative(),
  concurrency: z.number().int().positive(),
  /** No new request is sent after this long; the result then says how many were. */
  deadlineMs: z.number().int().positive(),
});

export type Attack = z.infer<typeof attackSchema>;

const attackResultSchema = z.strictObject({
  sent: z.number().int().nonnegative(),
  answered: z.number().int().nonnegative(),
  /** Requests that got no answer: refused, reset or timed out. */
  failed: z.number().int().nonnegative(),
  durationMs: z.number().nonnegative(),
  /** Answers by status code. */
  statuses: z.record(z.string(), z.number().int().positive()),
});

export type AttackResult = z.infer<typeof attackResultSchema>;

/** Time for the child to start and to settle its last requests, beyond the deadline. */
const childOverheadMs = 30_000;

export async function runAttack(attack: Attack): Promise<AttackResult> {
  return attackResultSchema.parse(
    await runChildProgram(__filename, attack, attack.deadlineMs + childOverheadMs),
  );
}

/** Combinations `prime` mode sends. */
export function primeRequestCount(): number {
  return attackMethods.length * Object.keys(pathShapes).length;
}

async function main(attack: Attack): Promise<AttackResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: attack.concurrency });
  const statuses: Record<string, number> = {};
  const targets = attack.mode === "prime" ? primeTargets() : undefined;
  const total = targets?.length ?? attack.requests;
  const started = performance.now();
  let sent = 0;
  let answered = 0;
  let failed = 0;

  const worker = async () => {
    while (sent < total && performance.now() - started < attack.deadlineMs) {
      const target = targets?.[sent] ?? randomTarget();
      sent++;
      const status = await send(agent, `${attack.url}${target.path}`, target.method);
      if (status === undefined) failed++;
      else {
        answered++;
        statuses[status] = (statuses[status] ?? 0) + 1;
      }
    }
  };
  const workers = attack.mode === "prime" ? 1 : attack.concurrency;
  await Promise.all(Array.from({ length: workers }, worker));
  agent.destroy();
  return { sent, answered, failed, durationMs: performance.now() - started, statuses };
}

interface Target {
  readonly method: string;
  readonly path: string;
}

function primeTargets(): Target[] {
  return attackMethods.flatMap((method) =>
    Object.values(pathShapes).map((shape) => ({ method, path: shape() })),
  );
}

function randomTarget(): Target {
  const shapes = Object.values(pathShapes);
  const shape = shapes[random(shapes.length)] ?? pathShapes.unknownPath;
  return { method: attackMethods[random(attackMethods.length)] ?? "GET", path: shape() };
}

/** The status of the answer, or undefined when there was none. */
function send(agent: Agent, url: string, method: string): Promise<number | undefined> {
  return new Promise((done) => {
    const req = request(url, { method, agent, timeout: 10_000 });
    req.on("timeout", () => req.destroy());
    req.on("error", () => done(undefined));
    req.on("response", (res) => {
      res.on("error", () => done(undefined));
      res.on("end", () => done(res.statusCode));
      res.resume();
    });
    req.end();
  });
}

function random(below: number): number {
  return Math.floor(Math.random() * below);
}

function hex(bytes: number): string {
  return randomBytes(bytes).toString("hex");
}

if (require.main === module) {
  main(attackSchema.parse(childInput(process.argv.slice(2)))).then(
    (result) => console.log(JSON.stringify(result)),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
