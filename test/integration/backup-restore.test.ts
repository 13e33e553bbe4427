/**
 * Issue 22 (4): `npm run backup` takes a consistent copy while the bot sells, and `npm run restore`
 * loads it into an empty store. A stocked shop (orders in every state the sandbox shop reaches) keeps
 * selling to six chats at once through the real engine while the backup runs in its own process. The
 * backup must be one moment of the shop: every order reads as its own audit trail last described it,
 * every trail is a beginning of what the live shop went on to write, delivered orders have their goods
 * and paid ones their payment index entry. Restored into a new SQLite file (a copy of the file), into an
 * SQLite store that exists but is empty, and into a new Redis prefix, it reads exactly as the backup
 * through the ShopStore API, and the order that was awaiting payment is paid and delivered there.
 * Redis is required in CI (REDIS_URL); locally its test is skipped with a warning when Redis is absent.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, test } from "vitest";
import { readBackupItems } from "../../src/cli/backup-file.ts";
import { ChatId } from "../../src/domain/ids.ts";
import type { StoreItem } from "../../src/store/dump.ts";
import type { ShopStore } from "../../src/store/index.ts";
import { memoryStore } from "../../src/store/memory.ts";
import { exportSqlite } from "../../src/store/sqlite-dump.ts";
import { sqliteStore } from "../../src/store/sqlite-store.ts";
import { testClock } from "../support/app.ts";
import { probeRedis } from "../support/redis.ts";
import { isolatedRedisUrl, whenRedis } from "../support/redis-store.ts";
import { STOCKED_CHATS, expectSameShop, openStockedShopApp, runStoreTool, stockShop } from "../support/stocked-shop.ts";
import { TOOLS_TIMEOUT_MS, cleanUpScratch, cleanups, opened, scratchDir } from "../support/tool-scratch.ts";

const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const BUYERS = ["201", "202", "203", "204", "205", "206"];

afterEach(cleanUpScratch);

/** A memory store holding exactly what the backup file holds (read the way restore reads it). */
async function backupAsStore(items: AsyncIterable<StoreItem>): Promise<ShopStore> {
  const store = memoryStore();
  await store.importAll(items);
  return store;
}

/**
 * Runs `backup` while six chats buy (quote, confirm, pay) over and over on the live shop; returns the
 * backup tool's result and the live app, still open, once every buyer has finished its purchase.
 */
async function backupWhileSelling(storeUrl: string, stocked: Awaited<ReturnType<typeof stockShop>>, args: string[]) {
  const live = await openStockedShopApp(storeUrl, testClock(stocked.clock.now));
  cleanups.push(() => live.app.close());
  const stop = { on: false };
  let purchases = 0;
  const buying = Promise.all(
    BUYERS.map(async (chatId, i) => {
      while (!stop.on) {
        await live.app.engine.handleText(chatId, `I need ${1000 + 100 * i} tokens`);
        const invoice = await live.app.engine.handleText(chatId, "yes");
        if (invoice.kind === "order" && invoice.order.payUrl) await live.pay(invoice.order.payUrl);
        purchases++;
        // On SQLite every step may finish without waiting for I/O: let timers and the backup's output through.
        await new Promise((resolve) => setImmediate(resolve));
      }
    }),
  );
  // Purchases before the backup starts, while it runs, and after it ended.
  while (purchases < 12) await new Promise((resolve) => setTimeout(resolve, 5));
  const atStart = purchases;
  const backup = await runStoreTool("backup", args, { STORE_URL: storeUrl });
  const atEnd = purchases;
  while (purchases < atEnd + 6) await new Promise((resolve) => setTimeout(resolve, 5));
  stop.on = true;
  await buying;
  expectOnlyProgress(backup.stderr, "backup");
  expect(backup.code).toBe(0);
  expect(atEnd, "chats bought while the backup ran").toBeGreaterThan(atStart);
  return { backup, live: live.app };
}

/**
 * The backup is one moment of the live shop: each chat's orders exist in it, each order is what its
 * own trail's last "order" entry says, each trail is how the live trail began, and goods and payment
 * index entries are there for the orders that need them.
 */
async function expectOneMoment(backup: ShopStore, live: ShopStore, chatIds: readonly string[]) {
  let orders = 0;
  for (const chatId of chatIds.map((id) => ChatId.parse(id))) {
    const { chat } = await backup.readChat(chatId);
    if (!chat || chat === "invalid") continue;
    const ids = [...chat.recentOrderIds, ...(chat.currentOrderId ? [chat.currentOrderId] : [])];
    const records = await backup.readOrders(chatId, ids);
    expect(
      records.map((order) => order.orderId),
      `chat ${chatId}'s orders`,
    ).toEqual(ids);
    for (const order of records) {
      orders++;
      const trail = await backup.auditOf(order.orderId);
      expect((await live.auditOf(order.orderId)).slice(0, trail.length), `order ${order.orderId}'s trail`).toEqual(trail);
      const described = trail.filter((entry) => entry.type === "order").at(-1);
      expect(described?.detail.summary, `order ${order.orderId} as its trail last described it`).toEqual(order.summary);
      if (order.summary.deliveredAt !== null)
        expect(await backup.goods(order.orderId, chatId), `order ${order.orderId}'s goods`).toBeDefined();
      if (order.summary.paymentId)
        expect(await backup.findPayment(`${order.summary.provider}:${order.summary.paymentId}`)).toEqual({
          orderId: order.orderId,
          chatId,
        });
    }
  }
  expect(orders).toBeGreaterThan(20);
}

/** The restored shop serves: the order awaiting payment when the backup was taken is paid and delivered once. */
async function awaitingOrderIsDelivered(url: string, stocked: Awaited<ReturnType<typeof stockShop>>) {
  const { app, pay, notifications } = await openStockedShopApp(url, testClock(stocked.clock.now));
  cleanups.push(() => app.close());
  await pay(stocked.awaitingUrl);
  await pay(stocked.awaitingUrl);
  const delivered = notifications.filter((n) => n.chatId === STOCKED_CHATS.awaitingPayment && n.reply.kind === "order" && n.reply.secret);
  expect(delivered).toHaveLength(1);
}

/** A long run prints progress lines on stderr, and nothing else. */
const expectOnlyProgress = (stderr: string, tool: string) => expect(stderr).toMatch(new RegExp(`^(${tool}: .+ so far \\(\\d+ s\\)\\n)*$`));

const allChats = (stocked: Awaited<ReturnType<typeof stockShop>>) => [...stocked.chatIds, ...BUYERS];

describe("backup and restore on SQLite (issue 22, 4)", () => {
  test(
    "a backup taken while six chats buy is one moment of the shop, and restores whole into a new file and into an empty store",
    async () => {
      const dir = scratchDir("backup");
      const storeUrl = `sqlite://${join(dir, "shop.sqlite")}`;
      const stocked = await stockShop(storeUrl);
      const file = join(dir, "backups", "shop.sqlite");
      const { backup, live } = await backupWhileSelling(storeUrl, stocked, ["--to", file]);
      expect(backup.stdout).toMatch(
        new RegExp(`^backup: wrote ${file} \\([\\d,]+ bytes\\) from ${storeUrl} in .*: \\d+ chats, \\d+ orders, .*audit entries`),
      );

      const copy = new Database(file, { readonly: true });
      cleanups.push(() => void copy.close());
      const fromBackup = await backupAsStore(exportSqlite(copy, file, Date.now()));
      await expectOneMoment(fromBackup, live.store, allChats(stocked));

      // Into a new file: the file is copied.
      const newFile = `sqlite://${join(dir, "restored", "shop.sqlite")}`;
      const restored = await runStoreTool("restore", ["--from", file], { STORE_URL: newFile });
      expectOnlyProgress(restored.stderr, "restore");
      expect(restored.code).toBe(0);
      expect(restored.stdout).toMatch(
        /^restore: copied .* into sqlite:\/\/.*restored\/shop\.sqlite in .*: \d+ chats, .*Start the bot on it\.\n$/,
      );
      await expectSameShop(fromBackup, await opened(newFile), allChats(stocked));

      // Into a store that exists but holds nothing: item by item.
      const emptyUrl = `sqlite://${join(dir, "empty.sqlite")}`;
      await (await sqliteStore(join(dir, "empty.sqlite"))).close();
      const loaded = await runStoreTool("restore", ["--from", file], { STORE_URL: emptyUrl });
      expect(loaded.code).toBe(0);
      expect(loaded.stdout).toMatch(/^restore: loaded .* into sqlite:\/\/.*empty\.sqlite in .*: \d+ chats, \d+ orders, .*audit entries/);
      await expectSameShop(fromBackup, await opened(emptyUrl), allChats(stocked));

      await awaitingOrderIsDelivered(newFile, stocked);
    },
    TOOLS_TIMEOUT_MS,
  );

  test(
    "a backup file of the release before the window of applied updates restores into a new file and into an empty store",
    async () => {
      const dir = scratchDir("backup");
      const file = join(dir, "old-backup.sqlite");
      const chat = ChatId.parse("77");
      const lease = { owner: "old-release", ttlMs: 60_000 };
      const before = await sqliteStore(file);
      await before.acceptUpdate(chat, 100, "{}", lease);
      await before.commit({ chatId: chat, owner: "old-release", appliedUpdateId: 100, release: true });
      await before.close();
      // As that release wrote the file: no window, no time, the newest applied id in last_update_id.
      const raw = new Database(file);
      raw.exec("ALTER TABLE chats DROP COLUMN recent_update_ids; ALTER TABLE chats DROP COLUMN updates_applied_at");
      raw.exec("UPDATE chats SET last_update_id = 100; PRAGMA wal_checkpoint(TRUNCATE)");
      raw.close();
      for (const target of [`sqlite://${join(dir, "new", "shop.sqlite")}`, `sqlite://${join(dir, "empty.sqlite")}`]) {
        if (target.endsWith("empty.sqlite")) await (await sqliteStore(join(dir, "empty.sqlite"))).close();
        const restored = await runStoreTool("restore", ["--from", file], { STORE_URL: target });
        expect(restored.stderr).toBe("");
        expect(restored.code).toBe(0);
        const store = await opened(target);
        expect((await store.readChat(chat)).applied).toMatchObject({ upTo: 100, recent: [] });
        expect(await store.acceptUpdate(chat, 100, "{}", lease)).toMatchObject({ accepted: false });
        expect(await store.acceptUpdate(chat, 101, "{}", lease)).toMatchObject({ accepted: true });
      }
    },
    TOOLS_TIMEOUT_MS,
  );

  test(
    "restore refuses a store that holds data, a damaged file and memory://; backup refuses memory:// and an existing file",
    async () => {
      const dir = scratchDir("backup");
      const storeUrl = `sqlite://${join(dir, "shop.sqlite")}`;
      await stockShop(storeUrl);
      const file = join(dir, "shop-backup.sqlite");
      expect((await runStoreTool("backup", ["--to", file], { STORE_URL: storeUrl })).code).toBe(0);

      const again = await runStoreTool("backup", ["--to", file], { STORE_URL: storeUrl });
      expect(again.code).toBe(1);
      expect(again.stderr).toContain("already exists: choose another --to");
      const memory = await runStoreTool("backup", [], { STORE_URL: "memory://" });
      expect(memory.code).toBe(1);
      expect(memory.stderr).toContain("nothing to back up");

      const full = await runStoreTool("restore", ["--from", file], { STORE_URL: storeUrl });
      expect(full.code).toBe(1);
      expect(full.stderr).toMatch(/is not empty \(it holds \d+ chats, \d+ orders.*\)\. Load into an empty store/);

      // A JSON-lines backup cut short is refused before anything is written.
      const lines = join(dir, "cut.jsonl");
      const header = { format: "tokengoblin-backup", version: 1, storeSchema: 3, source: "redis", createdAt: new Date().toISOString() };
      writeFileSync(lines, `${JSON.stringify(header)}\n${JSON.stringify({ kind: "order_chat", orderId: "ord_x", chatId: "1" })}\n`);
      const target = `sqlite://${join(dir, "target.sqlite")}`;
      const cut = await runStoreTool("restore", ["--from", lines], { STORE_URL: target });
      expect(cut.code).toBe(1);
      expect(cut.stderr).toContain("ends before its end line: the backup was cut short");
      expect(readFileSync(file).subarray(0, 15).toString()).toBe("SQLite format 3");
      const none = await runStoreTool("restore", ["--from", join(dir, "nope")], { STORE_URL: target });
      expect(none.code).toBe(1);
      expect((await runStoreTool("restore", [], { STORE_URL: target })).code).toBe(2);
      expect((await runStoreTool("restore", ["--from", file], { STORE_URL: "memory://" })).code).toBe(1);
    },
    TOOLS_TIMEOUT_MS,
  );
});

const problem = await probeRedis(REDIS_URL);

whenRedis(
  "backup-restore (Redis)",
  problem === null ? null : `no Redis at ${REDIS_URL} (${problem})`,
  "Run: redis-server --port 6379 --daemonize yes --save '' (or set REDIS_URL)",
  () => {
    test(
      "a backup of a Redis shop taken while six chats buy is one moment of each chat, and restores whole into a new prefix",
      async () => {
        const dir = scratchDir("backup");
        const source = await isolatedRedisUrl(REDIS_URL);
        cleanups.push(() => source.clear());
        const stocked = await stockShop(source.url);
        const file = join(dir, "shop.jsonl");
        const { backup, live } = await backupWhileSelling(source.url, stocked, ["--to", file]);
        expect(backup.stdout).toMatch(
          /^backup: wrote .*shop\.jsonl \([\d,]+ bytes\) from redis:\/\/.* in .*: \d+ chats, \d+ orders, .*audit entries/,
        );

        const fromBackup = await backupAsStore(readBackupItems(file));
        await expectOneMoment(fromBackup, live.store, allChats(stocked));

        const target = await isolatedRedisUrl(REDIS_URL);
        cleanups.push(() => target.clear());
        const restored = await runStoreTool("restore", ["--from", file], { STORE_URL: target.url });
        expectOnlyProgress(restored.stderr, "restore");
        expect(restored.code).toBe(0);
        expect(restored.stdout).toMatch(/^restore: loaded .*shop\.jsonl into redis:\/\/.* in .*: \d+ chats, \d+ orders, .*audit entries/);
        await expectSameShop(fromBackup, await opened(target.url), allChats(stocked));

        // A Redis backup restores into SQLite too.
        const sqliteUrl = `sqlite://${join(dir, "from-redis.sqlite")}`;
        expect((await runStoreTool("restore", ["--from", file], { STORE_URL: sqliteUrl })).code).toBe(0);
        await expectSameShop(fromBackup, await opened(sqliteUrl), allChats(stocked));

        await awaitingOrderIsDelivered(target.url, stocked);
      },
      TOOLS_TIMEOUT_MS,
    );
  },
);
