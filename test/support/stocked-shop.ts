/**
 * A shop with orders in every state the sandbox shop reaches, driven by the real engine (issue 22:
 * backup, restore and moving a shop must carry all of them), and a comparison of two stores through
 * the ShopStore API: what a moved or restored shop must read exactly as the original did.
 */
import { fileURLToPath } from "node:url";
import { expect } from "vitest";
import { createProjection } from "../../src/analytics/projection.ts";
import { createSandboxDelivery } from "../../src/delivery/index.ts";
import type { DeliveryProvider } from "../../src/delivery/provider.ts";
import { ChatId } from "../../src/domain/ids.ts";
import type { AuditEntry } from "../../src/domain/records.ts";
import type { EngineReply } from "../../src/engine/reply.ts";
import { emptyCounts, type StoreCounts } from "../../src/store/dump.ts";
import type { ShopStore } from "../../src/store/shop-store.ts";
import { payUrlOf, startTestApp, testClock } from "./app.ts";
import { runProcess } from "./run-process.ts";

const REPO = fileURLToPath(new URL("../../", import.meta.url));

/** A delivery provider that fails while `failing.on` is set. */
export function switchableDelivery(): DeliveryProvider & { failing: { on: boolean } } {
  const real = createSandboxDelivery();
  const failing = { on: false };
  return {
    name: "sandbox",
    failing,
    issue: (request) =>
      failing.on ? Promise.resolve({ ok: false, reason: "unavailable", detail: "provider down" } as const) : real.issue(request),
  };
}

/** The stocked shop's chats, by the state their order was left in. */
export const STOCKED_CHATS = {
  quoted: "101",
  awaitingPayment: "102",
  delivered: "103",
  waitingRetry: "104",
  deliveryFailed: "105",
  refunded: "106",
  cancelledQuote: "107",
  cancelledInvoice: "108",
  expiredQuote: "109",
  expiredInvoice: "110",
  deliveredThenQuoted: "111",
  /** A Telegram update kept in its inbox, not yet applied. */
  queuedUpdate: "112",
} as const;

const orderOf = (reply: EngineReply) => {
  if (reply.kind !== "order") throw new Error(`expected an order reply, got ${JSON.stringify(reply)}`);
  return reply.order;
};

/** Opens the shop on `storeUrl` (a fresh store) with a controllable clock and delivery. */
export async function openStockedShopApp(storeUrl: string, clock = testClock()) {
  const delivery = switchableDelivery();
  const shop = await startTestApp({ STORE_URL: storeUrl, DELIVERY_MAX_ATTEMPTS: "2" }, { delivery, clock, retryBackoffMs: 60_000 });
  return { ...shop, delivery };
}

/**
 * Fills the store at `storeUrl` with a chat per state of {@link STOCKED_CHATS}, a language setting, a
 * queued update and a saved read model; closes the app. Returns the pay link of the order awaiting
 * payment, the clock, and every chat id.
 */
export async function stockShop(storeUrl: string) {
  const { app, clock, pay, delivery } = await openStockedShopApp(storeUrl);
  const c = STOCKED_CHATS;
  const text = (chatId: string, words: string) => app.engine.handleText(chatId, words);
  const invoice = async (chatId: string, tokens = 2000) => {
    await text(chatId, `I need ${tokens} tokens`);
    return payUrlOf(await text(chatId, "yes"));
  };
  try {
    // Deadlines first: the sweeper moves every order that is due.
    await text(c.expiredQuote, "I need 1000 tokens");
    await invoice(c.expiredInvoice);
    clock.advance(61 * 60_000);
    await app.engine.runDue();

    // Deliveries that fail: twice (failed for good), twice then refunded, once (waiting to retry).
    delivery.failing.on = true;
    await pay(await invoice(c.deliveryFailed, 3000));
    const refundedUrl = await invoice(c.refunded, 4000);
    await pay(refundedUrl);
    clock.advance(2 * 60_000);
    await app.engine.runDue();
    const refunded = orderOf(await app.engine.view(c.refunded)).orderId;
    const refund = await app.engine.admin.refund(refunded, { manual: false, by: "test" });
    if (!refund.ok) throw new Error(`the refund was refused: ${JSON.stringify(refund)}`);
    await pay(await invoice(c.waitingRetry, 5000));
    delivery.failing.on = false;

    await text(c.quoted, "I need 2000 tokens");
    const awaitingUrl = await invoice(c.awaitingPayment);
    await pay(await invoice(c.delivered, 6000));
    await app.languages.choose(c.delivered, "ru");
    await text(c.cancelledQuote, "I need 7000 tokens");
    await text(c.cancelledQuote, "cancel");
    await invoice(c.cancelledInvoice, 8000);
    await text(c.cancelledInvoice, "cancel");
    await pay(await invoice(c.deliveredThenQuoted, 9000));
    await text(c.deliveredThenQuoted, "I need 1500 tokens");
    await app.store.acceptUpdate(ChatId.parse(c.queuedUpdate), 7, '{"update_id":7,"message":{"text":"hi"}}', {
      owner: "another-instance",
      ttlMs: 1_000,
    });
    await app.projection.refresh();
    await app.projection.save();

    const stages = Object.fromEntries(
      await Promise.all(
        Object.entries(c).map(async ([name, chatId]) => {
          const current = (await app.store.readChat(ChatId.parse(chatId))).order;
          return [name, current && current !== "invalid" ? current.summary.state : null] as const;
        }),
      ),
    );
    return { clock, awaitingUrl, stages, chatIds: Object.values(c) as string[] };
  } finally {
    await app.close();
  }
}

/** Every item kind's count in `store` (through exportAll). */
export async function countsOf(store: ShopStore): Promise<StoreCounts> {
  const counts = emptyCounts();
  for await (const item of store.exportAll()) counts[item.kind]++;
  return counts;
}

async function wholeLog(store: ShopStore): Promise<AuditEntry[]> {
  const entries: AuditEntry[] = [];
  let position: string | null = null;
  for (;;) {
    const batch = await store.readLog(position, 500);
    if (batch.entries.length === 0) return entries;
    entries.push(...batch.entries);
    position = batch.position;
  }
}

/**
 * Asserts that `copy` reads exactly as `original` through the ShopStore API for the chats named:
 * each chat, each of its orders, their audit trails, goods and payment index entries, the deadline
 * index, queued updates, settings and providers' invoices, the whole audit log in order, and the saved
 * read model (which, refreshed on each, gives the same state).
 */
export async function expectSameShop(original: ShopStore, copy: ShopStore, chatIds: readonly string[]): Promise<void> {
  for (const chatId of chatIds.map((id) => ChatId.parse(id))) {
    const chat = await original.readChat(chatId);
    expect(await copy.readChat(chatId), `chat ${chatId}`).toEqual(chat);
    expect(await copy.queuedUpdates(chatId, 100), `chat ${chatId}'s inbox`).toEqual(await original.queuedUpdates(chatId, 100));
    expect(await copy.kv("preferences").get(chatId), `chat ${chatId}'s language`).toEqual(await original.kv("preferences").get(chatId));
    const record = chat.chat;
    if (!record || record === "invalid") continue;
    const orderIds = [...record.recentOrderIds, ...(record.currentOrderId ? [record.currentOrderId] : [])];
    expect(await copy.readOrders(chatId, orderIds), `chat ${chatId}'s orders`).toEqual(await original.readOrders(chatId, orderIds));
    for (const order of await original.readOrders(chatId, orderIds)) {
      expect(await copy.readOrder(order.orderId)).toEqual(order);
      expect(await copy.auditOf(order.orderId), `order ${order.orderId}'s trail`).toEqual(await original.auditOf(order.orderId));
      expect(await copy.goods(order.orderId, chatId), `order ${order.orderId}'s goods`).toEqual(
        await original.goods(order.orderId, chatId),
      );
      const { provider, paymentId } = order.summary;
      if (provider && paymentId) {
        const key = `${provider}:${paymentId}`;
        expect(await copy.findPayment(key), `payment ${key}`).toEqual(await original.findPayment(key));
        expect(await original.findPayment(key)).toEqual({ orderId: order.orderId, chatId });
        expect(await copy.kv("sandbox_invoices").get(paymentId), `invoice ${paymentId}`).toEqual(
          await original.kv("sandbox_invoices").get(paymentId),
        );
      }
    }
  }
  // Orders due at the same moment may come in either order: each backend breaks ties its own way.
  const due = async (store: ShopStore) =>
    (await store.dueOrders(Number.MAX_SAFE_INTEGER, 10_000)).sort((x, y) => x.dueAt - y.dueAt || x.orderId.localeCompare(y.orderId));
  expect(await due(copy)).toEqual(await due(original));
  expect(await wholeLog(copy)).toEqual(await wholeLog(original));
  const saved = await original.loadProjection("shop");
  expect(saved, "the original's saved read model").toBeDefined();
  expect((await copy.loadProjection("shop"))?.state).toBe(saved?.state);
  // Each goes on from its own position in its own log: the same state, nothing applied twice or skipped.
  const [a, b] = [createProjection(original), createProjection(copy)];
  await Promise.all([a.refresh(), b.refresh()]);
  expect(b.state()).toEqual(a.state());
  expect(await countsOf(copy)).toEqual(await countsOf(original));
}

/** Runs one of the store tools (`backup`, `restore`, `migrate-store`) as `npm run <tool>` would, in the repository. */
export function runStoreTool(tool: "backup" | "restore" | "migrate-store", args: string[], env: Record<string, string> = {}) {
  return runProcess(process.execPath, ["--import", "tsx", `src/cli/${tool}.ts`, ...args], {
    cwd: REPO,
    env: { ...process.env, STORE_URL: "", ...env },
  });
}
