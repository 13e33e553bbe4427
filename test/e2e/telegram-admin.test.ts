/**
 * Admin commands through the real bot polling a local stand-in of the Bot API: only the chats in
 * ADMIN_CHAT_IDS see them, customers get the unknown-command answer.
 */
import { describe, expect, it } from "vitest";
import { snapshotOf } from "../../machines/purchase.reading.ts";
import type { App, AppOverrides } from "../../src/app.ts";
import type { DeliveryProvider } from "../../src/delivery/provider.ts";
import type { OrderRecord } from "../../src/domain/records.ts";
import { testClock } from "../support/app.ts";
import { type TelegramShop, buttonsOf, telegramShops } from "../support/telegram-shop.ts";

const ADMIN = 900;
const shops = telegramShops();

/** A shop with one admin chat, broadcasting without a pace to wait for; `adminClock` times the admin's confirmations. */
const openShop = (env: Record<string, string> = {}, overrides: AppOverrides = {}, adminClock?: () => number) =>
  shops.open({
    env: { ADMIN_CHAT_IDS: String(ADMIN), ...env },
    overrides,
    run: { bot: { admin: { broadcastPerSecond: 1_000, ...(adminClock ? { clock: adminClock } : {}) } } },
  });

/** A paid order, found by its invoice: its id, its sandbox invoice id and its record. */
type Bought = { orderId: string; paymentId: string; record: OrderRecord };

/** The order's top-level state and its own refund, as its machine holds them now. */
async function orderNow(app: App, orderId: string) {
  const record = (await app.engine.order(orderId))!;
  const snapshot = snapshotOf(record.snapshot);
  return { stage: (await app.engine.orderView(orderId))!.stage, refund: snapshot.context.refund, record };
}

/** A customer buys 2,000 tokens and pays; returns the order (whatever delivery then did). */
async function buy({ api, app, say, pay }: TelegramShop, chatId: number): Promise<Bought> {
  await say(chatId, "I need 2000 tokens");
  const invoice = await say(chatId, "yes");
  const since = api.mark();
  const paymentId = await pay(invoice);
  await api.nextShown(chatId, since);
  const found = await app.store.findPayment(`sandbox:${paymentId}`);
  const record = found ? await app.engine.order(found.orderId) : undefined;
  if (!record) throw new Error("the paid order was not stored");
  return { orderId: record.orderId, paymentId, record };
}

const failingDelivery: DeliveryProvider = {
  name: "sandbox",
  issue: async () => ({ ok: false, reason: "unavailable", detail: "provider down" }),
};

describe("Telegram admin commands", () => {
  it("a customer's /stats gets the same answer as any unknown command", async () => {
    const shop = await openShop();
    const { say } = shop;
    const unknown = await say(101, "/frobnicate");
    expect(await say(101, "/stats")).toBe(unknown);
    expect(await say(101, "/refund ord_123")).toBe(await say(101, "/frobnicate ord_123"));
  });

  it("an admin's /stats shows the funnel and the sales by product with the delivered purchase", async () => {
    const shop = await openShop();
    const { api, say } = shop;
    await buy(shop, 101);
    const stats = await say(ADMIN, "/stats");
    expect(stats.startsWith("<pre>")).toBe(true);
    // total row: started, quoted, invoiced, paid, delivered
    const adminMenu = api
      .callsOf("setMyCommands")
      .find((c) => JSON.stringify(c.payload.scope) === JSON.stringify({ type: "chat", chat_id: String(ADMIN) }));
    expect(JSON.stringify(adminMenu?.payload.commands)).toContain('"stats"');
    expect(api.callsOf("setMyCommands").filter((c) => JSON.stringify(c.payload.commands).includes('"stats"'))).toHaveLength(1);
    expect(stats).toMatch(/total\s+1\s+1 \(100\.0%\)\s+1 \(100\.0%\)\s+1 \(100\.0%\)\s+0\s+1 \(100\.0%\)/);
    // Under the funnel, the sales by product: the built-in product is a voucher, so no credit or margin.
    expect(stats).toContain("By product (paid, not refunded):\ntokens: 1 sale, $40.00, credit —, margin —\nPromo codes: none used.");
  });

  it("/order shows the record and audit trail but never the delivered code", async () => {
    const shop = await openShop();
    const { api, say } = shop;
    const order = await buy(shop, 101);
    const code = /<code>([^<]+)<\/code>/.exec(api.lastMessage(101)!.text)?.[1];
    expect(code).toMatch(/\S{8,}/);
    const shown = await say(ADMIN, `/order ${order.orderId}`);
    expect(shown).toContain(`<code>${order.orderId}</code>`);
    expect(shown).toContain("State: <b>delivered");
    expect(shown).toContain("transition from=awaiting_payment.waiting to=paid.recorded");
    expect(shown).toContain("transition from=paid.recorded to=delivered.announcing");
    expect(shown).toContain("transition from=delivered.announcing to=delivered.settled");
    expect(shown).toContain("payment paymentId=");
    expect(shown).not.toContain(code);
    expect(await say(ADMIN, `/retry ${order.orderId}`)).toContain("it cannot be retried in that state");
    expect(await say(ADMIN, "/order nope")).toContain("There is no order");
  });

  it("admins are told of a failed delivery, and /refund refunds through the provider and closes the order", async () => {
    const shop = await openShop({ DELIVERY_MAX_ATTEMPTS: "1" }, { delivery: failingDelivery });
    const { api, app, say } = shop;
    const since = api.mark();
    const order = await buy(shop, 101);
    const alert = await api.nextShown(ADMIN, since);
    expect(alert).toContain("Delivery failed");
    expect(alert).toContain(`/refund ${order.orderId}`);
    expect((await orderNow(app, order.orderId)).stage).toBe("delivery_failed");

    const answer = await say(ADMIN, `/refund ${order.orderId}`);
    expect(answer).toContain(`order <code>${order.orderId}</code> is now <b>refunded</b>`);
    const after = await orderNow(app, order.orderId);
    expect(after.stage).toBe("refunded");
    expect(after.refund).toMatchObject({
      chargeId: order.paymentId,
      refundId: `sbx_refund_${order.paymentId}`,
      manual: false,
      reason: "owner",
    });
    expect(after.record.summary.refunded).toEqual({ minor: 4000, currency: "USDT" });
    const trail = await app.audit.forOrder(order.orderId);
    expect(trail.some((e) => e.type === "admin" && e.detail.action === "refund" && e.detail.by === String(ADMIN))).toBe(true);
    expect(await say(ADMIN, `/order ${order.orderId}`)).toContain(`refunded (<code>sbx_refund_${order.paymentId}</code>)`);
    expect(await say(ADMIN, `/refund ${order.orderId}`)).toContain("it cannot be refunded through the provider in that state");
  });

  it("a provider without refunds gets manual instructions, and /refund <id> done records the manual refund", async () => {
    const shop = await openShop({ DELIVERY_MAX_ATTEMPTS: "1" }, { delivery: failingDelivery });
    const { api, app, say } = shop;
    // Like Crypto Pay: no refund API.
    delete (app.payments as { refund?: unknown }).refund;
    const order = await buy(shop, 101);
    const since = api.mark();
    api.text(ADMIN, `/refund ${order.orderId}`);
    const toAdmin = (words: string) =>
      api.waitFor(
        (c) => c.method === "sendMessage" && String(c.payload.chat_id) === String(ADMIN) && String(c.payload.text).includes(words),
        since,
      );
    expect(String((await toAdmin("is now")).payload.text)).toContain("is now <b>awaiting_owner_refund</b>");
    // The order now needs the owner for another task: the alert says how to return the money by hand and record it.
    const alert = await toAdmin("in the provider's app");
    expect(String(alert.payload.text)).toContain(`/refund ${order.orderId} done`);
    expect((await orderNow(app, order.orderId)).stage).toBe("awaiting_owner_refund");

    expect(await say(ADMIN, `/refund ${order.orderId} done`)).toContain("is now <b>refunded</b>");
    const after = await orderNow(app, order.orderId);
    expect(after.stage).toBe("refunded");
    expect(after.refund).toMatchObject({ chargeId: order.paymentId, refundId: null, manual: true });
    expect(after.record.summary.refunded).toEqual({ minor: 4000, currency: "USDT" });
    expect(await say(ADMIN, `/order ${order.orderId}`)).toContain("40.00 USDT, returned by hand");
  });

  it("admins are told of a late payment, and /refund refunds that payment and records it on the order", async () => {
    const shop = await openShop({ LATE_PAYMENT: "refund" });
    const { api, app, say } = shop;
    // The invoice stays payable after the customer cancels (as with a provider that cannot cancel).
    delete (app.payments as { cancelInvoice?: unknown }).cancelInvoice;
    // The shop's automatic refund fails (provider down), so an admin is alerted and refunds by hand.
    const refund = app.payments.refund!.bind(app.payments);
    app.payments.refund = async () => ({ ok: false, reason: "unavailable" });
    await say(101, "I need 2000 tokens");
    const invoice = await say(101, "yes");
    const paymentId = /\/pay\/sandbox\/([A-Za-z0-9_-]+)/.exec(invoice)![1]!;
    await say(101, "/cancel");
    const since = api.mark();
    await app.http.dispatch({ method: "POST", path: `/pay/sandbox/${paymentId}`, headers: {}, rawBody: Buffer.alloc(0) });
    await app.flushSandboxWebhooks();
    const alert = await api.nextShown(ADMIN, since);
    expect(alert).toContain("cannot return by itself: a late, mismatched or second payment");
    const orderId = /\/refund (\S+) done/.exec(alert)![1]!;
    expect((await orderNow(app, orderId)).stage).toBe("awaiting_owner_refund");
    app.payments.refund = refund;

    const answer = await say(ADMIN, `/refund ${orderId}`);
    expect(answer).toContain("is now <b>refunded</b>");
    const after = await orderNow(app, orderId);
    expect(after.stage).toBe("refunded");
    expect(after.refund).toMatchObject({ reason: "late", chargeId: paymentId, refundId: `sbx_refund_${paymentId}`, manual: false });
    expect(await say(ADMIN, `/order ${orderId}`)).toContain(
      `late payment <code>${paymentId}</code>: 40.00 USDT, refunded (<code>sbx_refund_${paymentId}</code>)`,
    );
  });

  it("/broadcast asks first: Cancel sends nothing, Send reaches every known chat", async () => {
    const shop = await openShop();
    const { api, say, press } = shop;
    await say(101, "I need 2000 tokens");
    await say(102, "I need 3000 tokens");
    const question = await say(ADMIN, "/broadcast Sale <b>today</b> & tomorrow");
    expect(question).toContain("Send this to 2 chats?");
    expect(question).toContain("Sale &lt;b&gt;today&lt;/b&gt; &amp; tomorrow");
    const before = api.callsOf("sendMessage").length;
    expect((await press(ADMIN, /^Cancel$/)).shown).toContain("Broadcast cancelled.");
    expect(api.callsOf("sendMessage")).toHaveLength(before);

    await say(ADMIN, "/broadcast Sale today");
    const since = api.mark();
    await press(ADMIN, /^Send$/);
    const report = await api.waitFor((c) => c.method === "sendMessage" && String(c.payload.text).startsWith("Broadcast finished"), since);
    expect(report.payload.text).toBe("Broadcast finished: sent 2, failed 0.");
    expect(api.lastMessage(101)?.text).toBe("Sale today");
    expect(api.lastMessage(102)?.text).toBe("Sale today");
  });

  it("a broadcast left unconfirmed for an hour is forgotten: Send then sends nothing and says why", async () => {
    const clock = testClock();
    const shop = await openShop({}, {}, clock);
    const { api, say } = shop;
    await say(101, "I need 2000 tokens");
    await say(ADMIN, "/broadcast Sale today");
    const question = api.lastMessage(ADMIN)!;
    clock.advance(60 * 60_000);
    const since = api.mark();
    const target = buttonsOf(question).find((b) => b.text === "Send")!;
    const callbackId = api.press(ADMIN, question, target.callback_data!);
    const answer = await api.waitFor((c) => c.method === "answerCallbackQuery" && c.payload.callback_query_id === callbackId, since);
    expect(answer.payload.text).toMatch(/unconfirmed for an hour; send \/broadcast again/);
    expect(api.callsOf("sendMessage", 101).map((c) => c.payload.text)).not.toContain("Sale today");
  });

  it("a customer pressing a forged admin button gets the dead-button answer", async () => {
    const shop = await openShop();
    const { api, say } = shop;
    await say(101, "/start");
    const since = api.mark();
    const id = api.press(101, api.lastMessage(101)!, "adm|bc|0123abcd|y");
    const answer = await api.waitFor((c) => c.method === "answerCallbackQuery" && c.payload.callback_query_id === id, since);
    expect(answer.payload.text).toMatch(/doesn't work any more/);
  });
});
