/**
 * Telegram Stars through a real grammY Bot: updates go in with `bot.handleUpdate`, Bot API calls are
 * captured by an API transformer (no network), and the app is built from configuration.
 */
import { Bot } from "grammy";
import type { UserFromGetMe } from "grammy/types";
import { afterEach, describe, expect, it } from "vitest";
import { type App, createApp } from "../../src/app.ts";
import { loadConfig } from "../../src/config.ts";
import { createSandboxDelivery } from "../../src/delivery/index.ts";
import type { EngineReply } from "../../src/engine/reply.ts";
import { silentLogger } from "../../src/log.ts";
import { type StarsApi, isStarsProvider } from "../../src/payments/stars.ts";
import { starsPaymentsComposer } from "../../src/telegram/stars.ts";
import { snapshotOf } from "../../machines/purchase.reading.ts";

const START = Date.parse("2026-03-01T12:00:00Z");
const USER = { id: 4242, is_bot: false, first_name: "Ada" };
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function world(env: Record<string, string> = {}) {
  const clock = { now: START };
  const links: { title: string; payload: string; providerToken: string; currency: string; prices: { label: string; amount: number }[] }[] =
    [];
  const refunds: { userId: number; chargeId: string }[] = [];
  const starsApi: StarsApi = {
    async createInvoiceLink(title, _description, payload, providerToken, currency, prices) {
      links.push({ title, payload, providerToken, currency, prices });
      return `https://t.me/$stars_invoice_${links.length}`;
    },
    async refundStarPayment(userId, chargeId) {
      refunds.push({ userId, chargeId });
      return true;
    },
  };
  const sandbox = createSandboxDelivery();
  let issued = 0;
  const app: App = await createApp(
    loadConfig({ STORE_URL: "memory://", PAYMENT_PROVIDER: "stars", TELEGRAM_BOT_TOKEN: "123:TEST", ...env }),
    {
      listen: false,
      log: silentLogger,
      clock: () => clock.now,
      starsApi,
      delivery: { name: "sandbox", issue: (request) => ((issued += 1), sandbox.issue(request)) },
    },
  );
  cleanups.push(() => app.close());
  const notices: EngineReply[] = [];
  app.engine.setNotifier(async (_chatId, reply) => {
    notices.push(reply);
  });

  const bot = new Bot("123:TEST", {
    botInfo: { id: 123, is_bot: true, first_name: "Goblin", username: "goblin_bot" } as UserFromGetMe,
  });
  const apiCalls: { method: string; payload: Record<string, unknown> }[] = [];
  bot.api.config.use(async (_prev, method, payload) => {
    apiCalls.push({ method, payload: payload as Record<string, unknown> });
    return { ok: true, result: true } as never;
  });
  bot.use(starsPaymentsComposer(app, { clock: () => clock.now }));
  let updateId = 1;
  const preCheckout = async (payload: string, total: number, currency = "XTR") => {
    await bot.handleUpdate({
      update_id: updateId++,
      pre_checkout_query: { id: `pcq${updateId}`, from: USER, currency, total_amount: total, invoice_payload: payload },
    });
    const answer = apiCalls.filter((c) => c.method === "answerPreCheckoutQuery").at(-1);
    return answer?.payload as { ok: boolean; error_message?: string };
  };
  const paid = (payload: string, total: number, chargeId: string) =>
    bot.handleUpdate({
      update_id: updateId++,
      message: {
        message_id: updateId,
        date: Math.floor(clock.now / 1000),
        chat: { id: USER.id, type: "private", first_name: USER.first_name },
        from: USER,
        successful_payment: {
          currency: "XTR",
          total_amount: total,
          invoice_payload: payload,
          telegram_payment_charge_id: chargeId,
          provider_payment_charge_id: "",
        },
      },
    });
  const chatId = String(USER.id);
  const buy = async () => {
    await app.engine.handleText(chatId, "I need 2000 tokens");
    const reply = await app.engine.handleText(chatId, "yes");
    if (reply.kind !== "order" || reply.order.stage !== "awaiting_payment") throw new Error(`no invoice: ${JSON.stringify(reply)}`);
    return reply.order;
  };
  /** The order as its machine holds it now (stage, refund, strays, late). */
  const order = async (orderId: string) => (await app.engine.orderView(orderId))!;
  /** The order's own money going back, with the provider's ids. */
  const refundOf = async (orderId: string) => snapshotOf((await app.engine.order(orderId))!.snapshot).context.refund;
  return { app, clock, links, refunds, notices, preCheckout, paid, buy, order, refundOf, chatId, issued: () => issued };
}

describe("Telegram Stars", () => {
  it("an order is invoiced in Stars through an invoice link carrying the order id", async () => {
    const w = await world();
    const order = await w.buy();
    // $40.00 at 50 stars per dollar.
    expect(order.charge).toEqual({ minor: 2000, currency: "XTR" });
    const title = "TokenGoblin: 2,000 tokens";
    expect(w.links).toEqual([
      { title, payload: order.orderId, providerToken: "", currency: "XTR", prices: [{ label: title, amount: 2000 }] },
    ]);
    expect(order.payUrl).toBe("https://t.me/$stars_invoice_1");
    expect(await w.app.payments.fetchPayment(order.orderId)).toMatchObject({ ok: true, value: { status: "pending" } });
    // Stars never arrive over HTTP: anything posted to the webhook route is refused.
    const posted = await w.app.http.dispatch({
      method: "POST",
      path: "/webhooks/stars",
      headers: {},
      rawBody: Buffer.from(JSON.stringify({ paymentId: order.orderId })),
    });
    expect(posted.status).toBe(401);
    expect(w.issued()).toBe(0);
  });

  it("pre-checkout says yes only for the open order at its exact price", async () => {
    const w = await world();
    const order = await w.buy();
    expect(await w.preCheckout(order.orderId, 2000)).toMatchObject({ ok: true });
    const cheaper = await w.preCheckout(order.orderId, 1999);
    expect(cheaper.ok).toBe(false);
    expect(cheaper.error_message).toMatch(/amount/);
    expect((await w.preCheckout("ord_unknown", 2000)).ok).toBe(false);
    expect((await w.preCheckout(order.orderId, 2000, "USD")).ok).toBe(false);
    w.clock.now += 61 * 60_000;
    const late = await w.preCheckout(order.orderId, 2000);
    expect(late.ok).toBe(false);
    expect(late.error_message).toMatch(/expired/);
  });

  it("a Russian-speaking payer sees the Stars invoice and its refusals in Russian (issue 14)", async () => {
    const w = await world();
    await w.app.languages.choose(w.chatId, "ru");
    await w.app.engine.handleText(w.chatId, "2000 токенов");
    const reply = await w.app.engine.handleText(w.chatId, "да");
    if (reply.kind !== "order") throw new Error(JSON.stringify(reply));
    expect(w.links.at(-1)?.title.replace(/\u00a0/g, " ")).toBe("TokenGoblin: 2 000 токенов");
    const cheaper = await w.preCheckout(reply.order.orderId, 1999);
    expect(cheaper.error_message).toBe("Сумма не совпадает с заказом. Пожалуйста, оформите новый заказ в чате.");
  });

  it("a duplicated successful_payment delivers once", async () => {
    const w = await world();
    const order = await w.buy();
    await w.paid(order.orderId, 2000, "charge-1");
    await w.paid(order.orderId, 2000, "charge-1");
    await Promise.all([w.paid(order.orderId, 2000, "charge-1"), w.paid(order.orderId, 2000, "charge-1")]);
    expect(w.issued()).toBe(1);
    expect((await w.order(order.orderId)).stage).toBe("delivered");
    expect(w.notices.filter((n) => n.kind === "order" && n.secret)).toHaveLength(1);
    // A duplicate is neither refunded nor told as extra money: it is the same payment.
    expect(w.refunds).toEqual([]);
    expect(w.notices.filter((n) => n.kind === "payment_notice")).toHaveLength(0);
    // The order is paid now, so Telegram is told not to take a second payment.
    expect((await w.preCheckout(order.orderId, 2000)).ok).toBe(false);
  });

  // Issue 18 (4): one Stars invoice link can be paid twice; the second charge goes back by itself.
  it.each(["deliver", "refund"])(
    "with LATE_PAYMENT=%s, a second charge for an already paid order is refunded through the Bot API at once, and the customer told",
    async (latePayment) => {
      const w = await world({ LATE_PAYMENT: latePayment });
      const order = await w.buy();
      await w.paid(order.orderId, 2000, "charge-1");
      await w.paid(order.orderId, 2000, "charge-2");
      expect(w.issued()).toBe(1);
      expect(w.refunds).toEqual([{ userId: USER.id, chargeId: "charge-2" }]);
      const stored = await w.order(order.orderId);
      expect(stored.stage).toBe("delivered");
      expect(stored.refund).toBeNull();
      expect(stored.strays).toEqual([{ amount: { minor: 2000, currency: "XTR" }, foreign: null, status: "refunded" }]);
      const told = w.notices.filter((n) => n.kind === "payment_notice");
      expect(told).toHaveLength(1);
      expect(told[0]).toMatchObject({
        payment: { reason: "extra", paid: { minor: 2000, currency: "XTR" }, next: "refunded" },
        order: { orderId: order.orderId },
      });
      expect(w.app.renderer.render(told[0]!).text).toContain("second payment");
      expect(w.app.renderer.render(told[0]!).text).toContain("refunded to you straight away");
      // Telegram sending the second charge again refunds nothing twice and tells nothing twice.
      await w.paid(order.orderId, 2000, "charge-2");
      expect(w.refunds).toHaveLength(1);
      expect(w.notices.filter((n) => n.kind === "payment_notice")).toHaveLength(1);
      expect(w.issued()).toBe(1);
    },
  );

  it("two different charges racing for one order deliver once and refund the other one", async () => {
    const w = await world();
    const order = await w.buy();
    await Promise.all([w.paid(order.orderId, 2000, "charge-1"), w.paid(order.orderId, 2000, "charge-2")]);
    expect(w.issued()).toBe(1);
    const paidWith = snapshotOf((await w.app.engine.order(order.orderId))!.snapshot).context.paidCharge;
    expect(["charge-1", "charge-2"]).toContain(paidWith);
    expect(w.refunds).toEqual([{ userId: USER.id, chargeId: paidWith === "charge-1" ? "charge-2" : "charge-1" }]);
    expect(w.notices.filter((n) => n.kind === "payment_notice" && n.payment.reason === "extra")).toHaveLength(1);
  });

  it("a Stars payment of the wrong amount (1 star for a 2,000-star order) is refunded through the Bot API, delivers nothing, and the customer is told", async () => {
    const w = await world();
    const order = await w.buy();
    await w.paid(order.orderId, 1, "charge-cheap");
    expect(w.issued()).toBe(0);
    expect(w.refunds).toEqual([{ userId: USER.id, chargeId: "charge-cheap" }]);
    const stored = await w.order(order.orderId);
    expect(stored.stage).toBe("refunded");
    expect(stored.refund).toEqual({
      reason: "mismatch",
      amount: { minor: 1, currency: "XTR" },
      foreign: null,
      refunded: true,
      manual: false,
    });
    expect(await w.refundOf(order.orderId)).toMatchObject({ chargeId: "charge-cheap", refundId: "charge-cheap" });
    const told = w.notices.filter((n) => n.kind === "payment_notice");
    expect(told).toHaveLength(1);
    expect(told[0]).toMatchObject({ payment: { reason: "wrong_amount", paid: { minor: 1, currency: "XTR" }, next: "refunded" } });
    expect(w.app.renderer.render(told[0]!).text).toContain("refunded to you straight away");
    // The same update again refunds nothing twice.
    await w.paid(order.orderId, 1, "charge-cheap");
    expect(w.refunds).toHaveLength(1);
  });

  it("pre-checkout refuses an order that was cancelled, though its link cannot be revoked", async () => {
    const w = await world();
    const order = await w.buy();
    await w.app.engine.handleText(w.chatId, "cancel");
    expect((await w.order(order.orderId)).stage).toBe("cancelled");
    const refused = await w.preCheckout(order.orderId, 2000);
    expect(refused.ok).toBe(false);
    expect(refused.error_message).toContain("can no longer be paid");
  });

  it("with LATE_PAYMENT=refund, a payment arriving after the order expired is refunded through the Bot API at once, and the customer told (issue 13)", async () => {
    const w = await world({ LATE_PAYMENT: "refund" });
    const order = await w.buy();
    w.clock.now += 61 * 60_000;
    await w.app.engine.runDue();
    expect((await w.order(order.orderId)).stage).toBe("expired");
    await w.paid(order.orderId, 2000, "charge-late");
    expect(w.issued()).toBe(0);
    const stored = await w.order(order.orderId);
    expect(stored.stage).toBe("refunded");
    expect(stored.refund).toEqual({
      reason: "late",
      amount: { minor: 2000, currency: "XTR" },
      foreign: null,
      refunded: true,
      manual: false,
    });
    expect(await w.refundOf(order.orderId)).toMatchObject({ chargeId: "charge-late", refundId: "charge-late", manual: false });
    expect(w.refunds).toEqual([{ userId: USER.id, chargeId: "charge-late" }]);
    const told = w.notices.find((n) => n.kind === "payment_notice");
    expect(told?.kind === "payment_notice" && told.payment).toMatchObject({ reason: "late", next: "refunded" });
    expect(isStarsProvider(w.app.payments)).toBe(true);
  });

  it("with LATE_PAYMENT=deliver (the default), a payment arriving after the order expired delivers once, and is told with the code (issue 13)", async () => {
    const w = await world();
    const order = await w.buy();
    w.clock.now += 61 * 60_000;
    await w.app.engine.runDue();
    expect((await w.order(order.orderId)).stage).toBe("expired");
    await w.paid(order.orderId, 2000, "charge-late");
    await w.paid(order.orderId, 2000, "charge-late");
    expect(w.issued()).toBe(1);
    expect(w.refunds).toEqual([]);
    const told = w.notices.filter((n) => n.kind === "payment_notice");
    expect(told).toHaveLength(1);
    expect(told[0]).toMatchObject({ payment: { reason: "late", next: "delivered" } });
    expect(told[0]?.kind === "payment_notice" && told[0].secret).toBeTruthy();
    const stored = await w.order(order.orderId);
    expect(stored.stage).toBe("delivered");
    expect(stored.late).toBe(true);
  });

  it("with LATE_PAYMENT=deliver, a payment that completes after the customer cancelled delivers once (the link could not be revoked)", async () => {
    const w = await world();
    const order = await w.buy();
    // Pre-checkout said yes while the order was open; the customer cancelled before the payment completed.
    expect((await w.preCheckout(order.orderId, 2000)).ok).toBe(true);
    await w.app.engine.handleText(w.chatId, "cancel");
    await w.paid(order.orderId, 2000, "charge-after-cancel");
    expect(w.issued()).toBe(1);
    expect(w.refunds).toEqual([]);
    const stored = await w.order(order.orderId);
    expect(stored.stage).toBe("delivered");
    expect(stored.late).toBe(true);
    expect(w.notices.filter((n) => n.kind === "payment_notice")).toMatchObject([{ payment: { reason: "late", next: "delivered" } }]);
  });

  it("an expired order stops watching its Stars link once no payment can still be on its way", async () => {
    const w = await world();
    const order = await w.buy();
    w.clock.now += 61 * 60_000;
    await w.app.engine.runDue();
    await w.app.engine.runDue();
    expect((await w.order(order.orderId)).path).toBe("expired.invoice_open");
    w.clock.now += 2 * 60 * 60_000;
    await w.app.engine.runDue();
    await w.app.engine.runDue();
    expect((await w.order(order.orderId)).path).toBe("expired.invoice_closed");
    // Money now can only be a charge nobody could have started: it goes back.
    await w.paid(order.orderId, 2000, "charge-much-later");
    expect(w.issued()).toBe(0);
    expect(w.refunds).toEqual([{ userId: USER.id, chargeId: "charge-much-later" }]);
    expect(w.notices.filter((n) => n.kind === "payment_notice")).toMatchObject([{ payment: { reason: "late", next: "refunded" } }]);
  });
});
