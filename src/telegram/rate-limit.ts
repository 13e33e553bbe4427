/**
 * Counters for @grammyjs/ratelimiter, held in a {@link BoundedMap} instead of the plugin's own
 * `MemoryStore`. That store empties its whole map on a `setInterval` that is never stopped (so every
 * bot ever built keeps its counters alive) and counts any number of users within one time frame; it
 * also cannot be driven by a test clock. These counters use the plugin's other door, a Redis-like
 * client (`incr` + `pexpire`), so each user's window starts at their first message as it does on Redis,
 * a user not heard from for a time frame is forgotten, and at most `maxUsers` are counted at once.
 */
import { createBoundedMap } from "../bounded.ts";

/** The part of a Redis client the rate limiter calls. */
export type RateLimitCounters = {
  incr(key: string): Promise<number>;
  pexpire(key: string, milliseconds: number): Promise<number>;
  /** Users currently counted (expired ones included until swept). */
  readonly size: number;
};

export type RateLimitCounterOptions = {
  timeFrameMs: number;
  /**
   * Users counted at once; past it the least recently active is forgotten (its budget starts over), nearly:
   * the bounded map moves a user read within the last quarter of its writes no further, so a user still
   * writing is kept for at least three quarters of `maxUsers` writes (two per newcomer) after their last message.
   */
  maxUsers?: number;
  clock?: () => number;
};

/** Enough for every user of a 4-second window at well beyond one process's capacity. */
const MAX_USERS = 10_000;

export function rateLimitCounters(options: RateLimitCounterOptions): RateLimitCounters {
  const hits = createBoundedMap<string, { count: number }>({
    maxEntries: options.maxUsers ?? MAX_USERS,
    ttlMs: options.timeFrameMs,
    ...(options.clock ? { clock: options.clock } : {}),
  });
  return {
    async incr(key) {
      let counter = hits.get(key);
      if (!counter) hits.set(key, (counter = { count: 0 }));
      counter.count += 1;
      return counter.count;
    },
    async pexpire(key, milliseconds) {
      const counter = hits.get(key);
      if (!counter) return 0;
      hits.set(key, counter, milliseconds);
      return 1;
    },
    get size() {
      return hits.size;
    },
  };
}
