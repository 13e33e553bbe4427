/**
 * Data of the key-value layout used before store schema 3 (src/store/redis.ts then): keyv records as
 * string keys `tokengoblin:<collection>::<key>` holding `{"value": <record>, "expires": …}`, and claims
 * as `tokengoblin:claim:<key>`. Read once by the migration, then dropped. This is the only place the
 * store walks the keyspace (SCAN, on every master of a cluster): the old layout has no index.
 */
import type { LegacyData } from "./shop-store.ts";
import { globEscape } from "./redis-keys.ts";
import type { RedisConnection, StoreServerClient } from "./redis-connect.ts";

/** The prefix of every key the old layout wrote. */
export const LEGACY_PREFIX = "tokengoblin:";
const CLAIMS = `${LEGACY_PREFIX}claim:`;
/** Keys asked for per SCAN call: big enough that a large keyspace is walked in few round trips. */
const SCAN_COUNT = 1_000;

async function* scan(connection: RedisConnection, match: string): AsyncGenerator<{ node: StoreServerClient; keys: string[] }> {
  for (const node of await connection.masters()) {
    for await (const keys of node.scanIterator({ MATCH: match, COUNT: SCAN_COUNT })) {
      if (keys.length > 0) yield { node, keys };
    }
  }
}

/** The collection a legacy key belongs to, or null for claims and keys that are no keyv record. */
function collectionOf(key: string): string | null {
  if (!key.startsWith(LEGACY_PREFIX) || key.startsWith(CLAIMS)) return null;
  const cut = key.indexOf("::", LEGACY_PREFIX.length);
  return cut > LEGACY_PREFIX.length ? key.slice(LEGACY_PREFIX.length, cut) : null;
}

/** keyv's wrapper taken off; undefined for a record keyv itself would treat as expired. */
function unwrap(raw: string): unknown {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    // Not JSON: handed over as stored, the migration decides (it validates everything anyway).
    return raw;
  }
  if (typeof parsed !== "object" || parsed === null || !("value" in parsed)) return parsed;
  const expires = "expires" in parsed ? parsed.expires : undefined;
  if (typeof expires === "number" && expires < Date.now()) return undefined;
  return parsed.value;
}

/** True when any key of the old layout exists (stops at the first one found). */
export async function hasLegacyData(connection: RedisConnection): Promise<boolean> {
  for await (const _ of scan(connection, `${globEscape(LEGACY_PREFIX)}*`)) return true;
  return false;
}

/** The old layout's data; `onDropped` runs once it is all deleted (the store then stops offering it). */
export function redisLegacyData(connection: RedisConnection, onDropped: () => Promise<void>): LegacyData {
  return {
    async collections() {
      const found = new Set<string>();
      for await (const { keys } of scan(connection, `${globEscape(LEGACY_PREFIX)}*`)) {
        for (const key of keys) {
          const collection = collectionOf(key);
          if (collection !== null) found.add(collection);
        }
      }
      return [...found].sort();
    },
    async *entries(collection) {
      const head = `${LEGACY_PREFIX}${collection}::`;
      for await (const { node, keys } of scan(connection, `${globEscape(head)}*`)) {
        // One GET per key (pipelined): an MGET over keys of different slots is refused on a cluster.
        const values = await Promise.all(keys.map((key) => node.get(key)));
        for (const [i, key] of keys.entries()) {
          const value = values[i];
          if (value === null || value === undefined) continue;
          const record = unwrap(value);
          if (record !== undefined) yield [key.slice(head.length), record];
        }
      }
    },
    async drop() {
      for await (const { node, keys } of scan(connection, `${globEscape(LEGACY_PREFIX)}*`)) {
        await Promise.all(keys.map((key) => node.unlink(key)));
      }
      await onDropped();
    },
  };
}
