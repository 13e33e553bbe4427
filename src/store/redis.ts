/**
 * The Redis backend (`redis://…`), for production and several instances: claims and compare-and-set
 * writes are Lua scripts, atomic on the server. Keys follow @keyv/redis's layout
 * (`tokengoblin:<collection>::<key>`, value `{"value": <record>}`), so earlier data keeps working.
 */
import Keyv from "keyv";
import KeyvRedis, { createClient } from "@keyv/redis";
import type { Backend } from "./types.ts";
import { json, shared, versionedOver, wrap } from "./keyv.ts";

/**
 * Claims KEYS[1] for ARGV[1] if it is free or already that owner's (re-entrant); ARGV[2] is the lease
 * in ms, or "" for a claim that never expires (as on the other backends).
 */
const CLAIM = `
local current = redis.call("GET", KEYS[1])
if current and current ~= ARGV[1] then return 0 end
if ARGV[2] == "" then
  redis.call("SET", KEYS[1], ARGV[1])
else
  redis.call("SET", KEYS[1], ARGV[1], "PX", ARGV[2])
end
return 1`;

/**
 * Writes KEYS[1] = ARGV[1] if the revision stored in it (`value.rev`, 0 when absent or unreadable) is
 * ARGV[2]. One script, so the check and the write cannot be split by another instance's write.
 */
const COMPARE_AND_SET = `
local current = redis.call("GET", KEYS[1])
local rev = 0
if current then
  local ok, decoded = pcall(cjson.decode, current)
  if ok and type(decoded) == "table" and type(decoded.value) == "table" and type(decoded.value.rev) == "number" then
    rev = decoded.value.rev
  end
end
if rev ~= tonumber(ARGV[2]) then return 0 end
redis.call("SET", KEYS[1], ARGV[1])
return 1`;

const RELEASE_IF_OWNER = `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) else return 0 end`;

export async function redisBackend(url: string): Promise<Backend> {
  // Reconnects for ever once it was connected; a first connection that fails ends connect() with the
  // cause instead, so start-up can report it (and retry it within its limit) rather than hang (issue 18).
  let connected = false;
  const client = createClient({ url, socket: { reconnectStrategy: (retries: number, cause: Error) => (connected ? Math.min(retries * 100, 2000) : cause) } });
  client.on("ready", () => (connected = true));
  client.on("error", () => {
    // Connection errors surface through failed commands and /healthz; the client reconnects by itself.
  });
  // Every collection's KeyvRedis adapter subscribes to the one shared client's connection events.
  client.setMaxListeners(0);
  await client.connect();
  const opened = new Map<string, Keyv>();
  const claimKey = (key: string) => `tokengoblin:claim:${key}`;
  const adapterFor = (name: string) => {
    const adapter = new KeyvRedis(client as never, { namespace: `tokengoblin:${name}` });
    // keyv's iterator SCANs with Redis's default COUNT of 10, i.e. one round trip per ten keys of the
    // whole database for every collection scanned: 20+ s over 100,000 orders. Same walk, 1,000 a trip.
    adapter.iterator = async function* (namespace?: string) {
      const match = namespace ? `${namespace}${adapter.keyPrefixSeparator}*` : "*";
      let cursor = "0";
      do {
        const result = await client.scan(cursor, { MATCH: match, TYPE: "string", COUNT: 1000 });
        cursor = String(result.cursor);
        if (result.keys.length === 0) continue;
        const values = await client.mGet(result.keys);
        for (const [i, key] of result.keys.entries()) yield [adapter.getKeyWithoutPrefix(key, namespace), values[i] ?? undefined];
      } while (cursor !== "0");
    } as typeof adapter.iterator;
    return adapter;
  };
  const keyvFor = (name: string) =>
    shared(opened, name, () => new Keyv({ store: adapterFor(name), namespace: `tokengoblin:${name}`, useKeyPrefix: false, ...json }));
  return {
    kind: "redis",
    collection(name, schema) {
      return wrap(keyvFor(name), schema);
    },
    versioned(name, schema) {
      return versionedOver(keyvFor(name), schema, async (key, value) => {
        const written = await client.eval(COMPARE_AND_SET, {
          keys: [`tokengoblin:${name}::${key}`],
          arguments: [json.serialize({ value }), String(value.rev - 1)],
        });
        return written === 1;
      });
    },
    claims: {
      async tryClaim(key, owner, ttlMs) {
        // One script, so "free or already mine" and the expiry change are atomic.
        const held = await client.eval(CLAIM, { keys: [claimKey(key)], arguments: [owner, ttlMs === null ? "" : String(ttlMs)] });
        return held === 1;
      },
      async release(key, owner) {
        await client.eval(RELEASE_IF_OWNER, { keys: [claimKey(key)], arguments: [owner] });
      },
      async holder(key) {
        return (await client.get(claimKey(key))) ?? undefined;
      },
    },
    ping: async () => {
      await client.ping();
    },
    close: async () => {
      await client.quit().catch(() => client.destroy());
    },
  };
}
