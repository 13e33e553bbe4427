/**
 * Issues 19 and 20: a shop upgrades without loss. A store written by the previous version (store schema
 * 2, captured from it in test/fixtures/store-v2: a purchase awaiting payment, a delivered one, and a
 * cancelled order whose late payment was still being handled when it stopped) is moved to this version's
 * layout on first start, on SQLite and on Redis. Afterwards the awaiting purchase can be paid and is
 * delivered once, the delivered one reads as delivered, and the late payment's goods are delivered.
 */
import { readFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { createClient } from "@redis/client";
import { afterEach, describe, expect, test } from "vitest";
import { payUrlOf, startTestApp, testClock } from "../support/app.ts";
import { flushRedis, probeRedis, redisDbUrl } from "../support/redis.ts";

type SqliteFixture = Record<string, { sql: string; rows: Record<string, unknown>[] }>;
const fixture = (name: string) => readFileSync(new URL(`../fixtures/store-v2/${name}`, import.meta.url), "utf8");

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

/** An SQLite file exactly as the previous version left it. */
function previousSqliteStore(): string {
  const dir = mkdtempSync(join(tmpdir(), "tokengoblin-upgrade-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, "shop.sqlite");
  const db = new Database(path);
  for (const [table, { sql, rows }] of Object.entries(JSON.parse(fixture("sqlite.json")) as SqliteFixture)) {
    db.exec(sql);
    for (const row of rows) {
      const columns = Object.keys(row);
      db.prepare(`INSERT INTO "${table}" (${columns.map((c) => `"${c}"`).join(", ")}) VALUES (${columns.map(() => "?").join(", ")})`).run(
        ...columns.map((c) => row[c]),
      );
    }
  }
  db.close();
  return `sqlite://${path}`;
}

/** A Redis database exactly as the previous version left it. */
async function previousRedisStore(url: string): Promise<string> {
  await flushRedis(url);
  cleanups.push(() => flushRedis(url));
  const client = createClient({ url });
  await client.connect();
  for (const [key, value] of Object.entries(JSON.parse(fixture("redis.json")) as Record<string, string>)) await client.set(key, value);
  await client.quit();
  return url;
}

/** The fixtures were written on 2026-12-01 at 12:00 UTC; the new version starts five minutes later. */
const clockAfterUpgrade = () => testClock(Date.UTC(2026, 11, 1, 12, 5));

async function upgradedShopWorks(storeUrl: string) {
  const clock = clockAfterUpgrade();
  const { app, pay, notifications } = await startTestApp({ STORE_URL: storeUrl, LATE_PAYMENT: "deliver" }, { clock });
  cleanups.push(() => app.close());

  // The purchase that was awaiting payment still is, and paying it delivers once.
  const awaiting = await app.engine.view("100");
  expect(awaiting.kind === "order" && awaiting.order).toMatchObject({ stage: "awaiting_payment", tokens: 2000 });
  await pay(payUrlOf(awaiting));
  await pay(payUrlOf(awaiting));
  const delivered = notifications.filter((n) => n.chatId === "100" && n.reply.kind === "order" && n.reply.secret);
  expect(delivered).toHaveLength(1);

  // The delivered one reads as delivered, with its code's last characters and never the code.
  const done = await app.engine.handleText("200", "status");
  expect(done.kind === "no_order" && done.lastOrder).toMatchObject({ stage: "delivered", tokens: 3000 });
  expect(done.kind === "no_order" && done.lastOrder?.deliveryHint).toMatch(/^…/);

  // The late payment the previous version was still handling is finished: its goods are delivered.
  await app.engine.runDue();
  clock.advance(60_000);
  await app.engine.runDue();
  const late = notifications.filter((n) => n.chatId === "300" && (n.reply.kind === "order" || n.reply.kind === "payment_notice"));
  expect(late.some((n) => (n.reply.kind === "order" || n.reply.kind === "payment_notice") && n.reply.secret)).toBe(true);
  const lateStatus = await app.engine.handleText("300", "status");
  expect(lateStatus.kind === "no_order" && lateStatus.lastOrder).toMatchObject({ stage: "delivered", late: true });

  // The old layout is gone, and the read model knows every order.
  expect((await app.store.legacy?.collections()) ?? []).toEqual([]);
  await app.projection.refresh();
  expect(app.projection.state().orders.size).toBe(3);

  // A second start finds nothing left to move and changes nothing.
  await app.close();
  cleanups.pop();
  const again = await startTestApp({ STORE_URL: storeUrl }, { clock });
  cleanups.push(() => again.app.close());
  const still = await again.app.engine.handleText("100", "status");
  expect(still.kind === "no_order" && still.lastOrder?.stage).toBe("delivered");
}

const redisUrl = redisDbUrl(9);
const redisProblem = await probeRedis(redisUrl);

describe("a store written by the previous version is upgraded on first start", () => {
  test("on SQLite", async () => {
    await upgradedShopWorks(previousSqliteStore());
  });

  test.skipIf(redisProblem !== null && !process.env.CI)("on Redis", async () => {
    if (redisProblem !== null) throw new Error(`Redis at ${redisUrl} is unreachable in CI (${redisProblem})`);
    await upgradedShopWorks(await previousRedisStore(redisUrl));
  });
});
