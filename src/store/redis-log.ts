/**
 * Reading the Redis store's audit log: one stream per shard, merged. A position is JSON
 * `{"<shard>": "<last stream id read>"}` (shards not named: nothing read yet). Within a shard, hence
 * within a chat, the order is exact; across shards entries are merged by stream id (the time the
 * shard's node appended them), then by shard.
 */
import { z } from "zod";
import { SHARDS } from "./redis-keys.ts";

/** A stream entry id, `<ms>-<seq>`. */
const StreamId = z.string().regex(/^\d+-\d+$/);
const Position = z.record(z.string().regex(/^\d+$/), StreamId);

/** Where each shard's stream was read up to. */
export type ShardPositions = Map<number, string>;

/** Reads a position this backend gave out (null: the start). A position of another backend is a caller's bug. */
export function parseRedisLogPosition(position: string | null): ShardPositions {
  const read: ShardPositions = new Map();
  if (position === null) return read;
  let parsed: unknown;
  try {
    parsed = JSON.parse(position);
  } catch {
    parsed = undefined;
  }
  const checked = Position.safeParse(parsed);
  if (!checked.success) throw new Error(`not a Redis audit log position: ${JSON.stringify(position)}`);
  for (const [shard, id] of Object.entries(checked.data)) {
    const index = Number(shard);
    if (index >= SHARDS) throw new Error(`not a Redis audit log position (shard ${index} of ${SHARDS}): ${JSON.stringify(position)}`);
    read.set(index, id);
  }
  return read;
}

export function formatRedisLogPosition(read: ShardPositions): string {
  return JSON.stringify(Object.fromEntries([...read].sort(([a], [b]) => a - b)));
}

/** One entry read from a shard's stream. */
export type ShardEntry<T> = { shard: number; id: string; value: T };

/** Orders two stream ids (`<ms>-<seq>`) as Redis does. */
export function compareIds(a: string, b: string): number {
  const [aMs = 0, aSeq = 0] = a.split("-").map(Number);
  const [bMs = 0, bSeq = 0] = b.split("-").map(Number);
  return aMs - bMs || aSeq - bSeq;
}

/**
 * The first `limit` entries of several shards' batches (each in stream order), and the position after
 * them. Only a prefix of each shard's batch is taken, so what is left is read next time. A batch of
 * `perShard` entries may have more behind it: nothing after its last entry is taken, since the
 * entries still unread in that shard would come first.
 */
export function mergeShardBatches<T>(
  batches: ShardEntry<T>[][],
  read: ShardPositions,
  limit: number,
  perShard = Number.POSITIVE_INFINITY,
): { entries: ShardEntry<T>[]; read: ShardPositions } {
  const order = (a: ShardEntry<T>, b: ShardEntry<T>) => compareIds(a.id, b.id) || a.shard - b.shard;
  const bounds = batches.filter((batch) => batch.length >= perShard).map((batch) => batch.at(-1)!);
  const bound = bounds.sort(order)[0];
  const merged = batches.flat().sort(order);
  const taken = merged.filter((entry) => bound === undefined || order(entry, bound) <= 0).slice(0, Math.max(0, limit));
  const next = new Map(read);
  for (const entry of taken) next.set(entry.shard, entry.id);
  return { entries: taken, read: next };
}
