import { request } from "node:http";
import { afterEach, describe, expect, test } from "vitest";
import { createHttpServer } from "../../src/http/server.ts";
import { silentLogger } from "../../src/log.ts";

const servers: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
});

async function serve() {
  const http = createHttpServer(silentLogger);
  http.route("POST", "/webhooks/:provider", ({ params, rawBody }) => ({ status: 200, body: `${params.provider}:${rawBody.length}` }));
  servers.push(http);
  return http.listen(0, "127.0.0.1");
}

function post(port: number, path: string, body: Buffer) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, method: "POST", headers: { "content-length": body.length } }, (res) => {
      let text = "";
      res.on("data", (chunk: Buffer) => (text += chunk.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

describe("the HTTP server", () => {
  test("a malformed escape in the path is answered 400 and the server keeps serving", async () => {
    const port = await serve();
    expect((await post(port, "/webhooks/%E0", Buffer.from("{}"))).status).toBe(400);
    expect(await post(port, "/webhooks/sandbox%20x", Buffer.from("{}"))).toEqual({ status: 200, body: "sandbox x:2" });
  });

  test("an oversized body is answered 413 instead of a reset connection", async () => {
    const port = await serve();
    const answer = await post(port, "/webhooks/sandbox", Buffer.alloc(300 * 1024, 120));
    expect(answer.status).toBe(413);
  });

  test("unknown routes are 404 and wrong methods 405", async () => {
    const http = createHttpServer(silentLogger);
    http.route("POST", "/webhooks/:provider", () => ({ status: 200 }));
    const base = { headers: {}, rawBody: Buffer.alloc(0) };
    expect((await http.dispatch({ ...base, method: "GET", path: "/nope" })).status).toBe(404);
    expect((await http.dispatch({ ...base, method: "GET", path: "/webhooks/sandbox" })).status).toBe(405);
  });
});
