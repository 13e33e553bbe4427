/**
 * The Redis store under test: a contract fixture on a Redis server or cluster (each fixture its own
 * key prefix, since a cluster has no SELECT; its keys deleted afterwards), and the decision whether a
 * Redis test runs, skips loudly (locally, Redis absent) or fails (CI, Redis absent).
 */
import { randomBytes } from "node:crypto";
import { describe, it } from "vitest";
import { connectRedis, type RedisConnection } from "../../src/store/redis-connect.ts";
import { redisKeys } from "../../src/store/redis-keys.ts";
import { redisStore } from "../../src/store/redis-store.ts";
import type { ShopStore } from "../../src/store/shop-store.ts";
import type { StoreFixture } from "./store-contract.ts";

/** A prefix no other run uses. */
export const uniquePrefix = () => `t${process.pid}-${randomBytes(4).toString("hex")}:`;

/** Deletes every key of the store under `prefix` on every node (SCAN: test cleanup only). */
export async function deletePrefix(connection: RedisConnection, prefix: string): Promise<void> {
  for (const node of await connection.masters()) {
    for (const pattern of redisKeys(prefix).patterns) {
      for await (const keys of node.scanIterator({ MATCH: pattern, COUNT: 1_000 })) {
        await Promise.all(keys.map((key) => node.unlink(key)));
      }
    }
  }
}

/**
 * The Redis server's clock minus this process's, in ms (the store's inbox times are the server's).
 * Measured against the moment before asking, so it errs late by up to a round trip, never early: a
 * time the fixture calls "now" is never before something the server already stamped.
 */
async function serverClockOffset(connection: RedisConnection): Promise<number> {
  const [node] = await connection.masters();
  if (!node) return 0;
  const before = Date.now();
  const [seconds, micros] = await node.time();
  return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000) - before;
}

/**
 * A contract fixture on Redis at `url`: `open()` is a new connection ("another process"), time moves
 * by really waiting (leases and claims expire on the server), and cleanup deletes the prefix's keys.
 */
export function redisFixture(url: string): () => Promise<StoreFixture> {
  return async () => {
    const prefix = uniquePrefix();
    const admin = await connectRedis(url);
    const offset = await serverClockOffset(admin);
    const opened: ShopStore[] = [];
    let jumped = 0;
    return {
      async open() {
        const store = await redisStore(url, { keyPrefix: prefix, clock: () => Date.now() + jumped });
        opened.push(store);
        return store;
      },
      // The Redis server's clock cannot be moved: leases and claims expire there, so time passes for real.
      advance: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      now: () => Date.now() + offset,
      jump: async (ms) => {
        jumped += ms;
      },
      async cleanup() {
        await Promise.all(opened.map((store) => store.close()));
        await deletePrefix(admin, prefix);
        await admin.close();
      },
    };
  };
}

/**
 * Runs `define` when `problem` is null; otherwise fails (CI) or skips with a warning naming what is
 * missing and how to provide it.
 */
export function whenRedis(name: string, problem: string | null, howTo: string, define: () => void): void {
  if (problem === null) {
    define();
  } else if (process.env.CI) {
    describe(name, () => {
      it("has the Redis it needs (required in CI)", () => {
        throw new Error(`${problem}; ${howTo}`);
      });
    });
  } else {
    console.warn(`\n[${name}] SKIPPED: ${problem}. ${howTo}\n`);
    describe.skip(`${name} (skipped: ${problem})`, () => {
      it("needs Redis", () => {});
    });
  }
}

/**
 * A store URL on the cluster (or server) at `base` with a key prefix of its own, so test files running
 * at once on one cluster never touch each other's keys; `clear` deletes the prefix's keys.
 */
export async function isolatedRedisUrl(base: string): Promise<{ url: string; clear(): Promise<void> }> {
  const prefix = uniquePrefix();
  return {
    url: `${base}${base.includes("?") ? "&" : "?"}prefix=${encodeURIComponent(prefix)}`,
    async clear() {
      const connection = await connectRedis(base);
      try {
        await deletePrefix(connection, prefix);
      } finally {
        await connection.close();
      }
    },
  };
}
