/**
 * The test model of an order, generated from `purchaseMachine` itself by xstate/graph.
 *
 * xstate/graph cannot run invoked actors, so each actor's completion is an ordinary event of the
 * traversal (`xstate.done.actor.<invokeId>` with a sample output, `xstate.error.actor.<invokeId>`), and
 * so is a stray payment's return (`STRAY_SETTLED`). The machine decides with its own guards what each does.
 *
 * The model walks what the engine can do: a busy order only hears its actor's answer, a stored
 * waypoint only START_DELIVERY, and an order at rest hears the world — the customer, the payment
 * provider, the sweeper at a deadline, the owner, the customer's channel taking the goods.
 *
 * Time is the model's own clock, kept per snapshot: a trigger moves it to its `at` (the sweeper comes
 * exactly at the order's deadline, a late Confirm exactly at the quote's expiry), and actors answer at
 * that time. The driver moves the engine's clock by the same rules, so model and engine hold the very
 * same context, times included.
 */
import { type AnyStateNode, fromPromise, initialTransition, transition } from "xstate";
import { getAdjacencyMap, getShortestPaths, getSimplePaths } from "xstate/graph";
import type {
  DeliveryInput,
  DeliveryResult,
  LatePaymentPolicy,
  Money,
  PaymentCheckInput,
  PaymentCheckResult,
  PaymentCreationInput,
  PaymentCreationResult,
  PricingInput,
  PricingResult,
  ProductLimits,
  PromoCheckInput,
  PromoCheckResult,
  PromoReleaseInput,
  PromoReleaseResult,
  PromoReserveInput,
  PromoReserveResult,
  PurchaseSnapshot,
  RefundInput,
  RefundResult,
  ReissueInput,
  StrayGoodsInput,
  StrayGoodsResult,
  VoidInput,
  VoidResult,
} from "../../machines/purchase.machine.ts";
import { purchaseMachine, strayPaymentMachine } from "../../machines/purchase.machine.ts";
import { deadlineKind, deadlineOf, isWorking, statePath } from "../../machines/purchase.reading.ts";
import { ChatId, OrderId, PaymentId } from "../../src/domain/ids.ts";
import type { ActorName } from "../support/purchase-harness.ts";

export const NOW = Date.UTC(2026, 0, 5, 9);
export const MINUTE = 60_000;
export const WEEK = 7 * 24 * 60 * MINUTE;
export const QUOTE_TTL = 15 * MINUTE;
export const PAYMENT_TTL = 60 * MINUTE;
export const MAX_DELIVERY_ATTEMPTS = 2;
export const RETRY_BACKOFF = 1_000;
export const LIMITS = { minTokens: 100, maxTokens: 1_000_000 };
/**
 * The model's shop sells two products (so an amount without one asks which), both within {@link LIMITS}:
 * "tokens" is what the model buys, "keys" the other one a customer may switch to.
 */
export const PRODUCTS: ProductLimits[] = [
  { id: "tokens", ...LIMITS },
  { id: "keys", ...LIMITS },
];
/** The promo code the model's customer gives (as typed) and the catalog's spelling of it. */
export const PROMO_TYPED = "spring10";
export const PROMO_CODE = "SPRING10";
/** The amount the model buys; the boundaries of the amount guard are tried in every state separately. */
export const TOKENS = 2_000;
/** Boundaries of the amount guard, and one amount on each side of each. */
export const TOKEN_SAMPLES = [99, 100, 1_000_000, 1_000_001] as const;

export const ORDER_ID = OrderId.parse("model-order");
export const CHAT_ID = ChatId.parse("model-chat");
export const PAYMENT_ID = PaymentId.parse("model-pay");
/** Another charge for the same invoice (Telegram Stars gives each charge its own id). */
export const SECOND_CHARGE = PaymentId.parse("model-charge-2");
export const USD: Money = { minor: 4_000, currency: "USD" };
export const CHARGE: Money = { minor: 4_000, currency: "USDT" };
export const WRONG_AMOUNT: Money = { minor: 3_999, currency: "USDT" };
export const FOREIGN = { amount: "40.00", unit: "EUR" };
export const GOODS_REF = `ref:${ORDER_ID}`;
export const GOODS_HINT = "…TEST";
/** The goods that replace lost ones (one reissue per model order). */
export const REISSUED_REF = `ref:${ORDER_ID}:r1`;

/** Every state node of the machine, nested ones included (`purchase.paid.delivering`). */
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

export type { ActorName } from "../support/purchase-harness.ts";

/** The invoke id → actor name map, read from the machine. */
export function invokedActors(): Map<string, ActorName> {
  const map = new Map<string, ActorName>();
  for (const node of allStateNodes()) for (const invoke of node.invoke) map.set(invoke.id, invoke.src as ActorName);
  return map;
}

/** Each outcome an actor can have, by label. A `crashed` outcome is the actor throwing. */
export const OUTCOMES: Record<ActorName, readonly string[]> = {
  // `promo_refused` (the order's code could not be used any more) is only offered to an order with a code.
  priceQuote: ["priced", "out_of_stock", "pricing_unavailable", "crashed", "promo_refused"],
  createPayment: ["invoiced", "payment_unavailable", "crashed"],
  checkPayment: ["paid", "paid_wrong", "pending", "expired", "failed", "unavailable", "crashed"],
  voidInvoice: ["voided", "not_voided", "crashed"],
  deliverGoods: ["issued", "issued_keys", "provider_unavailable", "crashed"],
  refundPayment: ["refunded", "unsupported", "crashed"],
  sweepStrayGoods: ["revoked", "crashed"],
  checkPromo: ["accepted", "unknown", "crashed"],
  reservePromo: ["reserved", "used_up", "crashed"],
  releasePromo: ["released", "crashed"],
  reissueGoods: ["reissued", "provider_unavailable", "crashed"],
};

/** What an actor's answer depends on besides its outcome: the order's promo code, for a quote's breakdown. */
export type OutputContext = { promoCode?: string | null };

/** What an actor answers for an outcome label, at `at` (the same function feeds the model and the engine's fakes). */
export function outputFor(actor: ActorName, label: string, at: number, tokens: number, context: OutputContext = {}): unknown {
  switch (actor) {
    case "priceQuote": {
      if (label !== "priced" && label !== "promo_refused")
        return { ok: false, reason: label as "out_of_stock" | "pricing_unavailable" } satisfies PricingResult;
      const promoCode = label === "priced" ? (context.promoCode ?? null) : null;
      const details = {
        unitPrice: USD,
        pricePer: 1000,
        tier: null,
        baseList: USD,
        list: USD,
        promoCode,
        discount: { minor: 0, currency: "USD" as const },
        credit: null,
      };
      const quote = { tokens, usd: USD, charge: CHARGE, quotedAt: at, expiresAt: at + QUOTE_TTL, details };
      return (label === "priced" ? { ok: true, quote } : { ok: true, quote, promoRefused: "used_up" }) satisfies PricingResult;
    }
    case "checkPromo":
      return (label === "accepted" ? { ok: true, code: PROMO_CODE } : { ok: false, reason: "unknown" }) satisfies PromoCheckResult;
    case "reservePromo":
      return (label === "reserved" ? { ok: true } : { ok: false, reason: "used_up" }) satisfies PromoReserveResult;
    case "releasePromo":
      return { at } satisfies PromoReleaseResult;
    case "reissueGoods":
      return label === "reissued"
        ? ({ ok: true, ref: REISSUED_REF, hint: GOODS_HINT, at, mayLeaveStrays: false } satisfies DeliveryResult)
        : ({ ok: false, reason: "provider_unavailable", at } satisfies DeliveryResult);
    case "createPayment":
      return label === "invoiced"
        ? ({
            ok: true,
            payment: {
              provider: "sandbox",
              paymentId: PAYMENT_ID,
              payUrl: `http://shop.test/pay/${PAYMENT_ID}`,
              charge: CHARGE,
              createdAt: at,
              expiresAt: at + PAYMENT_TTL,
            },
          } satisfies PaymentCreationResult)
        : ({ ok: false, reason: "payment_unavailable" } satisfies PaymentCreationResult);
    case "checkPayment": {
      const status = label === "paid_wrong" ? "paid" : (label as PaymentCheckResult["status"]);
      const amount = label === "paid" ? CHARGE : label === "paid_wrong" ? WRONG_AMOUNT : null;
      return { status, amount, foreign: null, at } satisfies PaymentCheckResult;
    }
    case "voidInvoice":
      return { voided: label === "voided", at } satisfies VoidResult;
    case "deliverGoods":
      return label === "provider_unavailable"
        ? ({ ok: false, reason: "provider_unavailable", at } satisfies DeliveryResult)
        : ({ ok: true, ref: GOODS_REF, hint: GOODS_HINT, at, mayLeaveStrays: label === "issued_keys" } satisfies DeliveryResult);
    case "refundPayment":
      return label === "refunded"
        ? ({ ok: true, refundId: `refund:${at}`, at } satisfies RefundResult)
        : ({ ok: false, reason: "unsupported", at } satisfies RefundResult);
    case "sweepStrayGoods":
      return { revoked: 1, at } satisfies StrayGoodsResult;
    default: {
      const unhandled: never = actor;
      throw new Error(`unknown actor ${String(unhandled)}`);
    }
  }
}

/**
 * One event of the model. `label` names the variant (a late Confirm, a wrong amount, an actor's
 * outcome); `actor` is set on actor completions (STRAY_SETTLED too: the stray's refund answered).
 */
export type ModelEvent = { type: string; label: string; actor?: ActorName; at?: number; [key: string]: unknown };

/** The model's clock per snapshot: the time of the last trigger on the way to it. */
const clocks = new WeakMap<object, number>();
export const modelNow = (snapshot: object): number => clocks.get(snapshot) ?? NOW;

/** Events that are an actor's answer or the engine's own next step, rather than something from the world. */
export const isCompletion = (event: { type: string }) =>
  event.type.startsWith("xstate.") || event.type === "STRAY_SETTLED" || event.type === "START_DELIVERY";

/** Registers the clock of a snapshot reached by `event` from `previous` (once: the first arrival counts). */
function tick(snapshot: object, event: ModelEvent | undefined, previous: object | undefined): number {
  const known = clocks.get(snapshot);
  if (known !== undefined) return known;
  const before = previous ? modelNow(previous) : NOW;
  const now = event && !isCompletion(event) && typeof event.at === "number" ? Math.max(before, event.at) : before;
  clocks.set(snapshot, now);
  return now;
}

/** The invoked actor a busy snapshot is waiting for, with its invoke id. */
function activeInvoke(snapshot: PurchaseSnapshot): { id: string; actor: ActorName } | null {
  const ids = activeStateIds(snapshot.value);
  for (const node of allStateNodes()) {
    if (!ids.includes(node.id)) continue;
    const invoke = node.invoke[0];
    if (invoke) return { id: invoke.id, actor: invoke.src as ActorName };
  }
  return null;
}

/** The answers the order can get now: its actor's outcomes, or its stray payment's return. */
function completions(snapshot: PurchaseSnapshot): ModelEvent[] {
  const at = modelNow(snapshot);
  const c = snapshot.context;
  const tokens = c.tokens ?? TOKENS;
  const invoke = activeInvoke(snapshot);
  if (invoke) {
    const promoCode = c.promoCode ?? null;
    return OUTCOMES[invoke.actor]
      .filter((label) => label !== "promo_refused" || promoCode !== null)
      .map((label) =>
        label === "crashed"
          ? { type: `xstate.error.actor.${invoke.id}`, label, actor: invoke.actor, error: "crashed" }
          : {
              type: `xstate.done.actor.${invoke.id}`,
              label,
              actor: invoke.actor,
              output: outputFor(invoke.actor, label, at, tokens, { promoCode }),
            },
      );
  }
  const stray = snapshot.context.strays.find((s) => s.status === "returning");
  if (!stray) return [];
  return ["refunded", "unsupported"].map((label) => {
    const output = outputFor("refundPayment", label, at, tokens) as RefundResult;
    return {
      type: "STRAY_SETTLED",
      label,
      actor: "refundPayment",
      chargeId: stray.chargeId,
      refunded: output.ok,
      refundId: output.ok ? output.refundId : null,
      at: output.at,
    };
  });
}

/** Everything the world can do to an order at rest (the machine's `can` keeps only what it takes). */
function triggers(snapshot: PurchaseSnapshot): ModelEvent[] {
  const c = snapshot.context;
  const now = modelNow(snapshot);
  const events: ModelEvent[] = [
    { type: "SET_AMOUNT", label: String(TOKENS), tokens: TOKENS, at: now },
    { type: "SET_PRODUCT", label: "keys", product: "keys", at: now },
    { type: "CONFIRM", label: "in_time", at: now },
    { type: "CANCEL", label: "", at: now },
    { type: "CHECK_PAYMENT", label: "", at: now },
    { type: "GOODS_SHOWN", label: "", at: now },
    { type: "ADMIN_RETRY_DELIVERY", label: "", at: now },
    { type: "ADMIN_REFUND", label: "", at: now },
    { type: "REFUND_RECORDED", label: "own", at: now },
  ];
  // An amount with its product (a package button) for an order with none yet; a promo code, once per order; a reissue, once.
  if ((c.productId ?? null) === null)
    events.push({ type: "SET_AMOUNT", label: `${TOKENS}@tokens`, tokens: TOKENS, product: "tokens", at: now });
  if ((c.promoCode ?? null) === null) events.push({ type: "APPLY_PROMO", label: PROMO_CODE, code: PROMO_TYPED, at: now });
  if ((c.reissues ?? 0) === 0) events.push({ type: "REISSUE", label: "", at: now });
  if (c.quote) events.push({ type: "CONFIRM", label: "late", at: Math.max(now, c.quote.expiresAt) });
  if (c.payment) {
    const paid = (label: string, amount: Money | null, chargeId = PAYMENT_ID): ModelEvent => ({
      type: "PAYMENT_RECEIVED",
      label,
      paymentId: PAYMENT_ID,
      chargeId,
      amount,
      foreign: amount === null ? FOREIGN : null,
      at: now,
    });
    events.push(paid("full", CHARGE), paid("wrong_amount", WRONG_AMOUNT), paid("foreign", null));
    events.push(
      { type: "PAYMENT_FAILED", label: "", paymentId: PAYMENT_ID, at: now },
      { type: "INVOICE_CLOSED", label: "", paymentId: PAYMENT_ID, at: now },
    );
    // A second charge once this invoice's money was taken and the order is quiet (one per order keeps the model small).
    if ((c.paidCharge !== null || c.refund !== null) && c.strays.length === 0 && deadlineKind(snapshot) === null)
      events.push(paid("second_charge", CHARGE, SECOND_CHARGE));
    // The sweeper a week late (the shop was down): an open invoice still pending is no longer watched.
    if (snapshot.hasTag("closed") && !c.invoiceClosed)
      events.push({
        type: "DEADLINE",
        label: "week_late",
        at: Math.max(now, deadlineOf(snapshot, now, 0) ?? now, c.payment.expiresAt + WEEK),
      });
  }
  if (c.strays.some((s) => s.status === "owed")) events.push({ type: "REFUND_RECORDED", label: "stray", chargeId: SECOND_CHARGE, at: now });
  const kind = deadlineKind(snapshot);
  if (kind !== null && kind !== "now")
    events.push({ type: "DEADLINE", label: "due", at: Math.max(now, deadlineOf(snapshot, now, 0) ?? now) });
  // Money is offered even where the machine ignores it (a provider's retry): the engine must change nothing then.
  const taken = events.filter((event) => event.type === "PAYMENT_RECEIVED" || snapshot.can(event as never));
  // An order holding a promo code's use walks only what decides whether it gives it back (closing
  // unpaid) or keeps it (paid): the rest of its world is the same as an order without one, walked there.
  if ((c.promoHeld ?? null) === null || snapshot.hasTag("paid")) return taken;
  return taken.filter(
    (event) => ["CONFIRM", "CANCEL", "DEADLINE"].includes(event.type) || (event.type === "PAYMENT_RECEIVED" && event.label === "full"),
  );
}

/** What can happen to the order next, as the engine lets it: answers while it works, the world at rest. */
export function nextEvents(snapshot: PurchaseSnapshot): ModelEvent[] {
  if (snapshot.status !== "active") return [];
  if (isWorking(snapshot)) return completions(snapshot);
  if (snapshot.hasTag("resume")) return [{ type: "START_DELIVERY", label: "", at: modelNow(snapshot) }];
  return triggers(snapshot);
}

/**
 * The model state: what decides the order's future, and nothing else (so the graph stays small). Its
 * state; which payments it already took or returns (a provider's retry of one changes nothing); the
 * counters its guards read where they read them (delivery attempts while delivering, announcements
 * while announcing); whether goods may be left live; and, while an invoice is watched, where the
 * model's clock stands against the invoice's deadlines. Absolute times are left out.
 */
export function serializeState(snapshot: PurchaseSnapshot, event?: ModelEvent, previous?: PurchaseSnapshot): string {
  const now = tick(snapshot, event, previous);
  const c = snapshot.context;
  const path = statePath(snapshot);
  const handled = (chargeId: string) =>
    c.paidCharge === chargeId || c.refund?.chargeId === chargeId || c.strays.some((s) => s.chargeId === chargeId);
  const delivering = snapshot.hasTag("paid") && !snapshot.hasTag("delivered");
  const watching = snapshot.hasTag("accepts_payment") || snapshot.hasTag("closed");
  // What the product and promo guards read: a product chosen; before payment, the order's code, its
  // quote's and the use it holds (given back when it closes unpaid); once delivered, whether it was reissued.
  const offer = snapshot.hasTag("paid")
    ? [(c.reissues ?? 0) > 0]
    : [
        c.tokens !== null,
        (c.productId ?? null) !== null,
        (c.promoCode ?? null) !== null,
        (c.quote?.details?.promoCode ?? null) !== null,
        (c.promoHeld ?? null) !== null,
      ];
  return JSON.stringify([
    path,
    offer,
    [c.quote !== null, c.payment !== null, c.paidCharge !== null, c.refund !== null, handled(PAYMENT_ID), handled(SECOND_CHARGE)],
    c.strays.map((s) => s.status),
    delivering ? [c.delivery.attempts, c.delivery.lastError !== null] : null,
    path.startsWith("delivered.")
      ? [c.delivery.announceAt !== null && c.delivery.announceAttempts, c.delivery.strayCheckAt !== null]
      : null,
    watching && c.payment
      ? [
          c.invoiceClosed,
          c.nextCheckAt !== null && [
            now >= c.nextCheckAt,
            c.nextCheckAt >= c.payment.expiresAt,
            c.nextCheckAt >= c.payment.expiresAt + WEEK,
          ],
          now >= c.payment.expiresAt,
          now >= c.payment.expiresAt + WEEK,
        ]
      : null,
  ]);
}
export const serializeEvent = (event: ModelEvent) =>
  JSON.stringify([event.type, event.label, event.type === "STRAY_SETTLED" ? event.chargeId : null]);

const never = <TOutput, TInput>() => fromPromise<TOutput, TInput>(() => new Promise<TOutput>(() => {}));
/**
 * The machine as traversed: actors that never settle (an unprovided one would fail and put snapshots
 * in `error` status); their answers come only as the completion events above.
 */
const traversable = purchaseMachine.provide({
  actors: {
    priceQuote: never<PricingResult, PricingInput>(),
    createPayment: never<PaymentCreationResult, PaymentCreationInput>(),
    checkPayment: never<PaymentCheckResult, PaymentCheckInput>(),
    voidInvoice: never<VoidResult, VoidInput>(),
    deliverGoods: never<DeliveryResult, DeliveryInput>(),
    refundPayment: never<RefundResult, RefundInput>(),
    sweepStrayGoods: never<StrayGoodsResult, StrayGoodsInput>(),
    checkPromo: never<PromoCheckResult, PromoCheckInput>(),
    reservePromo: never<PromoReserveResult, PromoReserveInput>(),
    releasePromo: never<PromoReleaseResult, PromoReleaseInput>(),
    reissueGoods: never<DeliveryResult, ReissueInput>(),
    returnStrayPayment: strayPaymentMachine.provide({ actors: { refundPayment: never<RefundResult, RefundInput>() } }),
  },
});

export const modelInput = (latePayment: LatePaymentPolicy) => ({
  orderId: ORDER_ID,
  chatId: CHAT_ID,
  productId: null,
  products: PRODUCTS,
  latePayment,
  ...LIMITS,
  maxDeliveryAttempts: MAX_DELIVERY_ATTEMPTS,
  retryBackoffMs: RETRY_BACKOFF,
  at: NOW,
});

const traversal = (latePayment: LatePaymentPolicy) => ({
  events: nextEvents as never,
  serializeState: serializeState as never,
  serializeEvent: serializeEvent as never,
  input: modelInput(latePayment),
});

export type ModelStep = { event: ModelEvent; state: PurchaseSnapshot };
export type ModelPath = { steps: ModelStep[]; state: PurchaseSnapshot };
export type ModelEdge = { from: string; event: ModelEvent; to: string };

/** One shortest path to every model state. */
export const shortestPaths = (latePayment: LatePaymentPolicy): ModelPath[] =>
  getShortestPaths(traversable, traversal(latePayment)) as unknown as ModelPath[];

/** Every simple path (no model state twice) to the states `toState` picks, walking only the events `filterEvents` lets through. */
export const simplePaths = (
  latePayment: LatePaymentPolicy,
  options: { filterEvents?: (snapshot: PurchaseSnapshot, event: ModelEvent) => boolean; toState?: (snapshot: PurchaseSnapshot) => boolean },
): ModelPath[] => getSimplePaths(traversable, { ...traversal(latePayment), ...(options as object) }) as unknown as ModelPath[];

/** Every model state and the events that move it (edges the machine takes, to the state they lead to). */
export function modelGraph(latePayment: LatePaymentPolicy) {
  const adjacency = getAdjacencyMap(traversable, traversal(latePayment)) as unknown as Record<
    string,
    { state: PurchaseSnapshot; transitions: Record<string, { event: ModelEvent; state: PurchaseSnapshot }> }
  >;
  const edges: ModelEdge[] = [];
  for (const [from, { state, transitions }] of Object.entries(adjacency)) {
    for (const { event, state: next } of Object.values(transitions)) edges.push({ from, event, to: serializeState(next, event, state) });
  }
  return { states: Object.keys(adjacency), edges, snapshot: (key: string) => adjacency[key]!.state };
}

/**
 * Replays a path's events on the machine from its start, each made concrete again from the state it
 * meets (its time, its output): the states the engine must hold, step by step. Every step must land in
 * the model state the path says (a check of the model's state key).
 */
export function replayOnMachine(path: readonly ModelStep[], latePayment: LatePaymentPolicy): ModelStep[] {
  let [snapshot] = initialTransition(traversable, modelInput(latePayment)) as unknown as [PurchaseSnapshot];
  serializeState(snapshot);
  const out: ModelStep[] = [];
  for (const step of path) {
    const offered = nextEvents(snapshot).find((e) => serializeEvent(e) === serializeEvent(step.event));
    if (!offered) throw new Error(`model replay: ${serializeEvent(step.event)} is not offered in ${serializeState(snapshot)}`);
    const [next] = transition(traversable, snapshot as never, offered as never) as unknown as [PurchaseSnapshot];
    if (serializeState(next, offered, snapshot) !== serializeState(step.state)) {
      throw new Error(
        `model replay: ${serializeEvent(offered)} led to ${serializeState(next)}, the path says ${serializeState(step.state)}`,
      );
    }
    out.push({ event: offered, state: next });
    snapshot = next;
  }
  return out;
}

/** `purchase.paid.delivering` style ids of every state node a state value is in. */
export function activeStateIds(value: unknown, prefix = "purchase"): string[] {
  if (typeof value === "string") return [`${prefix}.${value}`];
  const out: string[] = [];
  for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
    out.push(`${prefix}.${key}`, ...activeStateIds(child, `${prefix}.${key}`));
  }
  return out;
}

/** The order's next snapshot when it takes `event` (its actors never answer: a busy state stays busy). */
export function nextSnapshot(from: PurchaseSnapshot, event: { type: string; at: number; [key: string]: unknown }): PurchaseSnapshot {
  const [next] = transition(traversable, from as never, event as never) as unknown as [PurchaseSnapshot];
  return next;
}

/**
 * The model's steps after `from` when the world does `trigger` (its type and label), the order's
 * work then answered by the first of `prefer` each actor can give (else its first outcome).
 */
export function continueOnMachine(
  from: PurchaseSnapshot,
  trigger: { type: string; label: string },
  prefer: readonly string[] = [],
): ModelStep[] {
  const offered = nextEvents(from).find((e) => e.type === trigger.type && e.label === trigger.label);
  if (!offered) throw new Error(`model: ${trigger.type}:${trigger.label} is not taken in ${serializeState(from)}`);
  const steps: ModelStep[] = [];
  let [snapshot, event] = [from, offered];
  for (;;) {
    const [next] = transition(traversable, snapshot as never, event as never) as unknown as [PurchaseSnapshot];
    serializeState(next, event, snapshot);
    steps.push({ event, state: next });
    snapshot = next;
    const answers = nextEvents(snapshot).filter(isCompletion);
    if (answers.length === 0) return steps;
    event = prefer.map((label) => answers.find((a) => a.label === label)).find(Boolean) ?? answers[0]!;
  }
}
