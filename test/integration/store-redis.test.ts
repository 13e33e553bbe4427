/**
 * The Redis store on one server (REDIS_URL, default redis://127.0.0.1:6379, database 13, a unique key
 * prefix per test) keeps the store contract; it reads and drops the old key-value layout (database
 * 14, which this file owns); it refuses data laid out for another shard count; and a Redis that is
 * not there fails the open promptly, naming the URL without its password. Required in CI; skipped
 * with a warning locally when Redis is unreachable.
 */
import { createServer } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { ChatId } from "../../src/domain/ids.ts";
import { connectRedis, type RedisConnection } from "../../src/store/redis-connect.ts";
import { redisKeys } from "../../src/store/redis-keys.ts";
import { redisStore } from "../../src/store/redis-store.ts";
import { StoreUnavailableError } from "../../src/store/shop-store.ts";
import { probeRedis, redisDbUrl } from "../support/redis.ts";
import { deletePrefix, redisFixture, uniquePrefix, whenRedis } from "../support/redis-store.ts";
import { describeStoreContract } from "../support/store-contract.ts";

const CONTRACT_URL = redisDbUrl(13);
const LEGACY_URL = redisDbUrl(14);
const problem = await probeRedis(CONTRACT_URL);

whenRedis(
  "store-redis",
  problem === null ? null : `no Redis at ${CONTRACT_URL} (${problem})`,
  "Run: redis-server --port 6379 --daemonize yes --save '' (or set REDIS_URL)",
  () => {
    describeStoreContract("Redis", redisFixture(CONTRACT_URL));

    describe("Redis store: the layout before store schema 3", () => {
      let admin: RedisConnection;
      beforeAll(async () => {
        admin = await connectRedis(LEGACY_URL);
      });
      afterAll(async () => {
        await admin.masters().then(([node]) => node?.flushDb());
        await admin.close();
      });
      beforeEach(async () => {
        // Database 14 is this file's: the old layout has fixed key names.
        await admin.masters().then(([node]) => node?.flushDb());
      });

      test("old keyv records are listed by collection, read unwrapped, and dropped; a store without them offers none", async () => {
        const prefix = uniquePrefix();
        const node = (await admin.masters())[0];
        if (!node) throw new Error("no Redis node");
        await node.set("tokengoblin:conversations::42", JSON.stringify({ value: { chatId: "42", rev: 3 }, expires: null }));
        await node.set("tokengoblin:orders::ord_a", JSON.stringify({ value: { orderId: "ord_a", state: "paid" } }));
        await node.set("tokengoblin:orders::ord_b", JSON.stringify({ value: { orderId: "ord_b", state: "quoted" } }));
        await node.set("tokengoblin:late_payments::ord_a", JSON.stringify({ value: { orderId: "ord_a" }, expires: Date.now() - 1_000 }));
        await node.set("tokengoblin:claim:deliver:ord_a", "instance-a");
        await node.set(`${prefix}unrelated`, "kept");

        const store = await redisStore(LEGACY_URL, { keyPrefix: prefix });
        try {
          const legacy = store.legacy;
          if (!legacy) throw new Error("the store did not offer its old data");
          expect(await legacy.collections()).toEqual(["conversations", "late_payments", "orders"]);
          const orders: [string, unknown][] = [];
          for await (const entry of legacy.entries("orders")) orders.push(entry);
          expect(orders.sort(([a], [b]) => a.localeCompare(b))).toEqual([
            ["ord_a", { orderId: "ord_a", state: "paid" }],
            ["ord_b", { orderId: "ord_b", state: "quoted" }],
          ]);
          // keyv itself would have treated an expired record as gone.
          const late: unknown[] = [];
          for await (const entry of legacy.entries("late_payments")) late.push(entry);
          expect(late).toEqual([]);

          await legacy.drop();
          expect(store.legacy).toBeUndefined();
          expect(await node.exists(["tokengoblin:conversations::42", "tokengoblin:orders::ord_a", "tokengoblin:claim:deliver:ord_a"])).toBe(
            0,
          );
          expect(await node.get(`${prefix}unrelated`)).toBe("kept");
        } finally {
          await store.close();
        }
        // Remembered: the next open neither offers the old data nor looks for it again.
        const reopened = await redisStore(LEGACY_URL, { keyPrefix: prefix });
        expect(reopened.legacy).toBeUndefined();
        await reopened.close();
      });

      test("a store on a Redis that never held the old layout has no legacy data", async () => {
        const store = await redisStore(LEGACY_URL, { keyPrefix: uniquePrefix() });
        expect(store.legacy).toBeUndefined();
        await store.close();
      });
    });

    describe("Redis store: opening", () => {
      test("data laid out for another number of shards is refused, not misread", async () => {
        const prefix = uniquePrefix();
        const admin = await connectRedis(CONTRACT_URL);
        try {
          await admin.client.hSet(redisKeys(prefix).meta, "shards", "8");
          await expect(redisStore(CONTRACT_URL, { keyPrefix: prefix })).rejects.toThrow(/created with 8 shards, this version uses 16/);
        } finally {
          await deletePrefix(admin, prefix);
          await admin.close();
        }
      });

      test("a chat's applied updates an earlier version kept (no time of their own) date from the upgrade, and are forgotten 48 hours after it", async () => {
        const prefix = uniquePrefix();
        const admin = await connectRedis(CONTRACT_URL);
        let now = Date.UTC(2026, 11, 7);
        const store = await redisStore(CONTRACT_URL, { keyPrefix: prefix, clock: () => now });
        try {
          // As the earlier version left two chats: the newest applied id, nothing else.
          const [busy, quiet] = [ChatId.parse("501"), ChatId.parse("502")];
          for (const chat of [busy, quiet]) await admin.client.hSet(redisKeys(prefix).chat(chat), { rev: "1", last: "1000" });
          const lease = { owner: "a", ttlMs: 5_000 };
          now += 24 * 3_600_000;
          expect(await store.acceptUpdate(busy, 900, "{}", lease)).toMatchObject({ accepted: false });
          // The other chat's next message comes after a quiet week, numbered by Telegram afresh below 1000.
          now += 7 * 24 * 3_600_000;
          expect(await store.acceptUpdate(quiet, 500, '{"update_id":500}', lease)).toMatchObject({ accepted: true, held: true, next: 500 });
        } finally {
          await store.close();
          await deletePrefix(admin, prefix);
          await admin.close();
        }
      });

      test("an update id whose kept update is missing from the inbox comes back unreadable, so the drain can set it aside", async () => {
        const prefix = uniquePrefix();
        const admin = await connectRedis(CONTRACT_URL);
        const store = await redisStore(CONTRACT_URL, { keyPrefix: prefix });
        try {
          const chat = ChatId.parse("503");
          const lease = { owner: "a", ttlMs: 5_000 };
          await store.acceptUpdate(chat, 700, '{"update_id":700}', lease);
          await store.acceptUpdate(chat, 701, '{"update_id":701}', lease);
          // A damaged inbox: the queue still names 700, its update is gone.
          expect(await admin.client.hDel(redisKeys(prefix).inbox(chat), "700")).toBe(1);
          expect(await store.queuedUpdates(chat, 2)).toEqual([
            { updateId: 700, raw: "" },
            { updateId: 701, raw: '{"update_id":701}' },
          ]);
          // Set aside as applied, it leaves the queue; the next one waits in front.
          expect(await store.commit({ chatId: chat, owner: "a", appliedUpdateId: 700, release: true })).toMatchObject({
            ok: true,
            pendingUpdates: true,
          });
          expect(await store.queuedUpdates(chat, 2)).toEqual([{ updateId: 701, raw: '{"update_id":701}' }]);
        } finally {
          await store.close();
          await deletePrefix(admin, prefix);
          await admin.close();
        }
      });

      test("a Redis that is not there fails the open at once, naming the URL without its password", async () => {
        const port = await closedPort();
        const started = Date.now();
        const opening = redisStore(`redis://shop:s3cret-pass@127.0.0.1:${port}`);
        await expect(opening).rejects.toBeInstanceOf(StoreUnavailableError);
        const message = await opening.catch((error: Error) => error.message);
        expect(Date.now() - started).toBeLessThan(5_000);
        expect(message).toContain(`redis://shop:***@127.0.0.1:${port}`);
        expect(message).not.toContain("s3cret");
      });
    });
  },
);

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
