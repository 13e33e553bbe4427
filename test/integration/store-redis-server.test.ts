/**
 * The Redis store against a redis-server of its own (a free port, nothing persisted), for what the
 * shared Redis cannot allow: stopping it, freezing it (SIGSTOP: connected, silent), and counting its
 * commands. Proves that an outage fails fast and heals by itself, that no normal method walks the
 * keyspace, and that the engine's two hot calls are one command each. Needs redis-server: required
 * in CI, skipped with a warning locally when it is not installed.
 */
import { tracingChannel } from "node:diagnostics_channel";
import { CHANNELS } from "@redis/client";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { ChatId, OrderId } from "../../src/domain/ids.ts";
import type { AuditEntry, GoodsEntry } from "../../src/domain/records.ts";
import { connectRedis, type RedisConnection } from "../../src/store/redis-connect.ts";
import { redisStore } from "../../src/store/redis-store.ts";
import { commitScript, openChatScript } from "../../src/store/redis-scripts.ts";
import { type ShopStore, StoreUnavailableError } from "../../src/store/shop-store.ts";
import { type OwnRedis, redisServerMissing, startOwnRedis } from "../support/redis-server.ts";
import { whenRedis } from "../support/redis-store.ts";
import { chatRecord, orderRecord } from "../support/store-contract.ts";

const chat = ChatId.parse("chat-1");
const order = OrderId.parse("ord_outage1");
const A = { owner: "instance-a", ttlMs: 5_000 };

const audit = (n: number): AuditEntry => ({
  v: 2,
  type: "transition",
  chatId: chat,
  orderId: order,
  at: 1,
  instance: "test",
  detail: { n },
});
const goods: GoodsEntry = {
  v: 1,
  orderId: order,
  chatId: chat,
  provider: "sandbox",
  ref: "ref-1",
  hint: "…1",
  secret: "S-1",
  issuedAt: 1,
  sentAt: null,
  revoked: [],
};

/** Rejects with StoreUnavailableError within `ms`, or the test fails saying what happened instead. */
async function failsWithin(call: () => Promise<unknown>, ms: number): Promise<void> {
  const started = Date.now();
  const outcome = await call().then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  const took = Date.now() - started;
  expect("error" in outcome ? outcome.error : outcome).toBeInstanceOf(StoreUnavailableError);
  expect(took).toBeLessThan(ms);
}

/** Retries `call` until it resolves (each try under the store's own deadline), for up to `ms`. */
async function worksAgainWithin<T>(call: () => Promise<T>, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await call();
    } catch (error) {
      if (!(error instanceof StoreUnavailableError) || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100)); // a real redis-server process coming back: try again
    }
  }
}

/** `INFO commandstats` as calls per command name. */
async function commandCalls(connection: RedisConnection): Promise<Map<string, number>> {
  const [node] = await connection.masters();
  if (!node) throw new Error("no Redis node");
  const info = await node.info("commandstats");
  const calls = new Map<string, number>();
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls.set(match[1] ?? "", Number(match[2]));
  return calls;
}

/** The commands node-redis sends while `work` runs (its tracing channel), `INFO` left out. */
async function sentDuring<T>(work: () => Promise<T>): Promise<{ result: T; sent: string[] }> {
  const sent: string[] = [];
  const channel = tracingChannel<unknown, { command?: string }>(CHANNELS.TRACE_COMMAND);
  const handlers = {
    start: (context: { command?: string }) => {
      if (context.command && context.command !== "INFO") sent.push(context.command);
    },
  };
  channel.subscribe(handlers as never);
  try {
    return { result: await work(), sent };
  } finally {
    channel.unsubscribe(handlers as never);
  }
}

/** The commands a script's source calls (`redis.call('X', …)`), lower-cased as INFO names them. */
function commandsOf(script: { SCRIPT: string | Buffer }): Set<string> {
  return new Set([...String(script.SCRIPT).matchAll(/redis\.call\('([A-Z]+)'/g)].map((match) => (match[1] ?? "").toLowerCase()));
}

/**
 * The commands a client sent since `before`: INFO counts the commands a script runs too, so those of
 * `script` are taken out, and INFO itself.
 */
function sentBy(before: Map<string, number>, after: Map<string, number>, script: { SCRIPT: string | Buffer }): Record<string, number> {
  const inside = commandsOf(script);
  return Object.fromEntries(Object.entries(delta(before, after)).filter(([command]) => !inside.has(command)));
}

/** What each command was called since `before`, `INFO` itself left out. */
function delta(before: Map<string, number>, after: Map<string, number>): Record<string, number> {
  const changed: Record<string, number> = {};
  for (const [command, calls] of after) {
    const more = calls - (before.get(command) ?? 0);
    if (more > 0 && command !== "info") changed[command] = more;
  }
  return changed;
}

whenRedis("store-redis-server", redisServerMissing(), "Install redis-server (apt-get install redis-server) to run these tests", () => {
  describe("Redis store on a Redis of its own", () => {
    let redis: OwnRedis;
    const cleanups: (() => Promise<void>)[] = [];
    beforeEach(async () => {
      redis = await startOwnRedis();
    });
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
      await redis.dispose();
    });
    const open = async () => {
      const store = await redisStore(redis.url);
      cleanups.push(() => store.close());
      return store;
    };
    const admin = async () => {
      const connection = await connectRedis(redis.url);
      cleanups.push(() => connection.close());
      return connection;
    };

    test("while Redis is down a call fails within 1.5 s as unavailable, and the same store works once Redis is back (its scripts reloaded)", async () => {
      const store = await open();
      expect((await store.openChat(chat, A)).held).toBe(true);
      await redis.stop();
      await failsWithin(() => store.readChat(chat), 1_500);
      await failsWithin(() => store.openChat(chat, A), 1_500);
      await failsWithin(() => store.kv("preferences").get("42"), 1_500);
      await redis.restart();
      // A restarted server has no scripts loaded: EVALSHA's NOSCRIPT makes node-redis send them again.
      expect((await worksAgainWithin(() => store.openChat(chat, A), 8_000)).held).toBe(true);
      expect(
        await store.commit({ chatId: chat, owner: A.owner, chat: { record: chatRecord(chat, order, ["back"]), expectedRev: 0 } }),
      ).toMatchObject({
        ok: true,
        rev: 1,
      });
    });

    test("while Redis is frozen (connected, silent) a call fails within 1.5 s as unavailable, and the same store works once it thaws", async () => {
      const store = await open();
      expect((await store.openChat(chat, A)).held).toBe(true);
      redis.freeze();
      await failsWithin(() => store.readChat(chat), 1_500);
      await failsWithin(
        () => store.commit({ chatId: chat, owner: A.owner, chat: { record: chatRecord(chat, order, ["frozen"]), expectedRev: 0 } }),
        1_500,
      );
      await failsWithin(() => store.kv("preferences").set("42", { language: "ru" }), 1_500);
      await failsWithin(() => store.ping(), 1_500);
      redis.thaw();
      await worksAgainWithin(() => store.ping(), 5_000);
      const read = await store.readChat(chat);
      // The commit that timed out may still have run once the server read it: never twice, and
      // compare-and-set on the revision keeps a retry from overwriting it.
      expect([0, 1]).toContain(read.rev);
      expect((await store.openChat(chat, A)).held).toBe(true);
    });

    test("opening against a frozen Redis fails within about 5 s, naming the URL", async () => {
      redis.freeze();
      const started = Date.now();
      const message = await redisStore(redis.url).then(
        () => "opened",
        (error: Error) => `${error.name}: ${error.message}`,
      );
      expect(message).toMatch(/^StoreUnavailableError: .*could not connect to Redis at redis:\/\/127\.0\.0\.1:\d+/);
      expect(Date.now() - started).toBeLessThan(6_500);
      redis.thaw();
    });

    test("with 10,000 unrelated keys in Redis, no method but the old layout's reading scans the keyspace", async () => {
      const connection = await admin();
      const unrelated = Array.from({ length: 10_000 }, (_, i) => [`other-app:${i}`, "x"] as [string, string]);
      for (let i = 0; i < unrelated.length; i += 1_000) await connection.client.mSet(unrelated.slice(i, i + 1_000));
      // Opening looks for the old layout once (and remembers): that is the legacy reading.
      const store = await open();
      const before = await commandCalls(connection);
      await exerciseEveryMethod(store);
      const used = delta(before, await commandCalls(connection));
      expect(used.evalsha).toBeGreaterThan(0);
      expect(used.scan ?? 0).toBe(0);
      expect(used.keys ?? 0).toBe(0);
    });

    test("openChat and commit (a chat, an order, three audit entries) are one Redis command each", async () => {
      const connection = await admin();
      const store = await open();
      // Once, so that both scripts are loaded (the first call of a script after a start may EVAL it).
      await store.openChat(chat, A);
      await store.commit({
        chatId: chat,
        owner: A.owner,
        chat: { record: chatRecord(chat, order), expectedRev: 0 },
        orders: [orderRecord(order, chat, { dueAt: 5_000 })],
        audit: [audit(0)],
      });

      let before = await commandCalls(connection);
      const { result: opened, sent: openSent } = await sentDuring(() => store.openChat(chat, A));
      expect(openSent).toEqual(["EVALSHA"]);
      expect(sentBy(before, await commandCalls(connection), openChatScript)).toEqual({ evalsha: 1 });
      expect(opened.held && opened.state.order).toEqual(orderRecord(order, chat, { dueAt: 5_000 }));

      before = await commandCalls(connection);
      const { result: committed, sent: commitSent } = await sentDuring(() =>
        store.commit({
          chatId: chat,
          owner: A.owner,
          chat: { record: chatRecord(chat, order, ["again"]), expectedRev: 1 },
          orders: [orderRecord(order, chat, { dueAt: 6_000 })],
          audit: [audit(1), audit(2), audit(3)],
          release: true,
        }),
      );
      expect(commitSent).toEqual(["EVALSHA"]);
      expect(committed).toEqual({ ok: true, rev: 2, pendingUpdates: false });
      expect(sentBy(before, await commandCalls(connection), commitScript)).toEqual({ evalsha: 1 });
    });
  });
});

/** Calls every method of the store except `legacy`. */
async function exerciseEveryMethod(store: ShopStore): Promise<void> {
  const other = "instance-b";
  await store.openChat(chat, A);
  await store.renewLease(chat, A);
  await store.readChat(chat);
  await store.indexOrder(order, chat);
  await store.commit({
    chatId: chat,
    owner: A.owner,
    chat: { record: chatRecord(chat, order), expectedRev: 0 },
    orders: [orderRecord(order, chat, { dueAt: 10 })],
    audit: [audit(1)],
  });
  await store.readOrder(order);
  await store.readOrders(chat, [order]);
  await store.dueOrders(Date.now(), 10);
  await store.indexPayment("sandbox:1", { orderId: order, chatId: chat });
  await store.findPayment("sandbox:1");
  await store.claimGoods(order, chat, A.owner, 1_000);
  await store.putGoods(goods, A.owner);
  await store.goods(order, chat);
  await store.markGoodsSent(order, chat, 5);
  await store.acceptUpdate(chat, 1, "{}", { owner: other, ttlMs: 1_000 });
  await store.queuedUpdates(chat, 10);
  await store.waitingInboxes(Date.now(), 10);
  await store.commit({ chatId: chat, owner: A.owner, appliedUpdateId: 1 });
  await store.releaseLease(chat, A.owner);
  await store.appendAudit(chat, [audit(2)]);
  await store.auditOf(order);
  const batch = await store.readLog(null, 10);
  await store.readLog(batch.position, 10);
  await store.saveProjection("dashboard", { position: batch.position, state: "{}" });
  await store.loadProjection("dashboard");
  await store.claims.tryClaim("job", A.owner, 1_000);
  await store.claims.release("job", A.owner);
  const kv = store.kv("preferences");
  await kv.set("42", { language: "ru" });
  await kv.get("42");
  await kv.has("42");
  await kv.delete("42");
  await store.ping();
}
