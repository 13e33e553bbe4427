/**
 * Order actors: each order's machine, started fresh or restored from its own stored snapshot, and the
 * record written back for it. This module is the only place that creates purchase actors.
 */
import { type Actor, type InspectionEvent, createActor, waitFor } from "xstate";
import { type PurchaseMachine, type PurchaseSnapshot, purchaseMachine, strayPaymentMachine } from "../../machines/purchase.machine.ts";
import { deadlineOf, isWorking, statePath } from "../../machines/purchase.reading.ts";
import type { LatePaymentPolicy, ProductLimits } from "../../machines/purchase.types.ts";
import { type ChatId, type OrderId, newOrderId as makeOrderId } from "../domain/ids.ts";
import { type OrderRecord, type OrderSummary, isStoredSnapshot } from "../domain/records.ts";
import type { Logger } from "../log.ts";
import type { PurchaseActors } from "./actors.ts";

/** One order's running machine, with what is needed to write it back. */
export type OrderActor = {
  orderId: OrderId;
  chatId: ChatId;
  actor: Actor<PurchaseMachine>;
  createdAt: number;
  /** The snapshot as last stored (or as started, for an order never stored): unchanged means nothing to write. */
  stored: PurchaseSnapshot | null;
  /** The snapshot as restored, before opening resumed any work. */
  opened: PurchaseSnapshot;
};

export type OrderActorsOptions = {
  actors: PurchaseActors;
  log: Logger;
  clock: () => number;
  /**
   * What a new order may be for: the shop's products with their limits, and its product when the shop
   * sells one (null: the customer chooses).
   */
  offer: () => { productId: string | null; products: ProductLimits[] };
  latePayment: LatePaymentPolicy;
  maxDeliveryAttempts: number;
  retryBackoffMs: number;
  newOrderId?: () => OrderId;
  /** How long to wait for pricing, invoicing, delivery or a refund before answering "still working". */
  workTimeoutMs?: number;
  /** How long after a write work in flight counts as due for the sweeper (the chat lease's length). */
  workGraceMs: number;
  inspect?: (event: InspectionEvent) => void;
};

export type OrderActors = ReturnType<typeof createOrderActors>;

export function createOrderActors(options: OrderActorsOptions) {
  const { log, clock } = options;
  const newOrderId = options.newOrderId ?? makeOrderId;
  const workTimeoutMs = options.workTimeoutMs ?? 30_000;
  const machine = purchaseMachine.provide({
    // A stray payment goes back through the same refund as the order's own money.
    actors: {
      ...options.actors,
      returnStrayPayment: strayPaymentMachine.provide({ actors: { refundPayment: options.actors.refundPayment } }),
    },
  });

  const launch = (chatId: ChatId, orderId: OrderId, snapshot?: unknown): Actor<PurchaseMachine> => {
    const offer = options.offer();
    const [first] = offer.products;
    const actor = createActor(machine, {
      // Input only seeds a new order; a restored snapshot brings its own context.
      input: {
        orderId,
        chatId,
        productId: offer.productId,
        products: offer.products,
        latePayment: options.latePayment,
        minTokens: first?.minTokens ?? 1,
        maxTokens: first?.maxTokens ?? 1,
        maxDeliveryAttempts: options.maxDeliveryAttempts,
        retryBackoffMs: options.retryBackoffMs,
        at: clock(),
      },
      ...(snapshot ? { snapshot: snapshot as never } : {}),
      ...(options.inspect ? { inspect: options.inspect } : {}),
    });
    // A failing order must never take the process down: errors are logged and the chat carries on.
    actor.subscribe({ error: (err) => log.error("purchase actor failed", { chatId, orderId, err }) });
    actor.start();
    return actor;
  };

  return {
    /** A new order for the chat, not stored yet. */
    start(chatId: ChatId): OrderActor {
      const orderId = newOrderId();
      const actor = launch(chatId, orderId);
      return { orderId, chatId, actor, createdAt: clock(), stored: null, opened: actor.getSnapshot() };
    },

    /**
     * Restores an order from its record; null when the snapshot names states or fields this machine
     * does not have (the record is kept as it is: an order is never overwritten by a guess).
     */
    restore(record: OrderRecord): OrderActor | null {
      try {
        if (!isStoredSnapshot(record.snapshot)) throw new Error("not a persisted snapshot");
        const actor = launch(record.chatId, record.orderId, record.snapshot);
        const restored = actor.getSnapshot();
        // XState accepts a snapshot naming states this machine does not have; such a record is corrupt.
        if (restored.context?.orderId !== record.orderId || !purchaseMachine.getStateNodeById(`purchase.${statePath(restored)}`)) {
          actor.stop();
          throw new Error(`unknown state ${JSON.stringify(restored.value)}`);
        }
        return { orderId: record.orderId, chatId: record.chatId, actor, createdAt: record.createdAt, stored: restored, opened: restored };
      } catch (err) {
        log.error("stored order could not be restored; it is left as it is", { orderId: record.orderId, err });
        return null;
      }
    },

    /** Waits for the order's work (an actor, a stray payment's return) to finish; false when it is still going. */
    async finishWork(order: OrderActor): Promise<boolean> {
      if (!isWorking(order.actor.getSnapshot())) return true;
      try {
        await waitFor(order.actor, (snapshot) => !isWorking(snapshot), { timeout: workTimeoutMs });
        return true;
      } catch {
        return false;
      }
    },

    /** The record to store for the order as it is now. */
    record(order: OrderActor, at: number): OrderRecord {
      const snapshot = order.actor.getSnapshot();
      const persisted = order.actor.getPersistedSnapshot();
      if (!isStoredSnapshot(persisted)) throw new Error("XState returned a persisted snapshot without value or context");
      return {
        v: 2,
        orderId: order.orderId,
        chatId: order.chatId,
        snapshot: persisted,
        summary: summarize(snapshot, at, options.workGraceMs),
        createdAt: order.createdAt,
        updatedAt: at,
      };
    },
  };
}

/** What the rest of the product reads about an order without restoring it. */
export function summarize(snapshot: PurchaseSnapshot, at: number, workGraceMs: number): OrderSummary {
  const c = snapshot.context;
  const refunded = c.refund?.refundedAt != null ? c.refund.amount : null;
  const details = c.quote?.details;
  return {
    state: statePath(snapshot),
    tags: [...snapshot.tags].sort(),
    productId: c.productId ?? "",
    tokens: c.quote?.tokens ?? c.tokens,
    usd: c.quote?.usd ?? null,
    charge: c.payment?.charge ?? c.quote?.charge ?? null,
    provider: c.payment?.provider ?? null,
    paymentId: c.payment?.paymentId ?? null,
    payUrl: c.payment?.payUrl ?? null,
    late: c.late,
    paidAt: c.paidAt,
    deliveredAt: c.delivery.deliveredAt,
    deliveryHint: c.delivery.hint,
    refunded,
    dueAt: deadlineOf(snapshot, at, workGraceMs),
    owedStrays: c.strays.filter((stray) => stray.status === "owed").length,
    promoCode: details?.promoCode ?? null,
    discount: details && details.discount.minor > 0 ? details.discount : null,
    tier: details?.tier?.from ?? null,
    credit: details?.credit ?? null,
    margin: details?.credit && c.quote ? { minor: c.quote.usd.minor - details.credit.minor, currency: "USD" } : null,
    reissues: c.reissues ?? 0,
  };
}
