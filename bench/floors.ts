/**
 * The floors the engine is compared with: what any implementation of "restore the chat's machine,
 * apply one message, save it" must pay at least.
 * - the bare XState step: restore a persisted snapshot, send the event, wait for the invoked pricing
 *   to settle, take the persisted snapshot — no store, no understanding, no replies;
 * - the raw keyv round trip: one get and one set of a conversation-sized record on the same store.
 */
import { createActor, waitFor } from "xstate";
import Keyv from "keyv";
import KeyvSqlite from "@keyv/sqlite";
import KeyvRedis, { createClient } from "@keyv/redis";
import { DEFAULT_CATALOG } from "../src/domain/catalog.ts";
import { ChatId, OrderId } from "../src/domain/ids.ts";
import { createSandboxDelivery } from "../src/delivery/index.ts";
import { createLedger } from "../src/delivery/ledger.ts";
import { purchaseMachine } from "../machines/purchase.machine.ts";
import { createPurchaseActors } from "../src/engine/actors.ts";
import { silentLogger } from "../src/log.ts";
import { createSandboxPayments } from "../src/payments/sandbox.ts";
import { SandboxInvoice } from "../src/payments/sandbox.ts";
import { json } from "../src/store/keyv.ts";
import { openSqliteConnection } from "../src/store/sqlite.ts";
import { createStores, openBackend } from "../src/store/index.ts";
import { usPerOp } from "./timing.ts";

/** µs for one bare XState message (CHANGE_AMOUNT in `quoted`, pricing settles, persisted snapshot). */
export async function bareXStateStep(count: number): Promise<number> {
  const stores = createStores(await openBackend({ kind: "memory" }));
  const payments = createSandboxPayments({
    invoices: stores.backend.collection("sandbox_invoices", SandboxInvoice),
    publicUrl: () => "http://localhost",
    clock: Date.now,
  });
  const delivery = createSandboxDelivery();
  const actors = createPurchaseActors({
    catalog: DEFAULT_CATALOG,
    quoteTtlMs: 3_600_000,
    paymentTtlMs: 3_600_000,
    clock: Date.now,
    payments,
    delivery,
    ledger: createLedger({ stores, provider: delivery, instanceId: "bench", clock: Date.now }),
    stores,
    log: silentLogger,
  });
  const machine = purchaseMachine.provide({ actors });
  const input = { orderId: OrderId.parse("ord_bench"), chatId: ChatId.parse("bench"), minTokens: DEFAULT_CATALOG.minTokens, maxTokens: DEFAULT_CATALOG.maxTokens, maxDeliveryAttempts: 3, retryBackoffMs: 30_000, at: Date.now() };
  const first = createActor(machine, { input });
  first.start();
  first.send({ type: "QUOTE", tokens: 1000, at: Date.now() });
  await waitFor(first, (s) => !s.hasTag("busy"));
  let persisted: unknown = first.getPersistedSnapshot();
  first.stop();
  const amounts = [2000, 3000];
  return usPerOp(count, async (i) => {
    const actor = createActor(machine, { input, snapshot: persisted as never });
    actor.start();
    actor.send({ type: "CHANGE_AMOUNT", tokens: amounts[i % 2] as number, at: Date.now() });
    if (actor.getSnapshot().hasTag("busy")) await waitFor(actor, (s) => !s.hasTag("busy"));
    persisted = JSON.parse(JSON.stringify(actor.getPersistedSnapshot()));
    actor.stop();
  }, Math.min(count, 2500));
}

/** A record the size of a stored conversation (snapshot + turns). */
export function conversationSizedRecord(i: number) {
  return {
    v: 1,
    chatId: "bench",
    snapshot: { status: "active", value: "quoted", context: { orderId: "ord_bench", tokens: 1000 + i, pad: "x".repeat(900) } },
    lastOrderId: null,
    turns: ["make it 2000", "make it 3000"],
    updatedAt: Date.now(),
  };
}

/** µs for one raw keyv get + set of a conversation-sized record. */
export async function rawKeyvRoundTrip(keyv: Keyv, count: number): Promise<number> {
  return usPerOp(count, async (i) => {
    await keyv.get(`k${i % 64}`);
    await keyv.set(`k${i % 64}`, conversationSizedRecord(i));
  });
}

export async function sqliteKeyv(file: string, pragmas: "default" | "wal-normal"): Promise<{ keyv: Keyv; close: () => Promise<void> }> {
  // The same connection settings and serializer as the product's store, so the floor is a fair one.
  const adapter =
    pragmas === "wal-normal" ? await openSqliteConnection(file) : new KeyvSqlite({ uri: `sqlite://${file}`, table: "meta", busyTimeout: 5000 });
  return { keyv: new Keyv({ store: adapter, namespace: "floor", ...json }), close: () => adapter.disconnect() };
}

export async function redisKeyv(url: string): Promise<{ keyv: Keyv; close: () => Promise<void> }> {
  const client = createClient({ url });
  await client.connect();
  const keyv = new Keyv({ store: new KeyvRedis(client as never, { namespace: "bench-floor" }), namespace: "bench-floor", useKeyPrefix: false, ...json });
  return { keyv, close: () => client.quit().then(() => undefined) };
}

/** µs for one raw keyv set (writes only): how much the journal mode costs. */
export async function rawKeyvWrite(keyv: Keyv, count: number): Promise<number> {
  return usPerOp(count, (i) => keyv.set(`w${i}`, conversationSizedRecord(i)), 50);
}
