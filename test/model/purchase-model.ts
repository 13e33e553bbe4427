/**
 * The test model of a purchase, generated from `purchaseMachine` itself.
 *
 * xstate/graph cannot run invoked promise actors, so busy states would be dead ends. Instead, each
 * actor's completion is made an ordinary event of the traversal: `xstate.done.actor.<invokeId>` with a
 * sample output (success or each failure) and `xstate.error.actor.<invokeId>`. The machine itself
 * decides, with its own guards, what each does. Time is symbolic: `NOW` is before every deadline and
 * `LATE` after every deadline; the driver maps LATE to "advance the fake clock by a day".
 */
import { type AnyStateNode, fromPromise } from "xstate";
import { getShortestPaths, getSimplePaths } from "xstate/graph";
import { purchaseMachine } from "../../machines/purchase.machine.ts";
import { ChatId, OrderId } from "../../src/domain/ids.ts";
import type { DeliveryInput, DeliveryResult, PaymentCreationInput, PaymentCreationResult, PricingInput, PricingResult } from "../../machines/purchase.machine.ts";

export const NOW = 1_700_000_000_000;
/** Far beyond every deadline (quote TTL, payment TTL, delivery backoff). */
export const LATE = NOW + 10 * 24 * 3_600_000;
export const MAX_DELIVERY_ATTEMPTS = 2;
export const LIMITS = { minTokens: 100, maxTokens: 1_000_000 };
/** Boundaries of the amount guard, and one amount on each side of each. */
export const TOKEN_SAMPLES = [99, 100, 1_000_000, 1_000_001] as const;

/** Every state node of the machine, nested ones included, by id (`purchase.paid.delivering`). */
export function allStateNodes(): AnyStateNode[] {
  const out: AnyStateNode[] = [];
  const walk = (node: AnyStateNode) => {
    out.push(node);
    for (const child of Object.values(node.states)) walk(child);
  };
  walk(purchaseMachine.root);
  return out;
}

/** Every event type the machine config names, done/error events of its invokes included. */
export function allEventTypes(): string[] {
  const types = new Set<string>();
  for (const node of allStateNodes()) {
    for (const type of node.ownEvents) if (!type.startsWith("xstate.done.state")) types.add(type);
    for (const invoke of node.invoke) {
      types.add(`xstate.done.actor.${invoke.id}`);
      types.add(`xstate.error.actor.${invoke.id}`);
    }
  }
  return [...types].sort();
}

/** Which actor a busy state invokes: the names the machine's `setup()` declares. */
export type ActorName = "priceQuote" | "createPayment" | "deliverGoods";

const usd = { minor: 4_000, currency: "USD" };
const charge = { minor: 4_000, currency: "USDT" };
const PAYMENT_ID = "model-payment";

/** Sample outputs per actor: each outcome the real actor can produce. */
const ACTOR_OUTPUTS: Record<ActorName, { label: string; output: unknown }[]> = {
  priceQuote: [
    { label: "priced", output: { ok: true, quote: { tokens: 2_000, usd, charge, quotedAt: NOW, expiresAt: NOW + 900_000 } } },
    { label: "pricing_unavailable", output: { ok: false, reason: "pricing_unavailable" } },
    { label: "out_of_stock", output: { ok: false, reason: "out_of_stock" } },
  ],
  createPayment: [
    {
      label: "invoiced",
      output: { ok: true, payment: { provider: "sandbox", paymentId: PAYMENT_ID, payUrl: "http://x/pay", charge, createdAt: NOW, expiresAt: NOW + 3_600_000 } },
    },
    { label: "payment_unavailable", output: { ok: false, reason: "payment_unavailable" } },
  ],
  deliverGoods: [
    { label: "issued", output: { ok: true, ref: "voucher:x", hint: "…ABCD", at: NOW } },
    { label: "provider_down", output: { ok: false, reason: "provider_down", at: NOW } },
  ],
};

export type ModelEvent = { type: string; [key: string]: unknown };

/** The invoke id → actor name map, read from the machine. */
export function invokedActors(): Map<string, ActorName> {
  const map = new Map<string, ActorName>();
  for (const node of allStateNodes()) for (const invoke of node.invoke) map.set(invoke.id, invoke.src as ActorName);
  return map;
}

/** The event samples offered in every state; the machine's guards decide which ones move. */
export function eventSamples(): ModelEvent[] {
  const events: ModelEvent[] = [];
  for (const tokens of TOKEN_SAMPLES) {
    events.push({ type: "QUOTE", tokens, at: NOW }, { type: "CHANGE_AMOUNT", tokens, at: NOW });
  }
  events.push({ type: "CONFIRM", at: NOW }, { type: "CONFIRM", at: LATE });
  for (const type of ["CANCEL", "STATUS", "HELP", "RESTART"]) events.push({ type, at: NOW });
  events.push({ type: "QUOTE_EXPIRED", at: LATE }, { type: "PAYMENT_EXPIRED", at: LATE }, { type: "RETRY_DELIVERY", at: LATE });
  events.push({ type: "ADMIN_RETRY_DELIVERY", at: NOW }, { type: "REFUND_RECORDED", at: NOW }, { type: "START_DELIVERY", at: NOW });
  events.push({ type: "PAYMENT_CONFIRMED", paymentId: PAYMENT_ID, amount: charge, at: NOW });
  events.push({ type: "PAYMENT_FAILED", paymentId: PAYMENT_ID, at: NOW });
  for (const [id, actor] of invokedActors()) {
    for (const { label, output } of ACTOR_OUTPUTS[actor]) events.push({ type: `xstate.done.actor.${id}`, output, label });
    events.push({ type: `xstate.error.actor.${id}`, error: new Error("actor crashed"), label: "crashed" });
  }
  return events;
}

/** What the driver needs of a model step: the event and the state value it leads to. */
type Snap = { value: unknown; status: string; context: { problem: string | null; delivery: { attempts: number; lastError: string | null } } };

/**
 * Two snapshots are the same model state when their state value, the delivery attempt count (it
 * decides `deliveryRetriesLeft`) and whether a delivery already failed match. The last one tells an
 * admin's fresh retry apart from the first attempt, so that edge is traversed too. In `initial` and `quoted`
 * the problem code (what the customer is told, e.g. "pricing is unavailable") makes a state too, so
 * the failure edges into `initial` are walked. Everything else the guards read is symbolic time.
 */
export const serializeState = (snapshot: Snap) =>
  JSON.stringify([
    snapshot.value,
    snapshot.context.delivery.attempts,
    snapshot.context.delivery.lastError !== null,
    snapshot.value === "initial" || snapshot.value === "quoted" ? snapshot.context.problem : null,
  ]);
const serializeEvent = (event: ModelEvent) => JSON.stringify(event, (key, value) => (key === "error" ? "error" : value));

/**
 * The machine as traversed: its actors replaced by ones that never settle, so the traversal's
 * snapshots stay clean (an unprovided actor fails and would put them in `error` status) and actor
 * completions come only from the done/error events above.
 */
const traversable = purchaseMachine.provide({
  actors: {
    priceQuote: fromPromise<PricingResult, PricingInput>(() => new Promise(() => {})),
    createPayment: fromPromise<PaymentCreationResult, PaymentCreationInput>(() => new Promise(() => {})),
    deliverGoods: fromPromise<DeliveryResult, DeliveryInput>(() => new Promise(() => {})),
  },
});

const samples = eventSamples();
const traversal = {
  // A finished order takes no more events (the engine opens a new order instead).
  events: ((snapshot: Snap) => (snapshot.status === "done" ? [] : samples)) as never,
  serializeState: serializeState as never,
  serializeEvent: serializeEvent as never,
  input: { orderId: OrderId.parse("model-order"), chatId: ChatId.parse("model-chat"), ...LIMITS, maxDeliveryAttempts: MAX_DELIVERY_ATTEMPTS, retryBackoffMs: 1_000, at: NOW },
};

export type ModelStep = { event: ModelEvent; state: Snap };
export type ModelPath = { steps: ModelStep[]; state: Snap };

/** One shortest path to every reachable model state. */
export const shortestPaths = (): ModelPath[] => getShortestPaths(traversable, traversal) as unknown as ModelPath[];
/** Every simple path (no model state visited twice) to every reachable model state. */
export const simplePaths = (): ModelPath[] => getSimplePaths(traversable, traversal) as unknown as ModelPath[];

/** `purchase.paid.delivering` style ids of every state node a snapshot is in. */
export function activeStateIds(value: unknown, prefix = "purchase"): string[] {
  if (typeof value === "string") return [`${prefix}.${value}`];
  const out: string[] = [];
  for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
    out.push(`${prefix}.${key}`, ...activeStateIds(child, `${prefix}.${key}`));
  }
  return out;
}
