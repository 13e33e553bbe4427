/**
 * Keyv plumbing shared by the backends: plain-JSON serialization, the zod-validated collection wrapper
 * and one Keyv per collection name.
 */
import type Keyv from "keyv";
import type { z } from "zod";
import type { Collection, VersionedCollection, VersionedRead } from "./types.ts";

/**
 * Plain JSON for every store: our records are plain JSON (zod-checked), and native JSON is several
 * times faster than keyv's default serializer, which walks values to escape Buffers and `:base64:`
 * strings we never store. It was ~15% of a message's CPU in the benchmark (docs/performance.md).
 */
export const json = {
  serialize: (data: unknown) => JSON.stringify(data),
  deserialize: (text: string) => JSON.parse(text) as never,
};

export function wrap<S extends z.ZodType>(keyv: Keyv, schema: S): Collection<z.infer<S>> {
  type T = z.infer<S>;
  const parse = (raw: unknown): T | undefined => {
    const result = schema.safeParse(raw);
    return result.success ? result.data : undefined;
  };
  return {
    async get(key) {
      return parse(await keyv.get(key));
    },
    async read(key) {
      const raw: unknown = await keyv.get(key);
      if (raw === undefined || raw === null) return undefined;
      return parse(raw) ?? "invalid";
    },
    async set(key, value, ttlMs) {
      await keyv.set(key, value, ttlMs);
    },
    async delete(key) {
      await keyv.delete(key);
    },
    async *entries() {
      if (!keyv.iterator) return;
      for await (const [key, raw] of keyv.iterator(keyv.namespace) as AsyncIterable<[string, unknown]>) {
        const value = parse(raw);
        if (value !== undefined) yield [key, value] as [string, T];
      }
    },
  };
}

/** One Keyv per collection name, however often a collection is asked for (same data, one connection). */
export function shared(cache: Map<string, Keyv>, name: string, open: () => Keyv): Keyv {
  let keyv = cache.get(name);
  if (!keyv) cache.set(name, (keyv = open()));
  return keyv;
}


/** The revision stored inside a raw record (0 for none: older records and absent ones). */
export function revisionOf(raw: unknown): number {
  const rev = (raw as { rev?: unknown } | null | undefined)?.rev;
  return typeof rev === "number" && Number.isSafeInteger(rev) ? rev : 0;
}

/**
 * A versioned collection over a keyv one: reads through keyv, writes through the backend's own atomic
 * compare-and-set (`write`).
 */
export function versionedOver<S extends z.ZodType<{ rev: number }>>(
  keyv: Keyv,
  schema: S,
  write: (key: string, value: z.infer<S>) => Promise<boolean>,
): VersionedCollection<z.infer<S>> {
  const plain = wrap(keyv, schema);
  return {
    get: plain.get,
    delete: plain.delete,
    entries: plain.entries,
    read: async (key) => readVersioned(schema, await keyv.get(key)),
    write,
  };
}

/** Validates a raw versioned record: its revision is kept even when it fails the schema. */
export function readVersioned<S extends z.ZodType<{ rev: number }>>(schema: S, raw: unknown): VersionedRead<z.infer<S>> {
  if (raw === undefined || raw === null) return { record: undefined, rev: 0 };
  const parsed = schema.safeParse(raw);
  return { record: parsed.success ? parsed.data : "invalid", rev: revisionOf(raw) };
}
