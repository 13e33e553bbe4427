/**
 * Issue 20: the audit cannot drop an entry. A step's audit entries are written in the step's own
 * commit, so when they cannot be written the step fails with nothing of it stored: the customer's
 * message is not applied (and they are told so), a payment webhook gets a non-2xx answer and the
 * provider sends it again. Once the audit can be written again, the same message and the same
 * webhook go through, and every entry of what happened is in the order's trail.
 *
 * The audit is broken on purpose, per backend: on SQLite a trigger refuses inserts into the audit
 * table; on Redis the chat's shard log is replaced by a key of the wrong type (the commit script
 * writes the audit first, so nothing else of the step is kept either).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, test } from "vitest";
import { ChatId, OrderId } from "../../src/domain/ids.ts";
import { connectRedis } from "../../src/store/redis-connect.ts";
import { redisKeys } from "../../src/store/redis-keys.ts";
import { payUrlOf, startTestApp } from "../support/app.ts";
import { probeRedis, redisDbUrl } from "../support/redis.ts";
import { isolatedRedisUrl, whenRedis } from "../support/redis-store.ts";

const CHAT = "5150";
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

/** A way to stop the audit from being written, and to let it be written again. */
type AuditBreaker = { storeUrl: string; breakAudit(): Promise<void>; mendAudit(): Promise<void> };

function sqliteBreaker(): AuditBreaker {
  const dir = mkdtempSync(join(tmpdir(), "audit-failure-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, "shop.sqlite");
  const run = (sql: string) => {
    const db = new Database(file, { timeout: 5_000 });
    try {
      db.exec(sql);
    } finally {
      db.close();
    }
  };
  return {
    storeUrl: `sqlite://${file}`,
    breakAudit: async () =>
      run("CREATE TRIGGER refuse_audit BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, 'audit refused by the test'); END;"),
    mendAudit: async () => run("DROP TRIGGER refuse_audit;"),
  };
}

async function redisBreaker(base: string): Promise<AuditBreaker> {
  const isolated = await isolatedRedisUrl(base);
  cleanups.push(() => isolated.clear());
  const prefix = decodeURIComponent(/prefix=([^&]+)/.exec(isolated.url)![1]!);
  const logKey = redisKeys(prefix).logOf(CHAT);
  const parked = `${logKey}:parked-by-test`;
  const withClient = async (work: (client: Awaited<ReturnType<typeof connectRedis>>["client"]) => Promise<unknown>) => {
    const connection = await connectRedis(base);
    try {
      await work(connection.client);
    } finally {
      await connection.close();
    }
  };
  return {
    storeUrl: isolated.url,
    // The shard's log moves aside and a string takes its place: XADD answers WRONGTYPE.
    breakAudit: () =>
      withClient(async (client) => {
        if (await client.exists(logKey)) await client.rename(logKey, parked);
        await client.set(logKey, "not a stream");
      }),
    mendAudit: () =>
      withClient(async (client) => {
        await client.del(logKey);
        if (await client.exists(parked)) await client.rename(parked, logKey);
      }),
  };
}

async function refusedStepLosesNothing(breaker: AuditBreaker) {
  const { app } = await startTestApp({ STORE_URL: breaker.storeUrl });
  cleanups.push(() => app.close());
  const chatId = ChatId.parse(CHAT);

  const quote = await app.engine.handleText(CHAT, "I need 2000 tokens");
  expect(quote.kind).toBe("order");
  const orderId = OrderId.parse(quote.kind === "order" ? quote.order.orderId : "");
  const trailBefore = await app.store.auditOf(orderId);
  const chatBefore = await app.store.readChat(chatId);

  // A message whose entries cannot be written is not applied: the caller hears of the failure.
  await breaker.breakAudit();
  await expect(app.engine.handleText(CHAT, "make it 3000")).rejects.toThrow();
  expect((await app.engine.orderView(orderId))?.tokens).toBe(2000);
  expect((await app.store.readChat(chatId)).rev).toBe(chatBefore.rev);
  await breaker.mendAudit();
  expect(await app.store.auditOf(orderId)).toEqual(trailBefore);

  // Sent again once the audit works: applied, and its entries are in the trail.
  const changed = await app.engine.handleText(CHAT, "make it 3000");
  expect(changed.kind === "order" && changed.order.tokens).toBe(3000);
  const afterChange = await app.store.auditOf(orderId);
  expect(afterChange.some((entry) => entry.type === "command" && JSON.stringify(entry.detail).includes("make it 3000"))).toBe(true);

  // A payment webhook whose step cannot be audited is answered non-2xx, and the provider's next try pays.
  const invoice = await app.engine.handleButton(CHAT, { action: "confirm", orderId, shown: 3000 });
  const payUrl = payUrlOf(invoice);
  await breaker.breakAudit();
  const page = await app.http.dispatch({ method: "POST", path: new URL(payUrl).pathname, headers: {}, rawBody: Buffer.alloc(0) });
  expect(page.status).toBe(200); // the sandbox "provider" recorded the click; its webhook is what the shop must take
  await app.flushSandboxWebhooks();
  expect((await app.engine.orderView(orderId))?.tags).toContain("accepts_payment");
  await breaker.mendAudit();
  await app.flushSandboxWebhooks();
  const delivered = await app.engine.orderView(orderId);
  expect(delivered?.tags).toContain("delivered");
  const trail = await app.store.auditOf(orderId);
  expect(trail.filter((entry) => entry.type === "payment")).toHaveLength(1);
  expect(trail.some((entry) => entry.type === "transition" && JSON.stringify(entry.detail).includes('"to":"paid'))).toBe(true);
  expect(trail.some((entry) => entry.type === "transition" && JSON.stringify(entry.detail).includes('"to":"delivered'))).toBe(true);
}

describe("an audit write that fails fails its step (issue 20)", () => {
  test("on SQLite: the message and the webhook are refused whole, then go through with every entry", () =>
    refusedStepLosesNothing(sqliteBreaker()));
});

const redisBase = redisDbUrl(0);
const redisProblem = await probeRedis(redisBase);
whenRedis("an audit write that fails fails its step on Redis (issue 20)", redisProblem, "start redis-server or set REDIS_URL", () => {
  describe("an audit write that fails fails its step on Redis (issue 20)", () => {
    test("on Redis: the message and the webhook are refused whole, then go through with every entry", async () =>
      refusedStepLosesNothing(await redisBreaker(redisBase)));
  });
});
