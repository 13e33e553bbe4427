/**
 * Issue 13 (2, 3) against the Crypto Pay stand-in: cancelling voids the invoice at the provider, money
 * that still arrives for a closed order is told to the customer at once and handled by the shop's
 * LATE_PAYMENT policy, and a status question says what the provider says right now.
 */
import { afterEach, describe, expect, it } from "vitest";
import { type App, type AppOverrides, createApp } from "../../src/app.ts";
import { buildFunnel } from "../../src/analytics/funnel.ts";
import { loadConfig } from "../../src/config.ts";
import type { EngineEvent } from "../../src/engine/events.ts";
import type { EngineReply } from "../../src/engine/reply.ts";
import { createSandboxDelivery } from "../../src/delivery/index.ts";
import { silentLogger } from "../../src/log.ts";
import { type CryptoPayStub, startCryptoPayStub } from "../support/cryptopay-stub.ts";

const START = Date.parse("2026-03-01T12:00:00Z");
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

type World = { app: App; cp: CryptoPayStub; clock: { now: number }; notices: EngineReply[]; events: EngineEvent[] };

async function world(env: Record<string, string> = {}, overrides: AppOverrides = {}): Promise<World> {
  const cp = await startCryptoPayStub();
  cleanups.push(() => cp.close());
  const clock = { now: START };
  const config = loadConfig({ STORE_URL: "memory://", PAYMENT_PROVIDER: "cryptopay", CRYPTOPAY_TOKEN: cp.token, CRYPTOPAY_API_URL: cp.url, ...env });
  const app = await createApp(config, { listen: false, log: silentLogger, clock: () => clock.now, sweepIntervalMs: 3_600_000, ...overrides });
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
  if (reply.kind !== "order" || reply.order.state !== "awaiting_payment") throw new Error(`no invoice: ${JSON.stringify(reply)}`);
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

describe("money is never silent (issue 13, 2)", () => {
  it("cancelling an invoiced order deletes its Crypto Pay invoice", async () => {
    const w = await world();
    const { invoiceId } = await invoiced(w);
    const cancelled = await w.app.engine.handleText("c1", "cancel");
    expect(cancelled.kind === "order" && cancelled.order.state).toBe("cancelled");
    expect(w.cp.calls.deleteInvoice).toBe(1);
    expect(w.cp.invoices.has(invoiceId)).toBe(false);
  });

  it("an invoice that expired unpaid is deleted at Crypto Pay too", async () => {
    const w = await world();
    const { invoiceId } = await invoiced(w);
    w.clock.now += 61 * 60_000;
    await w.app.engine.runDue();
    expect(w.cp.invoices.has(invoiceId)).toBe(false);
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
    expect(notice.kind === "payment_notice" && notice.payment.next).toBe("delivered");
    expect(notice.kind === "payment_notice" && notice.secret).toMatch(/^TG-/);
    const shown = words(w, notice);
    expect(shown).toContain("$40.00");
    expect(shown).toContain(notice.kind === "payment_notice" ? notice.secret! : "");
    expect(shown).not.toMatch(/nothing was charged/i);
    const entry = await w.app.stores.ledger.get(orderId);
    expect(entry?.secret).toBeNull(); // shown, then erased
    expect(w.events.filter((e) => e.type === "payment").map((e) => (e.type === "payment" ? e.outcome : ""))).toEqual(["late_delivered", "duplicate"]);

    const status = await w.app.engine.handleText("c1", "did my payment go through?");
    const answer = words(w, status);
    expect(answer).not.toMatch(/nothing was charged/i);
    expect(answer).toContain("$40.00");
    expect(answer).toMatch(/delivered/);
  });

  it("a late payment in another amount is not delivered: the customer is told the owner will refund it", async () => {
    const w = await world();
    const { orderId, invoiceId } = await cancelledButPayable(w);
    expect((await post(w.app, w.cp.pay(invoiceId, { amount: "39.00" })))).toMatchObject({ status: 200 });
    expect(await w.app.stores.ledger.get(orderId)).toBeUndefined();
    const notice = w.notices.find((n) => n.kind === "payment_notice");
    expect(notice?.kind === "payment_notice" && notice.payment.next).toBe("owner_refunds");
    expect(w.events.some((e) => e.type === "payment" && e.outcome === "late")).toBe(true); // admins are alerted
  });

  it("LATE_PAYMENT=refund: Crypto Pay cannot refund by API, so admins are alerted and the customer is told", async () => {
    const w = await world({ LATE_PAYMENT: "refund" });
    const { orderId, invoiceId } = await cancelledButPayable(w);
    await post(w.app, w.cp.pay(invoiceId));
    expect(await w.app.stores.ledger.get(orderId)).toBeUndefined();
    const notice = w.notices.find((n) => n.kind === "payment_notice");
    expect(notice?.kind === "payment_notice" && notice.payment.next).toBe("owner_refunds");
    expect(words(w, notice!)).toMatch(/refund/);
    expect(w.events.some((e) => e.type === "payment" && e.outcome === "late")).toBe(true);
  });

  it("when the goods of a late payment cannot be issued yet, the customer is told they are on their way, and the sweeper delivers them once", async () => {
    const sandbox = createSandboxDelivery();
    let down = true;
    let issued = 0;
    const w = await world({}, {
      delivery: { name: "sandbox", issue: async (request) => (down ? { ok: false, reason: "unavailable", detail: "down" } : ((issued += 1), sandbox.issue(request))) },
    });
    const { orderId, invoiceId } = await cancelledButPayable(w);
    await post(w.app, w.cp.pay(invoiceId));
    const first = w.notices.filter((n) => n.kind === "payment_notice");
    expect(first).toHaveLength(1);
    expect(first[0]?.kind === "payment_notice" && first[0].payment.next).toBe("delivering");
    expect(words(w, first[0]!)).toMatch(/on their way/);
    expect(w.events.some((e) => e.type === "payment" && e.outcome === "late")).toBe(false); // no admin alert yet
    const status = words(w, await w.app.engine.handleText("c1", "did my payment go through?"));
    expect(status).not.toMatch(/nothing was charged/i);

    w.clock.now += 60_000;
    await w.app.engine.runDue(); // still down: nothing said again
    expect(w.notices.filter((n) => n.kind === "payment_notice")).toHaveLength(1);
    down = false;
    w.clock.now += 60_000;
    await w.app.engine.runDue();
    w.clock.now += 60_000;
    await w.app.engine.runDue();
    expect(issued).toBe(1);
    const told = w.notices.filter((n) => n.kind === "payment_notice");
    expect(told).toHaveLength(2);
    expect(told[1]?.kind === "payment_notice" && told[1].payment.next).toBe("delivered");
    expect(told[1]?.kind === "payment_notice" && told[1].secret).toMatch(/^TG-/);
    expect((await w.app.engine.order(orderId))?.latePayment?.resolution).toBe("delivered");
  });

  it("a late payment a crash left half-handled (written down, goods not issued) is finished by the sweeper, once", async () => {
    const w = await world();
    const { orderId, invoiceId } = await cancelledButPayable(w);
    // The crash: the late payment was written down as pending, then the process died before the goods.
    const ledger = w.app.stores.ledger;
    const set = ledger.set.bind(ledger);
    ledger.set = async () => {
      throw new Error("process died");
    };
    await post(w.app, w.cp.pay(invoiceId)).catch(() => undefined);
    ledger.set = set;
    expect((await w.app.engine.order(orderId))?.latePayment?.resolution).not.toBe("delivered");
    w.notices.length = 0;
    await w.app.stores.latePayments.set(orderId, { ...(await w.app.stores.latePayments.get(orderId))!, resolution: "pending" });

    await w.app.engine.runDue();
    await w.app.engine.runDue();
    expect((await w.app.engine.order(orderId))?.latePayment?.resolution).toBe("delivered");
    const told = w.notices.filter((n) => n.kind === "payment_notice");
    expect(told).toHaveLength(1);
    expect(told[0]?.kind === "payment_notice" && told[0].secret).toMatch(/^TG-/);
  });

  it("a crash after the goods of a late payment were issued, before it was marked delivered: the sweeper shows the code once", async () => {
    const w = await world();
    const { orderId, invoiceId } = await cancelledButPayable(w);
    const late = w.app.stores.latePayments;
    const set = late.set.bind(late);
    let writes = 0;
    late.set = async (key, value) => {
      // The first write records the payment as pending; the process dies at the second.
      if (++writes === 2) throw new Error("process died");
      return set(key, value);
    };
    await post(w.app, w.cp.pay(invoiceId)).catch(() => undefined);
    late.set = set;
    expect((await w.app.stores.ledger.get(orderId))?.secret).toMatch(/^TG-/); // issued, never shown
    w.notices.length = 0;

    await w.app.engine.runDue();
    expect((await w.app.engine.order(orderId))?.latePayment?.resolution).toBe("delivered");
    const told = w.notices.filter((n) => n.kind === "payment_notice");
    expect(told).toHaveLength(1);
    expect(told[0]?.kind === "payment_notice" && told[0].secret).toMatch(/^TG-/);
    expect((await w.app.stores.ledger.get(orderId))?.secret).toBeNull();
    // A replayed webhook afterwards is a duplicate and says nothing.
    await post(w.app, w.cp.webhook(invoiceId));
    expect(w.notices.filter((n) => n.kind === "payment_notice")).toHaveLength(1);
  });

  it("the report counts a late payment as paid, and a late delivery as delivered", async () => {
    const w = await world();
    const { orderId, invoiceId } = await cancelledButPayable(w);
    await post(w.app, w.cp.pay(invoiceId));
    await w.app.audit.flush();
    const entries = await w.app.audit.forOrder(orderId);
    const total = buildFunnel(entries).rows.find((r) => r.source === "total")!;
    expect(total).toMatchObject({ paid: 1, delivered: 1, latePaid: 1 });
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
    expect(paid.kind === "order" && paid.order.state).toBe("delivered");
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
