/**
 * The Redis connection of the store: one node-redis client (`redis://`, `rediss://`) or one cluster
 * client (`redis-cluster://host1:port1,host2:port2,…`, the seed nodes), with the store's scripts
 * attached, and the rules that make it fail fast and lose nothing:
 *
 * - no offline queue: while Redis is unreachable a command fails at once instead of waiting in memory
 *   for a server that may never return (and replaying stale writes when it does);
 * - every store call has a deadline ({@link COMMAND_TIMEOUT_MS}): node-redis v5's own `timeout` and
 *   `abortSignal` command options only cover the wait *before* a command is written, and its
 *   `socketTimeout` is an idle timer that every written command resets, so neither notices a server
 *   that accepts bytes and never answers (a frozen process, SIGSTOP). The guard races the reply
 *   against a timer instead;
 * - the client reconnects by itself, backing off up to {@link MAX_RECONNECT_DELAY_MS}, and its
 *   `error` events are absorbed (the failed calls report them), so an outage is not a log flood;
 * - the first connection fails promptly instead: a store that cannot be reached at start says so
 *   within {@link OPEN_TIMEOUT_MS}, naming the URL without its password.
 */
import { createClient, createCluster, ErrorReply, type RedisClientType, type RedisClusterType } from "@redis/client";
import { StoreUnavailableError } from "./shop-store.ts";
import { STORE_SCRIPTS, type StoreScripts } from "./redis-scripts.ts";

/** How long a store call may wait for Redis before it fails with {@link StoreUnavailableError}. */
export const COMMAND_TIMEOUT_MS = 1_000;
/** How long opening the store may take (connect and first handshake) before it gives up. */
export const OPEN_TIMEOUT_MS = 5_000;
/** The longest pause between two reconnection attempts. */
export const MAX_RECONNECT_DELAY_MS = 2_000;

// The store's client: a single server or a cluster, both with the store's scripts as methods. The
// empty-object type parameters are node-redis's own defaults ("no modules, no functions").
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export type StoreServerClient = RedisClientType<{}, {}, StoreScripts, 2>;
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export type StoreClusterClient = RedisClusterType<{}, {}, StoreScripts, 2>;
export type StoreRedisClient = StoreServerClient | StoreClusterClient;

/** Runs one store call's Redis work under the deadline; connection failures become {@link StoreUnavailableError}. */
export type Guard = <T>(what: string, work: () => Promise<T>) => Promise<T>;

export type RedisConnection = {
  client: StoreRedisClient;
  cluster: boolean;
  /** The URL without its password, for messages. */
  target: string;
  guard: Guard;
  /** One client per master node (the client itself on a single server): for SCAN, which sees one node. */
  masters(): Promise<StoreServerClient[]>;
  close(): Promise<void>;
};

/** Where a store URL points, parsed. */
type Location =
  { kind: "server"; url: string } | { kind: "cluster"; nodes: { host: string; port: number }[]; username?: string; password?: string };

/** Reads a `redis://`, `rediss://` or `redis-cluster://` URL; throws with what is wrong otherwise. */
export function parseRedisUrl(url: string): Location {
  if (/^rediss?:\/\//.test(url)) return { kind: "server", url };
  const cluster = /^redis-cluster:\/\/(?:([^@/]*)@)?([^/?#]+)\/?$/.exec(url);
  if (!cluster) {
    throw new Error(
      `not a Redis store URL: ${redactRedisUrl(url)} (use redis://host:port, rediss://host:port or redis-cluster://host1:port1,host2:port2)`,
    );
  }
  const [, auth, hosts = ""] = cluster;
  const nodes = hosts.split(",").map((node) => {
    const match = /^([^:,]+):(\d{1,5})$/.exec(node.trim());
    if (!match) throw new Error(`a redis-cluster:// URL lists seed nodes as host:port, comma-separated; got ${JSON.stringify(node)}`);
    return { host: match[1] ?? "", port: Number(match[2]) };
  });
  const location: Location = { kind: "cluster", nodes };
  if (auth !== undefined) {
    const colon = auth.indexOf(":");
    const username = decodeURIComponent(colon < 0 ? auth : auth.slice(0, colon));
    if (username) location.username = username;
    if (colon >= 0) location.password = decodeURIComponent(auth.slice(colon + 1));
  }
  return location;
}

/** The URL with its password replaced by `***` (for messages and logs). */
export function redactRedisUrl(url: string): string {
  return url.replace(/^([a-z-]+:\/\/[^:@/]*:)[^@/]*@/i, "$1***@");
}

/** Connection failures (the server is away, slow or refusing work) as opposed to bugs in a call. */
function isUnavailable(error: unknown): boolean {
  if (error instanceof ErrorReply)
    return /^(CLUSTERDOWN|TRYAGAIN|LOADING|MASTERDOWN|BUSY|READONLY|NOREPLICAS|MOVED|ASK|OOM)\b/.test(error.message);
  return !(
    error instanceof TypeError ||
    error instanceof RangeError ||
    error instanceof SyntaxError ||
    error instanceof StoreUnavailableError
  );
}

function guardFor(target: string, timeoutMs: number): Guard {
  return (what, work) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(
          new StoreUnavailableError(`Redis at ${target} did not answer ${what} within ${timeoutMs} ms (is it overloaded or stopped?)`),
        );
      }, timeoutMs);
      let running: Promise<unknown>;
      try {
        running = work();
      } catch (error) {
        running = Promise.reject(error);
      }
      running.then(
        (value) => {
          clearTimeout(timer);
          resolve(value as never);
        },
        (error: unknown) => {
          clearTimeout(timer);
          if (!isUnavailable(error)) reject(error);
          else
            reject(
              new StoreUnavailableError(`Redis at ${target} failed ${what}: ${error instanceof Error ? error.message : String(error)}`, {
                cause: error,
              }),
            );
        },
      );
    });
}

/** Settles with `work`, or rejects after `ms` (running `onTimeout` first). */
async function within<T>(work: Promise<T>, ms: number, onTimeout: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout();
      reject(new Error(`no answer within ${ms} ms`));
    }, ms);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Opens the connection; rejects with {@link StoreUnavailableError} when Redis at `url` cannot be
 * reached, or does not answer, within {@link OPEN_TIMEOUT_MS}.
 */
export async function connectRedis(url: string, options: { commandTimeoutMs?: number } = {}): Promise<RedisConnection> {
  const location = parseRedisUrl(url);
  const target = redactRedisUrl(url);
  // Before the first connection, a failure ends the attempt (open must fail, not retry forever);
  // after it, the client reconnects by itself for as long as it takes.
  let opened = false;
  const socket = {
    connectTimeout: OPEN_TIMEOUT_MS,
    reconnectStrategy: (retries: number) => (opened ? Math.min(50 * 2 ** Math.min(retries, 10), MAX_RECONNECT_DELAY_MS) : false),
  };
  // Failed calls report the outage; the events would only repeat it on every reconnection attempt.
  const absorb = () => {};
  let client: StoreRedisClient;
  if (location.kind === "server") {
    const server: StoreServerClient = createClient({ url: location.url, disableOfflineQueue: true, socket, scripts: STORE_SCRIPTS });
    server.on("error", absorb);
    client = server;
  } else {
    const auth = {
      ...(location.username ? { username: location.username } : {}),
      ...(location.password ? { password: location.password } : {}),
    };
    const cluster: StoreClusterClient = createCluster({
      rootNodes: location.nodes.map(({ host, port }) => ({ socket: { host, port }, ...auth })),
      defaults: { disableOfflineQueue: true, socket, ...auth },
      scripts: STORE_SCRIPTS,
    });
    cluster.on("error", absorb);
    cluster.on("node-error", absorb);
    client = cluster;
  }
  // Every kv namespace's @keyv/redis adapter listens to the one shared client's events.
  client.setMaxListeners(0);
  try {
    await within(client.connect() as Promise<unknown>, OPEN_TIMEOUT_MS, () => destroy(client));
  } catch (error) {
    destroy(client);
    const detail = error instanceof Error ? error.message : String(error);
    throw new StoreUnavailableError(`could not connect to Redis at ${target} (${detail}); check that it runs and that STORE_URL names it`, {
      cause: error,
    });
  }
  opened = true;
  const guard = guardFor(target, options.commandTimeoutMs ?? COMMAND_TIMEOUT_MS);
  return {
    client,
    cluster: location.kind === "cluster",
    target,
    guard,
    async masters() {
      if (!("masters" in client)) return [client];
      const cluster = client;
      return Promise.all(cluster.masters.map((node) => cluster.nodeClient(node)));
    },
    async close() {
      // A graceful close waits for pending replies, which a frozen server never sends.
      await within(client.close(), COMMAND_TIMEOUT_MS, () => destroy(client)).catch(() => destroy(client));
    },
  };
}

function destroy(client: StoreRedisClient): void {
  try {
    client.destroy();
  } catch {
    // Already closed: nothing to release.
  }
}
