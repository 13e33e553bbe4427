import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { collectionOf } from "../../src/store/index.ts";
import { gate } from "../support/gate.ts";
import { payUrlOf, rewriteChat, rewriteOrder, startTestApp, testClock } from "../support/app.ts";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function sandboxApp(env: Record<string, string> = {}, clock = testClock()) {
  const started = await startTestApp(env, { clock });
  cleanups.push(() => started.app.close());
  return started;
}

function tempStore() {
  const dir = mkdtempSync(join(tmpdir(), "tokengoblin-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return `sqlite://${join(dir, "store.sqlite")}`;
}

describe("an amount the shop cannot sell", () => {
  test("refused in a new chat and after a finished order, it leaves no order behind", async () => {
    const { app, pay } = await sandboxApp();
    const refused = await app.engine.handleText("c9", "I need 5 tokens");
    expect(refused.kind === "refused" && refused.reason).toBe("amount_out_of_range");
    expect((await app.store.readChat("c9" as never)).chat).toMatchObject({ currentOrderId: null, recentOrderIds: [] });

    const quoted = await app.engine.handleText("c9", "I need 2000 tokens");
    await pay(payUrlOf(await app.engine.handleText("c9", "yes")));
    const delivered = quoted.kind === "order" ? quoted.order.orderId : "";
    const again = await app.engine.handleText("c9", "now 5 tokens please");
    expect(again.kind === "refused" && again.reason).toBe("amount_out_of_range");
    const chat = (await app.store.readChat("c9" as never)).chat;
    expect(chat).toMatchObject({ currentOrderId: delivered, recentOrderIds: [] });
    const orders = await app.engine.handleCommand("c9", { type: "ORDERS" });
    expect(orders.kind === "orders" && orders.orders.map((order) => order.orderId)).toEqual([delivered]);
  });
});

describe("a sandbox purchase", () => {
  test("text alone takes a customer from an amount to a delivered voucher, exactly once", async () => {
    const { app, notifications, pay } = await sandboxApp();
    const quoted = await app.engine.handleText("c1", "I need 2000 tokens");
    expect(quoted.kind).toBe("order");
    const text = app.renderer.render(quoted).text;
    expect(text).toContain("$40.00");
    expect(text).toContain("40.00 USDT");

    const awaiting = await app.engine.handleText("c1", "yes");
    const payUrl = payUrlOf(awaiting);
    expect((await pay(payUrl)).status).toBe(200);

    expect(notifications).toHaveLength(1);
    const delivered = notifications[0]!.reply;
    expect(delivered.kind === "order" && delivered.order.stage).toBe("delivered");
    expect(delivered.kind === "order" && delivered.secret).toMatch(/^TG-[A-Z0-9]+$/);

    // Paying again (a provider retry) changes nothing and sends nothing.
    expect((await pay(payUrl)).status).toBe(200);
    expect(notifications).toHaveLength(1);
    const orderId = delivered.kind === "order" ? delivered.order.orderId : "";
    const entry = await app.store.goods(orderId as never, "c1" as never);
    expect(entry?.secret).toBeNull(); // shown once, then only its reference is kept
    expect(entry?.sentAt).not.toBeNull();
    expect((await app.engine.orderView(orderId))?.stage).toBe("delivered");
  });

  test("a typed 'I have paid, deliver now' or 'PAYMENT_CONFIRMED' never delivers", async () => {
    const { app, notifications } = await sandboxApp();
    await app.engine.handleText("c1", "2000 tokens");
    const awaiting = await app.engine.handleText("c1", "confirm");
    for (const text of ["I have paid, deliver now", "PAYMENT_CONFIRMED", "payment confirmed, mark as paid", "deliver", "/deliver"]) {
      const reply = await app.engine.handleText("c1", text);
      expect(reply.kind === "order" || reply.kind === "not_understood" || reply.kind === "refused").toBe(true);
    }
    const orderId = awaiting.kind === "order" ? awaiting.order.orderId : "";
    expect((await app.engine.orderView(orderId))?.stage).toBe("awaiting_payment");
    expect(await app.store.goods(orderId as never, "c1" as never)).toBeUndefined();
    expect(notifications).toHaveLength(0);
  });

  test("a forged webhook is refused and delivers nothing", async () => {
    const { app } = await sandboxApp();
    await app.engine.handleText("c1", "2000 tokens");
    const awaiting = await app.engine.handleText("c1", "yes");
    const paymentId = new URL(payUrlOf(awaiting)).pathname.split("/").pop()!;
    const rawBody = Buffer.from(JSON.stringify({ paymentId, event: "invoice_paid" }));
    const forged = await app.http.dispatch({
      method: "POST",
      path: "/webhooks/sandbox",
      headers: { "x-sandbox-signature": "0".repeat(64) },
      rawBody,
    });
    expect(forged.status).toBe(401);
    const unsigned = await app.http.dispatch({ method: "POST", path: "/webhooks/sandbox", headers: {}, rawBody });
    expect(unsigned.status).toBe(401);
    const orderId = awaiting.kind === "order" ? awaiting.order.orderId : "";
    expect((await app.engine.orderView(orderId))?.stage).toBe("awaiting_payment");
  });

  test("amounts outside the limits get a reply that states the limits", async () => {
    const { app } = await sandboxApp();
    for (const text of ["50 tokens", "5m tokens"]) {
      const reply = await app.engine.handleText("c1", text);
      expect(reply.kind).toBe("refused");
      expect(app.renderer.render(reply).text).toContain("100 tokens to 1,000,000 tokens");
    }
  });

  test("unknown text gets a short answer with choices, never silence", async () => {
    const { app } = await sandboxApp();
    const reply = await app.engine.handleText("c1", "what's the weather like?");
    expect(reply.kind).toBe("not_understood");
    const rendered = app.renderer.render(reply);
    expect(rendered.text.length).toBeGreaterThan(10);
    expect(rendered.buttons.flat().length).toBeGreaterThan(0);
  });

  test("looking at an order (a status view) changes and writes nothing", async () => {
    const { app, clock } = await sandboxApp();
    await app.engine.handleText("c1", "2000 tokens");
    const before = await app.engine.chat("c1");
    const logged = (await app.store.readLog(null, 1000)).entries.length;
    clock.advance(60_000);
    expect((await app.engine.view("c1")).kind).toBe("order");
    expect((await app.engine.view("nobody")).kind).toBe("no_order");
    expect(await app.engine.chat("c1")).toEqual(before);
    expect((await app.engine.chat("nobody")).chat).toBeUndefined();
    expect((await app.store.readLog(null, 1000)).entries.length).toBe(logged);
  });

  test("a too-long message is refused politely and does not touch the order", async () => {
    const { app } = await sandboxApp();
    await app.engine.handleText("c1", "2000 tokens");
    const reply = await app.engine.handleText("c1", "x".repeat(10_000));
    expect(reply.kind).toBe("too_long");
    expect((await app.engine.view("c1")).kind).toBe("order");
  });

  test("a button from an old order does nothing to the new one", async () => {
    const { app } = await sandboxApp();
    const first = await app.engine.handleButton("c1", { action: "package", tokens: 1000 });
    const firstId = first.kind === "order" ? first.order.orderId : "";
    await app.engine.handleButton("c1", { action: "cancel", orderId: firstId });
    await app.engine.handleButton("c1", { action: "package", tokens: 5000 });
    const stale = await app.engine.handleButton("c1", { action: "confirm", orderId: firstId, shown: 1000 });
    expect(stale.kind).toBe("stale_button");
    const current = await app.engine.view("c1");
    expect(current.kind === "order" && current.order.stage).toBe("quoted");
  });

  test("messages of one chat are handled in order while other chats run alongside", async () => {
    const { app } = await sandboxApp();
    const chats = ["a", "b", "c", "d"];
    await Promise.all(
      chats.map(async (chat) => {
        const replies = await Promise.all([
          app.engine.handleText(chat, "1000 tokens"),
          app.engine.handleText(chat, "make it 3000"),
          app.engine.handleText(chat, "yes"),
        ]);
        expect(replies.map((r) => (r.kind === "order" ? r.order.stage : r.kind))).toEqual(["quoted", "quoted", "awaiting_payment"]);
        expect(replies[2]!.kind === "order" && replies[2]!.order.tokens).toBe(3000);
      }),
    );
  });
});

describe("restarts and deadlines", () => {
  test("an order survives a restart mid-payment and paying afterwards delivers once", async () => {
    const store = tempStore();
    const clock = testClock();
    const first = await startTestApp({ STORE_URL: store }, { clock });
    await first.app.engine.handleText("c1", "I need 2000 tokens");
    const payUrl = payUrlOf(await first.app.engine.handleText("c1", "yes"));
    await first.app.close();

    const second = await sandboxApp({ STORE_URL: store }, clock);
    const resumed = await second.app.engine.view("c1");
    expect(resumed.kind === "order" && resumed.order.stage).toBe("awaiting_payment");
    await second.pay(payUrl);
    await second.pay(payUrl);
    expect(second.notifications.filter((n) => n.reply.kind === "order" && n.reply.order.stage === "delivered")).toHaveLength(1);
    const status = await second.app.engine.handleText("c1", "status");
    expect(status.kind === "no_order" && status.lastOrder?.stage).toBe("delivered");
  });

  test("the sweeper expires an unpaid invoice after a restart, and the pay page then refuses payment", async () => {
    const store = tempStore();
    const clock = testClock();
    const first = await startTestApp({ STORE_URL: store }, { clock });
    await first.app.engine.handleText("c1", "2000 tokens");
    const payUrl = payUrlOf(await first.app.engine.handleText("c1", "yes"));
    await first.app.close();

    clock.advance(61 * 60_000);
    const second = await sandboxApp({ STORE_URL: store }, clock);
    expect(await second.app.engine.runDue()).toBe(1);
    expect(second.notifications).toHaveLength(1);
    const expired = second.notifications[0]!.reply;
    expect(expired.kind === "order" && expired.order.stage).toBe("expired");
    expect(second.app.renderer.render(expired).text).toContain("expired before it was paid");
    expect((await second.pay(payUrl)).status).toBe(409);
    expect(await second.app.engine.runDue()).toBe(0);
  });

  test("a quote expires after its time to live and the customer is told", async () => {
    const { app, clock, notifications } = await sandboxApp();
    await app.engine.handleText("c1", "2000 tokens");
    clock.advance(14 * 60_000);
    await app.engine.runDue();
    expect(notifications).toHaveLength(0);
    clock.advance(2 * 60_000);
    await app.engine.runDue();
    expect(notifications).toHaveLength(1);
    const after = await app.engine.handleText("c1", "yes");
    expect(after.kind).toBe("refused");
  });

  test("a payment made just before the deadline still counts when the sweeper looks", async () => {
    const { app, clock, notifications } = await sandboxApp();
    await app.engine.handleText("c1", "2000 tokens");
    const awaiting = await app.engine.handleText("c1", "yes");
    const paymentId = new URL(payUrlOf(awaiting)).pathname.split("/").pop()!;
    const invoices = collectionOf(app.store.kv("sandbox_invoices"), (await import("../../src/payments/sandbox.ts")).SandboxInvoice);
    const invoice = (await invoices.get(paymentId))!;
    // Paid at the provider, but the webhook never arrived.
    await invoices.set(paymentId, { ...invoice, status: "paid", paidAt: clock.now });
    clock.advance(61 * 60_000);
    await app.engine.runDue();
    const delivered = notifications.at(-1)?.reply;
    expect(delivered?.kind === "order" && delivered.order.stage).toBe("delivered");
  });

  test("a corrupt stored conversation restarts politely and keeps the order record", async () => {
    const { app } = await sandboxApp();
    const quoted = await app.engine.handleText("c1", "2000 tokens");
    const orderId = quoted.kind === "order" ? quoted.order.orderId : "";
    await rewriteChat(app, "c1", (record) => ({ ...record, v: 99 as never }));
    const reply = await app.engine.handleText("c1", "status");
    expect(reply.notice).toBe("conversation_reset");
    expect(app.renderer.render(reply).text).toContain("starting fresh");
    expect((await app.engine.order(orderId))?.summary.tokens).toBe(2000);
  });

  test.each([
    ["a state the machine does not have", "bogus"],
    ["no state", undefined],
    ["an unknown sub-state", { paid: "nope" }],
  ])(
    "a stored order naming %s restarts the conversation politely instead of failing, and keeps the order as it was",
    async (_what, value) => {
      const { app } = await sandboxApp();
      const quoted = await app.engine.handleText("c1", "2000 tokens");
      const orderId = quoted.kind === "order" ? quoted.order.orderId : "";
      await rewriteOrder(app, "c1", orderId, (record) => ({ ...record, snapshot: { ...record.snapshot, value } }));
      const reply = await app.engine.handleText("c1", "status");
      expect(reply.notice).toBe("conversation_reset");
      expect((await app.engine.handleText("c1", "3000 tokens")).kind).toBe("order");
    },
  );

  test("checking status asks the provider, so a missed webhook still delivers", async () => {
    const { app, pay, notifications } = await sandboxApp();
    await app.engine.handleText("c1", "2000 tokens");
    const payUrl = payUrlOf(await app.engine.handleText("c1", "yes"));
    // Lose the webhook: pay at the "provider" directly without telling the shop.
    void pay;
    const sandbox = app.payments as unknown as { pay(id: string): Promise<unknown> };
    await sandbox.pay(new URL(payUrl).pathname.split("/").pop()!);
    const status = await app.engine.handleText("c1", "did my payment go through?");
    expect(status.kind === "order" && status.order.stage).toBe("delivered");
    expect(status.kind === "order" && status.secret).toBeTruthy();
    expect(notifications).toHaveLength(0);
  });
});

describe("two instances, one confirmation replayed while the goods are being announced", () => {
  test("only the instance that delivered shows the code: a replay racing its announcement stays quiet", async () => {
    const store = tempStore();
    const clock = testClock();
    const a = await sandboxApp({ STORE_URL: store }, clock);
    const b = await sandboxApp({ STORE_URL: store }, clock);
    const shown: string[] = [];
    // Instance a's channel is slow: its announcement of the goods is still on the wire when b gets the replay.
    const channel = gate();
    a.app.engine.setNotifier(async (_chat, reply) => {
      if (reply.kind === "order" && reply.secret) {
        channel.entered();
        await channel.released;
        shown.push(`a:${reply.secret}`);
      }
    });
    b.app.engine.setNotifier(async (_chat, reply) => {
      if (reply.kind === "order" && reply.secret) shown.push(`b:${reply.secret}`);
    });
    await a.app.engine.handleText("c1", "2000 tokens");
    const payUrl = payUrlOf(await a.app.engine.handleText("c1", "yes"));
    const paying = a.pay(payUrl);
    await channel.entering;
    const replay = await b.app.engine.confirmPayment("sandbox", new URL(payUrl).pathname.split("/").pop() ?? "");
    expect(replay.outcome).toBe("duplicate");
    channel.release();
    expect((await paying).status).toBe(200);
    expect(shown).toHaveLength(1);
    expect(shown[0]).toMatch(/^a:TG-/);
  });
});
