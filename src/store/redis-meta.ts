/**
 * The Redis store's meta hash (`<prefix>meta`): the number of shards the data was laid out for,
 * whether the layout before store schema 3 still waits for the migration, and since when this store
 * dates chats' applied Telegram updates. Read at open only.
 */
import type { RedisConnection } from "./redis-connect.ts";
import { type RedisKeys, SHARDS } from "./redis-keys.ts";
import { hasLegacyData } from "./redis-legacy.ts";

/** Records the shard count on first open; refuses a store laid out for another. */
export async function checkShards({ client, guard, target }: RedisConnection, keys: RedisKeys): Promise<void> {
  const stored = await guard("open", async () => {
    await client.hSetNX(keys.meta, "shards", String(SHARDS));
    return client.hGet(keys.meta, "shards");
  });
  if (stored !== String(SHARDS)) {
    throw new Error(
      `the Redis store at ${target} (prefix ${keys.prefix}) was created with ${String(stored)} shards, this version uses ${SHARDS}: ` +
        "open it with the version that wrote it, or move its data with migrate-store to a new prefix",
    );
  }
}

/** Whether the old layout still waits for the migration: looked for once per store (a SCAN), then remembered. */
export async function legacyPending(connection: RedisConnection, keys: RedisKeys): Promise<boolean> {
  const { client, guard } = connection;
  const known = await guard("open", () => client.hGet(keys.meta, "legacy"));
  if (known === "pending" || known === "none") return known === "pending";
  const found = await hasLegacyData(connection);
  await guard("open", () => client.hSetNX(keys.meta, "legacy", found ? "pending" : "none"));
  return (await guard("open", () => client.hGet(keys.meta, "legacy"))) === "pending";
}

/** The migration dropped the old layout: later opens neither offer nor look for it. */
export async function markLegacyDropped({ client, guard }: RedisConnection, keys: RedisKeys): Promise<void> {
  await guard("legacy drop", () => client.hSet(keys.meta, "legacy", "none"));
}

/**
 * Since when the store dates chats' applied Telegram updates (src/store/applied-updates.ts): the first
 * open by a version that does. A chat whose applied updates an earlier version wrote (no time of its
 * own) counts them as applied at that moment, so they are forgotten 48 hours after the upgrade, as on
 * SQLite, rather than 48 hours after the chat's next message.
 */
export async function appliedUpdatesSince({ client, guard }: RedisConnection, keys: RedisKeys, now: number): Promise<number> {
  const stored = await guard("open", async () => {
    await client.hSetNX(keys.meta, "appliedSince", String(now));
    return client.hGet(keys.meta, "appliedSince");
  });
  return Number(stored ?? now);
}
