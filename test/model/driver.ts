/**
 * Drives the REAL app (engine, memory store, sandbox payments, ledger) along a model path. Actor
 * outcomes the model predicts are arranged by faults in the providers the real actors call, so the
 * engine's own `priceQuote`/`createPayment`/`deliverGoods` produce them:
 * - pricing: `availableUsd` answers null (priced), rejects (pricing_unavailable), 0 USD (out_of_stock),
 *   or throws synchronously (the actor crashes → onError);
 * - invoicing: the sandbox's `createInvoice` works, answers `unavailable`, or throws;
 * - delivery: `issue` works or answers a failure; a crash is the store's claim throwing (Redis down).
 */
import type { InspectionEvent } from "xstate";
import { type App, createApp } from "../../src/app.ts";
import { loadConfig } from "../../src/config.ts";
import type { DeliveryProvider } from "../../src/delivery/index.ts";
import { money } from "../../src/domain/money.ts";
import type { Command } from "../../src/domain/commands.ts";
import type { EngineReply } from "../../src/engine/reply.ts";
import { silentLogger } from "../../src/log.ts";
import { fail } from "../../src/payments/provider.ts";
import type { ActorName, ModelEvent } from "./purchase-model.ts";
import { LATE, MAX_DELIVERY_ATTEMPTS, invokedActors } from "./purchase-model.ts";

const DAY = 24 * 3_600_000;
export const CHAT = "model-chat";

export type World = {
  app: App;
  /** Queues the outcome label the next call of an actor must produce. */
  expect(actor: ActorName, label: string): void;
  /** Outcomes queued but not produced: the engine did not run the actor the model predicted. */
  pending(): string[];
  /** Calls of an actor the model did not predict. */
  surprises: string[];
  /** Machine state values the engine's actors went through, in order (from the inspector hook). */
  observed: unknown[];
  notified: EngineReply[];
  issued: number;
  now(): number;
  advance(ms: number): void;
  close(): Promise<void>;
};

export async function createWorld(): Promise<World> {
  let now = 1_700_000_000_000;
  const queues: Record<ActorName, string[]> = { priceQuote: [], createPayment: [], deliverGoods: [] };
  const surprises: string[] = [];
  const observed: unknown[] = [];
  const notified: EngineReply[] = [];
  const take = (actor: ActorName) => {
    const next = queues[actor].shift();
    if (next === undefined) surprises.push(actor);
    return next ?? "unplanned";
  };
  let deliveryPlan = "unplanned";
  const world = { issued: 0 } as World;
  const delivery: DeliveryProvider = {
    name: "sandbox",
    // Not async on purpose: a synchronous throw is how a crashing pricing step reaches `onError`.
    availableUsd() {
      const outcome = take("priceQuote");
      if (outcome === "crashed") throw new Error("stock service crashed");
      if (outcome === "pricing_unavailable") return Promise.reject(new Error("stock service down"));
      if (outcome === "out_of_stock") return Promise.resolve(money(0, "USD"));
      return Promise.resolve(null);
    },
    async issue(request) {
      if (deliveryPlan !== "issued") return { ok: false, reason: "unavailable", detail: "provider down" };
      world.issued += 1;
      return { ok: true, goods: { ref: `ref:${request.orderId}`, hint: "…TEST", secret: `SECRET-${request.orderId}` } };
    },
  };
  const config = loadConfig({ STORE_URL: "memory://", DELIVERY_MAX_ATTEMPTS: String(MAX_DELIVERY_ATTEMPTS) });
  const app = await createApp(config, {
    listen: false,
    log: silentLogger,
    clock: () => now,
    delivery,
    retryBackoffMs: 1_000,
    inspect: (event: InspectionEvent) => {
      if (event.type !== "@xstate.snapshot") return;
      const value = (event.snapshot as { value?: unknown }).value;
      if (value !== undefined && JSON.stringify(value) !== JSON.stringify(observed.at(-1))) observed.push(value);
    },
  });
  app.engine.setNotifier(async (_chat, reply) => {
    notified.push(reply);
  });
  const createInvoice = app.payments.createInvoice.bind(app.payments);
  app.payments.createInvoice = async (request) => {
    const outcome = take("createPayment");
    if (outcome === "crashed") throw new Error("payment API crashed");
    if (outcome === "payment_unavailable") return fail("unavailable");
    return createInvoice(request);
  };
  const tryClaim = app.stores.claims.tryClaim.bind(app.stores.claims);
  app.stores.claims.tryClaim = async (key, owner, ttl) => {
    if (key.startsWith("issue:")) {
      deliveryPlan = take("deliverGoods");
      if (deliveryPlan === "crashed") throw new Error("claim store unreachable");
    }
    return tryClaim(key, owner, ttl);
  };
  return Object.assign(world, {
    app,
    expect: (actor: ActorName, label: string) => void queues[actor].push(label),
    pending: () => Object.entries(queues).flatMap(([actor, q]) => q.map((label) => `${actor}:${label}`)),
    surprises,
    observed,
    notified,
    now: () => now,
    advance: (ms: number) => void (now += ms),
    close: () => app.close(),
  });
}

/**
 * Events no door of the engine accepts: empty now that the admin door (`engine.adminAction`, used by
 * the Telegram admin commands) sends ADMIN_RETRY_DELIVERY and REFUND_RECORDED. Kept so a future
 * machine-only event shows up here rather than silently shrinking coverage.
 */
export const ADMIN_ONLY = new Set<string>();
const CUSTOMER = new Set(["QUOTE", "CHANGE_AMOUNT", "CONFIRM", "CANCEL", "STATUS", "HELP", "RESTART"]);

/** The actor completion an event stands for, or null for a trigger event. */
export function actorOutcome(event: ModelEvent): { actor: ActorName; label: string } | null {
  const match = /^xstate\.(done|error)\.actor\.(.+)$/.exec(event.type);
  if (!match) return null;
  const actor = invokedActors().get(match[2]!);
  if (!actor) throw new Error(`unknown invoke ${match[2]}`);
  return { actor, label: String(event.label) };
}

/** The stored invoice id of the chat's current order (for paying or failing it). */
async function currentPaymentId(world: World): Promise<string> {
  const record = await world.app.stores.conversations.get(CHAT);
  const payment = (record?.snapshot.context as { payment?: { paymentId: string } | null }).payment;
  if (!payment) throw new Error("no invoice to pay");
  return payment.paymentId;
}

/**
 * Performs a trigger event the way the world would: a customer command, a payment on the sandbox
 * page (→ signed webhook → `confirmPayment`), a provider-side failure, or the sweeper after time passed.
 * Returns the reply the customer saw, if the event came from the customer.
 */
export async function perform(world: World, event: ModelEvent): Promise<EngineReply | null> {
  const { app } = world;
  if (event.at === LATE) world.advance(DAY);
  if (CUSTOMER.has(event.type)) {
    const command = ("tokens" in event ? { type: event.type, tokens: event.tokens } : { type: event.type }) as Command;
    return app.engine.handleCommand(CHAT, command);
  }
  switch (event.type) {
    case "PAYMENT_CONFIRMED": {
      const paymentId = await currentPaymentId(world);
      const response = await app.http.dispatch({ method: "POST", path: `/pay/sandbox/${paymentId}`, headers: {}, rawBody: Buffer.alloc(0) });
      if (response.status !== 200) throw new Error(`sandbox pay page answered ${response.status}`);
      return null;
    }
    case "PAYMENT_FAILED": {
      // The provider marks the invoice failed (the sandbox reports a cancelled invoice as failed).
      const paymentId = await currentPaymentId(world);
      await app.payments.cancelInvoice?.(paymentId);
      await app.engine.confirmPayment("sandbox", paymentId);
      return null;
    }
    case "ADMIN_RETRY_DELIVERY":
    case "REFUND_RECORDED": {
      // What an admin's /retry or /refund does once the provider side is settled.
      const record = await app.stores.conversations.get(CHAT);
      const orderId = String(record?.snapshot.context.orderId);
      const outcome = await app.engine.adminAction(orderId, event.type === "ADMIN_RETRY_DELIVERY" ? "retry_delivery" : "record_refund");
      if (!outcome.ok) throw new Error(`admin door refused ${event.type}: ${JSON.stringify(outcome)}`);
      return null;
    }
    case "QUOTE_EXPIRED":
    case "PAYMENT_EXPIRED":
    case "RETRY_DELIVERY":
      await app.engine.runDue();
      return null;
    default:
      throw new Error(`the engine has no door for ${event.type}`);
  }
}
