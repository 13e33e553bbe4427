/**
 * A purchase order on the machine alone, for the machine's unit tests: its actors are fakes whose every
 * call the test answers by hand (or leaves pending, to look at a busy state), and time is the `at` each
 * event carries. Shared by test/unit/machine*.test.ts.
 */
import { expect } from "vitest";
import { type Snapshot, createActor, fromPromise, waitFor } from "xstate";
import {
  type DeliveryResult,
  type LatePaymentPolicy,
  type Money,
  type PaymentCheckResult,
  type PaymentCreationResult,
  type PricingResult,
  type ProductLimits,
  type PurchaseEvent,
  type PurchaseSnapshot,
  type RefundInput,
  type RefundResult,
  type VoidResult,
  purchaseMachine,
  strayPaymentMachine,
} from "../../machines/purchase.machine.ts";
import { statePath } from "../../machines/purchase.reading.ts";
import { ChatId, OrderId, PaymentId } from "../../src/domain/ids.ts";
import type { PurchaseActors } from "../../src/engine/actors.ts";

export const T0 = Date.UTC(2026, 0, 1, 12);
export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const QUOTE_TTL = 15 * MINUTE;
export const PAYMENT_TTL = 60 * MINUTE;
export const BACKOFF = 1_000;
export const CHARGE: Money = { minor: 4_000, currency: "USDT" };
export const INVOICE = PaymentId.parse("inv_1");
export const SECOND_CHARGE = PaymentId.parse("charge_2");

/** The actors the machine names in `setup()`, as the engine provides them (`returnStrayPayment` reuses `refundPayment`). */
export type ActorName = keyof PurchaseActors;
/** Every actor name once (the type makes the list complete). */
const EVERY_ACTOR: Record<ActorName, true> = {
  priceQuote: true,
  createPayment: true,
  checkPayment: true,
  voidInvoice: true,
  deliverGoods: true,
  refundPayment: true,
  sweepStrayGoods: true,
  checkPromo: true,
  reservePromo: true,
  releasePromo: true,
  reissueGoods: true,
};

/** A fresh value for every actor, e.g. an empty list of its calls. */
export function perActor<T>(make: () => T): Record<ActorName, T> {
  return Object.fromEntries(Object.keys(EVERY_ACTOR).map((name) => [name, make()])) as Record<ActorName, T>;
}
/** One call of a fake actor, waiting for the test to answer it. */
export type Call = { input: unknown; answered: boolean; resolve(value: unknown): void; reject(error: Error): void };

export const priced = (tokens: number, at: number): PricingResult => ({
  ok: true,
  quote: { tokens, usd: { minor: 4_000, currency: "USD" }, charge: CHARGE, quotedAt: at, expiresAt: at + QUOTE_TTL },
});
/** A quote with its breakdown: `promoCode` applied (10% off $40.00), and `credit` for an OpenRouter key. */
export const pricedWith = (
  tokens: number,
  at: number,
  options: { promoCode?: string | null; credit?: Money | null } = {},
): PricingResult => {
  const usd: Money = { minor: 4_000, currency: "USD" };
  const discount: Money = { minor: options.promoCode ? 400 : 0, currency: "USD" };
  const final: Money = { minor: usd.minor - discount.minor, currency: "USD" };
  return {
    ok: true,
    quote: {
      tokens,
      usd: final,
      charge: { minor: final.minor, currency: "USDT" },
      quotedAt: at,
      expiresAt: at + QUOTE_TTL,
      details: {
        unitPrice: { minor: 2_000, currency: "USD" },
        pricePer: 1000,
        tier: null,
        baseList: usd,
        list: usd,
        promoCode: options.promoCode ?? null,
        discount,
        credit: options.credit ?? null,
      },
    },
  };
};
/** Two products of one shop, for orders that choose: vouchers from 100 tokens, keys from 500 to 10,000. */
export const TWO_PRODUCTS: ProductLimits[] = [
  { id: "tokens", minTokens: 100, maxTokens: 1_000_000 },
  { id: "keys", minTokens: 500, maxTokens: 10_000 },
];
export const invoiced = (at: number): PaymentCreationResult => ({
  ok: true,
  payment: {
    provider: "sandbox",
    paymentId: INVOICE,
    payUrl: "http://pay/inv_1",
    charge: CHARGE,
    createdAt: at,
    expiresAt: at + PAYMENT_TTL,
  },
});
export const checked = (
  status: PaymentCheckResult["status"],
  at: number,
  amount: Money | null = status === "paid" ? CHARGE : null,
): PaymentCheckResult => ({
  status,
  amount,
  foreign: null,
  at,
});
export const issued = (at: number, mayLeaveStrays = false): DeliveryResult => ({
  ok: true,
  ref: "voucher:1",
  hint: "…ABCD",
  at,
  mayLeaveStrays,
});
export const notIssued = (at: number): DeliveryResult => ({ ok: false, reason: "provider_unavailable", at });
export const refundedOk = (at: number): RefundResult => ({ ok: true, refundId: "rf_1", at });
export const cannotRefund = (at: number): RefundResult => ({ ok: false, reason: "unsupported", at });
export const paymentOf = (at: number, amount: Money | null = CHARGE, chargeId: PaymentId = INVOICE): PurchaseEvent => ({
  type: "PAYMENT_RECEIVED",
  paymentId: INVOICE,
  chargeId,
  amount,
  foreign: amount === null ? { amount: "40.00", unit: "EUR" } : null,
  at,
});

/** `products`: a shop of several (the order starts with none chosen); without it, the one product "tokens". */
export type HarnessOptions = {
  latePayment?: LatePaymentPolicy;
  maxDeliveryAttempts?: number;
  snapshot?: Snapshot<unknown>;
  products?: ProductLimits[];
};

/**
 * A purchase actor whose actors are fakes: each call waits until the test answers it with `answer`,
 * so a busy state can be looked at (and stored) before its work finishes.
 */
export function harness(options: HarnessOptions = {}) {
  const calls = perActor<Call[]>(() => []);
  const fake = <TOutput, TInput>(name: ActorName) =>
    fromPromise<TOutput, TInput>(
      ({ input }) =>
        new Promise<TOutput>((resolve, reject) => {
          calls[name].push({ input, answered: false, resolve: resolve as (value: unknown) => void, reject });
        }),
    );
  const refund = fake<RefundResult, RefundInput>("refundPayment");
  const machine = purchaseMachine.provide({
    actors: {
      priceQuote: fake("priceQuote"),
      createPayment: fake("createPayment"),
      checkPayment: fake("checkPayment"),
      voidInvoice: fake("voidInvoice"),
      deliverGoods: fake("deliverGoods"),
      refundPayment: refund,
      sweepStrayGoods: fake("sweepStrayGoods"),
      checkPromo: fake("checkPromo"),
      reservePromo: fake("reservePromo"),
      releasePromo: fake("releasePromo"),
      reissueGoods: fake("reissueGoods"),
      returnStrayPayment: strayPaymentMachine.provide({ actors: { refundPayment: refund } }),
    },
  });
  const actor = createActor(machine, {
    input: {
      orderId: OrderId.parse("ord_1"),
      chatId: ChatId.parse("chat_1"),
      productId: options.products ? null : "tokens",
      ...(options.products ? { products: options.products } : {}),
      latePayment: options.latePayment ?? "deliver",
      minTokens: 100,
      maxTokens: 1_000_000,
      maxDeliveryAttempts: options.maxDeliveryAttempts ?? 3,
      retryBackoffMs: BACKOFF,
      at: T0,
    },
    ...(options.snapshot ? { snapshot: options.snapshot as never } : {}),
  });
  const errors: unknown[] = [];
  actor.subscribe({ error: (err) => errors.push(err) });
  actor.start();
  const snapshot = (): PurchaseSnapshot => actor.getSnapshot();
  return {
    actor,
    calls,
    errors,
    snapshot,
    path: () => statePath(snapshot()),
    context: () => snapshot().context,
    /** Sends an event; true when the machine took it (`can` said yes). */
    send(event: PurchaseEvent): boolean {
      const can = snapshot().can(event);
      actor.send(event);
      return can;
    },
    /** Calls of an actor not yet answered. */
    waiting: (name: ActorName) => calls[name].filter((call) => !call.answered),
    /** Answers the oldest unanswered call of `name` (an Error rejects it) and waits for the order to take it. */
    async answer(name: ActorName, output: unknown): Promise<void> {
      const call = calls[name].find((c) => !c.answered);
      if (!call) throw new Error(`no call of ${name} is waiting (state ${statePath(snapshot())})`);
      call.answered = true;
      const before = snapshot();
      if (output instanceof Error) call.reject(output);
      else call.resolve(output);
      await waitFor(actor, (s) => s !== before, { timeout: 1_000 });
    },
    /** The persisted snapshot as a store would keep it (JSON, no functions, no live actors). */
    stored: (): Snapshot<unknown> => JSON.parse(JSON.stringify(actor.getPersistedSnapshot())) as Snapshot<unknown>,
  };
}
export type Harness = ReturnType<typeof harness>;

export async function toQuoted(h: Harness, at = T0) {
  h.send({ type: "SET_AMOUNT", tokens: 2_000, at });
  await h.answer("priceQuote", priced(2_000, at));
  expect(h.path()).toBe("quoted");
}

export async function toAwaitingPayment(h: Harness, at = T0) {
  await toQuoted(h, at);
  h.send({ type: "CONFIRM", at: at + 1 });
  await h.answer("createPayment", invoiced(at + 1));
  expect(h.path()).toBe("awaiting_payment.waiting");
}

/** Paid and delivered; the goods are announced (not yet shown). */
export async function toDelivered(h: Harness, options: { mayLeaveStrays?: boolean } = {}) {
  await toAwaitingPayment(h);
  h.send(paymentOf(T0 + MINUTE));
  expect(h.path()).toBe("paid.recorded");
  h.send({ type: "START_DELIVERY", at: T0 + MINUTE });
  await h.answer("deliverGoods", issued(T0 + MINUTE, options.mayLeaveStrays));
  expect(h.path()).toBe("delivered.announcing");
}

/** Cancelled while invoiced, and the provider could not void the invoice: money may still arrive. */
export async function toCancelledWithOpenInvoice(h: Harness) {
  await toAwaitingPayment(h);
  h.send({ type: "CANCEL", at: T0 + 2 * MINUTE });
  expect(h.path()).toBe("cancelled.voiding");
  await h.answer("voidInvoice", { voided: false, at: T0 + 2 * MINUTE } satisfies VoidResult);
  expect(h.path()).toBe("cancelled.invoice_open");
}

/** A delivery that failed every attempt (three by default). */
export async function toDeliveryFailed(h: Harness) {
  await toAwaitingPayment(h);
  h.send(paymentOf(T0 + MINUTE));
  h.send({ type: "START_DELIVERY", at: T0 + MINUTE });
  let at = T0 + MINUTE;
  for (let attempt = 1; ; attempt++) {
    await h.answer("deliverGoods", notIssued(at));
    if (h.path() === "delivery_failed") break;
    at = h.context().delivery.nextAttemptAt!;
    h.send({ type: "DEADLINE", at });
  }
}
