/**
 * The Redis store on a three-node Redis Cluster (REDIS_CLUSTER_URL, e.g.
 * redis-cluster://127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002 from `scripts/redis-cluster.sh start
 * <dir>`) keeps the same contract as on one server: every script's keys share one hash tag, so no
 * call is refused as cross-slot, and the shards spread over the nodes. The old layout is read from
 * every master. Required in CI; skipped with a warning locally when REDIS_CLUSTER_URL is unset.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { connectRedis, type RedisConnection } from "../../src/store/redis-connect.ts";
import { redisKeys, SHARDS } from "../../src/store/redis-keys.ts";
import { redisStore } from "../../src/store/redis-store.ts";
import { redisFixture, uniquePrefix, whenRedis } from "../support/redis-store.ts";
import { describeStoreContract } from "../support/store-contract.ts";

const CLUSTER_URL = process.env.REDIS_CLUSTER_URL;

async function problemWith(url: string | undefined): Promise<string | null> {
  if (!url) return "REDIS_CLUSTER_URL is not set";
  try {
    const connection = await connectRedis(url);
    await connection.close();
    return null;
  } catch (error) {
    return `no Redis Cluster at ${url} (${error instanceof Error ? error.message : String(error)})`;
  }
}

whenRedis(
  "store-redis-cluster",
  await problemWith(CLUSTER_URL),
  "Start one with: scripts/redis-cluster.sh start /tmp/redis-cluster, then REDIS_CLUSTER_URL=redis-cluster://127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002",
  () => {
    const url = CLUSTER_URL ?? "";
    describeStoreContract("Redis Cluster", redisFixture(url));

    describe("Redis Cluster store: layout", () => {
      let admin: RedisConnection;
      beforeAll(async () => {
        admin = await connectRedis(url);
      });
      afterAll(async () => {
        await admin.close();
      });

      test("the shards are spread over more than one node", async () => {
        const keys = redisKeys("tg:");
        const cluster = admin.client;
        const [node] = await admin.masters();
        if (!("slots" in cluster) || !node) throw new Error("not a cluster client");
        const owners = new Set<string>();
        for (let shard = 0; shard < SHARDS; shard++) {
          const slot = await node.clusterKeySlot(keys.due(shard));
          owners.add(cluster.slots[slot]?.master.address ?? "none");
        }
        expect(owners.has("none")).toBe(false);
        expect(owners.size).toBeGreaterThan(1);
      });

      test("the old layout is read from every master and dropped from all of them", async () => {
        // Keys in many slots, so they land on every node.
        const written = Array.from({ length: 30 }, (_, i) => `tokengoblin:orders::ord_${i}`);
        await Promise.all(written.map((key, i) => admin.client.set(key, JSON.stringify({ value: { n: i } }))));
        const store = await redisStore(url, { keyPrefix: uniquePrefix() });
        try {
          const legacy = store.legacy;
          if (!legacy) throw new Error("the store did not offer its old data");
          expect(await legacy.collections()).toEqual(["orders"]);
          const seen: unknown[] = [];
          for await (const [, value] of legacy.entries("orders")) seen.push(value);
          expect(seen).toHaveLength(30);
          await legacy.drop();
          expect(await Promise.all(written.map((key) => admin.client.exists(key)))).toEqual(written.map(() => 0));
        } finally {
          await store.close();
        }
      });
    });
  },
);
