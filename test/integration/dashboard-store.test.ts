/**
 * The dashboard reads the store the product already has: a sale made by one instance shows on another
 * instance's dashboard, with its timeline, on SQLite and on Redis (REDIS_URL, database 9, flushed; in
 * CI an unreachable Redis fails, locally it skips loudly).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type App, createApp } from "../../src/app.ts";
import { loadConfig } from "../../src/config.ts";
import { silentLogger } from "../../src/log.ts";
import { payUrlOf, testClock } from "../support/app.ts";
import { ADMIN_TOKEN } from "../support/dashboard-shop.ts";
import { flushRedis, probeRedis, redisDbUrl } from "../support/redis.ts";

const REDIS_URL = redisDbUrl(9);
/** Null when Redis answers (and database 9 was emptied); otherwise why not. */
async function resetRedis(): Promise<string | null> {
  const problem = await probeRedis(REDIS_URL);
  if (problem === null) await flushRedis(REDIS_URL);
  return problem;
}

const redisDown = await resetRedis();
if (redisDown && !process.env.CI) console.warn(`[dashboard-store.test] Redis part SKIPPED: no Redis at ${REDIS_URL} (${redisDown})`);
const dir = mkdtempSync(join(tmpdir(), "tokengoblin-dashboard-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const stores: [string, string, boolean][] = [
  ["SQLite", `sqlite://${join(dir, "shop.sqlite")}`, false],
  ["Redis", REDIS_URL, redisDown !== null && !process.env.CI],
];

describe.each(stores)("dashboard on %s", (_name, storeUrl, skip) => {
  it.skipIf(skip)("shows a sale made by another instance, with its timeline", async () => {
    const clock = testClock();
    const open = (env: Record<string, string>, instanceId: string) =>
      createApp(loadConfig({ STORE_URL: storeUrl, ...env }), { listen: false, log: silentLogger, clock, sweepIntervalMs: 3_600_000, instanceId });
    const apps: App[] = [];
    try {
      const shop = await open({}, "bot");
      apps.push(shop);
      shop.engine.setNotifier(async () => {});
      await shop.engine.handleText("31337", "I need 3000 tokens");
      const invoice = await shop.engine.handleText("31337", "yes");
      const paid = await shop.http.dispatch({ method: "POST", path: new URL(payUrlOf(invoice)).pathname, headers: {}, rawBody: Buffer.alloc(0) });
      expect(paid.status).toBe(200);
      await shop.audit.flush();

      const owner = await open({ ADMIN_TOKEN }, "owner");
      apps.push(owner);
      const get = async (path: string, query = "") =>
        owner.http.dispatch({ method: "GET", path, query: new URLSearchParams(query), headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, rawBody: Buffer.alloc(0) });
      const orders = String((await get("/admin/orders", "q=31337")).body);
      expect(orders).toContain("1 matching");
      const orderId = /\/admin\/orders\/(ord_[A-Za-z0-9_-]+)/.exec(orders)?.[1];
      expect(orderId).toBeDefined();
      const page = String((await get(`/admin/orders/${orderId}`)).body);
      // The payment is recorded (paid) before the goods go out (delivered): two steps on the timeline.
      expect(page).toContain("awaiting_payment → paid");
      expect(page).toContain("paid → delivered");
      const overview = String((await get("/admin", "period=today")).body);
      expect(overview).toContain("$60.00");
    } finally {
      for (const app of apps) await app.close();
      if (storeUrl.startsWith("redis")) await flushRedis(REDIS_URL);
    }
  });
});
