/**
 * The Redis store as a stream of items (see dump.ts), on a server or a cluster. Tools only: listing
 * the store's keys takes SCAN on every master.
 *
 * Export reads each shard (the chats, orders, goods and inboxes of one hash tag, its deadline index
 * and its log's end) in one MULTI/EXEC, so each shard is copied as it stood at one moment while the
 * bot goes on writing. A chat and everything it refers to live in its shard, so each chat is whole.
 * Keys created between the listing and the shard's read are caught where the read refers to them
 * (a chat's orders, the deadline index, the log's newest entries, paid orders' goods): the shard is
 * read again with them. The log is then copied up to each shard's moment. The indexes outside the
 * shards (payment → order, order → chat) and key-value data are read last: they are written before
 * anything refers to them, so none is missed. Saved read models are read first, so everything they
 * applied is in the copied log.
 */
import { PaymentIndexEntry } from "../domain/records.ts";
import { parseRecent } from "./applied-updates.ts";
import { type StoreItem, StoreNeedsUpgradeError, fieldOf, numberOf, parseLoosely } from "./dump.ts";
import type { RedisConnection } from "./redis-connect.ts";
import { globEscape, parseDueMember, type RedisKeys, SHARDS, shardOf } from "./redis-keys.ts";
import { compareIds, parseRedisLogPosition, type ShardPositions } from "./redis-log.ts";
import {
  type Reply,
  type ShardKeyKind,
  command,
  hash,
  newestId,
  scan,
  shardKeyReader,
  streamRows,
  texts,
  transaction,
} from "./redis-tool-calls.ts";

/** How many times a shard is read again because keys it refers to appeared meanwhile. */
const MAX_SHARD_READS = 20;
/** Log entries read per shard and request. */
const LOG_BATCH = 1_000;

type Projection = { name: string; state: string; read: ShardPositions | null; applied: number; skipped: boolean; broken: boolean };

/**
 * Every item of the store. `legacyPending` is asked first: the previous version's layout must be
 * upgraded by a start of the bot before its data can be moved.
 */
export async function* exportRedis(connection: RedisConnection, keys: RedisKeys, legacyPending: () => boolean): AsyncGenerator<StoreItem> {
  if (legacyPending()) throw new StoreNeedsUpgradeError(`the Redis store at ${connection.target} (prefix ${keys.prefix})`);
  const prefix = keys.prefix;

  // Saved read models first: whatever they applied is in the log by the time the log is read.
  const projections: Projection[] = [];
  for await (const key of scan(connection, `${globEscape(prefix)}projection:*`)) {
    const saved = parseLoosely(String((await command(connection, ["GET", key], key)) ?? "")) as
      { position?: unknown; state?: unknown } | undefined;
    if (typeof saved?.state !== "string") continue;
    let read: ShardPositions | null = null;
    try {
      read = typeof saved.position === "string" ? parseRedisLogPosition(saved.position) : null;
    } catch {
      read = null;
    }
    projections.push({
      name: key.slice(`${prefix}projection:`.length),
      state: saved.state,
      read,
      applied: 0,
      skipped: false,
      broken: read === null,
    });
  }

  // Where each shard's log ended before the listing began, then every key of every shard.
  const before = await Promise.all(
    Array.from({ length: SHARDS }, (_, shard) =>
      command(connection, ["XREVRANGE", keys.log(shard), "+", "-", "COUNT", "1"], keys.log(shard)).then(newestId),
    ),
  );
  const readKey = shardKeyReader(prefix);
  const listed = Array.from({ length: SHARDS }, () => new Set<string>());
  for await (const key of scan(connection, `{${globEscape(prefix)}s*`)) {
    const parsed = readKey(key);
    if (parsed) listed[parsed.shard]!.add(key);
  }

  const cuts: string[] = [];
  for (let shard = 0; shard < SHARDS; shard++) {
    const read = await readShard(connection, keys, shard, listed[shard]!, before[shard]!);
    cuts[shard] = read.cut;
    yield* read.items;
  }

  for (const projection of projections) {
    // A position past a shard's copied end names entries the copy does not hold.
    for (const [shard, id] of projection.read ?? []) if (compareIds(id, cuts[shard] ?? "0-0") > 0) projection.broken = true;
  }
  for await (const { shard, id, entry } of mergedLog(connection, keys, cuts)) {
    for (const projection of projections) {
      const last = projection.read?.get(shard);
      if (last !== undefined && compareIds(id, last) <= 0) {
        // Applied after one it had not: what it applied is not the first entries of the copy.
        if (projection.skipped) projection.broken = true;
        projection.applied++;
      } else projection.skipped = true;
    }
    yield { kind: "audit", chatId: fieldOf(entry, "chatId") ?? "", entry };
  }
  for (const projection of projections)
    yield { kind: "projection", name: projection.name, state: projection.state, logEntries: projection.broken ? null : projection.applied };

  // The indexes and key-value data last: written before anything refers to them.
  yield* readGlobalKeys(connection, keys);
  yield* readPromoUses(connection, keys);
}

/** One shard as it stood at one moment, and where its log ended then. */
async function readShard(
  connection: RedisConnection,
  keys: RedisKeys,
  shard: number,
  listed: Set<string>,
  logBefore: string,
): Promise<{ items: StoreItem[]; cut: string }> {
  const readKey = shardKeyReader(keys.prefix);
  let before = logBefore;
  for (let attempt = 1; ; attempt++) {
    const wanted = [...listed].flatMap((key) => {
      const parsed = readKey(key);
      return parsed ? [{ key, ...parsed }] : [];
    });
    const replies = await transaction(connection, keys.due(shard), [
      ...wanted.map(({ key, kind }) => (kind === "order" ? ["GET", key] : ["HGETALL", key])),
      ["ZRANGE", keys.due(shard), "0", "-1", "WITHSCORES"],
      ["ZRANGE", keys.inboxes(shard), "0", "-1"],
      ["XREVRANGE", keys.log(shard), "+", "-", "COUNT", "1"],
    ]);
    const [dueReply, inboxesReply, newest] = replies.slice(-3);
    const cut = newestId(newest);
    const shardItems = itemsOf(wanted, replies, texts(dueReply), keys);

    // Keys this moment refers to must be in it; those created after the listing are looked for.
    const referenced = new Set<string>();
    const inShard = (chatId: string) => shardOf(chatId) === shard;
    for (const item of shardItems) {
      if (item.kind === "chat" && item.record !== null) {
        const record = parseLoosely(item.record) as { currentOrderId?: unknown; recentOrderIds?: unknown } | undefined;
        const ids = [record?.currentOrderId, ...(Array.isArray(record?.recentOrderIds) ? record.recentOrderIds : [])];
        for (const id of ids) if (typeof id === "string") referenced.add(keys.order(item.chatId, id));
      }
      // Goods are written before the order says delivered: a paid order's goods may be new.
      if (item.kind === "order" && (parseLoosely(item.record) as { summary?: { paidAt?: unknown } } | undefined)?.summary?.paidAt) {
        referenced.add(keys.goods(item.chatId, item.orderId));
      }
    }
    for (const chatId of texts(inboxesReply)) if (inShard(chatId)) referenced.add(keys.inbox(chatId));
    if (before !== cut) {
      const start = before === "0-0" ? "-" : `(${before}`;
      const recent = streamRows(await command(connection, ["XRANGE", keys.log(shard), start, cut], keys.log(shard)));
      for (const { entry } of recent) {
        const chatId = fieldOf(entry, "chatId");
        const orderId = fieldOf(entry, "orderId");
        if (!chatId || !inShard(chatId)) continue;
        referenced.add(keys.chat(chatId));
        if (orderId) referenced.add(keys.order(chatId, orderId));
      }
    }
    const unlisted = [...referenced].filter((key) => !listed.has(key));
    if (unlisted.length === 0) return { items: shardItems, cut };
    const exists = await Promise.all(unlisted.map((key) => command(connection, ["EXISTS", key], key)));
    const appeared = unlisted.filter((_, i) => Number(exists[i]) === 1);
    // What it refers to was never written (e.g. a paid order whose goods failed): nothing is missing.
    if (appeared.length === 0) return { items: shardItems, cut };
    if (attempt >= MAX_SHARD_READS) {
      throw new Error(
        `shard ${shard} of the Redis store kept changing while it was read (${attempt} reads): run the backup again, or when the shop is quieter`,
      );
    }
    for (const key of appeared) listed.add(key);
    before = cut;
  }
}

/** The items of one shard's read: chats, orders (with their deadlines), goods and queued updates. */
function itemsOf(wanted: { key: string; kind: ShardKeyKind; id: string }[], replies: Reply[], due: string[], keys: RedisKeys): StoreItem[] {
  const deadlines = new Map<string, { chatId: string; dueAt: number }>();
  for (let i = 0; i + 1 < due.length; i += 2) {
    const member = parseDueMember(due[i]!);
    if (member) deadlines.set(member.orderId, { chatId: member.chatId, dueAt: Number(due[i + 1]) });
  }
  const chats: StoreItem[] = [];
  const rest: StoreItem[] = [];
  wanted.forEach(({ key, kind, id }, i) => {
    const reply = replies[i];
    switch (kind) {
      case "chat": {
        const chat = hash(reply);
        if (chat.record === undefined && chat.last === undefined && chat.recent === undefined) return;
        chats.push({
          kind: "chat",
          chatId: id,
          rev: Number(chat.rev ?? 0),
          record: chat.record ?? null,
          currentOrderId: chat.order ?? null,
          lastUpdateId: Number(chat.last ?? 0),
          recentUpdateIds: parseRecent(chat.recent),
          ...(chat.at === undefined ? {} : { updatesAppliedAt: Number(chat.at) }),
        });
        return;
      }
      case "order": {
        if (reply === null || reply === undefined) return;
        const record = String(reply);
        const chatId = fieldOf(record, "chatId") ?? deadlines.get(id)?.chatId;
        if (!chatId) throw new Error(`the order at ${key} has no readable record: repair or remove that key, then run this again`);
        const dueAt = deadlines.get(id)?.dueAt ?? null;
        rest.push({
          kind: "order",
          orderId: id,
          chatId,
          record,
          dueAt,
          createdAt: numberOf(record, "createdAt", 0),
          updatedAt: numberOf(record, "updatedAt", 0),
        });
        return;
      }
      case "goods": {
        const goods = hash(reply);
        if (goods.base === undefined) return;
        const base = parseLoosely(goods.base);
        if (typeof base !== "object" || base === null)
          throw new Error(`the goods at ${key} are unreadable: repair or remove that key, then run this again`);
        const entry = { ...base, secret: goods.secret ?? null, sentAt: goods.sentAt === undefined ? null : Number(goods.sentAt) };
        rest.push({ kind: "goods", orderId: id, chatId: fieldOf(goods.base, "chatId") ?? "", entry: JSON.stringify(entry) });
        return;
      }
      case "inbox": {
        const inbox = hash(reply);
        for (const [field, raw] of Object.entries(inbox)) {
          if (!/^\d+$/.test(field)) continue;
          rest.push({ kind: "update", chatId: id, updateId: Number(field), raw, receivedAt: Number(inbox[`t${field}`] ?? 0) });
        }
        return;
      }
      default: {
        const unhandled: never = kind;
        throw new Error(`unknown key kind ${String(unhandled)} (${keys.prefix})`);
      }
    }
  });
  // Chats first: an importer meets a chat before what belongs to it.
  return [...chats, ...rest];
}

/** The audit log of every shard up to its cut, merged in log order (stream id, then shard), read in batches. */
async function* mergedLog(
  connection: RedisConnection,
  keys: RedisKeys,
  cuts: string[],
): AsyncGenerator<{ shard: number; id: string; entry: string }> {
  const heads = cuts.map((cut) => ({ rows: [] as { id: string; entry: string }[], after: null as string | null, done: cut === "0-0" }));
  const fill = async (shard: number) => {
    const head = heads[shard]!;
    const start = head.after === null ? "-" : `(${head.after}`;
    const rows = streamRows(
      await command(connection, ["XRANGE", keys.log(shard), start, cuts[shard]!, "COUNT", String(LOG_BATCH)], keys.log(shard)),
    );
    head.rows = rows;
    if (rows.length > 0) head.after = rows.at(-1)!.id;
    if (rows.length < LOG_BATCH) head.done = true;
  };
  await Promise.all(heads.map((head, shard) => (head.done ? undefined : fill(shard))));
  for (;;) {
    let next = -1;
    for (let shard = 0; shard < heads.length; shard++) {
      const head = heads[shard]!.rows[0];
      if (head && (next === -1 || compareIds(head.id, heads[next]!.rows[0]!.id) < 0)) next = shard;
    }
    if (next === -1) return;
    const head = heads[next]!;
    const row = head.rows.shift()!;
    if (head.rows.length === 0 && !head.done) await fill(next);
    yield { shard: next, ...row };
  }
}

/**
 * Promo code uses: each code's customer sets (`{<prefix>promo:<CODE>}:chat:<chatId>`) name the orders
 * holding a use with their customer; every holder is in one (the use script adds to both at once).
 */
async function* readPromoUses(connection: RedisConnection, keys: RedisKeys): AsyncGenerator<StoreItem> {
  const start = `{${keys.prefix}promo:`;
  for await (const key of scan(connection, `{${globEscape(keys.prefix)}promo:*`)) {
    const match = /^(.*)\}:chat:(.+)$/.exec(key.slice(start.length));
    if (!match) continue;
    const [, code, chatId] = match;
    const members = await command(connection, ["SMEMBERS", key], key);
    for (const orderId of texts(members)) yield { kind: "promo_use", code: code!, orderId, chatId: chatId! };
  }
}

/** Payment and order indexes and key-value data: the keys outside the shards. */
async function* readGlobalKeys(connection: RedisConnection, keys: RedisKeys): AsyncGenerator<StoreItem> {
  const prefix = keys.prefix;
  const batch: string[] = [];
  const read = async function* (): AsyncGenerator<StoreItem> {
    const now = Date.now();
    const values = await Promise.all(batch.map((key) => command(connection, ["GET", key], key)));
    const ttls = await Promise.all(
      batch.map((key) => (key.startsWith(`${prefix}kv:`) ? command(connection, ["PTTL", key], key) : Promise.resolve(-1))),
    );
    for (const [i, key] of batch.entries()) {
      const value = values[i];
      if (value === null || value === undefined) continue;
      const text = String(value);
      if (key.startsWith(`${prefix}pay:`)) {
        const entry = PaymentIndexEntry.safeParse(parseLoosely(text));
        if (!entry.success)
          throw new Error(`the payment index entry at ${key} is unreadable: repair or remove that key, then run this again`);
        yield { kind: "payment", key: key.slice(`${prefix}pay:`.length), orderId: entry.data.orderId, chatId: entry.data.chatId };
      } else if (key.startsWith(`${prefix}order-chat:`)) {
        yield { kind: "order_chat", orderId: key.slice(`${prefix}order-chat:`.length), chatId: text };
      } else {
        // `<prefix>kv:<namespace>::<key>`, keyv's JSON {value, expires}; the server's expiry is the same moment.
        const name = key.slice(`${prefix}kv:`.length);
        const cut = name.indexOf("::");
        if (cut <= 0) continue;
        const envelope = parseLoosely(text) as { value?: unknown; expires?: unknown } | undefined;
        const ttl = Number(ttls[i]);
        const expiresAt = typeof envelope?.expires === "number" ? envelope.expires : ttl > 0 ? now + ttl : null;
        if (expiresAt !== null && expiresAt <= now) continue;
        yield { kind: "kv", namespace: name.slice(0, cut), key: name.slice(cut + 2), value: envelope?.value ?? null, expiresAt };
      }
    }
    batch.length = 0;
  };
  for await (const key of scan(connection, `${globEscape(prefix)}*`)) {
    if (!key.startsWith(`${prefix}pay:`) && !key.startsWith(`${prefix}order-chat:`) && !key.startsWith(`${prefix}kv:`)) continue;
    batch.push(key);
    if (batch.length >= 200) yield* read();
  }
  yield* read();
}
