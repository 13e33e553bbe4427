import { describe, expect, test } from "vitest";
import { createActor, fromPromise, waitFor } from "xstate";
import {
  type DeliveryResult,
  type PaymentCreationResult,
  type PricingResult,
  purchaseMachine,
} from "../../machines/purchase.machine.ts";
import { ChatId, OrderId, PaymentId } from "../../src/domain/ids.ts";

const T0 = 1_000_000;
const quote = (tokens: number) => ({
  tokens,
  usd: { minor: tokens * 2, currency: "USD" as const },
  charge: { minor: tokens * 2, currency: "USDT" as const },
  quotedAt: T0,
  expiresAt: T0 + 900_000,
});

function start(options: { deliver?: () => DeliveryResult; price?: (tokens: number) => PricingResult; pay?: () => PaymentCreationResult } = {}) {
  const machine = purchaseMachine.provide({
    actors: {
      priceQuote: fromPromise(async ({ input }) => options.price?.(input.tokens) ?? { ok: true as const, quote: quote(input.tokens) }),
      createPayment: fromPromise(
        async () =>
          options.pay?.() ?? {
            ok: true as const,
            payment: { provider: "sandbox", paymentId: PaymentId.parse("pay_1"), payUrl: "http://pay/1", charge: { minor: 4000, currency: "USDT" }, createdAt: T0, expiresAt: T0 + 3_600_000 },
          },
      ),
      deliverGoods: fromPromise(async () => options.deliver?.() ?? { ok: true as const, ref: "v:1", hint: "…ABCD", at: T0 + 10 }),
    },
  });
  const actor = createActor(machine, {
    input: { orderId: OrderId.parse("ord_1"), chatId: ChatId.parse("c1"), minTokens: 100, maxTokens: 1_000_000, maxDeliveryAttempts: 3, retryBackoffMs: 1000, at: T0 },
  });
  actor.start();
  const settled = () => waitFor(actor, (s) => !s.hasTag("busy"));
  return { actor, settled };
}

async function toAwaitingPayment() {
  const run = start();
  run.actor.send({ type: "QUOTE", tokens: 2000, at: T0 });
  await run.settled();
  run.actor.send({ type: "CONFIRM", at: T0 + 1 });
  await run.settled();
  return run;
}

describe("purchase machine", () => {
  test("a quote within limits is priced and held", async () => {
    const { actor, settled } = start();
    actor.send({ type: "QUOTE", tokens: 2000, at: T0 });
    const snapshot = await settled();
    expect(snapshot.value).toBe("quoted");
    expect(snapshot.context.quote?.tokens).toBe(2000);
  });

  test("refuses amounts outside the catalog's limits", () => {
    const { actor } = start();
    expect(actor.getSnapshot().can({ type: "QUOTE", tokens: 99, at: T0 })).toBe(false);
    expect(actor.getSnapshot().can({ type: "QUOTE", tokens: 1_000_001, at: T0 })).toBe(false);
    expect(actor.getSnapshot().can({ type: "QUOTE", tokens: 100, at: T0 })).toBe(true);
    expect(actor.getSnapshot().can({ type: "QUOTE", tokens: 1_000_000, at: T0 })).toBe(true);
  });

  test("a correction in quoted re-prices", async () => {
    const { actor, settled } = start();
    actor.send({ type: "QUOTE", tokens: 2000, at: T0 });
    await settled();
    actor.send({ type: "CHANGE_AMOUNT", tokens: 5000, at: T0 + 5 });
    expect((await settled()).context.quote?.tokens).toBe(5000);
  });

  test("confirming an expired quote re-prices instead of invoicing the stale price", async () => {
    const { actor, settled } = start();
    actor.send({ type: "QUOTE", tokens: 2000, at: T0 });
    await settled();
    actor.send({ type: "CONFIRM", at: T0 + 900_000 });
    const snapshot = await settled();
    expect(snapshot.value).toBe("quoted");
    expect(snapshot.context.problem).toBe("quote_refreshed");
  });

  test("nothing to confirm or pay before a quote", () => {
    const { actor } = start();
    const s = actor.getSnapshot();
    expect(s.can({ type: "CONFIRM", at: T0 })).toBe(false);
    expect(s.can({ type: "PAYMENT_CONFIRMED", paymentId: PaymentId.parse("pay_1"), amount: { minor: 4000, currency: "USDT" }, at: T0 })).toBe(false);
  });

  test("only a confirmation matching payment id, amount and currency moves to paid", async () => {
    const { actor } = await toAwaitingPayment();
    const s = actor.getSnapshot();
    expect(s.value).toBe("awaiting_payment");
    expect(s.can({ type: "PAYMENT_CONFIRMED", paymentId: PaymentId.parse("pay_2"), amount: { minor: 4000, currency: "USDT" }, at: T0 })).toBe(false);
    expect(s.can({ type: "PAYMENT_CONFIRMED", paymentId: PaymentId.parse("pay_1"), amount: { minor: 3999, currency: "USDT" }, at: T0 })).toBe(false);
    expect(s.can({ type: "PAYMENT_CONFIRMED", paymentId: PaymentId.parse("pay_1"), amount: { minor: 4000, currency: "USD" }, at: T0 })).toBe(false);
    expect(s.can({ type: "PAYMENT_CONFIRMED", paymentId: PaymentId.parse("pay_1"), amount: { minor: 4000, currency: "USDT" }, at: T0 })).toBe(true);
  });

  test("a matching confirmation is recorded first and issues nothing until delivery is started", async () => {
    let issued = 0;
    const { actor, settled } = start({
      deliver: () => {
        issued++;
        return { ok: true, ref: "v:1", hint: "…ABCD", at: T0 + 10 };
      },
    });
    actor.send({ type: "QUOTE", tokens: 2000, at: T0 });
    await settled();
    actor.send({ type: "CONFIRM", at: T0 + 1 });
    await settled();
    actor.send({ type: "PAYMENT_CONFIRMED", paymentId: PaymentId.parse("pay_1"), amount: { minor: 4000, currency: "USDT" }, at: T0 + 2 });
    const recorded = actor.getSnapshot();
    expect(recorded.value).toEqual({ paid: "recorded" });
    expect(recorded.hasTag("resume")).toBe(true);
    expect(recorded.context.paidAt).toBe(T0 + 2);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(issued, "goods are issued only after START_DELIVERY (sent once paid.recorded is stored)").toBe(0);
    actor.send({ type: "START_DELIVERY", at: T0 + 3 });
    await settled();
    expect(issued).toBe(1);
  });

  test("a matching confirmation delivers and ends the order", async () => {
    const { actor, settled } = await toAwaitingPayment();
    actor.send({ type: "PAYMENT_CONFIRMED", paymentId: PaymentId.parse("pay_1"), amount: { minor: 4000, currency: "USDT" }, at: T0 + 2 });
    actor.send({ type: "START_DELIVERY", at: T0 + 3 });
    const snapshot = await settled();
    expect(snapshot.value).toBe("delivered");
    expect(snapshot.status).toBe("done");
    expect(snapshot.context.delivery.ref).toBe("v:1");
  });

  test("the amount cannot change while a payment is open", async () => {
    const { actor } = await toAwaitingPayment();
    expect(actor.getSnapshot().can({ type: "CHANGE_AMOUNT", tokens: 3000, at: T0 })).toBe(false);
    expect(actor.getSnapshot().can({ type: "QUOTE", tokens: 3000, at: T0 })).toBe(false);
    expect(actor.getSnapshot().can({ type: "RESTART", at: T0 })).toBe(false);
  });

  test("an unpaid invoice expires and a cancelled order is final", async () => {
    const first = await toAwaitingPayment();
    first.actor.send({ type: "PAYMENT_EXPIRED", at: T0 + 3_600_000 });
    expect(first.actor.getSnapshot().value).toBe("expired");
    const second = await toAwaitingPayment();
    second.actor.send({ type: "CANCEL", at: T0 + 3 });
    expect(second.actor.getSnapshot().value).toBe("cancelled");
  });

  test("a quote expires only once its deadline has passed", async () => {
    const { actor, settled } = start();
    actor.send({ type: "QUOTE", tokens: 2000, at: T0 });
    await settled();
    expect(actor.getSnapshot().can({ type: "QUOTE_EXPIRED", at: T0 + 899_999 })).toBe(false);
    actor.send({ type: "QUOTE_EXPIRED", at: T0 + 900_000 });
    expect(actor.getSnapshot().value).toBe("expired");
  });

  test("failed deliveries retry with backoff, then stop in delivery_failed after the last attempt", async () => {
    const { actor, settled } = (() => {
      const run = start({ deliver: () => ({ ok: false, reason: "provider_unavailable", at: T0 + 100 }) });
      return run;
    })();
    actor.send({ type: "QUOTE", tokens: 2000, at: T0 });
    await settled();
    actor.send({ type: "CONFIRM", at: T0 + 1 });
    await settled();
    actor.send({ type: "PAYMENT_CONFIRMED", paymentId: PaymentId.parse("pay_1"), amount: { minor: 4000, currency: "USDT" }, at: T0 + 2 });
    actor.send({ type: "START_DELIVERY", at: T0 + 3 });
    let s = await settled();
    expect(s.matches({ paid: "waiting_retry" })).toBe(true);
    expect(s.context.delivery.nextAttemptAt).toBe(T0 + 100 + 1000);
    expect(s.can({ type: "RETRY_DELIVERY", at: T0 + 1099 })).toBe(false);
    actor.send({ type: "RETRY_DELIVERY", at: T0 + 1100 });
    s = await settled();
    expect(s.context.delivery.nextAttemptAt).toBe(T0 + 100 + 2000);
    actor.send({ type: "RETRY_DELIVERY", at: T0 + 5000 });
    s = await settled();
    expect(s.value).toBe("delivery_failed");
    expect(s.context.delivery.attempts).toBe(3);
    actor.send({ type: "REFUND_RECORDED", at: T0 + 6000 });
    expect(actor.getSnapshot().value).toBe("refunded");
  });

  test("a failed invoice creation returns to the quote with a reason", async () => {
    const { actor, settled } = start({ pay: () => ({ ok: false, reason: "payment_unavailable" }) });
    actor.send({ type: "QUOTE", tokens: 2000, at: T0 });
    await settled();
    actor.send({ type: "CONFIRM", at: T0 + 1 });
    const s = await settled();
    expect(s.value).toBe("quoted");
    expect(s.context.problem).toBe("payment_unavailable");
  });

  test("a persisted snapshot restores mid-payment with its deadlines", async () => {
    const { actor } = await toAwaitingPayment();
    const persisted = JSON.parse(JSON.stringify(actor.getPersistedSnapshot()));
    actor.stop();
    const restored = createActor(purchaseMachine, { snapshot: persisted, input: undefined as never });
    restored.start();
    expect(restored.getSnapshot().value).toBe("awaiting_payment");
    expect(restored.getSnapshot().context.payment?.expiresAt).toBe(T0 + 3_600_000);
  });
});
