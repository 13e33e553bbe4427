/**
 * Typed key-value on top of a store's plain `kv` namespaces (keyv), for records that need nothing more
 * than get and set: language preferences, providers' invoices, caches. Reads are validated: a record
 * that fails its schema is treated as absent.
 */
import type Keyv from "keyv";
import type { z } from "zod";

export type Collection<T> = {
  get(key: string): Promise<T | undefined>;
  set(key: string, value: T, ttlMs?: number): Promise<void>;
  delete(key: string): Promise<void>;
};

/** Binds a keyv namespace to the record schema its values must pass. */
export function collectionOf<S extends z.ZodType>(keyv: Keyv, schema: S): Collection<z.infer<S>> {
  return {
    async get(key) {
      const stored: unknown = await keyv.get(key);
      // Nothing stored is the common case (a customer who never chose a language): no schema run, no error built.
      if (stored === undefined) return undefined;
      const parsed = schema.safeParse(stored);
      return parsed.success ? parsed.data : undefined;
    },
    async set(key, value, ttlMs) {
      await keyv.set(key, value, ttlMs);
    },
    async delete(key) {
      await keyv.delete(key);
    },
  };
}
