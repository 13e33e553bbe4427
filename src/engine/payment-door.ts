/**
 * The payment door: the only way an order becomes `paid`. A webhook (after its signature was checked),
 * a Stars update, a customer's status question or the sweeper all end here, and all of them re-fetch
 * the payment from the provider first: only what the provider says right now counts, and only when it
 * is for this order, in the invoiced amount and currency, and not applied before.
 *
 * "Not applied before" is read from the order itself (a paid order has `paidAt`), not from a separate
 * payment record: the order's state is written atomically with the payment, so a crash at any moment
 * leaves either an unpaid order (the next retry pays it) or a paid one (the next retry is a duplicate
 * and delivery is resumed), never a payment counted but not applied.
 */
import type { PaymentEvent } from "../../machines/purchase.machine.ts";
import { type ChatId, type OrderId, PaymentId } from "../domain/ids.ts";
import { sameMoney } from "../domain/money.ts";
import type { Logger } from "../log.ts";
import { type PaymentProvider, type PaymentStatus, type ProviderName, paymentKey } from "../payments/provider.ts";
import { type Stores, recordLatePayment } from "../store/index.ts";
import type { ConfirmOutcome, EngineEvent } from "./events.ts";
import type { Notifications } from "./notify.ts";
import { type EngineReply, type OrderView, type PaymentNotice, orderView, secretOf, stateName } from "./reply.ts";
import type { Session, Sessions } from "./session.ts";

export type PaymentDoorOptions = {
  sessions: Sessions;
  stores: Stores;
  payments: PaymentProvider;
  log: Logger;
  clock: () => number;
  emit: (event: EngineEvent) => void;
  notifications: Notifications;
  /** The customer-facing reply for a chat (the customer door's status view). */
  replyFor: (session: Session) => Promise<EngineReply>;
  /** An order that is no longer its chat's current one, as the customer sees it. */
  storedOrderView: (orderId: OrderId) => Promise<OrderView | null>;
};

type Settled = { outcome: ConfirmOutcome; notice?: { notice: PaymentNotice; order: OrderView | null } };

export type PaymentDoor = ReturnType<typeof createPaymentDoor>;

export function createPaymentDoor(options: PaymentDoorOptions) {
  const { sessions, stores, payments, log, clock, emit } = options;

  /** Keeps money that cannot pay the order as invoiced (late, wrong amount, foreign currency) for a refund. */
  const keepOutside = async (
    ids: { orderId: OrderId; chatId: ChatId },
    paymentId: PaymentId,
    status: PaymentStatus,
    reason: PaymentNotice["reason"],
    order: OrderView | null,
  ): Promise<Settled> => {
    const key = paymentKey(payments.name, paymentId);
    if (await stores.payments.get(key)) return { outcome: { outcome: "duplicate", ...ids } };
    const foreign = status.foreign ?? null;
    await stores.payments.set(key, {
      v: 1,
      provider: payments.name,
      paymentId,
      ...ids,
      status: reason === "late" ? "late" : "rejected",
      amount: status.amount,
      foreign,
      reason,
      receivedAt: clock(),
      appliedAt: null,
    });
    await recordLatePayment(stores, ids.orderId, { paymentId, amount: status.amount, foreign, reason, at: clock() });
    log.warn("payment kept for refund", { ...ids, paymentId, reason });
    return {
      outcome: { outcome: reason === "late" ? "late" : "mismatch", ...ids },
      notice: { notice: { reason, paid: status.amount, foreign }, order },
    };
  };

  /** Applies what the provider says about `paymentId` of order `orderId` to the chat's session. */
  const settle = async (session: Session, orderId: OrderId, paymentId: PaymentId, status: PaymentStatus): Promise<Settled> => {
    const snapshot = session.actor.getSnapshot();
    const ids = { orderId, chatId: session.chatId };
    const current = snapshot.status === "active" && snapshot.context.orderId === orderId;
    const payable = current && stateName(snapshot) === "awaiting_payment" && snapshot.context.payment?.paymentId === paymentId;
    if (status.status !== "paid") {
      if (payable && status.status !== "pending") {
        const event: PaymentEvent =
          status.status === "expired" ? { type: "PAYMENT_EXPIRED", at: clock() } : { type: "PAYMENT_FAILED", paymentId, at: clock() };
        await sessions.step(session, event);
      }
      return { outcome: { outcome: "not_paid", ...ids, status: status.status } };
    }
    if (!payable) {
      // Paid already (this very payment, replayed): the order says so, or its goods exist. Anything else is late money.
      const paidBefore = current
        ? snapshot.context.paidAt !== null
        : ((await stores.orders.get(orderId))?.paidAt ?? null) !== null || (await stores.ledger.get(orderId)) !== undefined;
      if (paidBefore) return { outcome: { outcome: "duplicate", ...ids } };
      const order = current ? orderView(snapshot) : await options.storedOrderView(orderId);
      return keepOutside(ids, paymentId, status, "late", order);
    }
    const view = orderView(snapshot);
    const expected = snapshot.context.payment?.charge;
    if (status.amount === null) return keepOutside(ids, paymentId, status, "foreign_currency", view);
    if (!expected || !sameMoney(expected, status.amount)) return keepOutside(ids, paymentId, status, "wrong_amount", view);
    const accepted = await sessions.step(session, { type: "PAYMENT_CONFIRMED", paymentId, amount: status.amount, at: clock() });
    if (!accepted) return keepOutside(ids, paymentId, status, "wrong_amount", view);
    // Informational from here on: the order's own state already records the payment, durably.
    await stores.payments.set(paymentKey(payments.name, paymentId), {
      v: 1,
      provider: payments.name,
      paymentId,
      ...ids,
      status: "applied",
      amount: status.amount,
      foreign: null,
      reason: null,
      receivedAt: clock(),
      appliedAt: clock(),
    });
    const after = stateName(session.actor.getSnapshot());
    return { outcome: { outcome: after === "delivered" ? "delivered" : "paid", ...ids } };
  };

  /** Tells the customer (and, through the event, admins) what a payment did. */
  const tell = async (chatId: ChatId, settled: Settled) => {
    const { outcome } = settled;
    if (settled.notice) {
      if (settled.notice.order) {
        await options.notifications.send(chatId, { kind: "payment_notice", payment: settled.notice.notice, order: settled.notice.order });
      }
      return;
    }
    const customerShouldKnow =
      outcome.outcome === "delivered" || outcome.outcome === "paid" || (outcome.outcome === "not_paid" && outcome.status !== "pending");
    // A replayed confirmation may have resumed a delivery a crash interrupted (opening the chat does
    // that): goods nobody has seen yet are announced then too.
    if (!customerShouldKnow && outcome.outcome !== "duplicate") return;
    const reply = await sessions.withSession(chatId, (session) => options.replyFor(session), { readOnly: true });
    if (customerShouldKnow || secretOf(reply)) await options.notifications.send(chatId, reply);
  };

  return {
    /** Asks the provider about the session's open invoice and applies what it says (a status question). */
    async reconcile(session: Session): Promise<ConfirmOutcome["outcome"] | null> {
      const payment = session.actor.getSnapshot().context.payment;
      if (!payment || payment.provider !== payments.name) return null;
      const status = await payments.fetchPayment(payment.paymentId);
      if (!status.ok) return "provider_unavailable";
      const settled = await settle(session, session.actor.getSnapshot().context.orderId, payment.paymentId, status.value);
      return settled.outcome.outcome;
    },

    /**
     * Called by webhook handlers after the signature was verified (and by the Stars handler). Re-fetches
     * the invoice from the provider and moves the order to `paid` only if it is paid, for this order, in
     * the right amount and currency, and was not applied before.
     */
    async confirmPayment(provider: ProviderName, rawPaymentId: string): Promise<ConfirmOutcome> {
      const parsedId = PaymentId.safeParse(rawPaymentId);
      if (provider !== payments.name || !parsedId.success) return { outcome: "unknown_invoice" };
      const paymentId = parsedId.data;
      const index = await stores.paymentIndex.get(paymentKey(provider, paymentId));
      if (!index) return { outcome: "unknown_invoice" };
      const ids = { orderId: index.orderId, chatId: index.chatId };
      const status = await payments.fetchPayment(paymentId);
      if (!status.ok) {
        log.warn("payment provider unavailable during re-fetch; will retry", { ...ids, paymentId, reason: status.reason });
        return { outcome: "provider_unavailable", ...ids };
      }
      if (status.value.orderId !== null && status.value.orderId !== index.orderId) return { outcome: "unknown_invoice" };
      const settled = await sessions.withSession(index.chatId, (session) => settle(session, index.orderId, paymentId, status.value));
      emit({ type: "payment", ...ids, paymentId, outcome: settled.outcome.outcome, at: clock() });
      await tell(index.chatId, settled);
      return settled.outcome;
    },
  };
}
