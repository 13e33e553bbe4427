/**
 * The Redis store (`redis://`, `rediss://`, `redis-cluster://`): several instances share one Redis
 * server or one Redis Cluster. Each method is one round trip: a script for anything that touches
 * several keys or reads then writes (redis-scripts.ts), a single command otherwise. Methods over all
 * shards (due orders, waiting inboxes, the audit log) send one command per shard at once, never a
 * scan. Key layout: redis-keys.ts. Connection, deadlines and outage behaviour: redis-connect.ts.
 */
import type Keyv from "keyv";
import { z } from "zod";
import type { ChatId, OrderId } from "../domain/ids.ts";
import { AuditEntry, OrderRecord, PaymentIndexEntry, type OrderRecord as Order } from "../domain/records.ts";
import type { DueOrder, LegacyData, SavedProjection, ShopStore } from "./shop-store.ts";
import { commitCall, pushAudit } from "./redis-calls.ts";
import { connectRedis, type RedisConnection } from "./redis-connect.ts";
import { DEFAULT_PREFIX, parseDueMember, type RedisKeys, redisKeys, SHARDS } from "./redis-keys.ts";
import { exportRedis } from "./redis-export.ts";
import { importRedis } from "./redis-import.ts";
import { redisKeyv } from "./redis-kv.ts";
import { redisLegacyData } from "./redis-legacy.ts";
import { formatRedisLogPosition, mergeShardBatches, parseRedisLogPosition, type ShardEntry } from "./redis-log.ts";
import { appliedUpdatesSince, checkShards, legacyPending, markLegacyDropped } from "./redis-meta.ts";
import {
  AcceptReply,
  appliedUpdates,
  chatState,
  CommitReply,
  FlagReply,
  goodsClaim,
  goodsEntry,
  goodsFields,
  GoodsReply,
  OpenReply,
  QueuedReply,
  ReadReply,
  readJson,
  reply,
} from "./redis-replies.ts";
import type { CommitCall } from "./redis-scripts.ts";
import { PromoUseReply, PromoUsesReply } from "./redis-promo.ts";

export type RedisStoreOptions = {
  /** Prefix of every key (default `tg:`): several shops, or test runs, can share one Redis. */
  keyPrefix?: string;
  /**
   * The instance's clock (default `Date.now`): how long a chat remembers its applied Telegram updates,
   * and the time of a restored backup's. Leases and claims run on the Redis server's clock.
   */
  clock?: () => number;
};

const ALL_SHARDS = Array.from({ length: SHARDS }, (_, shard) => shard);
const SavedProjectionJson = z.object({ position: z.string(), state: z.string() });

/**
 * Opens the store on the Redis server or cluster `url`. Rejects with `StoreUnavailableError`
 * when Redis cannot be reached within a few seconds, and with an Error when the data there was laid
 * out for another number of shards.
 */
export async function redisStore(storeUrl: string, options: RedisStoreOptions = {}): Promise<ShopStore> {
  const { url, prefix } = splitKeyPrefix(storeUrl);
  const keys = redisKeys(options.keyPrefix ?? prefix ?? DEFAULT_PREFIX);
  const connection = await connectRedis(url);
  try {
    await checkShards(connection, keys);
    const legacy = (await legacyPending(connection, keys))
      ? redisLegacyData(connection, () => markLegacyDropped(connection, keys))
      : undefined;
    const clock = options.clock ?? Date.now;
    return storeOver(connection, keys, legacy, clock, await appliedUpdatesSince(connection, keys, clock()));
  } catch (error) {
    await connection.close();
    throw error;
  }
}

/**
 * A `?prefix=<text>` on the store URL keeps this shop's keys apart from other shops' (or test runs')
 * on the same Redis or cluster; the rest of the URL is the connection's.
 */
export function splitKeyPrefix(storeUrl: string): { url: string; prefix?: string } {
  const match = /^(.*?)[?&]prefix=([^&#]+)(.*)$/.exec(storeUrl);
  if (!match) return { url: storeUrl };
  const [, before = "", prefix = "", after = ""] = match;
  const rest = after.replace(/^&/, "");
  return { url: rest ? `${before}?${rest}` : before, prefix: decodeURIComponent(prefix) };
}

/** An audit entry as stored; entries that fail the schema are left out (they cannot be typed). */
function auditEntry(text: string | undefined): AuditEntry | undefined {
  const entry = readJson(AuditEntry, text);
  return entry === "invalid" ? undefined : entry;
}

function storeOver(
  connection: RedisConnection,
  keys: RedisKeys,
  legacyData: LegacyData | undefined,
  clock: () => number,
  appliedSince: number,
): ShopStore {
  const { client, guard } = connection;
  const keyvs = new Map<string, Keyv>();
  let legacy = legacyData;

  /** Runs `read` on every shard at once. */
  const everyShard = <T>(read: (shard: number) => Promise<T>) => Promise.all(ALL_SHARDS.map(read));

  const store: ShopStore = {
    kind: "redis",

    async openChat(chatId, lease) {
      const opened = await store.openChatSince(chatId, lease, 0);
      if ("unchanged" in opened) throw new Error(`the open script said chat ${chatId} is unchanged since revision 0`);
      return opened;
    },
    async openChatSince(chatId, lease, knownRev) {
      const raw = await guard("openChat", () =>
        client.openChat(keys.lease(chatId), keys.chat(chatId), lease.owner, lease.ttlMs, keys.orderPrefix(chatId), knownRev),
      );
      const opened = reply("openChat", OpenReply, raw);
      if (opened[0] === 0) return { held: false, holder: opened[1] };
      if (opened[0] === 2) return { held: true, unchanged: true, applied: appliedUpdates(opened[1], opened[2], opened[3]) };
      return { held: true, state: chatState(opened[1], opened[2], opened[3], opened[4], opened[5], opened[6]) };
    },
    async renewLease(chatId, lease) {
      const raw = await guard("renewLease", () => client.renewLease(keys.lease(chatId), lease.owner, lease.ttlMs));
      return reply("renewLease", FlagReply, raw) === 1;
    },
    async releaseLease(chatId, owner) {
      const raw = await guard("releaseLease", () => client.releaseLease(keys.lease(chatId), keys.queue(chatId), owner));
      return { pendingUpdates: reply("releaseLease", FlagReply, raw) === 1 };
    },
    async readChat(chatId) {
      const raw = await guard("readChat", () => client.readChat(keys.chat(chatId), keys.orderPrefix(chatId)));
      const [rev, record, order, last, recent, at] = reply("readChat", ReadReply, raw);
      return chatState(rev, record, order, last, recent, at);
    },
    async commit(step) {
      const call = commitCall(keys, step, clock());
      const raw = await guard("commit", () => client.commit(call));
      const committed = reply("commit", CommitReply, raw);
      if (committed[0] === 0) return { ok: false, reason: committed[1] };
      return { ok: true, rev: committed[1], pendingUpdates: committed[2] === 1 };
    },

    async indexOrder(orderId, chatId) {
      await guard("indexOrder", () => client.set(keys.orderChat(orderId), chatId));
    },
    async readOrder(orderId) {
      const text = await guard("readOrder", async () => {
        const chatId = await client.get(keys.orderChat(orderId));
        return chatId === null ? null : client.get(keys.order(chatId, orderId));
      });
      const order = readJson(OrderRecord, text);
      return order === "invalid" ? undefined : order;
    },
    async readOrders(chatId, orderIds) {
      if (orderIds.length === 0) return [];
      // One MGET: a chat's orders share its shard's hash tag, hence one slot.
      const texts = await guard("readOrders", () => client.mGet(orderIds.map((orderId) => keys.order(chatId, orderId))));
      return texts.flatMap((text): Order[] => {
        const order = readJson(OrderRecord, text);
        return order === undefined || order === "invalid" || order.chatId !== chatId ? [] : [order];
      });
    },
    async dueOrders(now, limit) {
      if (limit <= 0) return [];
      const perShard = await guard("dueOrders", () =>
        everyShard((shard) => client.zRangeWithScores(keys.due(shard), "-inf", now, { BY: "SCORE", LIMIT: { offset: 0, count: limit } })),
      );
      const due: DueOrder[] = [];
      for (const { value, score } of perShard.flat()) {
        const member = parseDueMember(value);
        if (member) due.push({ chatId: member.chatId as ChatId, orderId: member.orderId as OrderId, dueAt: score });
      }
      return due.sort((a, b) => a.dueAt - b.dueAt).slice(0, limit);
    },

    async indexPayment(key, entry) {
      await guard("indexPayment", () => client.set(keys.payment(key), JSON.stringify(entry)));
    },
    async findPayment(key) {
      const entry = readJson(PaymentIndexEntry, await guard("findPayment", () => client.get(keys.payment(key))));
      return entry === "invalid" ? undefined : entry;
    },

    async claimGoods(orderId, chatId, owner, ttlMs) {
      const where = keys.goods(chatId, orderId);
      const raw = await guard("claimGoods", () => client.claimGoods(where, keys.goodsClaim(chatId, orderId), owner, ttlMs));
      return goodsClaim(reply("claimGoods", GoodsReply, raw), where);
    },
    async putGoods(entry, owner) {
      const { base, secret, sentAt } = goodsFields(entry);
      await guard("putGoods", () =>
        client.putGoods(keys.goods(entry.chatId, entry.orderId), keys.goodsClaim(entry.chatId, entry.orderId), base, secret, sentAt, owner),
      );
    },
    async goods(orderId, chatId) {
      const where = keys.goods(chatId, orderId);
      const [base, secret, sentAt] = await guard("goods", () => client.hmGet(where, ["base", "secret", "sentAt"]));
      return base === null || base === undefined ? undefined : goodsEntry(base, secret ?? null, sentAt ?? null, where);
    },
    async markGoodsSent(orderId, chatId, at) {
      await guard("markGoodsSent", () => client.markGoodsSent(keys.goods(chatId, orderId), at));
    },

    async usePromo(code, orderId, chatId, limits) {
      const raw = await guard("usePromo", () =>
        client.usePromo(keys.promo(code), keys.promoOf(code, chatId), orderId, limits.maxUses, limits.oncePerCustomer),
      );
      return reply("usePromo", PromoUseReply, raw);
    },
    async releasePromo(code, orderId, chatId) {
      await guard("releasePromo", () => client.releasePromo(keys.promo(code), keys.promoOf(code, chatId), orderId));
    },
    async promoUses(code, chatId, orderId) {
      const [uses, byCustomer, held] = reply(
        "promoUses",
        PromoUsesReply,
        await guard("promoUses", () => client.promoUses(keys.promo(code), keys.promoOf(code, chatId), orderId)),
      );
      return { uses, byCustomer, heldByOrder: held === 1 };
    },

    async acceptUpdate(chatId, updateId, raw, lease) {
      const inboxKeys = [keys.chat(chatId), keys.queue(chatId), keys.inbox(chatId), keys.inboxesOf(chatId), keys.lease(chatId)] as const;
      const answer = await guard("acceptUpdate", () =>
        client.acceptUpdate(inboxKeys, updateId, raw, lease.owner, lease.ttlMs, chatId, clock(), appliedSince),
      );
      const [accepted, held, next, rev] = reply("acceptUpdate", AcceptReply, answer);
      return {
        accepted: accepted === 1,
        held: held === 1,
        next: held === 1 && next !== "" ? Number(next) : null,
        rev: held === 1 ? Number(rev ?? 0) : null,
      };
    },
    async queuedUpdates(chatId, limit) {
      if (limit <= 0) return [];
      const flat = reply(
        "queuedUpdates",
        QueuedReply,
        await guard("queuedUpdates", () => client.queuedUpdates(keys.queue(chatId), keys.inbox(chatId), limit)),
      );
      const queued = [];
      for (let i = 0; i + 1 < flat.length; i += 2) {
        // An id whose update is missing (a damaged inbox) comes as unreadable, so it is set aside
        // rather than left waiting for ever in front of the chat's later updates.
        queued.push({ updateId: Number(flat[i]), raw: flat[i + 1] ?? "" });
      }
      return queued;
    },
    async waitingInboxes(before, limit) {
      if (limit <= 0) return [];
      const perShard = await guard("waitingInboxes", () =>
        everyShard((shard) =>
          client.zRangeWithScores(keys.inboxes(shard), "-inf", before, { BY: "SCORE", LIMIT: { offset: 0, count: limit } }),
        ),
      );
      return perShard
        .flat()
        .sort((a, b) => a.score - b.score)
        .slice(0, limit)
        .map(({ value }) => value as ChatId);
    },

    async appendAudit(chatId, entries) {
      if (entries.length === 0) return;
      const call: CommitCall = { keys: [keys.logOf(chatId)], args: [] };
      pushAudit(keys, chatId, entries, call);
      await guard("appendAudit", () => client.appendAudit(call));
    },
    async auditOf(orderId) {
      // The trail lives in its chat's shard; the chat is not asked for, so every shard is looked at
      // (one LRANGE each, sent at once; all but one come back empty).
      const perShard = await guard("auditOf", () => everyShard((shard) => client.lRange(keys.trailIn(shard, orderId), 0, -1)));
      return perShard.flat().flatMap((text) => auditEntry(text) ?? []);
    },
    async readLog(position, limit) {
      const read = parseRedisLogPosition(position);
      if (limit <= 0) return { entries: [], position: formatRedisLogPosition(read) };
      const perShard = Math.min(limit, Math.max(16, Math.ceil((2 * limit) / SHARDS)));
      const batches = await guard("readLog", () =>
        everyShard(async (shard): Promise<ShardEntry<string | undefined>[]> => {
          const after = read.get(shard);
          // About twice the batch over all shards, not `limit` from each: a reader catching up on a big
          // log (the read model after a restart) would otherwise fetch 16 times what it keeps per call.
          const rows = await client.xRange(keys.log(shard), after === undefined ? "-" : `(${after}`, "+", { COUNT: perShard });
          return rows.map((row) => ({ shard, id: row.id, value: row.message.e }));
        }),
      );
      const merged = mergeShardBatches(batches, read, limit, perShard);
      return { entries: merged.entries.flatMap((entry) => auditEntry(entry.value) ?? []), position: formatRedisLogPosition(merged.read) };
    },

    async loadProjection(name) {
      const saved = readJson(SavedProjectionJson, await guard("loadProjection", () => client.get(keys.projection(name))));
      return saved === "invalid" ? undefined : saved;
    },
    async saveProjection(name, saved: SavedProjection) {
      await guard("saveProjection", () =>
        client.set(keys.projection(name), JSON.stringify({ position: saved.position, state: saved.state })),
      );
    },

    claims: {
      async tryClaim(key, owner, ttlMs) {
        return reply("tryClaim", FlagReply, await guard("tryClaim", () => client.tryClaim(keys.claim(key), owner, ttlMs))) === 1;
      },
      async release(key, owner) {
        await guard("releaseClaim", () => client.releaseClaim(keys.claim(key), owner));
      },
    },
    kv(namespace) {
      let keyv = keyvs.get(namespace);
      if (!keyv) keyvs.set(namespace, (keyv = redisKeyv(connection, keys.kvNamespace(namespace))));
      return keyv;
    },

    exportAll() {
      return exportRedis(connection, keys, () => legacy !== undefined);
    },
    importAll(items, options = {}) {
      return importRedis(connection, keys, items, options, (namespace) => store.kv(namespace), legacy !== undefined, clock());
    },

    async ping() {
      // Every master answers, or the store is not whole: each holds some of the shards.
      const masters = await guard("ping", () => connection.masters());
      await guard("ping", () => Promise.all(masters.map((node) => node.ping())));
    },
    async close() {
      await connection.close();
    },
  };
  // The old layout's data, offered until the migration drops it.
  Object.defineProperty(store, "legacy", { enumerable: true, get: () => legacy });
  if (legacyData) {
    const drop = legacyData.drop.bind(legacyData);
    legacy = {
      ...legacyData,
      async drop() {
        await drop();
        legacy = undefined;
      },
    };
  }
  return store;
}
