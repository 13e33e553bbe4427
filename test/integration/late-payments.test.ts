/**
 * Issue 13 (2, 3) against the Crypto Pay stand-in: cancelling voids the invoice at the provider, money
 * that still arrives for a closed order is told to the customer at once and handled by the shop's
 * LATE_PAYMENT policy, and a status question says what the provider says right now.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type App, type AppOverrides, createApp } from "../../src/app.ts";
import { buildFunnel } from "../../src/analytics/funnel.ts";
import { loadConfig } from "../../src/config.ts";
import type { EngineEvent } from "../../src/engine/events.ts";
import type { EngineReply } from "../../src/engine/reply.ts";
import { createSandboxDelivery } from "../../src/delivery/index.ts";
import { silentLogger } from "../../src/log.ts";
import { until } from "../support/crash-shop.ts";
import { type CryptoPayStub, startCryptoPayStub } from "../support/cryptopay-stub.ts";

const START = Date.parse("2026-03-01T12:00:00Z");
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

type World = { app: App; cp: CryptoPayStub; clock: { now: number }; notices: EngineReply[]; events: EngineEvent[] };

/** A shop against the Crypto Pay stand-in; `shared` gives a restarted shop the same stand-in and clock. */
async function world(env: Record<string, string> = {}, overrides: AppOverrides = {}, shared?: Pick<World, "cp" | "clock">): Promise<World> {
  const cp = shared?.cp ?? (await startCryptoPayStub());
  if (!shared) cleanups.push(() => cp.close());
  const clock = shared?.clock ?? { now: START };
  const config = loadConfig({
    STORE_URL: "memory://",
    PAYMENT_PROVIDER: "cryptopay",
    CRYPTOPAY_TOKEN: cp.token,
    CRYPTOPAY_API_URL: cp.url,
    ...env,
  });
  const app = await createApp(config, {
    listen: false,
    log: silentLogger,
    clock: () => clock.now,
    sweepIntervalMs: 3_600_000,
    ...overrides,
  });
  cleanups.push(() => app.close());
  const notices: EngineReply[] = [];
  app.engine.setNotifier(async (_chatId, reply) => {
    notices.push(reply);
  });
  const events: EngineEvent[] = [];
  app.engine.onEvent((event) => events.push(event));
  return { app, cp, clock, notices, events };
}

async function invoiced(w: World, chatId = "c1") {
  await w.app.engine.handleText(chatId, "I need 2000 tokens");
  const reply = await w.app.engine.handleText(chatId, "yes");
  if (reply.kind !== "order" || reply.order.stage !== "awaiting_payment") throw new Error(`no invoice: ${JSON.stringify(reply)}`);
  const invoice = w.cp.invoiceForOrder(reply.order.orderId)!;
  return { orderId: reply.order.orderId, invoiceId: invoice.invoice_id };
}

const post = (app: App, webhook: { rawBody: Buffer; headers: Record<string, string> }) =>
  app.http.dispatch({ method: "POST", path: "/webhooks/cryptopay", headers: webhook.headers, rawBody: webhook.rawBody });

/** Cancels while Crypto Pay is down, so the invoice could not be voided and stays payable. */
async function cancelledButPayable(w: World) {
  const order = await invoiced(w);
  w.cp.down = true;
  await w.app.engine.handleText("c1", "cancel");
  w.cp.down = false;
  return order;
}

const words = (w: World, reply: EngineReply) => w.app.renderer.render(reply).text;
const goodsOf = (w: World, orderId: string, chatId = "c1") => w.app.store.goods(orderId as never, chatId as never);
const outcomes = (w: World) => w.events.flatMap((e) => (e.type === "payment" ? [e.outcome] : []));
/** The alerts admins get (see telegram/admin.ts watchForAdminAlerts): orders that need the owner. */
const ownerTasks = (w: World) => w.events.flatMap((e) => (e.type === "needs_owner" ? [e.task] : []));
/** Goods in a notice: a late payment's notice, or the order reply of a delivery the sweeper finished. */
const shownGoods = (w: World) => w.notices.filter((n) => (n.kind === "order" || n.kind === "payment_notice") && n.secret);

describe("money is never silent (issue 13, 2)", () => {
  it("cancelling an invoiced order deletes its Crypto Pay invoice", async () => {
    const w = await world();
    const { orderId, invoiceId } = await invoiced(w);
    const cancelled = await w.app.engine.handleText("c1", "cancel");
    expect(cancelled.kind === "no_order" && cancelled.lastOrder?.stage).toBe("cancelled");
    expect(w.cp.calls.deleteInvoice).toBe(1);
    expect(w.cp.invoices.has(invoiceId)).toBe(false);
    // The order knows no money can arrive through it any more.
    expect((await w.app.engine.orderView(orderId))?.path).toBe("cancelled.invoice_closed");
  });

  it("an invoice that expired unpaid is deleted at Crypto Pay too", async () => {
    const w = await world();
    const { orderId, invoiceId } = await invoiced(w);
    w.clock.now += 61 * 60_000;
    await w.app.engine.runDue();
    expect(w.cp.invoices.has(invoiceId)).toBe(false);
    expect((await w.app.engine.orderView(orderId))?.path).toBe("expired.invoice_closed");
  });

  it("an invoice Crypto Pay could not delete keeps the cancelled order watching it", async () => {
    const w = await world();
    const { orderId } = await cancelledButPayable(w);
    expect((await w.app.engine.orderView(orderId))?.path).toBe("cancelled.invoice_open");
  });

  it("a payment after cancelling is delivered once, told at once (LATE_PAYMENT=deliver, the default)", async () => {
    const w = await world();
    const { orderId, invoiceId } = await cancelledButPayable(w);
    const webhook = w.cp.pay(invoiceId);
    expect((await post(w.app, webhook)).status).toBe(200);
    expect((await post(w.app, webhook)).status).toBe(200);

    const told = w.notices.filter((n) => n.kind === "payment_notice");
    expect(told).toHaveLength(1);
    const notice = told[0]!;
    expect(notice.kind === "payment_notice" && notice.payment).toMatchObject({ reason: "late", next: "delivered" });
    expect(notice.kind === "payment_notice" && notice.secret).toMatch(/^TG-/);
    const shown = words(w, notice);
    expect(shown).toContain("$40.00");
    expect(shown).toContain(notice.kind === "payment_notice" ? notice.secret! : "");
    expect(shown).not.toMatch(/nothing was charged/i);
    expect((await goodsOf(w, orderId))?.secret).toBeNull(); // shown, then erased
    expect(outcomes(w)).toEqual(["delivered", "duplicate"]);
    const stored = await w.app.engine.orderView(orderId);
    expect(stored).toMatchObject({ stage: "delivered", late: true });

    const status = await w.app.engine.handleText("c1", "did my payment go through?");
    const answer = words(w, status);
    expect(answer).not.toMatch(/nothing was charged/i);
    // The answer shows the late order as delivered (the code by its last characters, never again in full).
    expect(status.kind === "no_order" && status.lastOrder).toMatchObject({ orderId, stage: "delivered", late: true });
    expect(answer).toMatch(/delivered/);
    expect(answer).toContain(`code ending …${notice.kind === "payment_notice" ? notice.secret!.slice(-4) : ""}`);
  });

  it("a late payment in another amount is not delivered: the customer is told the owner will refund it", async () => {
    const w = await world();
    const { orderId, invoiceId } = await cancelledButPayable(w);
    expect(await post(w.app, w.cp.pay(invoiceId, { amount: "39.00" }))).toMatchObject({ status: 200 });
    expect(await goodsOf(w, orderId)).toBeUndefined();
    const notice = w.notices.find((n) => n.kind === "payment_notice");
    expect(notice?.kind === "payment_notice" && notice.payment).toMatchObject({
      reason: "wrong_amount",
      paid: { minor: 3900, currency: "USD" },
      next: "owner_refunds",
    });
    const stored = await w.app.engine.orderView(orderId);
    expect(stored?.stage).toBe("awaiting_owner_refund");
    expect(stored?.refund).toMatchObject({ reason: "mismatch", amount: { minor: 3900, currency: "USD" }, refunded: false });
    expect(ownerTasks(w)).toEqual(["refund_by_hand"]); // admins are alerted
  });

  it("LATE_PAYMENT=refund: Crypto Pay cannot refund by API, so admins are alerted and the customer is told", async () => {
    const w = await world({ LATE_PAYMENT: "refund" });
    const { orderId, invoiceId } = await cancelledButPayable(w);
    await post(w.app, w.cp.pay(invoiceId));
    expect(await goodsOf(w, orderId)).toBeUndefined();
    const notice = w.notices.find((n) => n.kind === "payment_notice");
    expect(notice?.kind === "payment_notice" && notice.payment).toMatchObject({ reason: "late", next: "owner_refunds" });
    expect(words(w, notice!)).toMatch(/refund/);
    expect(ownerTasks(w)).toEqual(["refund_by_hand"]);
    const stored = await w.app.engine.orderView(orderId);
    expect(stored?.stage).toBe("awaiting_owner_refund");
    expect(stored?.refund).toMatchObject({ reason: "late", amount: { minor: 4000, currency: "USD" }, refunded: false });
    // The owner refunds in Crypto Pay's app and records it (/refund <id> done): the order ends refunded.
    expect(await w.app.engine.admin.refund(orderId, { manual: true, by: "admin-1" })).toEqual({ ok: true, state: "refunded" });
    expect((await w.app.engine.orderView(orderId))?.refund).toMatchObject({ reason: "late", refunded: true, manual: true });
    expect((await w.app.engine.order(orderId))?.summary.refunded).toEqual({ minor: 4000, currency: "USD" });
  });

  it("when the goods of a late payment cannot be issued yet, the customer is told they are on their way, and the sweeper delivers them once", async () => {
    const sandbox = createSandboxDelivery();
    let down = true;
    let issued = 0;
    const w = await world(
      {},
      {
        delivery: {
          name: "sandbox",
          issue: async (request) => (down ? { ok: false, reason: "unavailable", detail: "down" } : ((issued += 1), sandbox.issue(request))),
        },
      },
    );
    const { orderId, invoiceId } = await cancelledButPayable(w);
    await post(w.app, w.cp.pay(invoiceId));
    const first = w.notices.filter((n) => n.kind === "payment_notice");
    expect(first).toHaveLength(1);
    expect(first[0]?.kind === "payment_notice" && first[0].payment).toMatchObject({ reason: "late", next: "delivering" });
    expect(words(w, first[0]!)).toMatch(/on their way/);
    expect(ownerTasks(w)).toEqual([]); // no admin alert yet
    const status = words(w, await w.app.engine.handleText("c1", "did my payment go through?"));
    expect(status).not.toMatch(/nothing was charged/i);

    w.clock.now += 60_000;
    await w.app.engine.runDue(); // still down: nothing said again
    expect(w.notices).toHaveLength(1);
    down = false;
    w.clock.now += 60_000;
    await w.app.engine.runDue();
    w.clock.now += 60_000;
    await w.app.engine.runDue();
    expect(issued).toBe(1);
    // The sweeper's delivery is told once, with the code, on the late order.
    expect(w.notices).toHaveLength(2);
    const delivered = w.notices[1]!;
    expect(delivered.kind === "order" && delivered.order).toMatchObject({ stage: "delivered", late: true });
    expect(delivered.kind === "order" && delivered.secret).toMatch(/^TG-/);
    expect((await w.app.engine.orderView(orderId))?.stage).toBe("delivered");
  });

  it("a late payment a crash left half-handled (written down, goods not issued) is finished by the sweeper, once", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tg-late-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const env = { STORE_URL: `sqlite://${join(dir, "shop.sqlite")}` };
    // The first process takes the late payment, writes it down, and dies while the provider issues the goods.
    const dying = await world(env, { instanceId: "shop-1", delivery: { name: "sandbox", issue: () => new Promise(() => {}) } });
    const { orderId, invoiceId } = await cancelledButPayable(dying);
    void post(dying.app, dying.cp.pay(invoiceId)).catch(() => undefined);
    expect(await until(async () => (await dying.app.engine.order(orderId))?.summary.late === true, 5_000)).toBe(true);
    expect(await dying.app.store.goods(orderId as never, "c1" as never)).toBeUndefined();

    // The restarted process (same instance id) finishes it from its sweeper, once.
    let issued = 0;
    const sandbox = createSandboxDelivery();
    const w = await world(
      env,
      { instanceId: "shop-1", delivery: { name: "sandbox", issue: (request) => ((issued += 1), sandbox.issue(request)) } },
      dying,
    );
    w.clock.now += 60_000;
    await w.app.engine.runDue();
    await w.app.engine.runDue();
    expect(issued).toBe(1);
    expect(await w.app.engine.orderView(orderId)).toMatchObject({ stage: "delivered", late: true });
    expect(shownGoods(w)).toHaveLength(1);
    expect(shownGoods(w)[0]).toMatchObject({ secret: expect.stringMatching(/^TG-/) });
    expect((await goodsOf(w, orderId))?.secret).toBeNull();
  });

  it("a crash after the goods of a late payment were issued, before it was marked delivered: the sweeper shows the code once", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tg-late-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const env = { STORE_URL: `sqlite://${join(dir, "shop.sqlite")}` };
    let issued = 0;
    const sandbox = createSandboxDelivery();
    const counting = {
      name: "sandbox" as const,
      issue: (request: Parameters<typeof sandbox.issue>[0]) => ((issued += 1), sandbox.issue(request)),
    };
    const dying = await world(env, { instanceId: "shop-1", delivery: counting });
    const { orderId, invoiceId } = await cancelledButPayable(dying);
    // The process dies right after the goods were written down, before the order's commit.
    const putGoods = dying.app.store.putGoods.bind(dying.app.store);
    dying.app.store.putGoods = async (entry, owner) => {
      await putGoods(entry, owner);
      await new Promise(() => {});
    };
    void post(dying.app, dying.cp.pay(invoiceId)).catch(() => undefined);
    expect(await until(async () => (await goodsOf(dying, orderId)) !== undefined, 5_000)).toBe(true);
    expect((await goodsOf(dying, orderId))?.secret).toMatch(/^TG-/); // issued, never shown
    expect((await dying.app.engine.orderView(orderId))?.stage).toBe("paid");

    const w = await world(env, { instanceId: "shop-1", delivery: counting }, dying);
    w.clock.now += 60_000;
    await w.app.engine.runDue();
    await w.app.engine.runDue();
    expect(issued).toBe(1);
    expect(await w.app.engine.orderView(orderId)).toMatchObject({ stage: "delivered", late: true });
    expect(shownGoods(w)).toHaveLength(1);
    expect((await goodsOf(w, orderId))?.secret).toBeNull();
    // A replayed webhook afterwards is a duplicate and says nothing.
    await post(w.app, w.cp.webhook(invoiceId));
    expect(w.notices).toHaveLength(1);
    expect(outcomes(w)).toEqual(["duplicate"]);
  });

  it("the report counts a late payment as paid, and a late delivery as delivered", async () => {
    const w = await world();
    await cancelledButPayable(w);
    const { invoiceId } = await invoiced(w, "c2");
    await post(w.app, w.cp.pay(invoiceId));
    const late = await cancelledButPayable(w);
    await post(w.app, w.cp.pay(late.invoiceId));
    await w.app.projection.refresh();
    const total = buildFunnel(w.app.projection.state().orders.values()).rows.find((r) => r.source === "total")!;
    expect(total).toMatchObject({ paid: 2, delivered: 2, latePaid: 1 });
  });
});

describe("status answers say the status in words (issue 13, 3)", () => {
  it("'is my payment confirmed?' while unpaid says it is not paid yet, that Crypto Pay was just asked, and how long the link lasts", async () => {
    const w = await world();
    await invoiced(w);
    const before = w.cp.calls.getInvoices;
    w.clock.now += 8 * 60_000;
    const reply = await w.app.engine.handleText("c1", "Is my payment confirmed?");
    expect(w.cp.calls.getInvoices).toBe(before + 1);
    expect(reply.check).toEqual({ provider: "cryptopay", result: "not_paid" });
    const text = words(w, reply);
    expect(text).toMatch(/Not paid yet/);
    expect(text).toContain("Crypto Pay");
    expect(text).toContain("52 minutes");
  });

  it("'I have paid, deliver now' re-checks too, and a payment found by that check is delivered", async () => {
    const w = await world();
    const { invoiceId } = await invoiced(w);
    const unpaid = await w.app.engine.handleText("c1", "I have paid, deliver now");
    expect(words(w, unpaid)).toMatch(/Not paid yet/);
    w.cp.pay(invoiceId); // paid, but the webhook never came
    const paid = await w.app.engine.handleText("c1", "I have paid, deliver now");
    expect(paid.kind === "order" && paid.order.stage).toBe("delivered");
    expect(paid.kind === "order" && paid.secret).toMatch(/^TG-/);
  });

  it("when Crypto Pay cannot be reached, the answer says it could not check right now", async () => {
    const w = await world();
    await invoiced(w);
    w.cp.down = true;
    const reply = await w.app.engine.handleText("c1", "status");
    expect(reply.check).toEqual({ provider: "cryptopay", result: "unavailable" });
    expect(words(w, reply)).toMatch(/couldn't check/i);
  });
});
