/**
 * The purchase machine's rules, proved on the machine alone: its actors are fakes whose every call the
 * test answers by hand (or leaves pending, to look at a busy state), and time is the `at` each event
 * carries. What an order does with amounts, quotes, payments that match or do not, money after it
 * closed, deadlines, second payments and the owner's actions, and that a stored snapshot of any state
 * comes back as it was.
 */
import { describe, expect, test } from "vitest";
import type { AnyActorRef, Snapshot } from "xstate";
import {
  type LatePaymentPolicy,
  type PaymentCheckResult,
  type StrayGoodsResult,
  purchaseMachine,
} from "../../machines/purchase.machine.ts";
import { PaymentId } from "../../src/domain/ids.ts";
import { STATE_PATHS, deadlineOf, isWorking } from "../../machines/purchase.reading.ts";
import {
  type ActorName,
  BACKOFF,
  CHARGE,
  HOUR,
  type Harness,
  type HarnessOptions,
  INVOICE,
  MINUTE,
  QUOTE_TTL,
  SECOND_CHARGE,
  T0,
  cannotRefund,
  checked,
  harness,
  invoiced,
  issued,
  notIssued,
  paymentOf,
  priced,
  refundedOk,
  toAwaitingPayment,
  toCancelledWithOpenInvoice,
  toDelivered,
  toDeliveryFailed,
  toQuoted,
  pricedWith,
  TWO_PRODUCTS,
} from "../support/purchase-harness.ts";

describe("amounts", () => {
  test("only whole amounts within the catalog's limits are priced, first and as a correction", async () => {
    const h = harness();
    const amount = (tokens: number) => ({ type: "SET_AMOUNT" as const, tokens, at: T0 });
    expect([99, 100, 1_000_000, 1_000_001, 150.5].map((tokens) => h.snapshot().can(amount(tokens)))).toEqual([
      false,
      true,
      true,
      false,
      false,
    ]);
    await toQuoted(h);
    expect([99, 100, 1_000_000, 1_000_001, 150.5].map((tokens) => h.snapshot().can(amount(tokens)))).toEqual([
      false,
      true,
      true,
      false,
      false,
    ]);
    h.send(amount(5_000));
    expect(h.path()).toBe("pricing");
    expect(h.waiting("priceQuote")[0]?.input).toMatchObject({ tokens: 5_000 });
    await h.answer("priceQuote", priced(5_000, T0));
    expect(h.context().quote?.tokens).toBe(5_000);
  });

  test("a price that cannot be fixed (no stock, pricing down, a crash) returns to the start and says why", async () => {
    for (const [answer, problem] of [
      [{ ok: false, reason: "out_of_stock" }, "out_of_stock"],
      [{ ok: false, reason: "pricing_unavailable" }, "pricing_unavailable"],
      [new Error("pricing crashed"), "pricing_unavailable"],
    ] as const) {
      const h = harness();
      h.send({ type: "SET_AMOUNT", tokens: 2_000, at: T0 });
      await h.answer("priceQuote", answer);
      expect(h.path()).toBe("initial");
      expect(h.context()).toMatchObject({ problem, quote: null, tokens: null });
    }
  });
});

describe("quotes", () => {
  test("a quote is confirmed while valid, and an invoice failure goes back to the quote", async () => {
    const h = harness();
    await toQuoted(h);
    h.send({ type: "CONFIRM", at: T0 + QUOTE_TTL - 1 });
    expect(h.path()).toBe("creating_payment");
    await h.answer("createPayment", { ok: false, reason: "payment_unavailable" });
    expect(h.path()).toBe("quoted");
    expect(h.context().problem).toBe("payment_unavailable");
    h.send({ type: "CONFIRM", at: T0 + 2 });
    await h.answer("createPayment", new Error("payment API crashed"));
    expect([h.path(), h.context().problem]).toEqual(["quoted", "payment_unavailable"]);
  });

  test("confirming an expired quote re-prices it instead of invoicing the stale price", async () => {
    const h = harness();
    await toQuoted(h);
    h.send({ type: "CONFIRM", at: T0 + QUOTE_TTL });
    expect(h.path()).toBe("pricing");
    expect(h.context().problem).toBe("quote_refreshed");
    expect(h.calls.createPayment).toHaveLength(0);
    await h.answer("priceQuote", priced(2_000, T0 + QUOTE_TTL));
    expect(h.path()).toBe("quoted");
    expect(h.context().quote?.expiresAt).toBe(T0 + 2 * QUOTE_TTL);
  });

  test("a quote expires at its deadline, not before, and with no invoice there is nothing to watch", async () => {
    const h = harness();
    await toQuoted(h);
    expect(h.send({ type: "DEADLINE", at: T0 + QUOTE_TTL - 1 })).toBe(false);
    expect(h.path()).toBe("quoted");
    h.send({ type: "DEADLINE", at: T0 + QUOTE_TTL });
    expect(h.path()).toBe("expired.invoice_closed");
    expect(h.calls.voidInvoice).toHaveLength(0);
    expect(h.snapshot().hasTag("ended")).toBe(true);
  });
});

describe("payments", () => {
  test("the invoiced amount pays the order: stored first, then delivered on START_DELIVERY", async () => {
    const h = harness();
    await toAwaitingPayment(h);
    h.send(paymentOf(T0 + MINUTE));
    expect(h.path()).toBe("paid.recorded");
    expect(h.snapshot().hasTag("resume")).toBe(true);
    expect(h.context()).toMatchObject({ paidAt: T0 + MINUTE, paidCharge: INVOICE, late: false });
    expect(h.calls.deliverGoods).toHaveLength(0);
    h.send({ type: "START_DELIVERY", at: T0 + MINUTE });
    expect(h.waiting("deliverGoods")[0]?.input).toMatchObject({ tokens: 2_000, charge: CHARGE, attempt: 1 });
    await h.answer("deliverGoods", issued(T0 + MINUTE));
    expect(h.path()).toBe("delivered.announcing");
    expect(h.context().delivery).toMatchObject({
      attempts: 1,
      ref: "voucher:1",
      hint: "…ABCD",
      deliveredAt: T0 + MINUTE,
      announceAt: T0 + MINUTE + 20_000,
    });
  });

  test("money in another amount or currency is not taken: it is refunded, or left to the owner when the provider cannot", async () => {
    const wrong = harness();
    await toAwaitingPayment(wrong);
    wrong.send(paymentOf(T0 + MINUTE, { minor: 3_999, currency: "USDT" }));
    expect(wrong.path()).toBe("refunding");
    expect(wrong.context().refund).toMatchObject({ reason: "mismatch", chargeId: INVOICE, amount: { minor: 3_999 }, refundedAt: null });
    expect(wrong.waiting("refundPayment")[0]?.input).toMatchObject({ chargeId: INVOICE, amount: { minor: 3_999, currency: "USDT" } });
    await wrong.answer("refundPayment", refundedOk(T0 + MINUTE));
    expect(wrong.path()).toBe("refunded");
    expect(wrong.context().refund).toMatchObject({ refundId: "rf_1", refundedAt: T0 + MINUTE, manual: false });
    expect(wrong.context().paidAt).toBeNull();

    const foreign = harness();
    await toAwaitingPayment(foreign);
    foreign.send(paymentOf(T0 + MINUTE, null));
    expect(foreign.context().refund).toMatchObject({ amount: null, foreign: { amount: "40.00", unit: "EUR" } });
    await foreign.answer("refundPayment", cannotRefund(T0 + MINUTE));
    expect(foreign.path()).toBe("awaiting_owner_refund");
    expect(foreign.snapshot().hasTag("needs_owner")).toBe(true);
    // The owner may have the provider try again, or record that they returned it by hand.
    foreign.send({ type: "ADMIN_REFUND", at: T0 + 2 * MINUTE });
    expect(foreign.path()).toBe("refunding");
    await foreign.answer("refundPayment", new Error("refund crashed"));
    expect(foreign.path()).toBe("awaiting_owner_refund");
    expect(foreign.send({ type: "REFUND_RECORDED", chargeId: SECOND_CHARGE, at: T0 + 3 * MINUTE })).toBe(false);
    foreign.send({ type: "REFUND_RECORDED", at: T0 + 3 * MINUTE });
    expect(foreign.path()).toBe("refunded");
    expect(foreign.context().refund).toMatchObject({ manual: true, refundedAt: T0 + 3 * MINUTE });
  });

  test("the owner may name the payment they returned by hand: the order's own charge id records its refund", async () => {
    const owed = harness();
    await toAwaitingPayment(owed);
    owed.send(paymentOf(T0 + MINUTE, null));
    await owed.answer("refundPayment", cannotRefund(T0 + MINUTE));
    expect(owed.path()).toBe("awaiting_owner_refund");
    expect(owed.send({ type: "REFUND_RECORDED", chargeId: INVOICE, at: T0 + 2 * MINUTE })).toBe(true);
    expect(owed.path()).toBe("refunded");

    const failed = harness();
    await toDeliveryFailed(failed);
    expect(failed.send({ type: "REFUND_RECORDED", chargeId: SECOND_CHARGE, at: T0 + HOUR })).toBe(false);
    expect(failed.send({ type: "REFUND_RECORDED", chargeId: INVOICE, at: T0 + HOUR })).toBe(true);
    expect(failed.path()).toBe("refunded");
  });

  test("a provider's retry of a payment already applied or being returned changes nothing", async () => {
    const paid = harness();
    await toDelivered(paid);
    const before = paid.snapshot();
    paid.send(paymentOf(T0 + 2 * MINUTE));
    expect(paid.snapshot().context).toEqual(before.context);
    expect(paid.snapshot().children).toEqual(before.children);

    const returned = harness();
    await toAwaitingPayment(returned);
    returned.send(paymentOf(T0 + MINUTE, { minor: 1, currency: "USDT" }));
    await returned.answer("refundPayment", refundedOk(T0 + MINUTE));
    returned.send(paymentOf(T0 + 2 * MINUTE, { minor: 1, currency: "USDT" }));
    expect(returned.path()).toBe("refunded");
    expect(returned.context().strays).toEqual([]);
    expect(returned.calls.refundPayment).toHaveLength(1);
  });

  test("a failure or a closed invoice of this order ends it; another invoice's news is ignored", async () => {
    const failed = harness();
    await toAwaitingPayment(failed);
    expect(failed.send({ type: "PAYMENT_FAILED", paymentId: PaymentId.parse("inv_other"), at: T0 + 1 })).toBe(false);
    failed.send({ type: "PAYMENT_FAILED", paymentId: INVOICE, at: T0 + 2 });
    expect([failed.path(), failed.context().problem]).toEqual(["payment_failed", "payment_failed"]);
    expect(failed.snapshot().hasTag("ended")).toBe(true);

    const closed = harness();
    await toAwaitingPayment(closed);
    expect(closed.send({ type: "INVOICE_CLOSED", paymentId: PaymentId.parse("inv_other"), at: T0 + 1 })).toBe(false);
    closed.send({ type: "INVOICE_CLOSED", paymentId: INVOICE, at: T0 + 2 });
    expect(closed.path()).toBe("expired.invoice_closed");
    expect(closed.context().invoiceClosed).toBe(true);
    expect(closed.calls.voidInvoice).toHaveLength(0);
  });
});

describe("cancelled and expired orders watch their invoice", () => {
  test("cancelling voids the invoice where the provider can; otherwise the open invoice is watched", async () => {
    const voided = harness();
    await toAwaitingPayment(voided);
    voided.send({ type: "CANCEL", at: T0 + 2 });
    expect(voided.waiting("voidInvoice")[0]?.input).toEqual({ orderId: "ord_1", paymentId: INVOICE });
    await voided.answer("voidInvoice", { voided: true, at: T0 + 2 });
    expect(voided.path()).toBe("cancelled.invoice_closed");
    expect(voided.context().invoiceClosed).toBe(true);

    for (const answer of [{ voided: false, at: T0 + 2 }, new Error("void crashed")]) {
      const open = harness();
      await toAwaitingPayment(open);
      open.send({ type: "CANCEL", at: T0 + 2 });
      await open.answer("voidInvoice", answer);
      expect(open.path()).toBe("cancelled.invoice_open");
      expect(open.context().invoiceClosed).toBe(false);
      expect(open.snapshot().hasTag("closed")).toBe(true);
    }

    const unpriced = harness();
    await toQuoted(unpriced);
    unpriced.send({ type: "CANCEL", at: T0 + 1 });
    expect(unpriced.path()).toBe("cancelled.invoice_closed");
    expect(unpriced.calls.voidInvoice).toHaveLength(0);
  });

  test("a late payment in full is delivered with LATE_PAYMENT=deliver, and marked late", async () => {
    const h = harness({ latePayment: "deliver" });
    await toCancelledWithOpenInvoice(h);
    h.send(paymentOf(T0 + 3 * MINUTE));
    expect(h.path()).toBe("paid.recorded");
    expect(h.context()).toMatchObject({ late: true, paidCharge: INVOICE, paidAt: T0 + 3 * MINUTE });
    h.send({ type: "START_DELIVERY", at: T0 + 3 * MINUTE });
    await h.answer("deliverGoods", issued(T0 + 3 * MINUTE));
    expect(h.path()).toBe("delivered.announcing");
    expect(h.context().late).toBe(true);
  });

  test("a late payment in full goes back with LATE_PAYMENT=refund", async () => {
    const h = harness({ latePayment: "refund" });
    await toCancelledWithOpenInvoice(h);
    h.send(paymentOf(T0 + 3 * MINUTE));
    expect(h.path()).toBe("refunding");
    expect(h.context().refund).toMatchObject({ reason: "late", chargeId: INVOICE, amount: CHARGE });
    await h.answer("refundPayment", refundedOk(T0 + 3 * MINUTE));
    expect(h.path()).toBe("refunded");
    expect(h.context().late).toBe(false);
  });

  test("a late payment of the wrong amount goes back whatever LATE_PAYMENT says", async () => {
    const h = harness({ latePayment: "deliver" });
    await toCancelledWithOpenInvoice(h);
    h.send(paymentOf(T0 + 3 * MINUTE, { minor: 100, currency: "USDT" }));
    expect(h.path()).toBe("refunding");
    expect(h.context().refund?.reason).toBe("mismatch");
    await h.answer("refundPayment", cannotRefund(T0 + 3 * MINUTE));
    expect(h.path()).toBe("awaiting_owner_refund");
  });

  test("the provider closing the open invoice ends the watch; money after that is returned beside the order", async () => {
    const h = harness();
    await toCancelledWithOpenInvoice(h);
    h.send({ type: "INVOICE_CLOSED", paymentId: INVOICE, at: T0 + 3 * MINUTE });
    expect(h.path()).toBe("cancelled.invoice_closed");
    h.send(paymentOf(T0 + 4 * MINUTE));
    expect(h.path()).toBe("cancelled.invoice_closed");
    expect(h.context().strays).toMatchObject([{ chargeId: INVOICE, status: "returning" }]);
    await h.answer("refundPayment", refundedOk(T0 + 4 * MINUTE));
    expect(h.context().strays).toMatchObject([{ chargeId: INVOICE, status: "refunded", refundId: "rf_1" }]);
  });
});

describe("deadlines", () => {
  test("at the invoice's deadline the provider is asked; a payment made at the last second still counts", async () => {
    const h = harness();
    await toAwaitingPayment(h);
    const due = h.context().payment!.expiresAt;
    expect(deadlineOf(h.snapshot(), T0, 0)).toBe(due);
    expect(h.send({ type: "DEADLINE", at: due - 1 })).toBe(false);
    h.send({ type: "DEADLINE", at: due });
    expect(h.path()).toBe("awaiting_payment.checking");
    expect(h.waiting("checkPayment")[0]?.input).toEqual({ orderId: "ord_1", paymentId: INVOICE });
    await h.answer("checkPayment", checked("paid", due));
    expect(h.path()).toBe("paid.recorded");
    expect(h.context()).toMatchObject({ paidAt: due, paidCharge: INVOICE, late: false, lastCheck: { at: due, result: "paid" } });
  });

  test("each answer of the provider at the invoice's deadline", async () => {
    const outcomes: [string, unknown, string][] = [
      ["wrong amount", checked("paid", 0, { minor: 1, currency: "USDT" }), "refunding"],
      ["still pending", checked("pending", 0), "expired.voiding"],
      ["expired there", checked("expired", 0), "expired.invoice_closed"],
      ["failed there", checked("failed", 0), "payment_failed"],
      ["unreachable", checked("unavailable", 0), "awaiting_payment.waiting"],
      ["check crashed", new Error("check crashed"), "awaiting_payment.waiting"],
    ];
    for (const [name, answer, path] of outcomes) {
      const h = harness();
      await toAwaitingPayment(h);
      const due = h.context().payment!.expiresAt;
      h.send({ type: "DEADLINE", at: due });
      await h.answer("checkPayment", answer instanceof Error ? answer : { ...(answer as PaymentCheckResult), at: due });
      expect(h.path(), name).toBe(path);
      if (path === "awaiting_payment.waiting") {
        // Asked again a minute after the provider could not answer, not at every sweep.
        expect(deadlineOf(h.snapshot(), due, 0), name).toBe(due + MINUTE);
        expect(h.send({ type: "DEADLINE", at: due + MINUTE - 1 }), name).toBe(false);
      }
    }
  });

  test("the customer asking before the deadline: a pending answer leaves the next check at the invoice's deadline", async () => {
    const h = harness();
    await toAwaitingPayment(h);
    const expiresAt = h.context().payment!.expiresAt;
    h.send({ type: "CHECK_PAYMENT", at: T0 + 5 * MINUTE });
    await h.answer("checkPayment", checked("unavailable", T0 + 5 * MINUTE));
    expect(deadlineOf(h.snapshot(), T0, 0)).toBe(T0 + 6 * MINUTE);
    h.send({ type: "DEADLINE", at: T0 + 6 * MINUTE });
    await h.answer("checkPayment", checked("pending", T0 + 6 * MINUTE));
    expect(h.path()).toBe("awaiting_payment.waiting");
    expect(h.context().lastCheck).toEqual({ at: T0 + 6 * MINUTE, result: "not_paid" });
    // Not asked again at every sweep until the invoice expires: the next look is at its deadline.
    expect(deadlineOf(h.snapshot(), T0 + 6 * MINUTE, 0)).toBe(expiresAt);
    expect(h.send({ type: "DEADLINE", at: T0 + 7 * MINUTE })).toBe(false);
  });

  test("an open invoice of a closed order is asked about at its deadline, and each answer is acted on", async () => {
    const outcomes: [string, LatePaymentPolicy, (due: number) => unknown, string, number | null][] = [
      ["paid in full, deliver", "deliver", (due) => checked("paid", due), "paid.recorded", null],
      ["paid in full, refund", "refund", (due) => checked("paid", due), "refunding", null],
      ["paid wrongly", "deliver", (due) => checked("paid", due, { minor: 1, currency: "USDT" }), "refunding", null],
      ["expired there", "deliver", (due) => checked("expired", due), "cancelled.invoice_closed", null],
      ["failed there", "deliver", (due) => checked("failed", due), "cancelled.invoice_closed", null],
      ["pending a week late", "deliver", (due) => checked("pending", due + 7 * 24 * 60 * MINUTE), "cancelled.invoice_closed", null],
      ["still pending", "deliver", (due) => checked("pending", due), "cancelled.invoice_open", 60 * MINUTE],
      ["unreachable", "deliver", (due) => checked("unavailable", due), "cancelled.invoice_open", MINUTE],
      ["check crashed", "deliver", () => new Error("check crashed"), "cancelled.invoice_open", MINUTE],
    ];
    for (const [name, latePayment, answer, path, recheckAfter] of outcomes) {
      const h = harness({ latePayment });
      await toCancelledWithOpenInvoice(h);
      const due = h.context().payment!.expiresAt;
      expect(deadlineOf(h.snapshot(), T0, 0), name).toBe(due);
      expect(h.send({ type: "DEADLINE", at: due - 1 }), name).toBe(false);
      h.send({ type: "DEADLINE", at: due });
      expect(h.path(), name).toBe("cancelled.checking");
      await h.answer("checkPayment", answer(due));
      expect(h.path(), name).toBe(path);
      if (path === "paid.recorded") expect(h.context().late, name).toBe(true);
      if (path === "refunding")
        expect(h.context().refund?.reason, name).toBe(latePayment === "refund" && name.includes("full") ? "late" : "mismatch");
      if (path.endsWith("invoice_closed")) expect(h.context().invoiceClosed, name).toBe(true);
      if (recheckAfter !== null) {
        expect(deadlineOf(h.snapshot(), due, 0), name).toBe(due + recheckAfter);
        expect(h.send({ type: "DEADLINE", at: due + recheckAfter - 1 }), name).toBe(false);
        expect(h.send({ type: "DEADLINE", at: due + recheckAfter }), name).toBe(true);
      }
    }
  });

  test("a failed delivery is retried with exponential backoff, then handed to the owner", async () => {
    const h = harness({ maxDeliveryAttempts: 3 });
    await toAwaitingPayment(h);
    h.send(paymentOf(T0 + MINUTE));
    h.send({ type: "START_DELIVERY", at: T0 + MINUTE });
    await h.answer("deliverGoods", notIssued(T0 + MINUTE));
    expect(h.path()).toBe("paid.waiting_retry");
    expect(h.context()).toMatchObject({
      problem: "delivery_retrying",
      delivery: { attempts: 1, nextAttemptAt: T0 + MINUTE + BACKOFF, lastError: "provider_unavailable" },
    });
    expect(h.send({ type: "DEADLINE", at: T0 + MINUTE + BACKOFF - 1 })).toBe(false);
    h.send({ type: "DEADLINE", at: T0 + MINUTE + BACKOFF });
    expect(h.waiting("deliverGoods")[0]?.input).toMatchObject({ attempt: 2 });
    await h.answer("deliverGoods", notIssued(T0 + 2 * MINUTE));
    expect(h.context().delivery).toMatchObject({ attempts: 2, nextAttemptAt: T0 + 2 * MINUTE + 2 * BACKOFF });
    h.send({ type: "DEADLINE", at: T0 + 2 * MINUTE + 2 * BACKOFF });
    await h.answer("deliverGoods", new Error("delivery crashed"));
    expect(h.path()).toBe("delivery_failed");
    expect(h.context()).toMatchObject({
      problem: "delivery_failed",
      delivery: { attempts: 3, lastError: "unexpected_error", nextAttemptAt: null },
    });
    expect(h.snapshot().hasTag("needs_owner")).toBe(true);
  });

  test("a crashed delivery attempt is retried at the next sweep (no time is known)", async () => {
    const h = harness();
    await toAwaitingPayment(h);
    h.send(paymentOf(T0 + MINUTE));
    h.send({ type: "START_DELIVERY", at: T0 + MINUTE });
    await h.answer("deliverGoods", new Error("delivery crashed"));
    expect(h.path()).toBe("paid.waiting_retry");
    expect(h.context().delivery).toMatchObject({ attempts: 1, nextAttemptAt: null, lastError: "unexpected_error" });
    expect(h.send({ type: "DEADLINE", at: T0 + MINUTE })).toBe(true);
  });

  test("goods nobody confirmed were shown are announced again with growing pauses, then given up", async () => {
    const h = harness();
    await toDelivered(h);
    const announceAt = () => h.context().delivery.announceAt!;
    expect(deadlineOf(h.snapshot(), T0, 0)).toBe(T0 + MINUTE + 20_000);
    expect(h.send({ type: "DEADLINE", at: announceAt() - 1 })).toBe(false);
    const pauses: number[] = [];
    for (let resend = 1; resend <= 5; resend++) {
      const at = announceAt();
      h.send({ type: "DEADLINE", at });
      expect(h.path()).toBe("delivered.announcing");
      expect(h.context().delivery.announceAttempts).toBe(resend);
      pauses.push(announceAt() - at);
    }
    expect(pauses).toEqual([1, 2, 4, 8, 16].map((n) => n * MINUTE));
    h.send({ type: "DEADLINE", at: announceAt() });
    expect(h.path()).toBe("delivered.settled");
    expect(h.context().delivery.announceAt).toBeNull();
    expect(deadlineOf(h.snapshot(), T0, 0)).toBeNull();
  });

  test("goods shown: no more announcing; where an interrupted attempt may have left goods live, they are looked for a minute after delivery", async () => {
    const plain = harness();
    await toDelivered(plain);
    plain.send({ type: "GOODS_SHOWN", at: T0 + MINUTE + 1 });
    expect(plain.path()).toBe("delivered.settled");
    expect(plain.context().delivery.announceAt).toBeNull();
    expect(plain.send({ type: "GOODS_SHOWN", at: T0 + MINUTE + 2 })).toBe(false);

    const keys = harness();
    await toDelivered(keys, { mayLeaveStrays: true });
    keys.send({ type: "GOODS_SHOWN", at: T0 + MINUTE + 1 });
    expect(keys.path()).toBe("delivered.awaiting_goods_check");
    const due = T0 + 2 * MINUTE;
    expect(deadlineOf(keys.snapshot(), T0, 0)).toBe(due);
    expect(keys.send({ type: "DEADLINE", at: due - 1 })).toBe(false);
    keys.send({ type: "DEADLINE", at: due });
    expect(keys.path()).toBe("delivered.checking_goods");
    expect(keys.waiting("sweepStrayGoods")[0]?.input).toEqual({ orderId: "ord_1", chatId: "chat_1", keep: "voucher:1" });
    await keys.answer("sweepStrayGoods", { revoked: 1, at: due } satisfies StrayGoodsResult);
    expect(keys.path()).toBe("delivered.settled");
    expect(keys.context().delivery).toMatchObject({ strayCheckAt: null, straysRevoked: 1 });
  });

  test("a look for stray goods that fails is tried again ten minutes after it was due", async () => {
    const h = harness();
    await toDelivered(h, { mayLeaveStrays: true });
    h.send({ type: "GOODS_SHOWN", at: T0 + MINUTE + 1 });
    const due = h.context().delivery.strayCheckAt!;
    h.send({ type: "DEADLINE", at: due });
    await h.answer("sweepStrayGoods", new Error("provider down"));
    expect(h.path()).toBe("delivered.awaiting_goods_check");
    expect(h.context().delivery.strayCheckAt).toBe(due + 10 * MINUTE);
    expect(deadlineOf(h.snapshot(), due, 0)).toBe(due + 10 * MINUTE);
    // Survives being stored as JSON (a NaN would not).
    expect(harness({ snapshot: h.stored() }).context().delivery.strayCheckAt).toBe(due + 10 * MINUTE);
  });
});

describe("a second payment is returned beside the order", () => {
  test("another charge on a delivered order is refunded by its own child, and the order stays delivered", async () => {
    const h = harness();
    await toDelivered(h);
    h.send({ type: "GOODS_SHOWN", at: T0 + 2 * MINUTE });
    h.send(paymentOf(T0 + 3 * MINUTE, CHARGE, SECOND_CHARGE));
    expect(h.path()).toBe("delivered.settled");
    expect(h.context().strays).toEqual([
      { chargeId: SECOND_CHARGE, amount: CHARGE, foreign: null, receivedAt: T0 + 3 * MINUTE, status: "returning", refundId: null },
    ]);
    expect(Object.keys(h.snapshot().children)).toEqual([`stray:${SECOND_CHARGE}`]);
    expect(isWorking(h.snapshot())).toBe(true);
    expect(h.waiting("refundPayment")[0]?.input).toEqual({ orderId: "ord_1", chatId: "chat_1", chargeId: SECOND_CHARGE, amount: CHARGE });
    // The same charge again while it is being returned: nothing more.
    h.send(paymentOf(T0 + 3 * MINUTE + 1, CHARGE, SECOND_CHARGE));
    expect(h.calls.refundPayment).toHaveLength(1);
    await h.answer("refundPayment", { ok: true, refundId: "rf_stray", at: T0 + 4 * MINUTE });
    expect(h.context().strays).toMatchObject([{ chargeId: SECOND_CHARGE, status: "refunded", refundId: "rf_stray" }]);
    expect(isWorking(h.snapshot())).toBe(false);
    expect(h.path()).toBe("delivered.settled");
    expect(h.context().paidCharge).toBe(INVOICE);
  });

  test("a stray the provider cannot return is owed by the owner until recorded", async () => {
    for (const answer of [cannotRefund(T0 + 4 * MINUTE), new Error("refund crashed")]) {
      const h = harness();
      await toDelivered(h);
      h.send(paymentOf(T0 + 3 * MINUTE, CHARGE, SECOND_CHARGE));
      await h.answer("refundPayment", answer);
      expect(h.context().strays).toMatchObject([{ chargeId: SECOND_CHARGE, status: "owed", refundId: null }]);
      expect(isWorking(h.snapshot())).toBe(false);
      expect(h.send({ type: "REFUND_RECORDED", chargeId: PaymentId.parse("charge_unknown"), at: T0 + 5 * MINUTE })).toBe(false);
      expect(h.send({ type: "REFUND_RECORDED", chargeId: SECOND_CHARGE, at: T0 + 5 * MINUTE })).toBe(true);
      expect(h.context().strays).toMatchObject([{ chargeId: SECOND_CHARGE, status: "refunded" }]);
      expect(h.send({ type: "REFUND_RECORDED", chargeId: SECOND_CHARGE, at: T0 + 6 * MINUTE })).toBe(false);
      expect(h.path()).toBe("delivered.announcing");
    }
  });

  test("recording a stray's refund on a failed delivery marks the stray, not the order, refunded", async () => {
    const h = harness({ maxDeliveryAttempts: 1 });
    await toAwaitingPayment(h);
    h.send(paymentOf(T0 + MINUTE));
    h.send({ type: "START_DELIVERY", at: T0 + MINUTE });
    await h.answer("deliverGoods", notIssued(T0 + MINUTE));
    expect(h.path()).toBe("delivery_failed");
    h.send(paymentOf(T0 + 2 * MINUTE, CHARGE, SECOND_CHARGE));
    await h.answer("refundPayment", cannotRefund(T0 + 2 * MINUTE));
    h.send({ type: "REFUND_RECORDED", chargeId: SECOND_CHARGE, at: T0 + 3 * MINUTE });
    expect(h.context().strays).toMatchObject([{ chargeId: SECOND_CHARGE, status: "refunded" }]);
    expect(h.path()).toBe("delivery_failed");
    expect(h.context().refund).toBeNull();
  });
});

describe("the owner's actions on a failed delivery", () => {
  test("a retry gets a fresh set of attempts and goes through the stored waypoint again", async () => {
    const h = harness();
    await toDeliveryFailed(h);
    expect(h.send({ type: "ADMIN_RETRY_DELIVERY", at: T0 + HOUR })).toBe(true);
    expect(h.path()).toBe("paid.recorded");
    expect(h.context()).toMatchObject({ problem: null, delivery: { attempts: 0, nextAttemptAt: null } });
    h.send({ type: "START_DELIVERY", at: T0 + HOUR });
    expect(h.waiting("deliverGoods")[0]?.input).toMatchObject({ attempt: 1 });
    await h.answer("deliverGoods", issued(T0 + HOUR));
    expect(h.path()).toBe("delivered.announcing");
  });

  test("a refund returns what the order was paid through the provider", async () => {
    const h = harness();
    await toDeliveryFailed(h);
    h.send({ type: "ADMIN_REFUND", at: T0 + HOUR });
    expect(h.path()).toBe("refunding");
    expect(h.context().refund).toMatchObject({ reason: "owner", chargeId: INVOICE, amount: CHARGE, foreign: null });
    await h.answer("refundPayment", refundedOk(T0 + HOUR));
    expect(h.path()).toBe("refunded");
    expect(h.snapshot().hasTag("refunded")).toBe(true);
  });

  test("money the owner returned by hand is recorded", async () => {
    const h = harness();
    await toDeliveryFailed(h);
    h.send({ type: "REFUND_RECORDED", at: T0 + HOUR });
    expect(h.path()).toBe("refunded");
    expect(h.context().refund).toMatchObject({ reason: "owner", manual: true, refundedAt: T0 + HOUR, chargeId: INVOICE });
    expect(h.calls.refundPayment).toHaveLength(0);
  });

  test("owner events are refused where the order has no use for them", async () => {
    const h = harness();
    await toDelivered(h);
    for (const type of ["ADMIN_RETRY_DELIVERY", "ADMIN_REFUND", "REFUND_RECORDED"] as const) {
      expect(h.snapshot().can({ type, at: T0 }), type).toBe(false);
    }
  });
});

/** The snapshot restored from its stored JSON, in a fresh actor with the same fakes. */
function restore(stored: Snapshot<unknown>, options: HarnessOptions = {}): Harness {
  return harness({ ...options, snapshot: stored });
}

/** Every state an order can rest or work in (transient `always` states are left within the same step). */
const TRANSIENT = new Set(["cancelled.closing", "expired.closing", "delivered.settling"]);
/** `always` states that are left only when their guard holds (a closed order holding a promo code's use gives it back first). */
const LEFT_WHEN_DUE = new Set(["cancelled.invoice_closed", "expired.invoice_closed"]);
const LEAVES = STATE_PATHS.filter((path) => !STATE_PATHS.some((other) => other.startsWith(`${path}.`)) && !TRANSIENT.has(path));
const BUSY: Partial<Record<string, ActorName>> = {
  pricing: "priceQuote",
  creating_payment: "createPayment",
  "awaiting_payment.checking": "checkPayment",
  "paid.delivering": "deliverGoods",
  "delivered.checking_goods": "sweepStrayGoods",
  "cancelled.voiding": "voidInvoice",
  "cancelled.checking": "checkPayment",
  "expired.voiding": "voidInvoice",
  "expired.checking": "checkPayment",
  refunding: "refundPayment",
  checking_promo: "checkPromo",
  reserving_promo: "reservePromo",
  "cancelled.releasing_promo": "releasePromo",
  "expired.releasing_promo": "releasePromo",
  reissuing: "reissueGoods",
};

describe("a stored snapshot restores", () => {
  test("the transient states are exactly the machine's `always` states", () => {
    const always = STATE_PATHS.filter((path) => {
      const node = purchaseMachine.getStateNodeById(`purchase.${path}`);
      return node.always !== undefined && node.always.length > 0;
    });
    expect(always.sort()).toEqual([...TRANSIENT, ...LEFT_WHEN_DUE].sort());
  });

  test("every state, to the same state and context; a busy state runs its actor again", async () => {
    const seen = new Map<string, Snapshot<unknown>>();
    /** Walks `h`, storing a snapshot of every state it passes through. */
    const record = (h: Harness) => {
      const keep = () => {
        const path = h.path();
        if (!seen.has(path)) seen.set(path, h.stored());
      };
      keep();
      h.actor.subscribe(keep);
    };
    const tours: ((h: Harness) => Promise<void>)[] = [
      async (h) => {
        await toDelivered(h, { mayLeaveStrays: true });
        h.send({ type: "GOODS_SHOWN", at: T0 + 2 * MINUTE });
        h.send({ type: "DEADLINE", at: h.context().delivery.strayCheckAt! });
        await h.answer("sweepStrayGoods", { revoked: 0, at: T0 + 3 * MINUTE });
      },
      async (h) => {
        await toAwaitingPayment(h);
        h.send({ type: "CHECK_PAYMENT", at: T0 + 2 });
        await h.answer("checkPayment", checked("unavailable", T0 + 2));
        h.send({ type: "CANCEL", at: T0 + 3 });
        await h.answer("voidInvoice", { voided: false, at: T0 + 3 });
        h.send({ type: "DEADLINE", at: h.context().payment!.expiresAt });
        await h.answer("checkPayment", checked("expired", h.context().payment!.expiresAt));
      },
      async (h) => {
        await toAwaitingPayment(h);
        h.send({ type: "DEADLINE", at: h.context().payment!.expiresAt });
        await h.answer("checkPayment", checked("pending", h.context().payment!.expiresAt));
        await h.answer("voidInvoice", { voided: false, at: T0 + HOUR });
        h.send({ type: "DEADLINE", at: h.context().payment!.expiresAt });
        await h.answer("checkPayment", checked("pending", h.context().payment!.expiresAt + 1));
        h.send({ type: "INVOICE_CLOSED", paymentId: INVOICE, at: T0 + 3 * HOUR });
      },
      async (h) => {
        await toDeliveryFailed(h);
        h.send({ type: "ADMIN_REFUND", at: T0 + HOUR });
        await h.answer("refundPayment", cannotRefund(T0 + HOUR));
        h.send({ type: "REFUND_RECORDED", at: T0 + HOUR });
      },
      async (h) => {
        await toAwaitingPayment(h);
        h.send({ type: "PAYMENT_FAILED", paymentId: INVOICE, at: T0 + 2 });
      },
      async (h) => {
        await toDelivered(h);
        h.send({ type: "GOODS_SHOWN", at: T0 + HOUR });
        h.send({ type: "REISSUE", at: T0 + HOUR });
        await h.answer("reissueGoods", issued(T0 + HOUR));
      },
    ];
    /** Tours of an order in a shop of two products, with a promo code. */
    const choosing: ((h: Harness) => Promise<void>)[] = [
      async (h) => {
        h.send({ type: "SET_AMOUNT", tokens: 2_000, at: T0 });
        h.send({ type: "APPLY_PROMO", code: "spring10", at: T0 });
        await h.answer("checkPromo", { ok: true, code: "SPRING10" });
        h.send({ type: "SET_PRODUCT", product: "keys", at: T0 });
        await h.answer("priceQuote", pricedWith(2_000, T0, { promoCode: "SPRING10" }));
        h.send({ type: "CONFIRM", at: T0 + 1 });
        await h.answer("reservePromo", { ok: true });
        await h.answer("createPayment", invoiced(T0 + 1));
        h.send({ type: "CANCEL", at: T0 + 2 });
        await h.answer("voidInvoice", { voided: true, at: T0 + 2 });
        await h.answer("releasePromo", { at: T0 + 2 });
      },
      async (h) => {
        h.send({ type: "SET_AMOUNT", tokens: 2_000, product: "tokens", at: T0 });
        await h.answer("priceQuote", pricedWith(2_000, T0, { promoCode: null }));
        h.send({ type: "APPLY_PROMO", code: "spring10", at: T0 });
        await h.answer("checkPromo", { ok: true, code: "SPRING10" });
        await h.answer("priceQuote", pricedWith(2_000, T0, { promoCode: "SPRING10" }));
        h.send({ type: "CONFIRM", at: T0 + 1 });
        await h.answer("reservePromo", { ok: true });
        await h.answer("createPayment", { ok: false, reason: "payment_unavailable" });
        h.send({ type: "DEADLINE", at: h.context().quote!.expiresAt });
        await h.answer("releasePromo", { at: h.context().quote!.expiresAt });
      },
    ];
    for (const [tour, options] of [
      ...tours.map((t) => [t, {}] as const),
      ...choosing.map((t) => [t, { products: TWO_PRODUCTS }] as const),
    ]) {
      const h = harness(options);
      record(h);
      await tour(h);
    }
    expect(
      LEAVES.filter((path) => !seen.has(path)),
      "states no tour stored",
    ).toEqual([]);

    for (const path of LEAVES) {
      const stored = seen.get(path)!;
      const restored = restore(stored, { products: TWO_PRODUCTS });
      expect(restored.errors, path).toEqual([]);
      expect(restored.path(), path).toBe(path);
      expect(restored.context(), path).toEqual((stored as unknown as { context: unknown }).context);
      expect(restored.snapshot().status, path).toBe("active");
      const busy = BUSY[path];
      // XState runs the invoked actor of a restored busy state again (which is why actors are idempotent);
      // a resting state runs nothing.
      const started = (Object.keys(restored.calls) as ActorName[]).filter((name) => restored.calls[name].length > 0);
      expect(started, path).toEqual(busy ? [busy] : []);
    }
  });

  test("a busy state's restored actor finishes the work", async () => {
    const h = harness();
    await toAwaitingPayment(h);
    h.send(paymentOf(T0 + MINUTE));
    h.send({ type: "START_DELIVERY", at: T0 + MINUTE });
    const stored = h.stored();
    const restored = restore(stored);
    expect(restored.waiting("deliverGoods")[0]?.input).toMatchObject({ orderId: "ord_1", attempt: 1 });
    await restored.answer("deliverGoods", issued(T0 + 2 * MINUTE));
    expect(restored.path()).toBe("delivered.announcing");
  });

  test("a stray payment mid-refund is restored with its child, which refunds it again and reports back", async () => {
    const h = harness();
    await toDelivered(h);
    h.send(paymentOf(T0 + 3 * MINUTE, CHARGE, SECOND_CHARGE));
    const stored = h.stored();
    expect(Object.keys((stored as unknown as { children: object }).children)).toEqual([`stray:${SECOND_CHARGE}`]);

    const restored = restore(stored);
    expect(restored.errors).toEqual([]);
    expect(restored.path()).toBe("delivered.announcing");
    expect(isWorking(restored.snapshot())).toBe(true);
    const child = restored.snapshot().children[`stray:${SECOND_CHARGE}`] as AnyActorRef | undefined;
    expect(child?.getSnapshot().value).toBe("returning");
    expect(restored.waiting("refundPayment").map((call) => call.input)).toEqual([
      { orderId: "ord_1", chatId: "chat_1", chargeId: SECOND_CHARGE, amount: CHARGE },
    ]);
    await restored.answer("refundPayment", { ok: true, refundId: "rf_again", at: T0 + 4 * MINUTE });
    expect(restored.context().strays).toMatchObject([{ chargeId: SECOND_CHARGE, status: "refunded", refundId: "rf_again" }]);
    expect(isWorking(restored.snapshot())).toBe(false);
    // And the settled order stores and restores once more, with its stray settled.
    expect(restore(restored.stored()).context().strays).toMatchObject([{ status: "refunded" }]);
  });
});
