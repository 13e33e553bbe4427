/**
 * The conversation engine, composed from one session module and the doors events come through:
 * - customers (`handleText`, `handleButton`, `handleCommand`, `view`) can send only commands;
 * - the payment door (`confirmPayment`) is the only way to `paid`, and only after re-fetching the provider;
 * - the sweeper (`runDue`, `startSweeper`) is the only source of deadline events;
 * - the admin door (`admin.*`) retries failed deliveries and records refunds.
 * The machine's actors (pricing, invoicing, delivery) are passed in and attached with `.provide()`.
 */
import { randomBytes } from "node:crypto";
import type { InspectionEvent } from "xstate";
import { purchaseMachine } from "../../machines/purchase.machine.ts";
import type { Catalog } from "../domain/catalog.ts";
import type { Understander } from "../domain/commands.ts";
import { OrderId } from "../domain/ids.ts";
import type { OrderRecord } from "../domain/records.ts";
import type { Ledger } from "../delivery/index.ts";
import type { Logger } from "../log.ts";
import type { PaymentProvider } from "../payments/provider.ts";
import { type Stores, readOrder } from "../store/index.ts";
import type { PurchaseActors } from "./actors.ts";
import { type AdminActionEvent, createAdminDoor } from "./admin-door.ts";
import { createCustomerDoor } from "./customer.ts";
import type { EngineEvent, Notifier } from "./events.ts";
import { createNotifications } from "./notify.ts";
import { createPaymentDoor } from "./payment-door.ts";
import { createSessions } from "./session.ts";
import { createSweeper } from "./sweeper.ts";

export type EngineOptions = {
  stores: Stores;
  catalog: Catalog;
  deadlines: { conversationTimeoutMs: number };
  maxMessageLength: number;
  maxDeliveryAttempts: number;
  retryBackoffMs?: number;
  /** The machine's actors: `createPurchaseActors(...)` in the product, fakes in tests. */
  actors: PurchaseActors;
  /** The ledger the delivery actor writes; the engine reads pending goods from it. */
  ledger: Ledger;
  payments: PaymentProvider;
  /** What to do with money that arrives after its order closed (LATE_PAYMENT); default `deliver`. */
  latePayment?: "deliver" | "refund";
  understand: Understander;
  log: Logger;
  clock?: () => number;
  newOrderId?: () => OrderId;
  instanceId?: string;
  /** How long to wait for pricing, invoicing or delivery before answering "still working". */
  settleTimeoutMs?: number;
  /** The chat lock's lease and how long to wait for another instance (tests shorten them); see chat-lock.ts. */
  chatLock?: { leaseMs?: number; waitMs?: number };
  /** Writes the audit entries observed so far; awaited before each conversation write (write-ahead). */
  flushJournal?: () => Promise<void>;
  /** Audit entries for admin actions. */
  recordAdminAction?: (event: AdminActionEvent) => void;
  /** Extra hook for every created actor (the Stately inspector attaches here). */
  inspect?: (event: InspectionEvent) => void;
};

export type Engine = ReturnType<typeof createEngine>;

export function createEngine(options: EngineOptions) {
  const { stores, log } = options;
  const clock = options.clock ?? Date.now;
  const instanceId = options.instanceId ?? `i-${randomBytes(4).toString("hex")}`;
  const listeners = new Set<(event: EngineEvent) => void>();
  const emit = (event: EngineEvent) => {
    for (const listener of listeners) {
      try {
        listener(event);
      } catch (err) {
        log.warn("engine listener failed", { err });
      }
    }
  };

  const sessions = createSessions({
    stores,
    machine: purchaseMachine.provide({ actors: options.actors }),
    catalog: options.catalog,
    conversationTimeoutMs: options.deadlines.conversationTimeoutMs,
    maxDeliveryAttempts: options.maxDeliveryAttempts,
    retryBackoffMs: options.retryBackoffMs ?? 30_000,
    log,
    clock,
    instanceId,
    emit,
    ...(options.newOrderId ? { newOrderId: options.newOrderId } : {}),
    ...(options.settleTimeoutMs ? { settleTimeoutMs: options.settleTimeoutMs } : {}),
    ...(options.chatLock ? { lock: options.chatLock } : {}),
    ...(options.flushJournal ? { flushJournal: options.flushJournal } : {}),
    ...(options.inspect ? { inspect: options.inspect } : {}),
  });
  const notifications = createNotifications({ ledger: options.ledger, log, clock, emit });
  // The doors call each other only through these late-bound functions (status views, reconciling).
  const customerView = {
    replyFor: (...args: Parameters<typeof customer.replyFor>) => customer.replyFor(...args),
    storedOrderView: (...args: Parameters<typeof customer.storedOrderView>) => customer.storedOrderView(...args),
  };
  const payments = createPaymentDoor({
    sessions,
    stores,
    payments: options.payments,
    log,
    clock,
    emit,
    notifications,
    ledger: options.ledger,
    latePayment: options.latePayment ?? "deliver",
    ...customerView,
  });
  const customer = createCustomerDoor({
    sessions,
    stores,
    ledger: options.ledger,
    payments,
    understand: options.understand,
    maxMessageLength: options.maxMessageLength,
    clock,
    emit,
  });
  const sweeper = createSweeper({
    sessions,
    stores,
    payments: options.payments,
    paymentDoor: payments,
    notifications,
    replyFor: customerView.replyFor,
    log,
    clock,
  });
  const admin = createAdminDoor({
    sessions,
    stores,
    payments: options.payments,
    notifications,
    replyFor: customerView.replyFor,
    log,
    clock,
    record: options.recordAdminAction ?? (() => {}),
  });

  return {
    instanceId,
    /** Subscribes to engine events (commands, transitions, payments) for audit, metrics and alerts. */
    onEvent(listener: (event: EngineEvent) => void): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
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
    /** @deprecated use `admin.retryDelivery` / `admin.refund`; kept for the model tests' direct events. */
    adminAction: admin.adminAction,
    /** An order's stored record, for status pages and admins. */
    async order(orderId: string): Promise<OrderRecord | undefined> {
      const parsed = OrderId.safeParse(orderId);
      return parsed.success ? readOrder(stores, parsed.data) : undefined;
    },
  };
}
