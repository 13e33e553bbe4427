/**
 * Loading store items (see dump.ts) into an empty Redis store, on a server or a cluster, in pipelines.
 * Audit entries get stream ids `<n>-0` (n counting from 1 in the order they come), so the target's log
 * reads back in exactly that order on any number of nodes, and a saved read model's position can be
 * given as "after the n-th entry".
 */
import type Keyv from "keyv";
import type { ChatId, OrderId } from "../domain/ids.ts";
import { GoodsEntry, PaymentIndexEntry } from "../domain/records.ts";
import {
  type ImportOptions,
  type ImportReport,
  type StoreItem,
  StoreNotEmptyError,
  appliedOfItem,
  fieldOf,
  parseLoosely,
  progressCounter,
} from "./dump.ts";
import { formatRecent } from "./applied-updates.ts";
import type { RedisConnection } from "./redis-connect.ts";
import { dueMember, globEscape, type RedisKeys, shardOf } from "./redis-keys.ts";
import { formatRedisLogPosition, type ShardPositions } from "./redis-log.ts";
import { goodsFields } from "./redis-replies.ts";
import { command, newestId, scan, shardKeyReader } from "./redis-tool-calls.ts";

/** Commands in flight at once while importing. */
const PIPELINE = 500;

/** The first key of a shop's data under the store's prefix, or null (the meta hash, leases and claims do not count). */
async function anyDataKey(connection: RedisConnection, keys: RedisKeys): Promise<string | null> {
  const readKey = shardKeyReader(keys.prefix);
  for await (const key of scan(connection, `{${globEscape(keys.prefix)}s*`)) {
    const kind = /^\{[^}]*\}:([a-z-]+)/.exec(key)?.[1];
    if (readKey(key) || kind === "due" || kind === "log" || kind === "trail" || kind === "queue") return key;
  }
  for await (const key of scan(connection, `${globEscape(keys.prefix)}*`)) {
    if (key === keys.meta || key.startsWith(`${keys.prefix}claim:`)) continue;
    return key;
  }
  for await (const key of scan(connection, `{${globEscape(keys.prefix)}promo:*`)) return key;
  return null;
}

/**
 * Writes `items` into the (empty) store. `kv` gives the store's key-value namespaces, so their
 * format is the store's own.
 */
export async function importRedis(
  connection: RedisConnection,
  keys: RedisKeys,
  items: AsyncIterable<StoreItem>,
  options: ImportOptions,
  kv: (namespace: string) => Keyv,
  legacyPending: boolean,
  now: number,
): Promise<ImportReport> {
  const target = `the Redis store at ${connection.target} (prefix ${keys.prefix})`;
  if (legacyPending) throw new StoreNotEmptyError(target, "the previous version's data");
  const found = await anyDataKey(connection, keys);
  if (found) throw new StoreNotEmptyError(target, `keys such as ${JSON.stringify(found)}`);

  const counter = progressCounter(options);
  let pending: Promise<void>[] = [];
  let failure: unknown;
  const flush = async () => {
    const batch = pending;
    pending = [];
    await Promise.all(batch);
    if (failure !== undefined) throw failure;
  };
  // Each write's failure is kept at once (never left unhandled) and thrown at the next flush.
  const write = async (work: Promise<unknown>) => {
    pending.push(
      work.then(
        () => undefined,
        (error: unknown) => void (failure ??= error),
      ),
    );
    if (pending.length >= PIPELINE) await flush();
  };
  const send = (args: string[]) => write(command(connection, args, args[1]!));

  let entries = 0;
  const logShards = new Set<number>();
  const oldestQueued = new Map<string, number>();
  let leftToRebuild = 0;
  for await (const item of items) {
    switch (item.kind) {
      case "chat": {
        const applied = appliedOfItem(item, now);
        const fields = ["rev", String(item.rev), "last", String(applied.upTo)];
        if (applied.recent.length > 0) fields.push("recent", formatRecent(applied.recent));
        if (applied.at > 0) fields.push("at", String(applied.at));
        if (item.record !== null) fields.push("record", item.record);
        if (item.currentOrderId !== null) fields.push("order", item.currentOrderId);
        await send(["HSET", keys.chat(item.chatId), ...fields]);
        break;
      }
      case "order":
        await send(["SET", keys.order(item.chatId, item.orderId), item.record]);
        if (item.dueAt !== null)
          await send(["ZADD", keys.dueOf(item.chatId), String(item.dueAt), dueMember(item.chatId as ChatId, item.orderId as OrderId)]);
        break;
      case "order_chat":
        await send(["SET", keys.orderChat(item.orderId), item.chatId]);
        break;
      case "audit": {
        entries++;
        logShards.add(shardOf(item.chatId));
        await send(["XADD", keys.logOf(item.chatId), `${entries}-0`, "e", item.entry]);
        const orderId = fieldOf(item.entry, "orderId");
        if (orderId) await send(["RPUSH", keys.trail(item.chatId, orderId), item.entry]);
        break;
      }
      case "payment": {
        const entry = PaymentIndexEntry.safeParse({ orderId: item.orderId, chatId: item.chatId });
        if (!entry.success) throw new Error(`payment index entry ${item.key} is unreadable; repair it in the source first`);
        await send(["SET", keys.payment(item.key), JSON.stringify(entry.data)]);
        break;
      }
      case "goods": {
        const entry = GoodsEntry.safeParse(parseLoosely(item.entry));
        if (!entry.success) throw new Error(`the goods of order ${item.orderId} are unreadable; repair them in the source first`);
        const { base, secret, sentAt } = goodsFields(entry.data);
        const fields = ["base", base];
        if (secret !== null) fields.push("secret", secret);
        if (sentAt !== null) fields.push("sentAt", String(sentAt));
        await send(["HSET", keys.goods(entry.data.chatId, entry.data.orderId), ...fields]);
        break;
      }
      case "update": {
        await send(["HSET", keys.inbox(item.chatId), String(item.updateId), item.raw, `t${item.updateId}`, String(item.receivedAt)]);
        await send(["ZADD", keys.queue(item.chatId), String(item.updateId), String(item.updateId)]);
        oldestQueued.set(item.chatId, Math.min(oldestQueued.get(item.chatId) ?? Infinity, item.receivedAt));
        break;
      }
      case "projection": {
        if (item.logEntries === null || item.logEntries > entries) {
          leftToRebuild++;
          continue;
        }
        await flush();
        // After the n-th entry: in each shard, its newest entry numbered n or less.
        const read: ShardPositions = new Map();
        for (const shard of logShards) {
          const id = newestId(
            await command(connection, ["XREVRANGE", keys.log(shard), `${item.logEntries}-0`, "-", "COUNT", "1"], keys.log(shard)),
          );
          if (id !== "0-0") read.set(shard, id);
        }
        await send(["SET", keys.projection(item.name), JSON.stringify({ position: formatRedisLogPosition(read), state: item.state })]);
        break;
      }
      case "promo_use":
        await send(["SADD", keys.promo(item.code), item.orderId]);
        await send(["SADD", keys.promoOf(item.code, item.chatId), item.orderId]);
        break;
      case "kv": {
        const ttl = item.expiresAt === null ? undefined : item.expiresAt - Date.now();
        if (ttl !== undefined && ttl <= 0) continue;
        await write(kv(item.namespace).set(item.key, item.value, ttl));
        break;
      }
      default: {
        const unhandled: never = item;
        throw new Error(`unknown store item ${JSON.stringify(unhandled)}`);
      }
    }
    counter.add(item.kind);
  }
  for (const [chatId, at] of oldestQueued) await send(["ZADD", keys.inboxesOf(chatId), String(at), chatId]);
  await flush();
  return { counts: counter.counts, projectionsLeftToRebuild: leftToRebuild };
}
