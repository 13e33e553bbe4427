/**
 * Issue 11: /healthz is what a load balancer trusts. It answers within a second whatever the store
 * does (503 when the store is frozen or gone), HEAD answers like GET, and it reports ready only once
 * every route, the Telegram webhook included, exists. The Redis part runs its own redis-server (so it
 * can freeze and kill it): without redis-server it skips loudly, and FAILS when CI is set.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { request } from "node:http";
import { connect, createServer } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { type App, createApp } from "../../src/app.ts";
import { loadConfig } from "../../src/config.ts";
import { silentLogger } from "../../src/log.ts";
import { startTelegram } from "../../src/telegram/index.ts";
import { startBotApiStub } from "../support/bot-api-stub.ts";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

/** Closes an app without hanging the test run on a store that no longer answers. */
// A cap on a close that might hang, not a wait: the race ends as soon as the app closed.
const closeWithin = (app: App, ms = 3_000) =>
  Promise.race([app.close().catch(() => {}), new Promise<void>((resolve) => setTimeout(resolve, ms))]);

async function openApp(env: Record<string, string> = {}): Promise<App> {
  const app = await createApp(loadConfig({ STORE_URL: "memory://", PUBLIC_URL: "https://shop.example", ...env }), {
    listen: false,
    log: silentLogger,
    sweepIntervalMs: 3_600_000,
  });
  cleanups.push(() => closeWithin(app));
  return app;
}

type Health = { status: number; body: string; ms: number };

async function health(app: App, method: "GET" | "HEAD" = "GET"): Promise<Health> {
  const started = Date.now();
  const response = await app.http.dispatch({ method, path: "/healthz", headers: {}, rawBody: Buffer.alloc(0) });
  return { status: response.status, body: String(response.body ?? ""), ms: Date.now() - started };
}

/** Over the network, as a load balancer asks. */
function healthOverHttp(port: number, method: "GET" | "HEAD") {
  return new Promise<{ status: number; body: string; type: string | undefined }>((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path: "/healthz", method }, (res) => {
      let body = "";
      res.on("data", (chunk: Buffer) => (body += chunk.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body, type: res.headers["content-type"] }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("/healthz", () => {
  it("is not ready until the Telegram webhook route exists", async () => {
    const api = await startBotApiStub();
    cleanups.push(() => api.close());
    const app = await openApp({
      TELEGRAM_BOT_TOKEN: api.token,
      TELEGRAM_API_ROOT: api.url,
      TELEGRAM_WEBHOOK_URL: "https://shop.example/telegram/hook",
      TELEGRAM_WEBHOOK_SECRET: "s3cret-value",
    });
    const before = await health(app);
    expect(before.status).toBe(503);
    expect(JSON.parse(before.body)).toMatchObject({ ok: false, ready: false });

    // Watch both routes while the bot starts: whenever health says yes, the webhook must exist.
    let starting = true;
    const gaps: number[] = [];
    const watching = (async () => {
      while (starting) {
        const [healthz, hook] = await Promise.all([
          health(app),
          app.http.dispatch({ method: "POST", path: "/telegram/hook", headers: {}, rawBody: Buffer.from("{}") }),
        ]);
        if (healthz.status === 200 && hook.status === 404) gaps.push(Date.now());
        await new Promise((resolve) => setTimeout(resolve, 2)); // yields to the bot's start-up, which talks to the stand-in over a real socket
      }
    })();
    const telegram = await startTelegram(app);
    cleanups.push(() => telegram.stop());
    starting = false;
    await watching;
    expect(gaps).toEqual([]);

    const after = await health(app);
    expect(after.status).toBe(200);
    expect(JSON.parse(after.body)).toMatchObject({ ok: true, ready: true, store: "memory" });

    // Draining for shutdown: the load balancer should stop sending traffic.
    await telegram.stop();
    expect((await health(app)).status).toBe(503);
  });

  it("answers HEAD like GET, without a body", async () => {
    const app = await openApp();
    app.setReady(true);
    const port = await app.http.listen(0, "127.0.0.1");
    const get = await healthOverHttp(port, "GET");
    const head = await healthOverHttp(port, "HEAD");
    expect(get.status).toBe(200);
    expect(head.status).toBe(200);
    expect(head.type).toBe(get.type);
    expect(head.body).toBe("");
    // Other GET routes too: HEAD is GET without the body.
    expect((await app.http.dispatch({ method: "HEAD", path: "/metrics", headers: {}, rawBody: Buffer.alloc(0) })).status).toBe(200);
  });
});

const redisServer = spawnSync("redis-server", ["--version"], { encoding: "utf8" });
const missing = redisServer.error ? String(redisServer.error.message) : null;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A throw-away redis-server on its own port (no persistence), ready when this resolves. */
async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
    stdio: "ignore",
  });
  const deadline = Date.now() + 5_000;
  while (Date.now() < deadline) {
    const up = await new Promise<boolean>((resolve) => {
      const socket = connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (up) return child;
    await new Promise((resolve) => setTimeout(resolve, 50)); // a real redis-server process starting: connect again
  }
  child.kill("SIGKILL");
  throw new Error(`redis-server did not start on port ${port}`);
}

/** Asks until `want` comes back, each answer within a second, or fails after `withinMs`. */
async function eventually(app: App, want: number, withinMs: number): Promise<Health> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const answer = await health(app);
    expect(answer.ms).toBeLessThan(1_000);
    if (answer.status === want || Date.now() > deadline) return answer;
    await new Promise((resolve) => setTimeout(resolve, 100)); // a real redis-server process stopped or restarted: ask again
  }
}

if (missing !== null && process.env.CI) {
  describe("Health under a stopped Redis", () => {
    it("has redis-server (required in CI)", () => {
      throw new Error(`redis-server is not installed (${missing}); CI must install it (apt-get install redis-server)`);
    });
  });
} else if (missing !== null) {
  console.warn(
    `\n[health.test] SKIPPED "Health under a stopped Redis": redis-server not found (${missing}). Install redis-server to run it.\n`,
  );
  describe.skip("Health under a stopped Redis (skipped: no redis-server)", () => {
    it("needs redis-server", () => {});
  });
} else {
  describe("Health under a stopped Redis", () => {
    it("answers 503 within a second while Redis is frozen or down, and 200 once it is back", async () => {
      const port = await freePort();
      let redis = await startRedis(port);
      cleanups.push(() => {
        redis.kill("SIGCONT");
        redis.kill("SIGKILL");
      });
      const app = await openApp({ STORE_URL: `redis://127.0.0.1:${port}/0` });
      app.setReady(true);
      expect((await health(app)).status).toBe(200);

      redis.kill("SIGSTOP");
      const frozen = await health(app);
      expect(frozen.status).toBe(503);
      expect(frozen.ms).toBeLessThan(1_000);
      expect(JSON.parse(frozen.body)).toMatchObject({ ok: false, ready: true, store: "redis" });
      expect((await health(app, "HEAD")).status).toBe(503);

      redis.kill("SIGCONT");
      expect((await eventually(app, 200, 5_000)).status).toBe(200);

      redis.kill("SIGKILL");
      await new Promise((resolve) => redis.once("exit", resolve));
      const down = await health(app);
      expect(down.status).toBe(503);
      expect(down.ms).toBeLessThan(1_000);
      expect((await eventually(app, 503, 1_000)).status).toBe(503);

      redis = await startRedis(port);
      expect((await eventually(app, 200, 8_000)).status).toBe(200);
    });
  });
}
