/**
 * A step whose chat lease ran out must not write over what another instance committed meanwhile, even
 * when its own process has taken the chat's lease again since (a Telegram update for the chat was
 * accepted there: the store's acceptUpdate takes the lease for its owner whatever that owner's steps
 * still have in flight). Two instances share a SQLite file and one clock (the store judges leases by
 * it), and one payment provider whose first answer is slow and out of date by the time it arrives.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { type App, createApp } from "../../src/app.ts";
import { loadConfig } from "../../src/config.ts";
import { ChatId } from "../../src/domain/ids.ts";
import { silentLogger } from "../../src/log.ts";
import { type PaymentProvider, type PaymentStatus, ok } from "../../src/payments/provider.ts";
import { testClock } from "../support/app.ts";

const LEASE_MS = 10_000;
const dirs: string[] = [];
const apps: App[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/**
 * A provider both instances share: invoices are paid when the test says so; the first status asked
 * while `slow` is armed is read at once and answered only when the test lets it go (a provider that
 * took its time).
 */
function sharedProvider() {
  const paid = new Set<string>();
  const amounts = new Map<string, PaymentStatus["amount"]>();
  let slow: { release: () => void; asked: Promise<void> } | null = null;
  let armed = false;
  const provider: PaymentProvider = {
    name: "sandbox",
    currency: "USD",
    async createInvoice(request) {
      const paymentId = `pay_${request.orderId}`;
      amounts.set(paymentId, request.charge);
      return ok({ paymentId, payUrl: `https://pay.example/${paymentId}`, expiresAt: request.expiresAt });
    },
    async fetchPayment(paymentId) {
      const status: PaymentStatus = {
        paymentId,
        status: paid.has(paymentId) ? "paid" : "pending",
        amount: amounts.get(paymentId) ?? null,
        orderId: paymentId.replace(/^pay_/, ""),
      };
      if (armed && slow) {
        armed = false;
        const gate = slow;
        let let_go!: () => void;
        const released = new Promise<void>((resolve) => (let_go = resolve));
        gate.release = let_go;
        asked();
        await released;
      }
      return ok(status);
    },
    verifyWebhook: () => null,
  };
  let asked = () => {};
  return {
    provider,
    pay: (paymentId: string) => paid.add(paymentId),
    /** Arms the slow answer; resolves once it was asked, with the function that lets it answer. */
    armSlow() {
      armed = true;
      const asking = new Promise<void>((resolve) => (asked = resolve));
      slow = { release: () => {}, asked: asking };
      return {
        asked: asking,
        release: () => slow?.release(),
      };
    },
  };
}

it("a stale sweeper step cannot write an unpaid order over the paid one after its process took the chat's lease again", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tokengoblin-stale-"));
  dirs.push(dir);
  const storeUrl = `sqlite://${join(dir, "shop.sqlite")}`;
  const clock = testClock();
  const shared = sharedProvider();
  const start = async (instanceId: string) => {
    const app = await createApp(loadConfig({ STORE_URL: storeUrl }), {
      listen: false,
      log: silentLogger,
      clock,
      instanceId,
      payments: shared.provider,
      sweepIntervalMs: 3_600_000,
      chatLock: { leaseMs: LEASE_MS, waitMs: 1_000 },
    });
    app.engine.setNotifier(async () => {});
    apps.push(app);
    return app;
  };
  const a = await start("instance-a");
  const b = await start("instance-b");
  const chat = "c1";

  await a.engine.handleText(chat, "I need 2000 tokens");
  const awaiting = await a.engine.handleText(chat, "yes");
  if (awaiting.kind !== "order" || !awaiting.order.payUrl) throw new Error(`expected an invoice, got ${JSON.stringify(awaiting)}`);
  const orderId = awaiting.order.orderId;
  const paymentId = `pay_${orderId}`;

  // The invoice's deadline passes: instance A's sweeper asks the provider, which is slow to answer.
  clock.advance(61 * 60_000);
  const slow = shared.armSlow();
  const sweep = a.engine.runDue();
  await slow.asked;

  // Meanwhile A's lease runs out (A stalled), and B confirms the customer's payment and delivers.
  clock.advance(LEASE_MS + 1_000);
  shared.pay(paymentId);
  const confirmed = await b.engine.confirmPayment("sandbox", paymentId);
  expect(confirmed.outcome).not.toBe("unknown_invoice");
  const afterPayment = await b.store.readOrder(orderId as never);
  expect(afterPayment?.summary.state).toMatch(/^(paid|delivered)/);

  // The customer writes "did it work?"; Telegram posts it to instance A, whose inbox keeps it and takes
  // the chat's lease for A (what inbox.ts does with the store's acceptUpdate).
  const kept = await a.store.acceptUpdate(ChatId.parse(chat), 777, '{"update_id":777}', { owner: "instance-a", ttlMs: LEASE_MS });
  expect(kept).toMatchObject({ accepted: true, held: true });

  // Now A's provider answers, out of date: "pending" past the deadline. A's step must not undo the payment.
  slow.release();
  await sweep;
  const stored = await b.store.readOrder(orderId as never);
  expect(stored?.summary.state, "the paid order is still paid").toBe(afterPayment?.summary.state);
});
