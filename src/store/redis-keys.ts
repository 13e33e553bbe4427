/**
 * The Redis store's key layout. Everything one commit touches lives in the chat's shard: one of
 * {@link SHARDS} hash tags (`{<prefix>s<n>}`), so on Redis Cluster a commit is one script on one node,
 * and the shards spread over the cluster's nodes. What cannot live in a chat's shard (the payment and
 * order indexes, claims, key-value data, projections, the store's meta hash) has plain keys under the
 * prefix and is only ever written by single-key commands; except a promo code's uses, whose two sets
 * share the code's own hash tag so one script counts and adds atomically.
 *
 * With the default prefix `tg:`, for a chat in shard 3:
 *
 * | key                              | type   | holds                                                        |
 * |----------------------------------|--------|--------------------------------------------------------------|
 * | `{tg:s3}:chat:<chatId>`          | hash   | `rev`, `record` (JSON), `order` (current order id), `last`   |
 * | `{tg:s3}:lease:<chatId>`         | string | the lease owner, expiring on the server (PX)                 |
 * | `{tg:s3}:order:<orderId>`        | string | the order record (JSON)                                      |
 * | `{tg:s3}:due`                    | zset   | `<chatId>\n<orderId>` scored by the order's `dueAt`          |
 * | `{tg:s3}:log`                    | stream | audit entries, field `e` (JSON)                              |
 * | `{tg:s3}:trail:<orderId>`        | list   | the order's audit entries (JSON)                             |
 * | `{tg:s3}:goods:<orderId>`        | hash   | `base` (entry JSON without secret), `secret`, `sentAt`       |
 * | `{tg:s3}:goods-claim:<orderId>`  | string | the issuer holding the right to issue goods (PX)             |
 * | `{tg:s3}:inbox:<chatId>`         | hash   | update id → raw update; `t<id>` → when it was accepted (ms)  |
 * | `{tg:s3}:queue:<chatId>`         | zset   | the inbox's update ids, scored by id                         |
 * | `{tg:s3}:inboxes`                | zset   | chats with queued updates, scored by their oldest's arrival  |
 * | `tg:pay:<key>`                   | string | payment index entry (JSON)                                   |
 * | `tg:order-chat:<orderId>`        | string | the chat an order belongs to                                 |
 * | `tg:claim:<key>`                 | string | a claim's owner (PX unless it never expires)                 |
 * | `tg:kv:<namespace>::<key>`       | string | key-value data, keyv's format (written by @keyv/redis)       |
 * | `tg:projection:<name>`           | string | a saved read model with its log position (JSON)              |
 * | `tg:meta`                        | hash   | `shards` (S), `legacy` (pending / none)                      |
 * | `{tg:promo:<CODE>}`              | set    | the orders holding a use of a promo code                     |
 * | `{tg:promo:<CODE>}:chat:<chatId>`| set    | those of them that are one customer's (once-per-customer)    |
 */
import type { ChatId, OrderId } from "../domain/ids.ts";

/**
 * How many shards the chats are spread over. Changing it moves every chat to another key, so a store
 * remembers the number it was created with (`meta.shards`) and refuses to open with another.
 */
export const SHARDS = 16;

/** The key prefix unless the caller names another. */
export const DEFAULT_PREFIX = "tg:";

/** The shard of a chat: FNV-1a (32 bits) of its id's UTF-8 bytes, modulo {@link SHARDS}. Stable forever. */
export function shardOf(chatId: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(chatId, "utf8")) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % SHARDS;
}

/** The deadline index member of an order: chat and order in one string (order ids never hold a newline). */
export function dueMember(chatId: ChatId, orderId: OrderId): string {
  return `${chatId}\n${orderId}`;
}

/** Splits a deadline index member; null for a member this layout never writes. */
export function parseDueMember(member: string): { chatId: string; orderId: string } | null {
  const cut = member.lastIndexOf("\n");
  if (cut <= 0 || cut === member.length - 1) return null;
  return { chatId: member.slice(0, cut), orderId: member.slice(cut + 1) };
}

/** Every key name of one store (one prefix). */
export type RedisKeys = ReturnType<typeof redisKeys>;

/** The key names under `prefix`; throws for a prefix that would break the hash tags. */
export function redisKeys(prefix: string) {
  if (/[{}]/.test(prefix))
    throw new Error(`a Redis key prefix cannot hold "{" or "}" (they would change the cluster hash tags): ${JSON.stringify(prefix)}`);
  const tag = (shard: number) => `{${prefix}s${shard}}`;
  const inShard = (chatId: string) => tag(shardOf(chatId));
  return {
    prefix,
    tag,
    chat: (chatId: string) => `${inShard(chatId)}:chat:${chatId}`,
    lease: (chatId: string) => `${inShard(chatId)}:lease:${chatId}`,
    /** Order keys of a chat start with this; the open script appends the current order id to it. */
    orderPrefix: (chatId: string) => `${inShard(chatId)}:order:`,
    order: (chatId: string, orderId: string) => `${inShard(chatId)}:order:${orderId}`,
    trail: (chatId: string, orderId: string) => `${inShard(chatId)}:trail:${orderId}`,
    /** The trail of `orderId` were its chat in `shard` (an order's trail is looked for in every shard). */
    trailIn: (shard: number, orderId: string) => `${tag(shard)}:trail:${orderId}`,
    goods: (chatId: string, orderId: string) => `${inShard(chatId)}:goods:${orderId}`,
    goodsClaim: (chatId: string, orderId: string) => `${inShard(chatId)}:goods-claim:${orderId}`,
    inbox: (chatId: string) => `${inShard(chatId)}:inbox:${chatId}`,
    queue: (chatId: string) => `${inShard(chatId)}:queue:${chatId}`,
    due: (shard: number) => `${tag(shard)}:due`,
    log: (shard: number) => `${tag(shard)}:log`,
    inboxes: (shard: number) => `${tag(shard)}:inboxes`,
    /** The shard-wide keys of a chat's shard. */
    dueOf: (chatId: string) => `${inShard(chatId)}:due`,
    logOf: (chatId: string) => `${inShard(chatId)}:log`,
    inboxesOf: (chatId: string) => `${inShard(chatId)}:inboxes`,
    payment: (key: string) => `${prefix}pay:${key}`,
    orderChat: (orderId: string) => `${prefix}order-chat:${orderId}`,
    claim: (key: string) => `${prefix}claim:${key}`,
    kvNamespace: (namespace: string) => `${prefix}kv:${namespace}`,
    projection: (name: string) => `${prefix}projection:${name}`,
    meta: `${prefix}meta`,
    /** The orders holding a use of promo `code`, in the code's own hash tag. */
    promo: (code: string) => `{${prefix}promo:${code}}`,
    /** The orders of one customer holding a use of `code`, in the same hash tag. */
    promoOf: (code: string, chatId: string) => `{${prefix}promo:${code}}:chat:${chatId}`,
    /** SCAN patterns matching every key of this store (for tests' cleanup and operators; never on a normal path). */
    patterns: [`${globEscape(prefix)}*`, `{${globEscape(prefix)}s*`, `{${globEscape(prefix)}promo:*`],
  };
}

/** `text` with Redis glob characters escaped, for a MATCH pattern that means the text literally. */
export function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, (char) => `\\${char}`);
}
