/**
 * Raw Redis calls for the store tools (export and import, see redis-export.ts and redis-import.ts): a
 * command or a MULTI/EXEC on a server or a cluster, SCAN over every master, and the reply shapes they
 * read. Tools only: their deadline is long ({@link TOOL_TIMEOUT_MS}) and SCAN walks the keyspace.
 */
import type { RedisConnection, StoreClusterClient, StoreServerClient } from "./redis-connect.ts";
import { SHARDS } from "./redis-keys.ts";
import { StoreUnavailableError } from "./shop-store.ts";

/** How long one tool command may take (a shard's read is one command and may be large). */
export const TOOL_TIMEOUT_MS = 60_000;

/** A raw RESP2 reply. */
export type Reply = unknown;

/** `work`, or a StoreUnavailableError once {@link TOOL_TIMEOUT_MS} passed without an answer. */
export function withDeadline<T>(connection: RedisConnection, what: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new StoreUnavailableError(`Redis at ${connection.target} did not answer ${what} within ${TOOL_TIMEOUT_MS / 1000} s`)),
      TOOL_TIMEOUT_MS,
    );
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

/** One command with its raw reply; on a cluster it goes to the node of `key`. */
export function command(connection: RedisConnection, args: string[], key: string): Promise<Reply> {
  const sent = connection.cluster
    ? (connection.client as StoreClusterClient).sendCommand(key, false, args)
    : (connection.client as StoreServerClient).sendCommand(args);
  return withDeadline(connection, args[0] ?? "a command", sent as Promise<Reply>);
}

/** Commands on keys of one hash tag, run as one MULTI/EXEC: their replies are of one moment. */
export function transaction(connection: RedisConnection, routingKey: string, commands: string[][]): Promise<Reply[]> {
  let replies: Promise<unknown>;
  if (connection.cluster) {
    const multi = (connection.client as StoreClusterClient).multi(routingKey);
    for (const args of commands) multi.addCommand(routingKey, false, args);
    replies = multi.exec();
  } else {
    const multi = (connection.client as StoreServerClient).multi();
    for (const args of commands) multi.addCommand(args);
    replies = multi.exec();
  }
  return withDeadline(connection, "a shard's read", replies as Promise<Reply[]>);
}

/** Every key matching `pattern`, on every master. */
export async function* scan(connection: RedisConnection, pattern: string): AsyncGenerator<string> {
  for (const node of await connection.masters()) {
    for await (const batch of node.scanIterator({ MATCH: pattern, COUNT: 1_000 })) yield* batch;
  }
}

/** The strings of an array reply. */
export const texts = (reply: Reply): string[] => (Array.isArray(reply) ? reply.map((value) => String(value)) : []);

/** A flat HGETALL reply as an object. */
export function hash(reply: Reply): Record<string, string> {
  const flat = texts(reply);
  const fields: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i]!] = flat[i + 1]!;
  return fields;
}

/** Stream entries of an XRANGE/XREVRANGE reply: id and field `e`. */
export function streamRows(reply: Reply): { id: string; entry: string }[] {
  if (!Array.isArray(reply)) return [];
  return reply.map((row) => {
    const [id, fields] = row as [unknown, unknown];
    const values = hash(fields);
    return { id: String(id), entry: values.e ?? "" };
  });
}

const reEscape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** The shard keys a copy holds. */
export type ShardKeyKind = "chat" | "order" | "goods" | "inbox";
/** Reads a key of a shard: its shard, what it holds and the id it names; null for keys not copied (leases, claims, trails…). */
export function shardKeyReader(prefix: string) {
  const pattern = new RegExp(
    `^\\{${reEscape(prefix)}s(\\d+)\\}:(chat|order|goods-claim|goods|inbox|queue|lease|trail|due|log|inboxes)(?::([\\s\\S]*))?$`,
  );
  return (key: string): { shard: number; kind: ShardKeyKind; id: string } | null => {
    const match = pattern.exec(key);
    const shard = Number(match?.[1]);
    const kind = match?.[2];
    if (!match || shard >= SHARDS || (kind !== "chat" && kind !== "order" && kind !== "goods" && kind !== "inbox")) return null;
    return { shard, kind, id: match[3] ?? "" };
  };
}

/** The newest stream id of an XREVRANGE … COUNT 1 reply, or "0-0" for an empty stream. */
export const newestId = (reply: Reply) => streamRows(reply)[0]?.id ?? "0-0";
