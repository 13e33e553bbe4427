/**
 * Issue 18 (5): the sandbox pay page under a frozen store. A customer's click on Pay is answered
 * within about two seconds whatever the store does — with the "payment sent" page when the click was
 * recorded, or with "could not record it, press Pay again" (503) when it was not — and never hangs.
 * A click recorded just before the process died is still delivered: the webhook it owes is kept in
 * the store and the restarted shop sends it again.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { collectionOf } from "../../src/store/index.ts";
import { SandboxOutbox, type SandboxProvider } from "../../src/payments/sandbox.ts";
import { payUrlOf, startTestApp, testClock } from "../support/app.ts";
import { redisServerMissing, startOwnRedis } from "../support/redis-server.ts";
import { whenRedis } from "../support/redis-store.ts";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** "About two seconds": the page waits 1.5 s for the store to record the click, then briefly for the page itself. */
const ANSWER_LIMIT_MS = 2_500;
const NOT_RECORDED = "could not record your payment just now. Nothing was charged: press Pay again";
const SENT = "Payment sent. You can go back to the chat.";

type TestApp = Awaited<ReturnType<typeof startTestApp>>;

/** An app with a sandbox invoice waiting for payment: its pay link and order. */
async function invoiced(env: Record<string, string> = {}, overrides: Parameters<typeof startTestApp>[1] = {}) {
  const shop = await startTestApp(env, overrides);
  cleanups.push(() => shop.app.close());
  await shop.app.engine.handleText("c1", "I need 2000 tokens");
  const awaiting = await shop.app.engine.handleText("c1", "yes");
  const payUrl = payUrlOf(awaiting);
  const orderId = awaiting.kind === "order" ? awaiting.order.orderId : "";
  return { ...shop, payUrl, orderId };
}

/** Presses Pay and measures how long the page took to answer (the webhook is not waited for). */
async function press(shop: TestApp, payUrl: string) {
  const started = performance.now();
  const page = await shop.app.http.dispatch({ method: "POST", path: new URL(payUrl).pathname, headers: {}, rawBody: Buffer.alloc(0) });
  return { status: page.status, body: String(page.body), ms: performance.now() - started };
}

const deliveries = (shop: TestApp) =>
  shop.notifications.filter((n) => n.reply.kind === "order" && n.reply.order.stage === "delivered" && n.reply.secret);

/**
 * Freezes the app's store the way a stopped server does: every call waits, unanswered, until it is
 * thawed, and then goes through. Covers the store's methods and the key-value namespaces the sandbox
 * provider and the language preferences keep their records in.
 */
function freezable(shop: TestApp) {
  let thawed: Promise<void> | null = null;
  let thaw = () => {};
  const gate = async () => {
    while (thawed) await thawed;
  };
  const wrap = (target: Record<string, unknown>, names: string[]) => {
    for (const name of names) {
      const original = target[name];
      if (typeof original !== "function") continue;
      target[name] = async (...args: unknown[]) => {
        await gate();
        return (original as (...a: unknown[]) => unknown).apply(target, args);
      };
    }
  };
  const store = shop.app.store as unknown as Record<string, unknown>;
  wrap(
    store,
    Object.keys(store).filter((name) => name !== "kv" && name !== "close"),
  );
  for (const namespace of ["sandbox_invoices", "sandbox_outbox", "preferences"]) {
    wrap(shop.app.store.kv(namespace) as unknown as Record<string, unknown>, ["get", "set", "delete", "has", "getMany"]);
  }
  return {
    freeze() {
      thawed = new Promise<void>((resolve) => (thaw = resolve));
    },
    thaw() {
      thawed = null;
      thaw();
    },
  };
}

describe("the pay page under a frozen store (issue 18, 5)", () => {
  test("a click while the store answers nothing is answered within ~2 s, asking to press Pay again; pressing again later pays once", async () => {
    const shop = await invoiced();
    const store = freezable(shop);
    store.freeze();
    const frozen = await press(shop, shop.payUrl);
    expect(frozen.ms).toBeLessThan(ANSWER_LIMIT_MS);
    expect(frozen.status).toBe(503);
    expect(frozen.body).toContain(NOT_RECORDED);
    // The page offers Pay again, even though it could not read the invoice from the frozen store.
    expect(frozen.body).toContain(`<form method="post" action="${new URL(shop.payUrl).pathname}">`);
    expect(frozen.body).not.toContain("No such invoice");

    // The store wakes up; the customer presses Pay again, as the page asked.
    store.thaw();
    const again = await shop.pay(shop.payUrl);
    expect(again.status).toBe(200);
    expect(String(again.body)).toContain(SENT);
    await shop.app.flushSandboxWebhooks();
    // Whether or not the frozen click was recorded in the end, the order is paid and delivered once.
    expect(deliveries(shop)).toHaveLength(1);
    expect((await shop.app.engine.orderView(shop.orderId))?.stage).toBe("delivered");
  });

  test("a click recorded just before the store froze gets the recorded page, within ~2 s, and is delivered once the store wakes", async () => {
    const shop = await invoiced();
    const store = freezable(shop);
    // The click is recorded; the store freezes while the page is being put together.
    const sandbox = shop.app.payments as SandboxProvider;
    const pay = sandbox.pay;
    sandbox.pay = async (paymentId) => {
      const recorded = await pay.call(sandbox, paymentId);
      store.freeze();
      return recorded;
    };
    const answered = await press(shop, shop.payUrl);
    expect(answered.ms).toBeLessThan(ANSWER_LIMIT_MS);
    expect(answered.status).toBe(200);
    expect(answered.body).toContain(SENT);
    sandbox.pay = pay;
    store.thaw();
    await shop.app.flushSandboxWebhooks();
    expect(deliveries(shop)).toHaveLength(1);
  });

  test("a click recorded just before a crash is delivered after the restart: the owed webhook is kept in the store and sent again", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tokengoblin-paypage-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const env = { STORE_URL: `sqlite://${join(dir, "shop.sqlite")}` };
    const clock = testClock();
    const first = await invoiced(env, { clock, instanceId: "shop-1" });
    // The process dies while the shop takes the webhook: nothing about the payment reaches the order.
    first.app.engine.confirmPayment = () => new Promise(() => {});
    const answered = await press(first, first.payUrl);
    expect(answered.status).toBe(200);
    expect(answered.body).toContain(SENT);
    const owed = collectionOf(first.app.store.kv("sandbox_outbox"), SandboxOutbox);
    expect((await owed.get("owed"))?.paymentIds).toEqual([new URL(first.payUrl).pathname.split("/").pop()]);
    expect((await first.app.engine.orderView(first.orderId))?.stage).toBe("awaiting_payment");
    expect(first.notifications).toHaveLength(0);
    await first.app.close();

    // The restarted shop sends the owed webhook by itself, and the order is delivered once.
    const second = await startTestApp(env, { clock, instanceId: "shop-1" });
    cleanups.push(() => second.app.close());
    await second.app.flushSandboxWebhooks();
    expect((await second.app.engine.orderView(first.orderId))?.stage).toBe("delivered");
    expect(deliveries(second)).toHaveLength(1);
    expect((await collectionOf(second.app.store.kv("sandbox_outbox"), SandboxOutbox).get("owed"))?.paymentIds).toEqual([]);
    // Sending again changes nothing.
    await second.app.flushSandboxWebhooks();
    expect(deliveries(second)).toHaveLength(1);
  });
});

whenRedis(
  "pay page on a frozen Redis",
  redisServerMissing(),
  "Install redis-server (apt-get install redis-server) to run these tests",
  () => {
    describe("the pay page on a frozen Redis (issue 18, 5)", () => {
      test("a click while Redis is stopped (SIGSTOP) is answered within ~2 s, asking to press Pay again; after SIGCONT it pays once", async () => {
        const redis = await startOwnRedis();
        cleanups.push(() => redis.dispose());
        const shop = await invoiced({ STORE_URL: redis.url });
        redis.freeze();
        const frozen = await press(shop, shop.payUrl);
        expect(frozen.ms).toBeLessThan(ANSWER_LIMIT_MS);
        expect(frozen.status).toBe(503);
        expect(frozen.body).toContain(NOT_RECORDED);

        redis.thaw();
        // The store heals by itself; the customer presses again.
        let again = await press(shop, shop.payUrl);
        for (let tries = 0; again.status !== 200 && tries < 20; tries++) {
          await new Promise((resolve) => setTimeout(resolve, 200)); // a real redis-server process resuming after SIGCONT: press again
          again = await press(shop, shop.payUrl);
        }
        expect(again.status).toBe(200);
        expect(again.body).toContain(SENT);
        await shop.app.flushSandboxWebhooks();
        expect(deliveries(shop)).toHaveLength(1);
        expect((await shop.app.engine.orderView(shop.orderId))?.stage).toBe("delivered");
      });
    });
  },
);
