/**
 * The floors the engine is compared with: what any implementation of "restore the order's machine,
 * apply one message, save the chat and its order" must pay at least.
 * - the bare XState step: restore a persisted order snapshot in `quoted`, send SET_AMOUNT, wait for the
 *   invoked pricing to settle, take the persisted snapshot — no store, no understanding, no replies;
 * - the raw store round trip: one get and one set of a record the size of a stored chat + its order,
 *   through the same driver the store uses (better-sqlite3 with the store's pragmas; @redis/client).
 */
import Database from "better-sqlite3";
import { createActor, waitFor } from "xstate";
import { purchaseMachine } from "../machines/purchase.machine.ts";
import { DEFAULT_CATALOG } from "../src/domain/catalog.ts";
import { ChatId, OrderId } from "../src/domain/ids.ts";
import { createLedger, createSandboxDelivery } from "../src/delivery/index.ts";
import { createPurchaseActors } from "../src/engine/actors.ts";
import { silentLogger } from "../src/log.ts";
import { memoryStore } from "../src/store/memory.ts";
import { connectRedis } from "../src/store/redis-connect.ts";
import { configure } from "../src/store/sqlite-schema.ts";
import { sandboxOutsideTheStore } from "../test/support/sandbox-payments.ts";
import { usPerOp } from "./timing.ts";

/**
 * One bare XState message as an op: restore the persisted order (in `quoted`), send SET_AMOUNT, wait
 * for pricing to settle, take the persisted snapshot and copy it, as a store would. The product's own
 * actors are attached the way the engine attaches them (src/engine/orders.ts).
 */
export async function bareXStateStepOp(): Promise<(i: number) => Promise<void>> {
  const store = memoryStore();
  const payments = sandboxOutsideTheStore({ publicUrl: "http://localhost" });
  const delivery = createSandboxDelivery();
  const actors = createPurchaseActors({
    catalog: DEFAULT_CATALOG,
    quoteTtlMs: 3_600_000,
    paymentTtlMs: 3_600_000,
    clock: Date.now,
    payments,
    delivery,
    ledger: createLedger({ store, provider: delivery, instanceId: "bench", clock: Date.now }),
    store,
    log: silentLogger,
  });
  const machine = purchaseMachine.provide({ actors });
  const input = {
    orderId: OrderId.parse("ord_bench"),
    chatId: ChatId.parse("bench"),
    productId: "tokens",
    latePayment: "deliver" as const,
    minTokens: DEFAULT_CATALOG.minTokens,
    maxTokens: DEFAULT_CATALOG.maxTokens,
    maxDeliveryAttempts: 3,
    retryBackoffMs: 30_000,
    at: Date.now(),
  };
  const first = createActor(machine, { input });
  first.start();
  first.send({ type: "SET_AMOUNT", tokens: 1000, at: Date.now() });
  await waitFor(first, (s) => !s.hasTag("busy"));
  if (!first.getSnapshot().hasTag("open"))
    throw new Error(`the floor's order did not reach a quote: ${JSON.stringify(first.getSnapshot().value)}`);
  let persisted: unknown = first.getPersistedSnapshot();
  first.stop();
  const amounts = [2000, 3000];
  return async (i) => {
    const actor = createActor(machine, { input, snapshot: persisted as never });
    actor.start();
    actor.send({ type: "SET_AMOUNT", tokens: amounts[i % 2] as number, at: Date.now() });
    if (actor.getSnapshot().hasTag("busy")) await waitFor(actor, (s) => !s.hasTag("busy"));
    persisted = JSON.parse(JSON.stringify(actor.getPersistedSnapshot()));
    actor.stop();
  };
}

/** µs for one bare XState message (see {@link bareXStateStepOp}). */
export async function bareXStateStep(count: number): Promise<number> {
  return usPerOp(count, await bareXStateStepOp(), Math.min(count, 2500));
}

/** A store's floor as an op, and how to let go of what it opened. */
export type FloorOp = { op: (i: number) => Promise<void>; close: () => Promise<void> };

/**
 * One get + one set of `record` (a stored chat + order, as JSON) through better-sqlite3 with the
 * store's connection settings, statements prepared once, autocommit. The record is parsed after the
 * read and serialised for the write, as any store of objects must.
 */
export function rawSqliteOp(file: string, record: string): FloorOp {
  const db = new Database(file);
  configure(db);
  db.exec("CREATE TABLE IF NOT EXISTS floor (k TEXT PRIMARY KEY, v TEXT NOT NULL)");
  const put = db.prepare<[string, string]>("INSERT INTO floor (k, v) VALUES (?, ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v");
  const get = db.prepare<[string], { v: string }>("SELECT v FROM floor WHERE k = ?");
  const parsed = JSON.parse(record) as Record<string, unknown>;
  return {
    op: async (i) => {
      const row = get.get(`k${i % 64}`);
      if (row) JSON.parse(row.v);
      put.run(`k${i % 64}`, JSON.stringify({ ...parsed, i }));
    },
    close: async () => void db.close(),
  };
}

/** One GET + one SET of `record` through a client with the store's own Redis connection settings (@redis/client). */
export async function rawRedisOp(url: string, record: string): Promise<FloorOp> {
  const connection = await connectRedis(url);
  const parsed = JSON.parse(record) as Record<string, unknown>;
  return {
    op: async (i) => {
      const text = await connection.client.get(`bench-floor:${i % 64}`);
      if (text) JSON.parse(text);
      await connection.client.set(`bench-floor:${i % 64}`, JSON.stringify({ ...parsed, i }));
    },
    close: () => connection.close(),
  };
}

/**
 * µs for one autocommit write of `record` through better-sqlite3: SQLite's default journal, the store's
 * settings (WAL + synchronous=FULL: on the disk before it is acknowledged), or WAL + synchronous=NORMAL
 * (what the store uses for a write that holds only a lease).
 */
export function rawSqliteWrite(file: string, pragmas: "default" | "store" | "wal-normal", record: string, count: number): Promise<number> {
  const db = new Database(file);
  if (pragmas !== "default") configure(db);
  if (pragmas === "wal-normal") db.pragma("synchronous = NORMAL");
  db.exec("CREATE TABLE IF NOT EXISTS floor (k TEXT PRIMARY KEY, v TEXT NOT NULL)");
  const put = db.prepare<[string, string]>("INSERT OR REPLACE INTO floor (k, v) VALUES (?, ?)");
  return usPerOp(count, async (i) => void put.run(`w${i}`, record), 50).finally(() => db.close());
}
