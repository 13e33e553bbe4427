/**
 * The purchase machine's catalog rules (issue 21), proved on the machine alone like test/unit/machine.test.ts:
 * which product an order is for (an amount without one, in a shop of several, asks which), promo codes
 * (checked when given, re-checked when priced, a use reserved at Confirm and given back when the order
 * closes unpaid) and lost goods replaced (a few times per order).
 */
import { describe, expect, test } from "vitest";
import { MAX_REISSUES } from "../../machines/purchase.machine.ts";
import {
  HOUR,
  type Harness,
  MINUTE,
  T0,
  TWO_PRODUCTS,
  harness,
  invoiced,
  issued,
  notIssued,
  paymentOf,
  pricedWith,
  toDelivered,
  toQuoted,
} from "../support/purchase-harness.ts";

const amount = (tokens: number, product?: string) => ({ type: "SET_AMOUNT" as const, tokens, ...(product ? { product } : {}), at: T0 });
const product = (id: string) => ({ type: "SET_PRODUCT" as const, product: id, at: T0 });
const promo = (code: string, at = T0) => ({ type: "APPLY_PROMO" as const, code, at });
const shop = () => harness({ products: TWO_PRODUCTS });

/** A quote of 2,000 "tokens" with SPRING10 applied, in a shop of two products. */
async function quotedWithPromo(h: Harness) {
  h.send(amount(2_000, "tokens"));
  await h.answer("priceQuote", pricedWith(2_000, T0));
  h.send(promo("spring10"));
  await h.answer("checkPromo", { ok: true, code: "SPRING10" });
  await h.answer("priceQuote", pricedWith(2_000, T0, { promoCode: "SPRING10" }));
  expect(h.path()).toBe("quoted");
}

describe("products", () => {
  test("with one product nothing is asked: an amount is priced for it", () => {
    const h = harness();
    expect(h.context()).toMatchObject({ productId: "tokens", products: [{ id: "tokens", minTokens: 100, maxTokens: 1_000_000 }] });
    h.send(amount(2_000));
    expect(h.path()).toBe("pricing");
    expect(h.waiting("priceQuote")[0]?.input).toMatchObject({ productId: "tokens", tokens: 2_000, promoCode: null });
  });

  test("in a shop of several, an amount without a product asks which; choosing one quotes the amount it remembered", async () => {
    const h = shop();
    expect(h.context()).toMatchObject({ productId: null, limits: { minTokens: 100, maxTokens: 1_000_000 } });
    expect(h.send(amount(2_000))).toBe(true);
    expect(h.path()).toBe("choosing_product");
    expect(h.context().tokens).toBe(2_000);
    h.send(product("keys"));
    expect(h.path()).toBe("pricing");
    expect(h.waiting("priceQuote")[0]?.input).toMatchObject({ productId: "keys", tokens: 2_000 });
    await h.answer("priceQuote", pricedWith(2_000, T0));
    expect(h.context()).toMatchObject({ productId: "keys", limits: { minTokens: 500, maxTokens: 10_000 }, tokens: 2_000 });
  });

  test("an amount with its product is priced at once, within that product's limits", () => {
    const h = shop();
    expect(h.snapshot().can(amount(20_000, "keys"))).toBe(false);
    expect(h.snapshot().can(amount(400, "keys"))).toBe(false);
    expect(h.snapshot().can(amount(50))).toBe(false);
    expect(h.snapshot().can(amount(2_000, "nonsense"))).toBe(false);
    h.send(amount(20_000, "tokens"));
    expect(h.path()).toBe("pricing");
    expect(h.waiting("priceQuote")[0]?.input).toMatchObject({ productId: "tokens", tokens: 20_000 });
  });

  test("a product that does not sell the amount asked for is refused; one that does is taken", () => {
    const h = shop();
    h.send(amount(20_000));
    expect(h.path()).toBe("choosing_product");
    expect(h.send(product("keys"))).toBe(false);
    expect(h.send(product("nonsense"))).toBe(false);
    expect(h.path()).toBe("choosing_product");
    // Another amount is still an amount to choose a product for; one with its product is priced.
    h.send(amount(3_000));
    expect([h.path(), h.context().tokens]).toEqual(["choosing_product", 3_000]);
    h.send(amount(3_000, "keys"));
    expect(h.path()).toBe("pricing");
  });

  test("a product chosen before an amount stays at the start, its limits the order's, its packages offered", () => {
    const h = shop();
    h.send(product("keys"));
    expect(h.path()).toBe("initial");
    expect(h.context()).toMatchObject({ productId: "keys", limits: { minTokens: 500, maxTokens: 10_000 }, tokens: null });
    expect(h.snapshot().can(amount(20_000))).toBe(false);
    h.send(amount(2_000));
    expect(h.waiting("priceQuote")[0]?.input).toMatchObject({ productId: "keys", tokens: 2_000 });
  });

  test("a quote moves to another product at the same amount, re-priced; one that cannot sell it is refused", async () => {
    const h = shop();
    h.send(amount(20_000, "tokens"));
    await h.answer("priceQuote", pricedWith(20_000, T0));
    expect(h.send(product("keys"))).toBe(false);
    h.send(amount(2_000));
    await h.answer("priceQuote", pricedWith(2_000, T0));
    h.send(product("keys"));
    expect(h.path()).toBe("pricing");
    expect(h.waiting("priceQuote")[0]?.input).toMatchObject({ productId: "keys", tokens: 2_000 });
  });

  test("an order waiting for its product can be cancelled", () => {
    const h = shop();
    h.send(amount(2_000));
    h.send({ type: "CANCEL", at: T0 + 1 });
    expect(h.path()).toBe("cancelled.invoice_closed");
  });
});

describe("promo codes", () => {
  test("a code given before any amount is checked, kept, and prices the next quote", async () => {
    const h = shop();
    h.send(promo("spring10"));
    expect(h.path()).toBe("checking_promo");
    expect(h.waiting("checkPromo")[0]?.input).toMatchObject({ code: "spring10", productId: null });
    await h.answer("checkPromo", { ok: true, code: "SPRING10" });
    expect(h.path()).toBe("initial");
    expect(h.context()).toMatchObject({ promoCode: "SPRING10", promoTyped: null, problem: null });
    h.send(amount(2_000, "keys"));
    expect(h.waiting("priceQuote")[0]?.input).toMatchObject({ promoCode: "SPRING10" });
  });

  test("a code given while the product is chosen is checked, and the amount keeps waiting for its product", async () => {
    const h = shop();
    h.send(amount(2_000));
    h.send(promo("spring10"));
    await h.answer("checkPromo", { ok: true, code: "SPRING10" });
    expect(h.path()).toBe("choosing_product");
    h.send(promo("nope"));
    await h.answer("checkPromo", { ok: false, reason: "unknown" });
    expect(h.path()).toBe("choosing_product");
    expect(h.context()).toMatchObject({ promoCode: "SPRING10", promoRefusal: "unknown", problem: "promo_refused", tokens: 2_000 });
  });

  test("a code given on a quote re-prices it; a refused one leaves the quote as it was and says why", async () => {
    const h = shop();
    await quotedWithPromo(h);
    expect(h.context()).toMatchObject({ promoCode: "SPRING10", quote: { usd: { minor: 3_600 }, details: { promoCode: "SPRING10" } } });
    const quote = h.context().quote;
    for (const reason of ["unknown", "expired", "used_up", "wrong_product", "already_used_by_you"] as const) {
      h.send(promo("other", T0 + 1));
      await h.answer("checkPromo", { ok: false, reason });
      expect(h.path()).toBe("quoted");
      expect(h.context()).toMatchObject({ quote, promoCode: "SPRING10", promoRefusal: reason, problem: "promo_refused" });
    }
  });

  test("a check that fails returns the order where it stood, and says pricing is unavailable", async () => {
    for (const setUp of [async () => {}, async (h: Harness) => void h.send(amount(2_000)), quotedWithPromo]) {
      const h = shop();
      await setUp(h);
      const before = h.path();
      h.send(promo("spring10"));
      await h.answer("checkPromo", new Error("store down"));
      expect([h.path(), h.context().problem]).toEqual([before, "pricing_unavailable"]);
    }
  });

  test("a code pricing can no longer use (used up meanwhile, another product) is dropped from the quote, and the customer told", async () => {
    const h = shop();
    h.send(promo("spring10"));
    await h.answer("checkPromo", { ok: true, code: "SPRING10" });
    h.send(amount(2_000, "keys"));
    await h.answer("priceQuote", { ...pricedWith(2_000, T0), promoRefused: "wrong_product" });
    expect(h.path()).toBe("quoted");
    expect(h.context()).toMatchObject({
      promoCode: null,
      promoRefusal: "wrong_product",
      problem: "promo_refused",
      quote: { details: { promoCode: null } },
    });
  });

  test("Confirm reserves the quote's code before invoicing; the order then holds its use", async () => {
    const h = shop();
    await quotedWithPromo(h);
    h.send({ type: "CONFIRM", at: T0 + 1 });
    expect(h.path()).toBe("reserving_promo");
    expect(h.waiting("reservePromo")[0]?.input).toEqual({
      orderId: "ord_1",
      chatId: "chat_1",
      productId: "tokens",
      code: "SPRING10",
      held: null,
    });
    await h.answer("reservePromo", { ok: true });
    expect(h.path()).toBe("creating_payment");
    expect(h.context().promoHeld).toBe("SPRING10");
  });

  test("a code used up since the quote is dropped at Confirm: priced again without it, nothing invoiced", async () => {
    const h = shop();
    await quotedWithPromo(h);
    h.send({ type: "CONFIRM", at: T0 + 1 });
    await h.answer("reservePromo", { ok: false, reason: "used_up" });
    expect(h.path()).toBe("pricing");
    expect(h.waiting("priceQuote")[0]?.input).toMatchObject({ promoCode: null });
    expect(h.calls.createPayment).toHaveLength(0);
    await h.answer("priceQuote", pricedWith(2_000, T0 + 1));
    expect(h.context()).toMatchObject({ promoCode: null, promoHeld: null, promoRefusal: "used_up", problem: "promo_refused" });
  });

  test("an order with no code invoices at once; one whose code was dropped gives back the use it held first", async () => {
    const plain = shop();
    plain.send(amount(2_000, "tokens"));
    await plain.answer("priceQuote", pricedWith(2_000, T0));
    plain.send({ type: "CONFIRM", at: T0 + 1 });
    expect(plain.path()).toBe("creating_payment");

    const h = shop();
    await quotedWithPromo(h);
    h.send({ type: "CONFIRM", at: T0 + 1 });
    await h.answer("reservePromo", { ok: true });
    await h.answer("createPayment", { ok: false, reason: "payment_unavailable" });
    expect([h.path(), h.context().promoHeld]).toEqual(["quoted", "SPRING10"]);
    // Re-priced for another product the code does not cover: the held use is settled at the next Confirm.
    h.send(product("keys"));
    await h.answer("priceQuote", { ...pricedWith(2_000, T0 + 2), promoRefused: "wrong_product" });
    h.send({ type: "CONFIRM", at: T0 + 3 });
    expect(h.waiting("reservePromo")[0]?.input).toMatchObject({ code: null, held: "SPRING10" });
    await h.answer("reservePromo", { ok: true });
    expect([h.path(), h.context().promoHeld]).toEqual(["creating_payment", null]);
  });

  test("an order that closes unpaid gives its use back, cancelled or expired; a paid one keeps it", async () => {
    const cancelled = shop();
    await quotedWithPromo(cancelled);
    cancelled.send({ type: "CONFIRM", at: T0 + 1 });
    await cancelled.answer("reservePromo", { ok: true });
    await cancelled.answer("createPayment", invoiced(T0 + 1));
    cancelled.send({ type: "CANCEL", at: T0 + 2 });
    await cancelled.answer("voidInvoice", { voided: true, at: T0 + 2 });
    expect(cancelled.path()).toBe("cancelled.releasing_promo");
    expect(cancelled.waiting("releasePromo")[0]?.input).toEqual({ orderId: "ord_1", chatId: "chat_1", code: "SPRING10" });
    await cancelled.answer("releasePromo", { at: T0 + 2 });
    expect([cancelled.path(), cancelled.context().promoHeld]).toEqual(["cancelled.invoice_closed", null]);

    const expired = shop();
    await quotedWithPromo(expired);
    expired.send({ type: "CONFIRM", at: T0 + 1 });
    await expired.answer("reservePromo", { ok: true });
    await expired.answer("createPayment", { ok: false, reason: "payment_unavailable" });
    expired.send({ type: "DEADLINE", at: expired.context().quote!.expiresAt });
    expect(expired.path()).toBe("expired.releasing_promo");
    // Giving it back failed for good: the use stays spent (never more than max_uses), the order is over.
    await expired.answer("releasePromo", new Error("bug"));
    expect([expired.path(), expired.context().promoHeld]).toEqual(["expired.invoice_closed", null]);

    const paid = shop();
    await quotedWithPromo(paid);
    paid.send({ type: "CONFIRM", at: T0 + 1 });
    await paid.answer("reservePromo", { ok: true });
    await paid.answer("createPayment", invoiced(T0 + 1));
    paid.send(paymentOf(T0 + MINUTE));
    paid.send({ type: "START_DELIVERY", at: T0 + MINUTE });
    await paid.answer("deliverGoods", issued(T0 + MINUTE));
    expect([paid.path(), paid.context().promoHeld]).toEqual(["delivered.announcing", "SPRING10"]);
    expect(paid.calls.releasePromo).toHaveLength(0);
  });

  test("an invoice left open after a cancel keeps the use until no money can come: late money still buys with the code", async () => {
    const h = shop();
    await quotedWithPromo(h);
    h.send({ type: "CONFIRM", at: T0 + 1 });
    await h.answer("reservePromo", { ok: true });
    await h.answer("createPayment", invoiced(T0 + 1));
    h.send({ type: "CANCEL", at: T0 + 2 });
    await h.answer("voidInvoice", { voided: false, at: T0 + 2 });
    expect([h.path(), h.context().promoHeld]).toEqual(["cancelled.invoice_open", "SPRING10"]);
    h.send(paymentOf(T0 + 3));
    expect(h.path()).toBe("paid.recorded");
    expect(h.calls.releasePromo).toHaveLength(0);
  });
});

describe("reissuing lost goods", () => {
  test("a delivered order's goods are replaced: reissuing, then delivered again with the new goods announced", async () => {
    const h = harness();
    await toDelivered(h);
    h.send({ type: "GOODS_SHOWN", at: T0 + 2 * MINUTE });
    h.send({ type: "REISSUE", at: T0 + HOUR });
    expect(h.path()).toBe("reissuing");
    expect(h.snapshot().hasTag("busy")).toBe(true);
    expect(h.waiting("reissueGoods")[0]?.input).toEqual({
      orderId: "ord_1",
      chatId: "chat_1",
      productId: "tokens",
      tokens: 2_000,
      generation: 1,
    });
    await h.answer("reissueGoods", { ok: true, ref: "voucher:2", hint: "…WXYZ", at: T0 + HOUR, mayLeaveStrays: true });
    expect(h.path()).toBe("delivered.announcing");
    expect(h.context()).toMatchObject({
      reissues: 1,
      delivery: { ref: "voucher:2", hint: "…WXYZ", announceAt: T0 + HOUR + 20_000, strayCheckAt: T0 + HOUR + MINUTE },
    });
  });

  test("goods still being announced are not lost: announcing takes no REISSUE (the engine shows them again)", async () => {
    const h = harness();
    await toDelivered(h);
    expect(h.path()).toBe("delivered.announcing");
    expect(h.send({ type: "REISSUE", at: T0 + MINUTE })).toBe(false);
    expect(h.calls.reissueGoods).toHaveLength(0);
  });

  test(`at most ${MAX_REISSUES} times per order; then the order refuses (the owner helps)`, async () => {
    const h = harness();
    await toDelivered(h);
    h.send({ type: "GOODS_SHOWN", at: T0 + 2 * MINUTE });
    for (let n = 1; n <= MAX_REISSUES; n++) {
      expect(h.send({ type: "REISSUE", at: T0 + n * HOUR })).toBe(true);
      expect(h.waiting("reissueGoods")[0]?.input).toMatchObject({ generation: n });
      await h.answer("reissueGoods", issued(T0 + n * HOUR));
      h.send({ type: "GOODS_SHOWN", at: T0 + n * HOUR });
    }
    expect(h.send({ type: "REISSUE", at: T0 + 9 * HOUR })).toBe(false);
    expect([h.path(), h.context().reissues]).toEqual(["delivered.settled", MAX_REISSUES]);
  });

  test("a reissue that fails leaves the old goods, says so, and may be asked for again", async () => {
    const h = harness();
    await toDelivered(h);
    h.send({ type: "GOODS_SHOWN", at: T0 + 2 * MINUTE });
    for (const failure of [notIssued(T0 + HOUR), new Error("crashed")]) {
      h.send({ type: "REISSUE", at: T0 + HOUR });
      await h.answer("reissueGoods", failure);
      expect(h.path()).toBe("delivered.settled");
      expect(h.context()).toMatchObject({ reissues: 0, problem: "reissue_failed", delivery: { ref: "voucher:1" } });
    }
  });

  test("nothing is reissued before delivery", async () => {
    const h = harness();
    await toQuoted(h);
    expect(h.send({ type: "REISSUE", at: T0 })).toBe(false);
  });
});
