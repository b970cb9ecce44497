import { readFileSync } from "node:fs";
import { Agent } from "node:http";
import { resolve } from "node:path";
import { gzipSync } from "node:zlib";
import { expect } from "chai";
import { pino } from "pino";
import { rawRequest, startTestServer, type TestServer } from "../test-support/service";
import { createApp } from "./app";
import { apiRoutes, maxSlowMs, probePaths } from "./metrics-contract";

const packageJson = JSON.parse(readFileSync(resolve(__dirname, "..", "package.json"), "utf8")) as {
  name: string;
  version: string;
};

const json = { "Content-Type": "application/json" };

describe("service: endpoints", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.close();
  });

  async function postItem(body: unknown) {
    return fetch(`${server.url}${apiRoutes.items}`, {
      method: "POST",
      headers: json,
      body: JSON.stringify(body),
    });
  }

  describe("GET /", () => {
    it("answers with the name and version of the root package.json", async () => {
      const response = await fetch(`${server.url}/`);
      expect(response.status).to.equal(200);
      expect(await response.json()).to.deep.equal({ name: packageJson.name, version: packageJson.version });
    });
  });

  describe("probes", () => {
    it("answers liveness and readiness with 200", async () => {
      const live = await fetch(`${server.url}${probePaths.liveness}`);
      expect(live.status).to.equal(200);
      expect(await live.json()).to.deep.equal({ status: "ok" });
      const ready = await fetch(`${server.url}${probePaths.readiness}`);
      expect(ready.status).to.equal(200);
      expect(await ready.json()).to.deep.equal({ status: "ready" });
    });

    it("answers HEAD like GET, without a body", async () => {
      const response = await rawRequest(`${server.url}${probePaths.liveness}`, { method: "HEAD" });
      expect(response.status).to.equal(200);
      expect(response.body).to.equal("");
    });
  });

  describe("items", () => {
    it("creates, reads, lists and deletes an item", async () => {
      const created = await postItem({ name: "  widget ", quantity: 3 });
      expect(created.status).to.equal(201);
      const item = (await created.json()) as {
        id: string;
        name: string;
        quantity: number;
        createdAt: string;
      };
      expect(item).to.include({ name: "widget", quantity: 3 });
      expect(new Date(item.createdAt).toISOString()).to.equal(item.createdAt);
      const location = created.headers.get("location");
      expect(location).to.equal(`${apiRoutes.items}/${item.id}`);

      const read = await fetch(`${server.url}${location}`);
      expect(read.status).to.equal(200);
      expect(await read.json()).to.deep.equal(item);

      const list = (await (await fetch(`${server.url}${apiRoutes.items}`)).json()) as { items: unknown[] };
      expect(list.items).to.deep.include(item);

      const deleted = await fetch(`${server.url}${location}`, { method: "DELETE" });
      expect(deleted.status).to.equal(204);
      expect(await deleted.text()).to.equal("");

      const gone = await fetch(`${server.url}${location}`);
      expect(gone.status).to.equal(404);
      expect(await gone.json()).to.deep.equal({ error: `no item with id "${item.id}"` });
      const deletedAgain = await fetch(`${server.url}${location}`, { method: "DELETE" });
      expect(deletedAgain.status).to.equal(404);
    });

    it("pages the list with limit and offset", async () => {
      const ids: string[] = [];
      for (const name of ["a", "b", "c"]) {
        ids.push(((await (await postItem({ name, quantity: 1 })).json()) as { id: string }).id);
      }
      const all = (await (await fetch(`${server.url}${apiRoutes.items}?limit=1000`)).json()) as {
        items: { id: string }[];
        total: number;
      };
      expect(all.total).to.equal(all.items.length);
      const start = all.items.findIndex((item) => item.id === ids[0]);
      const page = (await (
        await fetch(`${server.url}${apiRoutes.items}?offset=${start + 1}&limit=1`)
      ).json()) as {
        items: { id: string }[];
        total: number;
      };
      expect(page.items.map((item) => item.id)).to.deep.equal([ids[1]]);
      expect(page.total).to.equal(all.total);
    });

    const invalidItems: [string, unknown, string][] = [
      ["a name of the wrong type", { name: 3, quantity: 1 }, "name: "],
      ["a missing quantity", { name: "a" }, "quantity: "],
      ["an empty name", { name: "   ", quantity: 1 }, "name: "],
      ["a fractional quantity", { name: "a", quantity: 1.5 }, "quantity: "],
      ["a negative quantity", { name: "a", quantity: -1 }, "quantity: "],
      ["an unknown field", { name: "a", quantity: 1, colour: "red" }, "colour"],
      ["an array", [], "body: "],
      ["null", null, "body: "],
    ];
    for (const [what, body, detail] of invalidItems) {
      it(`rejects ${what} with 400 naming the field`, async () => {
        const response = await postItem(body);
        expect(response.status).to.equal(400);
        const answer = (await response.json()) as { error: string; details: string[] };
        expect(answer.error).to.equal("invalid item");
        expect(answer.details.join("\n")).to.include(detail);
      });
    }

    it("rejects malformed JSON with 400", async () => {
      const response = await fetch(`${server.url}${apiRoutes.items}`, {
        method: "POST",
        headers: json,
        body: "{oops",
      });
      expect(response.status).to.equal(400);
      expect(((await response.json()) as { error: string }).error).to.match(/^malformed JSON body/);
    });

    it("rejects bodies that are not UTF-8 JSON, or compressed, with 415", async () => {
      const asText = await fetch(`${server.url}${apiRoutes.items}`, { method: "POST", body: '{"name":"a"}' });
      expect(asText.status).to.equal(415);
      const latin1 = await fetch(`${server.url}${apiRoutes.items}`, {
        method: "POST",
        headers: { "Content-Type": "application/json; charset=iso-8859-1" },
        body: '{"name":"a","quantity":1}',
      });
      expect(latin1.status).to.equal(415);
      const gzipped = await fetch(`${server.url}${apiRoutes.items}`, {
        method: "POST",
        headers: { ...json, "Content-Encoding": "gzip" },
        body: gzipSync('{"name":"a","quantity":1}'),
      });
      expect(gzipped.status).to.equal(415);
      expect(((await gzipped.json()) as { error: string }).error).to.include("compressed");
    });

    it("rejects oversized bodies with 413, declared or chunked, and keeps the connection usable", async () => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      try {
        const padding = "x".repeat(20 * 1024);
        const declared = await rawRequest(`${server.url}${apiRoutes.items}`, {
          method: "POST",
          headers: { ...json, "Content-Length": String(padding.length + 2) },
          chunks: [`"${padding}"`],
          agent,
        });
        expect(declared.status).to.equal(413);
        expect(JSON.parse(declared.body)).to.deep.equal({
          error: "the request body exceeds the limit of 16384 bytes",
        });
        const chunked = await rawRequest(`${server.url}${apiRoutes.items}`, {
          method: "POST",
          headers: json,
          chunks: [`"${padding}`, `${padding}"`],
          agent,
        });
        expect(chunked.status).to.equal(413);
        const next = await rawRequest(`${server.url}${probePaths.liveness}`, { agent });
        expect(next.status).to.equal(200);
      } finally {
        agent.destroy();
      }
    });

    it("answers 507 when the store is full, until an item is deleted", async () => {
      const small = await startTestServer({ itemCapacity: 1 });
      try {
        const post = () =>
          fetch(`${small.url}${apiRoutes.items}`, {
            method: "POST",
            headers: json,
            body: JSON.stringify({ name: "a", quantity: 1 }),
          });
        const first = await post();
        expect(first.status).to.equal(201);
        const full = await post();
        expect(full.status).to.equal(507);
        expect(((await full.json()) as { error: string }).error).to.include("full (1 items)");
        await fetch(`${small.url}${first.headers.get("location")}`, { method: "DELETE" });
        expect((await post()).status).to.equal(201);
      } finally {
        await small.close();
      }
    });

    for (const query of ["limit=0", "limit=1001", "limit=abc", "limit=1&limit=2", "offset=-1"]) {
      it(`rejects list query ${query} with 400`, async () => {
        const response = await fetch(`${server.url}${apiRoutes.items}?${query}`);
        expect(response.status).to.equal(400);
        expect(((await response.json()) as { error: string }).error).to.match(
          /^query parameter (limit|offset) /,
        );
      });
    }
  });

  describe("GET /api/slow", () => {
    it("answers after the requested delay", async () => {
      const started = performance.now();
      const response = await fetch(`${server.url}${apiRoutes.slow}?ms=100`);
      expect(response.status).to.equal(200);
      expect(await response.json()).to.deep.equal({ delayedMs: 100 });
      // Node's timers count from the event loop's cached clock, which can lag by a few milliseconds.
      expect(performance.now() - started).to.be.at.least(90);
    });

    for (const query of ["", "?ms=", "?ms=-1", `?ms=${maxSlowMs + 1}`, "?ms=1.5", "?ms=abc", "?ms=1&ms=2"]) {
      it(`rejects ${query || "a missing ms"} with 400`, async () => {
        const response = await fetch(`${server.url}${apiRoutes.slow}${query}`);
        expect(response.status).to.equal(400);
        expect(((await response.json()) as { error: string }).error).to.include(
          `query parameter ms must be an integer from 0 to ${maxSlowMs}`,
        );
      });
    }
  });

  describe("GET /api/error", () => {
    it("answers 500 without internals, and logs the error with its stack", async () => {
      const logsBefore = server.logs.length;
      const response = await fetch(`${server.url}${apiRoutes.error}`);
      expect(response.status).to.equal(500);
      expect(await response.text()).to.equal(JSON.stringify({ error: "internal server error" }));
      const logged = server.logs.slice(logsBefore);
      expect(logged).to.have.length(1);
      expect(logged[0]).to.include({ level: 50, msg: "request failed", path: apiRoutes.error });
      expect(JSON.stringify(logged[0]?.err)).to.include("simulated failure").and.include("stack");
    });
  });

  describe("requests no route serves", () => {
    for (const path of ["/nope", "/api/items/", "/API/items", "/api/items/1/parts"]) {
      it(`answers ${path} with a JSON 404`, async () => {
        const response = await fetch(`${server.url}${path}`);
        expect(response.status).to.equal(404);
        expect(await response.json()).to.deep.equal({ error: "not found" });
      });
    }

    it("answers an unsupported method with a JSON 405 and the allowed methods", async () => {
      const response = await fetch(`${server.url}${apiRoutes.item.replace(":id", "1")}`, { method: "PATCH" });
      expect(response.status).to.equal(405);
      expect(response.headers.get("allow")).to.equal("HEAD, GET, DELETE");
      expect(await response.json()).to.deep.equal({ error: "method not allowed" });
    });

    it("answers a method the router does not implement with a JSON 501", async () => {
      const response = await rawRequest(`${server.url}${apiRoutes.items}`, { method: "PROPFIND" });
      expect(response.status).to.equal(501);
      expect(JSON.parse(response.body)).to.deep.equal({ error: "not implemented" });
    });
  });

  describe("logs", () => {
    it("writes no line per request at the default level", async () => {
      const logsBefore = server.logs.length;
      await fetch(`${server.url}/`);
      await postItem({ name: "quiet", quantity: 1 });
      await postItem({ name: 1 });
      await fetch(`${server.url}/nope`);
      expect(server.logs.slice(logsBefore)).to.deep.equal([]);
    });
  });
});

describe("service: readiness", () => {
  it("answers /readyz with 503 and asks clients to close connections once marked not ready", async () => {
    const server = await startTestServer();
    try {
      const before = await fetch(`${server.url}/`);
      expect(before.headers.get("connection")).to.equal("keep-alive");
      server.service.markNotReady();
      expect(server.service.ready).to.equal(false);
      const ready = await fetch(`${server.url}${probePaths.readiness}`);
      expect(ready.status).to.equal(503);
      expect(await ready.json()).to.deep.equal({ status: "shutting down" });
      expect(ready.headers.get("connection")).to.equal("close");
      const live = await fetch(`${server.url}${probePaths.liveness}`);
      expect(live.status).to.equal(200);
    } finally {
      await server.close();
    }
  });
});

describe("service: options", () => {
  for (const option of ["bodyLimitBytes", "itemCapacity"] as const) {
    it(`rejects ${option} when it is not a positive integer, naming it`, () => {
      expect(() => createApp({ logger: pino({ level: "silent" }), [option]: 0 })).to.throw(
        `createApp: ${option} must be a positive integer, got 0`,
      );
    });
  }
});

describe("service: without metrics", () => {
  it("serves the API but neither /metrics nor a registry", async () => {
    const server = await startTestServer({ metrics: false });
    try {
      expect(server.service.registry).to.equal(undefined);
      expect((await fetch(`${server.url}/`)).status).to.equal(200);
      expect((await fetch(`${server.url}${probePaths.metrics}`)).status).to.equal(404);
    } finally {
      await server.close();
    }
  });
});
