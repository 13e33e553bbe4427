/**
 * The stores several instances share in tests: a SQLite file, a Redis server (one database per test
 * file) and a three-node Redis Cluster (a key prefix per test file). In CI an unreachable Redis or
 * cluster FAILS the tests that use it (`url()` throws); locally they skip loudly.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import { flushRedis, probeRedis, redisDbUrl } from "./redis.ts";
import { isolatedRedisUrl } from "./redis-store.ts";

/** A store instances share; `clear` empties it (SQLite: the next `url` names a new file). */
export type SharedStore = { name: string; skip: boolean; url: () => string; clear: () => Promise<void> };

/** SQLite, Redis (database `redisDb`, this file's own) and the Redis Cluster of `REDIS_CLUSTER_URL`. */
export async function sharedStores(redisDb: number): Promise<SharedStore[]> {
  const redisUrl = redisDbUrl(redisDb);
  const redisProblem = await probeRedis(redisUrl);
  const clusterUrl = process.env.REDIS_CLUSTER_URL;
  // A cluster has no database numbers: the file's keys have a prefix of their own.
  const clusterStore = clusterUrl ? await isolatedRedisUrl(clusterUrl) : null;
  const sqliteDir = mkdtempSync(join(tmpdir(), "tokengoblin-shared-"));
  afterAll(() => rmSync(sqliteDir, { recursive: true, force: true }));
  let sqliteRuns = 0;
  return [
    {
      name: "a shared SQLite file",
      skip: false,
      url: () => `sqlite://${join(sqliteDir, `run-${sqliteRuns}.sqlite`)}`,
      clear: async () => void sqliteRuns++,
    },
    {
      name: "Redis",
      skip: redisProblem !== null && !process.env.CI,
      url: () => {
        if (redisProblem !== null) throw new Error(`Redis at ${redisUrl} is unreachable in CI (${redisProblem})`);
        return redisUrl;
      },
      clear: () => flushRedis(redisUrl),
    },
    {
      name: "a three-node Redis Cluster",
      skip: !clusterUrl && !process.env.CI,
      url: () => {
        if (!clusterUrl || !clusterStore) throw new Error("REDIS_CLUSTER_URL is not set in CI");
        return clusterStore.url;
      },
      clear: async () => clusterStore?.clear(),
    },
  ];
}
