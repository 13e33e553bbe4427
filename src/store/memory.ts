/**
 * The memory backend: one process, nothing kept across restarts (tests, benchmarks, `memory://`).
 * Every operation is synchronous underneath, so claims and compare-and-set need no more than a Map.
 */
import Keyv from "keyv";
import type { Backend, VersionedCollection } from "./types.ts";
import { json, readVersioned, revisionOf, shared, wrap } from "./keyv.ts";

export function memoryBackend(): Backend {
  const maps = new Map<string, Keyv>();
  const versionedMaps = new Map<string, Map<string, unknown>>();
  const held = new Map<string, { owner: string; expiresAt: number | null }>();
  let claimsSincePurge = 0;
  const live = (key: string) => {
    const claim = held.get(key);
    if (claim && claim.expiresAt !== null && claim.expiresAt <= Date.now()) {
      held.delete(key);
      return undefined;
    }
    return claim;
  };
  return {
    kind: "memory",
    collection: (name, schema) => wrap(shared(maps, name, () => new Keyv({ store: new Map(), namespace: name, ...json })), schema),
    versioned(name, schema) {
      type T = ReturnType<typeof schema.parse>;
      let records = versionedMaps.get(name);
      if (!records) versionedMaps.set(name, (records = new Map()));
      const table = records;
      const collection: VersionedCollection<T> = {
        async get(key) {
          const read = readVersioned(schema, table.get(key));
          return read.record === "invalid" ? undefined : read.record;
        },
        async read(key) {
          return readVersioned(schema, table.get(key));
        },
        async write(key, value) {
          if (revisionOf(table.get(key)) !== value.rev - 1) return false;
          // Kept as given, not copied: records are built fresh for each write and never changed afterwards.
          table.set(key, value);
          return true;
        },
        async delete(key) {
          table.delete(key);
        },
        async *entries() {
          for (const [key, raw] of [...table]) {
            const read = readVersioned(schema, raw);
            if (read.record !== undefined && read.record !== "invalid") yield [key, read.record];
          }
        },
      };
      return collection;
    },
    claims: {
      async tryClaim(key, owner, ttlMs) {
        // One-off keys (a Telegram update id, held a day) would otherwise pile up: drop expired ones now and then.
        if (++claimsSincePurge >= 500) {
          claimsSincePurge = 0;
          for (const name of [...held.keys()]) live(name);
        }
        const current = live(key);
        if (current && current.owner !== owner) return false;
        held.set(key, { owner, expiresAt: ttlMs === null ? null : Date.now() + ttlMs });
        return true;
      },
      async release(key, owner) {
        if (live(key)?.owner === owner) held.delete(key);
      },
      async holder(key) {
        return live(key)?.owner;
      },
    },
    ping: async () => {},
    close: async () => {},
  };
}

