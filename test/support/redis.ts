/**
 * Redis for tests: one database index per test file (so files running at once never clobber each
 * other), a probe that says why Redis is unreachable, and a flush. In CI an unreachable Redis must fail
 * the tests that need it, never skip them: see {@link redisRequired}.
 */
import { createClient } from "@keyv/redis";

/** The `REDIS_URL` (default `redis://127.0.0.1:6379`) pointed at database `db`. */
export function redisDbUrl(db: number): string {
  const url = new URL(process.env.REDIS_URL ?? "redis://127.0.0.1:6379");
  url.pathname = `/${db}`;
  return url.toString();
}

/** Null when Redis at `url` answers; otherwise why not. Never throws, never waits more than a second. */
export async function probeRedis(url: string): Promise<string | null> {
  const client = createClient({ url, socket: { connectTimeout: 1_000, reconnectStrategy: false } });
  client.on("error", () => {});
  try {
    await client.connect();
    await client.ping();
    await client.quit();
    return null;
  } catch (error) {
    try {
      client.destroy();
    } catch {
      // Never connected: nothing to close.
    }
    return error instanceof Error ? error.message : String(error);
  }
}

/** Empties the database `url` names. */
export async function flushRedis(url: string): Promise<void> {
  const client = createClient({ url });
  await client.connect();
  await client.flushDb();
  await client.quit();
}

/** True when CI demands Redis: an unreachable one then fails the file instead of skipping it. */
export const redisRequired = () => Boolean(process.env.CI);
