/**
 * The payment door: the only way money reaches an order. A webhook (after its signature was checked)
 * or a Stars update ends here, and every one re-fetches the payment from its provider first: only
 * what the provider says right now counts. Then the door finds the order, sends it the event, and
 * the order's machine decides what the money pays for (the invoice, late goods, a refund, nothing:
 * a provider's retry). The step's commit stores it; then the customer is told, from the order as it
 * stands after the step.
 */
import type { PurchaseSnapshot } from "../../machines/purchase.machine.ts";
import { statePath } from "../../machines/purchase.reading.ts";
import { type ChatId, type OrderId, PaymentId } from "../domain/ids.ts";
import type { Logger } from "../log.ts";
import type { PaymentProvider, PaymentStatus, ProviderName } from "../payments/provider.ts";
import { paymentKey } from "../payments/provider.ts";
import type { ShopStore } from "../store/shop-store.ts";
import type { ConfirmOutcome, PaymentOutcome } from "./events.ts";
import type { Notifications } from "./notify.ts";
import type { OrderActor } from "./orders.ts";
import { type EngineReply, type PaymentNotice, orderView } from "./reply.ts";
import type { Session, Sessions } from "./session.ts";

export type PaymentDoorOptions = {
  sessions: Sessions;
  store: ShopStore;
  payments: PaymentProvider;
  log: Logger;
  clock: () => number;
  notifications: Notifications;
  /** The customer-facing state of one of the chat's orders (the customer door's). */
  replyForOrder: (session: Session, order: OrderActor) => Promise<EngineReply>;
};

/** A payment the provider vouched for: the invoice it paid and this payment's own id (Stars charges differ). */
export type PaymentNotification = { paymentId: string; chargeId?: string };

export type PaymentDoor = ReturnType<typeof createPaymentDoor>;

/** What a payment did to its order, read from the order before and after (tags and context, never state names). */
function outcomeOf(before: PurchaseSnapshot, after: PurchaseSnapshot): PaymentOutcome {
  if (after.hasTag("delivered") && !before.hasTag("delivered")) return "delivered";
  if (after.hasTag("paid") && !before.hasTag("paid")) return "paid";
  if ((after.context.refund !== null && before.context.refund === null) || after.context.strays.length > before.context.strays.length)
    return "returned";
  return "duplicate";
}

/** What to tell the customer about money the order could not use as invoiced, from the order after the step. */
function noticeOf(before: PurchaseSnapshot, after: PurchaseSnapshot, chargeId: string, status: PaymentStatus): PaymentNotice | null {
  const stray = after.context.strays.find((s) => s.chargeId === chargeId && !before.context.strays.some((b) => b.chargeId === chargeId));
  const paid = status.amount;
  const foreign = status.foreign ?? null;
  // Money for an order that closed unpaid came late; only an order that was paid can be paid a second time.
  if (stray)
    return {
      reason: before.hasTag("closed") ? "late" : "extra",
      paid,
      foreign,
      next: stray.status === "refunded" ? "refunded" : "owner_refunds",
    };
  const refund = after.context.refund;
  if (refund && before.context.refund === null) {
    const reason = refund.reason === "late" ? "late" : paid === null ? "foreign_currency" : "wrong_amount";
    return { reason, paid, foreign, next: refund.refundedAt !== null ? "refunded" : "owner_refunds" };
  }
  if (after.context.late && !before.context.late)
    return { reason: "late", paid, foreign, next: after.hasTag("delivered") ? "delivered" : "delivering" };
  return null;
}

export function createPaymentDoor(options: PaymentDoorOptions) {
  const { sessions, store, payments, log, clock } = options;

  /** Applies what the provider says about a payment to its order; returns the outcome and what to tell. */
  const apply = async (session: Session, orderId: OrderId, invoiceId: PaymentId, chargeId: PaymentId, status: PaymentStatus) => {
    const order = await session.order(orderId);
    if (!order) return { outcome: "duplicate" as const, tell: null };
    const before = order.actor.getSnapshot();
    const at = clock();
    const event =
      status.status === "paid"
        ? ({
            type: "PAYMENT_RECEIVED",
            paymentId: invoiceId,
            chargeId,
            amount: status.amount,
            foreign: status.foreign ?? null,
            at,
          } as const)
        : status.status === "failed"
          ? ({ type: "PAYMENT_FAILED", paymentId: invoiceId, at } as const)
          : status.status === "expired"
            ? ({ type: "INVOICE_CLOSED", paymentId: invoiceId, at } as const)
            : null;
    if (event) await session.step(order, event);
    const after = order.actor.getSnapshot();
    const outcome: PaymentOutcome = status.status === "paid" ? outcomeOf(before, after) : "not_paid";
    session.note({ type: "payment", chatId: session.chatId, orderId, paymentId: invoiceId, chargeId, outcome, at });
    const notice = status.status === "paid" ? noticeOf(before, after, chargeId, status) : null;
    if (notice) {
      const reply = await options.replyForOrder(session, order);
      const secret = reply.kind === "order" ? reply.secret : undefined;
      return {
        outcome,
        tell: { kind: "payment_notice", payment: notice, order: orderView(after), ...(secret ? { secret } : {}) } satisfies EngineReply,
      };
    }
    // Told from the order as it stands now. A replayed confirmation tells only what this very call
    // changed, including a delivery that opening the order resumed after a crash.
    const news = statePath(after) !== statePath(order.opened);
    return { outcome, tell: news ? await options.replyForOrder(session, order) : null };
  };

  return {
    /**
     * Re-fetches a payment from its provider and applies it to its order. Safe to call any number of
     * times for the same payment: the order's machine recognises a payment it already handled.
     */
    async confirmPayment(provider: ProviderName, notification: PaymentNotification | string): Promise<ConfirmOutcome> {
      const { paymentId: rawInvoiceId, chargeId: rawChargeId } =
        typeof notification === "string" ? { paymentId: notification, chargeId: undefined } : notification;
      const invoiceId = PaymentId.safeParse(rawInvoiceId);
      const chargeId = PaymentId.safeParse(rawChargeId ?? rawInvoiceId);
      if (provider !== payments.name || !invoiceId.success || !chargeId.success) return { outcome: "unknown_invoice" };
      const index = await store.findPayment(paymentKey(provider, invoiceId.data));
      if (!index) return { outcome: "unknown_invoice" };
      const ids: { orderId: OrderId; chatId: ChatId } = { orderId: index.orderId, chatId: index.chatId };
      const status = await payments.fetchPayment(chargeId.data);
      if (!status.ok) {
        log.warn("payment provider unavailable during re-fetch; will retry", { ...ids, paymentId: invoiceId.data, reason: status.reason });
        return { outcome: "provider_unavailable", ...ids };
      }
      if (status.value.orderId !== null && status.value.orderId !== index.orderId) return { outcome: "unknown_invoice" };
      const applied = await sessions.withChat(index.chatId, (session) =>
        apply(session, index.orderId, invoiceId.data, chargeId.data, status.value),
      );
      if (applied.tell) await options.notifications.send(index.chatId, applied.tell);
      if (applied.outcome === "returned")
        log.warn("payment could not pay its order and is being returned", { ...ids, chargeId: chargeId.data });
      return { outcome: applied.outcome, ...ids };
    },
  };
}
