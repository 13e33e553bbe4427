/**
 * Plain key-value data of the Redis store: Keyv with @keyv/redis on the store's own client (one
 * connection, one outage behaviour), namespace `<prefix>kv:<namespace>`.
 */
import Keyv from "keyv";
import KeyvRedis from "@keyv/redis";
import type { Guard, RedisConnection } from "./redis-connect.ts";

/**
 * A Keyv adapter on the store's client whose calls have the store's deadline and report outages alike.
 * keyv's `clear()` and iterator are left as @keyv/redis has them: they walk the namespace with SCAN,
 * which no deadline fits; they are for tools and tests, never a request's path.
 */
export class GuardedKeyvRedis extends KeyvRedis<unknown> {
  readonly #guard: Guard;
  constructor(connection: RedisConnection, namespace: string) {
    super(connection.client as never, { namespace, throwOnErrors: true, throwOnConnectError: true });
    this.#guard = connection.guard;
  }
  override get<U = unknown>(key: string) {
    return this.#guard("kv get", () => super.get<U>(key));
  }
  override getMany<U = unknown>(keys: string[]) {
    return this.#guard("kv getMany", () => super.getMany<U>(keys));
  }
  override set(key: string, value: string, ttl?: number) {
    return this.#guard("kv set", () => super.set(key, value, ttl));
  }
  override setMany(entries: Parameters<KeyvRedis<unknown>["setMany"]>[0]) {
    return this.#guard("kv setMany", () => super.setMany(entries));
  }
  override has(key: string) {
    return this.#guard("kv has", () => super.has(key));
  }
  override hasMany(keys: string[]) {
    return this.#guard("kv hasMany", () => super.hasMany(keys));
  }
  override delete(key: string) {
    return this.#guard("kv delete", () => super.delete(key));
  }
  override deleteMany(keys: string[]) {
    return this.#guard("kv deleteMany", () => super.deleteMany(keys));
  }
  /** The client is the store's: closing a Keyv must not close it (the store's close does). */
  override async disconnect() {}
}

/** A Keyv for `namespace` (the full key namespace, prefix included) on the store's connection. */
export function redisKeyv(connection: RedisConnection, namespace: string): Keyv {
  return new Keyv({
    store: new GuardedKeyvRedis(connection, namespace),
    namespace,
    useKeyPrefix: false,
    throwOnErrors: true,
    // Plain JSON: kv values are plain data, and keyv's default serializer is several times slower.
    serialize: (data: unknown) => JSON.stringify(data),
    deserialize: (text: string) => JSON.parse(text) as never,
  });
}
