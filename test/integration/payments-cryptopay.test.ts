/**
 * Crypto Pay + OpenRouter end to end, against local stand-ins of both APIs: the app is built from
 * configuration exactly as in production, webhooks go through `app.http.dispatch`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type App, type AppOverrides, createApp } from "../../src/app.ts";
import { loadConfig } from "../../src/config.ts";
import type { EngineReply } from "../../src/engine/reply.ts";
import { silentLogger } from "../../src/log.ts";
import { snapshotOf } from "../../machines/purchase.reading.ts";
import { type CryptoPayStub, startCryptoPayStub } from "../support/cryptopay-stub.ts";
import { type OpenRouterStub, startOpenRouterStub } from "../support/openrouter-stub.ts";

const START = Date.parse("2026-03-01T12:00:00Z");
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

type World = {
  app: App;
  cp: CryptoPayStub;
  or: OpenRouterStub;
  clock: { now: number };
  notices: { chatId: string; reply: EngineReply }[];
};

async function world(
  env: Record<string, string> = {},
  overrides: AppOverrides = {},
  shared?: Pick<World, "cp" | "or" | "clock">,
): Promise<World> {
  const cp = shared?.cp ?? (await startCryptoPayStub());
  const or = shared?.or ?? (await startOpenRouterStub());
  if (!shared)
    cleanups.push(
      () => cp.close(),
      () => or.close(),
    );
  const clock = shared?.clock ?? { now: START };
  const config = loadConfig({
    STORE_URL: "memory://",
    PAYMENT_PROVIDER: "cryptopay",
    CRYPTOPAY_TOKEN: cp.token,
    CRYPTOPAY_API_URL: cp.url,
    DELIVERY_PROVIDER: "openrouter",
    OPENROUTER_PROVISIONING_KEY: or.provisioningKey,
    OPENROUTER_API_URL: or.url,
    ...env,
  });
  const app = await createApp(config, { listen: false, log: silentLogger, clock: () => clock.now, retryBackoffMs: 1_000, ...overrides });
  cleanups.push(() => app.close());
  const notices: World["notices"] = [];
  app.engine.setNotifier(async (chatId, reply) => {
    notices.push({ chatId, reply });
  });
  return { app, cp, or, clock, notices };
}

/** The customer asks for tokens and agrees: returns the order and its Crypto Pay invoice id. */
async function order(w: World, chatId: string, tokens = 2000): Promise<{ orderId: string; invoiceId: number }> {
  await w.app.engine.handleText(chatId, `I need ${tokens} tokens`);
  const reply = await w.app.engine.handleText(chatId, "yes");
  if (reply.kind !== "order" || reply.order.stage !== "awaiting_payment") throw new Error(`no invoice: ${JSON.stringify(reply)}`);
  const invoice = w.cp.invoiceForOrder(reply.order.orderId);
  if (!invoice) throw new Error("the stub never saw createInvoice");
  return { orderId: reply.order.orderId, invoiceId: invoice.invoice_id };
}

/** The order's top-level state, as stored. */
const stageOf = async (app: App, orderId: string) => (await app.engine.orderView(orderId))?.stage;

/** The order's own money going back, as its machine holds it. */
const refundOf = async (app: App, orderId: string) => {
  const record = await app.engine.order(orderId);
  return record ? snapshotOf(record.snapshot).context.refund : undefined;
};

/** The outcomes of the payments the order's audit trail records. */
const paymentOutcomes = async (app: App, orderId: string) =>
  (await app.audit.forOrder(orderId)).filter((entry) => entry.type === "payment").map((entry) => entry.detail.outcome);

const post = (app: App, webhook: { rawBody: Buffer; headers: Record<string, string> }) =>
  app.http.dispatch({ method: "POST", path: "/webhooks/cryptopay", headers: webhook.headers, rawBody: webhook.rawBody });

describe("Crypto Pay purchase with OpenRouter keys", () => {
  it("a paid invoice delivers one OpenRouter key with the credit sold as its limit, sent once", async () => {
    const w = await world();
    const { orderId, invoiceId } = await order(w, "c1");
    const invoice = w.cp.invoices.get(invoiceId)!;
    expect(invoice).toMatchObject({
      currency_type: "fiat",
      fiat: "USD",
      amount: "40.00",
      payload: orderId,
      status: "active",
      expires_in: 3600,
    });
    const view = await w.app.engine.view("c1");
    expect(view.kind === "order" && view.order.payUrl).toBe(invoice.bot_invoice_url);

    const response = await post(w.app, w.cp.pay(invoiceId));
    expect(response.status).toBe(200);

    expect(w.or.created).toHaveLength(1);
    const key = w.or.created[0]!;
    expect(key).toMatchObject({ name: `TokenGoblin order ${orderId}`, limit: 40 });
    const told = w.notices.find((n) => n.reply.kind === "order" && n.reply.secret);
    expect(told?.chatId).toBe("c1");
    expect(told?.reply.kind === "order" && told.reply.secret).toBe(key.secret);
    const entry = await w.app.store.goods(orderId as never, "c1" as never);
    expect(entry).toMatchObject({ ref: `openrouter:${key.hash}`, secret: null });
    expect(entry?.sentAt).not.toBeNull();
    expect(await stageOf(w.app, orderId)).toBe("delivered");
  });

  it("a webhook over a real HTTP connection is verified on its raw bytes and delivers", async () => {
    const w = await world({ HTTP_PORT: "0" }, { listen: true, sweepIntervalMs: 3_600_000 });
    await w.app.start();
    const { orderId, invoiceId } = await order(w, "c1");
    const webhook = w.cp.pay(invoiceId);
    const url = `http://127.0.0.1:${w.app.port}/webhooks/cryptopay`;
    const forged = await fetch(url, {
      method: "POST",
      headers: { ...webhook.headers, "crypto-pay-api-signature": "0".repeat(64) },
      body: webhook.rawBody,
    });
    expect(forged.status).toBe(401);
    const genuine = await fetch(url, { method: "POST", headers: webhook.headers, body: webhook.rawBody });
    expect(genuine.status).toBe(200);
    expect(w.or.liveKeysFor(orderId)).toHaveLength(1);
  });

  it("a USDT configuration creates crypto invoices in USDT and still delivers", async () => {
    const w = await world({ CRYPTOPAY_CURRENCY: "USDT" });
    const { invoiceId } = await order(w, "c1", 1000);
    expect(w.cp.invoices.get(invoiceId)).toMatchObject({ currency_type: "crypto", asset: "USDT", amount: "20.00" });
    expect((await post(w.app, w.cp.pay(invoiceId))).status).toBe(200);
    expect(w.or.created).toHaveLength(1);
  });

  it("a forged webhook does not deliver", async () => {
    const w = await world();
    const { orderId, invoiceId } = await order(w, "c1");
    w.cp.invoices.get(invoiceId)!.status = "paid";
    const forged = w.cp.webhook(invoiceId, "999:NOT-THE-TOKEN");
    expect((await post(w.app, forged)).status).toBe(401);
    const genuine = w.cp.webhook(invoiceId);
    const tampered = {
      rawBody: Buffer.from(genuine.rawBody.toString().replace(`"update_id":`, `"update_id":1`)),
      headers: genuine.headers,
    };
    expect((await post(w.app, tampered)).status).toBe(401);
    expect((await post(w.app, { rawBody: genuine.rawBody, headers: {} })).status).toBe(401);
    expect(w.or.calls.create).toBe(0);
    expect(await stageOf(w.app, orderId)).toBe("awaiting_payment");
  });

  it("a correctly signed webhook naming another order's unpaid invoice delivers nothing", async () => {
    const w = await world();
    const first = await order(w, "c1");
    const second = await order(w, "c2");
    w.cp.invoices.get(first.invoiceId)!.status = "paid";
    // Signed with the real token, but about c2's invoice, which nobody paid.
    expect((await post(w.app, w.cp.webhook(second.invoiceId))).status).toBe(200);
    expect(w.or.calls.create).toBe(0);
    expect(await stageOf(w.app, second.orderId)).toBe("awaiting_payment");
    // An invoice of the same Crypto Pay app that this shop never created is not ours either.
    const stray = [...w.cp.invoices.values()][0]!;
    w.cp.invoices.set(77, { ...stray, invoice_id: 77, payload: "ord_someone_else", status: "paid" });
    expect((await post(w.app, w.cp.webhook(77))).status).toBe(200);
    expect(w.or.calls.create).toBe(0);
    // The genuine webhook for the first order still works.
    expect((await post(w.app, w.cp.webhook(first.invoiceId))).status).toBe(200);
    expect(w.or.created.map((k) => k.name)).toEqual([`TokenGoblin order ${first.orderId}`]);
  });

  it("the same webhook replayed 100 times in a row and 20 times at once creates exactly one key", async () => {
    const w = await world();
    const { orderId, invoiceId } = await order(w, "c1");
    const webhook = w.cp.pay(invoiceId);
    const statuses: number[] = [];
    for (let i = 0; i < 100; i++) statuses.push((await post(w.app, webhook)).status);
    const concurrent = await Promise.all(Array.from({ length: 20 }, () => post(w.app, w.cp.webhook(invoiceId))));
    statuses.push(...concurrent.map((r) => r.status));
    expect(new Set(statuses)).toEqual(new Set([200]));
    expect(w.or.calls.create).toBe(1);
    expect(w.or.liveKeysFor(orderId)).toHaveLength(1);
    expect(w.notices.filter((n) => n.reply.kind === "order" && n.reply.secret)).toHaveLength(1);
  });

  it("an underpaid invoice is refused and kept for a refund", async () => {
    const w = await world();
    const needsOwner: string[] = [];
    w.app.engine.onEvent((event) => {
      if (event.type === "needs_owner") needsOwner.push(`${event.orderId}:${event.task}`);
    });
    const { orderId, invoiceId } = await order(w, "c1");
    const response = await post(w.app, w.cp.pay(invoiceId, { amount: "39.99" }));
    expect(response.status).toBe(200);
    expect(w.or.calls.create).toBe(0);
    // Crypto Pay cannot refund by API: the order waits for the owner to return the money by hand.
    const stored = await w.app.engine.orderView(orderId);
    expect(stored?.stage).toBe("awaiting_owner_refund");
    expect(stored?.tags).toContain("needs_owner");
    expect(stored?.refund).toMatchObject({ reason: "mismatch", amount: { minor: 3999, currency: "USD" }, refunded: false });
    expect((await refundOf(w.app, orderId))?.chargeId).toBe(String(invoiceId));
    expect(await paymentOutcomes(w.app, orderId)).toEqual(["returned"]);
    expect(needsOwner).toEqual([`${orderId}:refund_by_hand`]);
    // The customer is told at once what arrived and what happens to it (issue 11: never silent).
    const told = w.notices.filter((n) => n.reply.kind === "payment_notice");
    expect(told).toHaveLength(1);
    expect(told[0]!.reply).toMatchObject({
      kind: "payment_notice",
      payment: { reason: "wrong_amount", paid: { minor: 3999, currency: "USD" }, next: "owner_refunds" },
    });
    expect(w.app.renderer.render(told[0]!.reply).text).toContain("We received $39.99");
    // Long after the invoice's deadline, the refused payment is still on record for the refund.
    w.clock.now += 61 * 60_000;
    await w.app.engine.runDue();
    const later = await w.app.engine.orderView(orderId);
    expect(later?.stage).toBe("awaiting_owner_refund");
    expect(later?.refund).toMatchObject({ reason: "mismatch", amount: { minor: 3999, currency: "USD" }, refunded: false });
    expect(w.or.calls.create).toBe(0);
  });

  it("an invoice in another currency is refused, kept with its real amount (never as 0 USD) and told to the customer and the admin", async () => {
    const w = await world();
    const events: string[] = [];
    w.app.engine.onEvent((event) => {
      if (event.type === "payment") events.push(event.outcome);
      // The admin alert hangs on this event (see telegram/admin.ts watchForAdminAlerts).
      if (event.type === "needs_owner") events.push(`needs_owner:${event.task}`);
    });
    const { orderId, invoiceId } = await order(w, "c1");
    expect((await post(w.app, w.cp.pay(invoiceId, { fiat: "EUR" }))).status).toBe(200);
    expect(w.or.calls.create).toBe(0);
    const view = await w.app.engine.orderView(orderId);
    expect(view?.stage).toBe("awaiting_owner_refund");
    expect(view?.refund).toMatchObject({ reason: "mismatch", amount: null, foreign: { amount: "40.00", unit: "EUR" }, refunded: false });
    expect(await refundOf(w.app, orderId)).toMatchObject({ chargeId: String(invoiceId), amount: null, foreign: { unit: "EUR" } });
    expect(events).toEqual(["needs_owner:refund_by_hand", "returned"]);
    const told = w.notices.find((n) => n.reply.kind === "payment_notice")?.reply;
    expect(told).toMatchObject({ payment: { reason: "foreign_currency", paid: null, foreign: { amount: "40.00", unit: "EUR" } } });
    expect(told && w.app.renderer.render(told).text).toContain("40.00 EUR");
  });

  it("with LATE_PAYMENT=refund, a payment arriving after the order expired is recorded for a refund, not delivered and not lost", async () => {
    const w = await world({ LATE_PAYMENT: "refund" });
    const needsOwner: string[] = [];
    w.app.engine.onEvent((event) => {
      if (event.type === "needs_owner") needsOwner.push(`${event.orderId}:${event.task}`);
    });
    const { orderId, invoiceId } = await order(w, "c1");
    const asCreated = { ...w.cp.invoices.get(invoiceId)! };
    // The deadline passes; Crypto Pay still says "active", so the sweeper expires the order and voids its invoice.
    w.clock.now += 61 * 60_000;
    await w.app.engine.runDue();
    expect(await stageOf(w.app, orderId)).toBe("expired");
    expect(w.cp.calls.deleteInvoice).toBe(1);
    // The customer had the page open and paid anyway (the stub's delete lost that race).
    w.cp.invoices.set(invoiceId, asCreated);
    // Meanwhile they started a new order.
    await w.app.engine.handleText("c1", "I need 1000 tokens");
    const response = await post(w.app, w.cp.pay(invoiceId));
    expect(response.status).toBe(200);
    expect(w.or.calls.create).toBe(0);
    // Not delivered, not lost: the money is kept on the order, owed back by the owner (Crypto Pay cannot refund).
    const stored = await w.app.engine.orderView(orderId);
    expect(stored?.stage).toBe("expired");
    expect(stored?.strays).toEqual([{ amount: { minor: 4000, currency: "USD" }, foreign: null, status: "owed" }]);
    expect(needsOwner).toEqual([`${orderId}:refund_by_hand`]);
    expect(await paymentOutcomes(w.app, orderId)).toEqual(["returned"]);
    const told = w.notices.filter((n) => n.reply.kind === "payment_notice");
    expect(told.map((n) => n.reply)).toMatchObject([{ payment: { reason: "late", next: "owner_refunds" }, order: { orderId } }]);
    // Replays change nothing.
    expect((await post(w.app, w.cp.webhook(invoiceId))).status).toBe(200);
    expect(w.or.calls.create).toBe(0);
    expect((await w.app.engine.orderView(orderId))?.strays).toHaveLength(1);
    expect(needsOwner).toHaveLength(1);
    expect(w.notices.filter((n) => n.reply.kind === "payment_notice")).toHaveLength(1);
  });

  it("when Crypto Pay is down during the re-fetch the webhook gets 503 and a later retry delivers", async () => {
    const w = await world();
    const { orderId, invoiceId } = await order(w, "c1");
    const webhook = w.cp.pay(invoiceId);
    w.cp.down = true;
    expect((await post(w.app, webhook)).status).toBe(503);
    expect(w.or.calls.create).toBe(0);
    expect(await paymentOutcomes(w.app, orderId)).toEqual([]);
    expect(await stageOf(w.app, orderId)).toBe("awaiting_payment");
    w.cp.down = false;
    expect((await post(w.app, webhook)).status).toBe(200);
    expect(w.or.created).toHaveLength(1);
    expect(await stageOf(w.app, orderId)).toBe("delivered");
  });

  it("when OpenRouter fails twice the sweeper retries and the customer ends with exactly one live key", async () => {
    const w = await world();
    const { orderId, invoiceId } = await order(w, "c1");
    // Both failures are the nasty kind: the key was created but the answer never arrived.
    w.or.failCreates(2, "lost");
    expect((await post(w.app, w.cp.pay(invoiceId))).status).toBe(200);
    expect(await stageOf(w.app, orderId)).toBe("paid");
    for (let i = 0; i < 2; i++) {
      w.clock.now += 60_000;
      await w.app.engine.runDue();
    }
    expect(await stageOf(w.app, orderId)).toBe("delivered");
    const live = w.or.liveKeysFor(orderId);
    expect(live).toHaveLength(1);
    expect(w.or.created).toHaveLength(3);
    expect(w.or.calls.delete).toBe(2);
    const told = w.notices.filter((n) => n.reply.kind === "order" && n.reply.secret);
    expect(told).toHaveLength(1);
    expect(told[0]!.reply.kind === "order" && told[0]!.reply.secret).toBe(live[0]!.secret);
  });

  it("the shop refuses to quote more credit than the provisioning account can still cover", async () => {
    const w = await world();
    w.or.credits = { total_credits: 50, total_usage: 15 };
    const reply = await w.app.engine.handleText("c1", "I need 2000 tokens");
    expect(reply.kind === "order" ? reply.order.problem : reply.kind).toBe("out_of_stock");
    const ok = await w.app.engine.handleText("c2", "I need 1000 tokens");
    expect(ok.kind === "order" && ok.order.stage).toBe("quoted");
  });

  it("two app instances on one database receiving the same webhook at once deliver once", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tg-pay-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const env = { STORE_URL: `sqlite://${join(dir, "shop.sqlite")}` };
    const a = await world(env, { instanceId: "a" });
    const b = await world(env, { instanceId: "b" }, a);
    const { orderId, invoiceId } = await order(a, "c1");
    const webhook = a.cp.pay(invoiceId);
    const responses = await Promise.all(Array.from({ length: 10 }, (_, i) => post(i % 2 === 0 ? a.app : b.app, webhook)));
    expect(responses.every((r) => r.status === 200 || r.status === 503)).toBe(true);
    // Whichever instance lost a race retries through its sweeper; nothing is issued twice.
    a.clock.now += 60_000;
    await a.app.engine.runDue();
    await b.app.engine.runDue();
    expect(a.or.calls.create).toBe(1);
    expect(a.or.liveKeysFor(orderId)).toHaveLength(1);
    expect(await stageOf(b.app, orderId)).toBe("delivered");
    // The conversation itself (not just the order record) moved on, and the key reached the customer once.
    const view = await a.app.engine.view("c1");
    expect(view.kind === "no_order" && view.lastOrder?.stage).toBe("delivered");
    const secrets = [...a.notices, ...b.notices].filter((n) => n.reply.kind === "order" && n.reply.secret);
    expect(secrets).toHaveLength(1);
  });
});
