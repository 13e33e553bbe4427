/**
 * The conversation engine, composed from chat sessions and the doors events come through:
 * - customers (`handleText`, `handleButton`, `handleCommand`, `greet`, `view`) can send only commands;
 * - the payment door (`confirmPayment`) is the only way money reaches an order, after re-fetching it;
 * - the sweeper (`runDue`, `startSweeper`) is the only source of deadlines and finishes interrupted work;
 * - the admin door (`admin.*`) retries failed deliveries and returns money.
 * The machine's actors (pricing, invoicing, delivery, refunds) are passed in and attached with `.provide()`.
 */
import { randomBytes } from "node:crypto";
import type { InspectionEvent } from "xstate";
import { snapshotOf } from "../../machines/purchase.reading.ts";
import type { LatePaymentPolicy } from "../../machines/purchase.types.ts";
import { type Catalog, shopOf } from "../domain/catalog.ts";
import type { Understander } from "../domain/commands.ts";
import { ChatId, OrderId } from "../domain/ids.ts";
import type { OrderRecord } from "../domain/records.ts";
import type { Ledger } from "../delivery/index.ts";
import type { Logger } from "../log.ts";
import type { PaymentProvider } from "../payments/provider.ts";
import type { ShopStore } from "../store/shop-store.ts";
import type { PurchaseActors } from "./actors.ts";
import { createAdminDoor } from "./admin-door.ts";
import { toAuditEntry } from "./audit-entries.ts";
import { createCustomerDoor } from "./customer.ts";
import type { EngineEvent, Notifier } from "./events.ts";
import { createNotifications } from "./notify.ts";
import { createOrderActors } from "./orders.ts";
import { createPaymentDoor } from "./payment-door.ts";
import { type OrderView, orderView } from "./reply.ts";
import { createSessions } from "./session.ts";
import { createSweeper } from "./sweeper.ts";

export type EngineOptions = {
  store: ShopStore;
  catalog: Catalog;
  maxMessageLength: number;
  maxDeliveryAttempts: number;
  retryBackoffMs?: number;
  /** The machine's actors: `createPurchaseActors(...)` in the product, fakes in tests. */
  actors: PurchaseActors;
  /** The ledger the delivery actor writes; the engine reads goods to show from it. */
  ledger: Ledger;
  payments: PaymentProvider;
  /** What money that arrives after its order closed does (LATE_PAYMENT); default `deliver`. */
  latePayment?: LatePaymentPolicy;
  understand: Understander;
  log: Logger;
  clock?: () => number;
  newOrderId?: () => OrderId;
  instanceId?: string;
  /** How long to wait for pricing, invoicing or delivery before answering "still working". */
  workTimeoutMs?: number;
  /** The chat lease's length and how long to wait for another instance's (tests shorten them). */
  chatLock?: { leaseMs?: number; waitMs?: number };
  /** Extra hook for every created actor (the Stately inspector attaches here). */
  inspect?: (event: InspectionEvent) => void;
};

export type Engine = ReturnType<typeof createEngine>;

export function createEngine(options: EngineOptions) {
  const { store, log } = options;
  const clock = options.clock ?? Date.now;
  const instanceId = options.instanceId ?? `i-${randomBytes(4).toString("hex")}`;
  const leaseMs = options.chatLock?.leaseMs ?? 10_000;
  const listeners = new Set<(event: EngineEvent) => void>();
  const pendingUpdateHooks = new Set<(chatId: ChatId) => void>();
  const appliedUpdateHooks = new Set<(chatId: ChatId, updateId: number, pendingUpdates: boolean) => void>();
  const emit = (event: EngineEvent) => {
    for (const listener of listeners) {
      try {
        listener(event);
      } catch (err) {
        log.warn("engine listener failed", { err });
      }
    }
  };
  const onPendingUpdates = (chatId: ChatId) => {
    for (const hook of pendingUpdateHooks) hook(chatId);
  };

  const shop = shopOf(options.catalog);
  // One product: the order is for it, within the catalog view's limits. Several: the customer chooses.
  const offer =
    shop.products.length === 1
      ? {
          productId: shop.products[0]!.id,
          products: [{ id: shop.products[0]!.id, minTokens: options.catalog.minTokens, maxTokens: options.catalog.maxTokens }],
        }
      : { productId: null, products: shop.products.map((p) => ({ id: p.id, minTokens: p.min, maxTokens: p.max })) };
  const orders = createOrderActors({
    actors: options.actors,
    log,
    clock,
    offer: () => offer,
    latePayment: options.latePayment ?? "deliver",
    maxDeliveryAttempts: options.maxDeliveryAttempts,
    retryBackoffMs: options.retryBackoffMs ?? 30_000,
    workGraceMs: leaseMs,
    ...(options.newOrderId ? { newOrderId: options.newOrderId } : {}),
    ...(options.workTimeoutMs ? { workTimeoutMs: options.workTimeoutMs } : {}),
    ...(options.inspect ? { inspect: options.inspect } : {}),
  });
  const sessions = createSessions({
    store,
    orders,
    log,
    clock,
    instanceId,
    lease: { ttlMs: leaseMs, waitMs: options.chatLock?.waitMs ?? 5_000 },
    emit,
    onPendingUpdates,
    onUpdateApplied: (chatId, updateId, pendingUpdates) => {
      for (const hook of appliedUpdateHooks) hook(chatId, updateId, pendingUpdates);
    },
  });
  /**
   * The goods of an order reached the customer: the secret is erased, then the order hears it
   * (GOODS_SHOWN), so it stops announcing them. A crash between the two only makes the sweeper look
   * once more, find no secret left, and tell the order then.
   */
  const goodsShown = async (chatId: ChatId, orderId: OrderId) => {
    await options.ledger.markSent(orderId, chatId, clock());
    await sessions.withChat(chatId, async (session) => {
      const order = await session.order(orderId);
      const event = { type: "GOODS_SHOWN" as const, at: clock() };
      if (order?.actor.getSnapshot().can(event)) await session.step(order, event);
    });
  };
  const notifications = createNotifications({
    log,
    shown: goodsShown,
    // After the commit that sent the goods: appended on its own (the failure happened after it).
    undeliverable: (chatId, orderId) => {
      const event: EngineEvent = { type: "secret_undeliverable", chatId, orderId, at: clock() };
      store.appendAudit(chatId, [toAuditEntry(event, instanceId)]).then(
        () => emit(event),
        (err: unknown) => log.error("could not audit undeliverable goods", { chatId, orderId, err }),
      );
    },
  });
  const customer = createCustomerDoor({
    sessions,
    store,
    ledger: options.ledger,
    goodsShown,
    understand: options.understand,
    maxMessageLength: options.maxMessageLength,
    clock,
  });
  const payments = createPaymentDoor({
    sessions,
    store,
    payments: options.payments,
    log,
    clock,
    notifications,
    replyForOrder: customer.replyForOrder,
  });
  const sweeper = createSweeper({
    sessions,
    store,
    notifications,
    ledger: options.ledger,
    replyForOrder: customer.replyForOrder,
    log,
    clock,
    onWaitingInbox: onPendingUpdates,
    inboxPatienceMs: leaseMs * 2,
  });
  const admin = createAdminDoor({ sessions, store, notifications, replyForOrder: customer.replyForOrder, clock });

  return {
    instanceId,
    /** Subscribes to engine events (commands, transitions, payments) for metrics and alerts; each comes after its commit. */
    onEvent(listener: (event: EngineEvent) => void): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    /**
     * Called when a chat's Telegram inbox holds updates this process must work off (its lease was kept
     * for it after a commit, or the sweeper found an inbox nobody works off).
     */
    onPendingUpdates(hook: (chatId: ChatId) => void): () => void {
      pendingUpdateHooks.add(hook);
      return () => pendingUpdateHooks.delete(hook);
    },
    /**
     * Called when a step committed the Telegram update it applied (so the inbox need not mark it
     * applied again), with whether the chat's lease was kept for more updates waiting.
     */
    onUpdateApplied(hook: (chatId: ChatId, updateId: number, pendingUpdates: boolean) => void): () => void {
      appliedUpdateHooks.add(hook);
      return () => appliedUpdateHooks.delete(hook);
    },
    /** This process just took the chat's lease to apply Telegram update `updateId`, the chat at revision `rev`. */
    leaseTakenFor(chatId: ChatId, updateId: number, rev: number): void {
      sessions.handedOver(chatId, updateId, rev);
    },
    /** Sets how customers are told about things that happen without them writing (payment, expiry). */
    setNotifier(next: Notifier): void {
      notifications.setNotifier(next);
      sweeper.kick();
    },
    handleText: customer.handleText,
    handleCommand: customer.handleCommand,
    handleButton: customer.handleButton,
    greet: customer.greet,
    view: customer.view,
    secretShown: customer.secretShown,
    confirmPayment: payments.confirmPayment,
    runDue: sweeper.runDue,
    startSweeper: sweeper.start,
    admin,
    /** An order's stored record, for status pages and admins. */
    async order(orderId: string): Promise<OrderRecord | undefined> {
      const parsed = OrderId.safeParse(orderId);
      return parsed.success ? store.readOrder(parsed.data) : undefined;
    },
    /** An order as its customer sees it, from its stored record (no lease, nothing resumed). */
    async orderView(orderId: string): Promise<OrderView | undefined> {
      const record = await this.order(orderId);
      return record ? orderView(snapshotOf(record.snapshot)) : undefined;
    },
    /** The chat's stored record and current order, for tests and tools (no lease). */
    async chat(chatId: string) {
      return store.readChat(ChatId.parse(chatId));
    },
  };
}
