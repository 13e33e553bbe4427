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
 *
 * Money that arrives for an order that has closed (cancelled, expired) is never silent (issue 13): it is
 * written down first (`pending`), then the shop's LATE_PAYMENT policy runs — `deliver` issues the goods
 * through the same ledger as a normal order (keyed by order id, so exactly once) when the amount matches
 * the quote; otherwise, or with `refund`, the provider refunds it where it can (Stars) and an admin is
 * alerted where it cannot (Crypto Pay) — and the customer is told at once what happens next. A late
 * payment left `pending` by a crash is finished by the next look at the same payment (a provider retry).
 */
import type { PaymentEvent } from "../../machines/purchase.machine.ts";
import { type ChatId, type OrderId, PaymentId } from "../domain/ids.ts";
import { type Money, sameMoney } from "../domain/money.ts";
import type { Ledger } from "../delivery/index.ts";
import type { LatePayment } from "../domain/records.ts";
import type { Logger } from "../log.ts";
import { type PaymentProvider, type PaymentStatus, type ProviderName, paymentKey } from "../payments/provider.ts";
import { type Stores, recordLatePayment, recordRefund } from "../store/index.ts";
import type { ConfirmOutcome, EngineEvent } from "./events.ts";
import type { Notifications } from "./notify.ts";
import { type EngineReply, type LateMoneyNext, type OrderView, type PaymentNotice, orderView, secretOf, stateName } from "./reply.ts";
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
  /** Issues the goods of a late payment (LATE_PAYMENT=deliver), exactly once per order. */
  ledger: Ledger;
  /** The shop's policy for money that arrives after its order closed. */
  latePayment: "deliver" | "refund";
};

type Settled = {
  outcome: ConfirmOutcome;
  notice?: { notice: PaymentNotice; order: OrderView | null; secret?: string };
  /** Opening the chat for this call finished a delivery a crash had interrupted: its goods are news. */
  resumedDelivery?: boolean;
};

export type PaymentDoor = ReturnType<typeof createPaymentDoor>;

/** How long the goods of a late payment are retried (provider down) before an admin is asked to act. */
const LATE_DELIVERY_RETRY_MS = 24 * 3_600_000;

export function createPaymentDoor(options: PaymentDoorOptions) {
  const { sessions, stores, payments, log, clock, emit } = options;

  /** Refunds through the provider where it can; null when it cannot (an admin then refunds by hand). */
  const refundByProvider = async (orderId: OrderId, paymentId: PaymentId, amount: Money | null): Promise<boolean> => {
    if (!payments.refund || amount === null) return false;
    const refunded = await payments.refund(paymentId, amount).catch((err: unknown) => {
      log.warn("late payment refund threw", { orderId, paymentId, err });
      return null;
    });
    if (!refunded?.ok) {
      log.warn("provider could not refund a late payment; an admin must", { orderId, paymentId, reason: refunded?.reason ?? "threw" });
      return false;
    }
    await recordRefund(stores, orderId, { paymentId, amount, refundId: refunded.value.refundId, manual: false, at: clock() });
    return true;
  };

  /**
   * Carries out the LATE_PAYMENT policy for a late payment already written down as `pending`. Idempotent:
   * the goods are issued through the ledger keyed by order id, and a refund is recorded once.
   */
  const resolveLate = async (
    ids: { orderId: OrderId; chatId: ChatId },
    late: LatePayment,
    order: OrderView | null,
  ): Promise<{ next: LateMoneyNext; secret?: string }> => {
    const matchesQuote = order?.charge && order.usd && order.tokens !== null && late.amount !== null && sameMoney(order.charge, late.amount);
    let next: LateMoneyNext = "owner_refunds";
    let secret: string | undefined;
    if (options.latePayment === "deliver" && matchesQuote && order.usd && order.tokens !== null) {
      const issued = await options.ledger.deliver({ ...ids, tokens: order.tokens, usd: order.usd });
      if (issued.ok) {
        next = "delivered";
        secret = (await options.ledger.pendingSecret(ids.orderId)) ?? undefined;
      } else if (issued.reason !== "provider_rejected" && clock() - late.at < LATE_DELIVERY_RETRY_MS) {
        // Worth another try: it stays pending and the sweeper tries again (see `finishPendingLate`).
        next = "delivering";
        log.warn("goods for a late payment could not be issued yet; retrying", { ...ids, reason: issued.reason, detail: issued.detail });
      } else {
        log.warn("goods for a late payment could not be issued; an admin must deliver or refund", { ...ids, reason: issued.reason, detail: issued.detail });
      }
    } else if (await refundByProvider(ids.orderId, late.paymentId, late.amount)) {
      next = "refunded";
    }
    const resolution = next === "owner_refunds" ? "kept" : next === "delivering" ? "pending" : next;
    await stores.latePayments.set(ids.orderId, { ...late, resolution });
    return secret === undefined ? { next } : { next, secret };
  };

  const lateOutcome = (next: LateMoneyNext): "late" | "late_delivered" | "late_refunded" | "late_pending" => {
    switch (next) {
      case "delivered":
        return "late_delivered";
      case "refunded":
        return "late_refunded";
      case "delivering":
        return "late_pending";
      case "owner_refunds":
        return "late";
      default: {
        const unhandled: never = next;
        throw new Error(`unknown late payment outcome ${String(unhandled)}`);
      }
    }
  };

  /** Keeps money that cannot pay the order as invoiced (late, wrong amount, foreign currency) for a refund. */
  const keepOutside = async (
    ids: { orderId: OrderId; chatId: ChatId },
    paymentId: PaymentId,
    status: PaymentStatus,
    reason: PaymentNotice["reason"],
    order: OrderView | null,
  ): Promise<Settled> => {
    const key = paymentKey(payments.name, paymentId);
    if (await stores.payments.get(key)) {
      // Seen before. A late payment whose policy a crash interrupted is finished now, and told.
      const kept = reason === "late" ? await stores.latePayments.get(ids.orderId) : undefined;
      if (kept?.paymentId !== paymentId || kept.resolution !== "pending") return { outcome: { outcome: "duplicate", ...ids } };
      const resolved = await resolveLate(ids, kept, order);
      // Still not issued: the customer was already told it is on its way; say nothing until it is.
      if (resolved.next === "delivering") return { outcome: { outcome: "duplicate", ...ids } };
      const notice: PaymentNotice = { reason, paid: kept.amount, foreign: kept.foreign, next: resolved.next };
      return { outcome: { outcome: lateOutcome(resolved.next), ...ids }, notice: { notice, order, ...(resolved.secret ? { secret: resolved.secret } : {}) } };
    }
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
    const late: LatePayment = { paymentId, amount: status.amount, foreign, reason, at: clock(), resolution: reason === "late" ? "pending" : "kept" };
    await recordLatePayment(stores, ids.orderId, late);
    // Only the order's first late payment may buy its goods: another one (a second payment) is refunded.
    const first = (await stores.latePayments.get(ids.orderId))?.paymentId === paymentId;
    if (reason === "late" && first) {
      const resolved = await resolveLate(ids, late, order);
      log.warn("late payment", { ...ids, paymentId, policy: options.latePayment, next: resolved.next });
      const notice: PaymentNotice = { reason, paid: status.amount, foreign, next: resolved.next };
      return { outcome: { outcome: lateOutcome(resolved.next), ...ids }, notice: { notice, order, ...(resolved.secret ? { secret: resolved.secret } : {}) } };
    }
    const next: LateMoneyNext = reason === "late" && (await refundByProvider(ids.orderId, paymentId, status.amount)) ? "refunded" : "owner_refunds";
    log.warn("payment kept for refund", { ...ids, paymentId, reason, next });
    return {
      outcome: { outcome: reason === "late" ? lateOutcome(next) : "mismatch", ...ids },
      notice: { notice: { reason, paid: status.amount, foreign, next }, order },
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
      // …unless this payment is a late one still being handled (its goods may be the ones that exist).
      const lateHandling = (await stores.latePayments.get(orderId))?.resolution === "pending";
      if (paidBefore && !lateHandling) {
        // Only the call that resumed the delivery announces it: another instance's replay of the same
        // webhook, racing the one that delivered, must not show the goods a second time.
        const opened = session.opened;
        const resumedDelivery = opened.context.orderId === orderId && stateName(opened) === "paid" && stateName(session.actor.getSnapshot()) !== "paid";
        return { outcome: { outcome: "duplicate", ...ids }, resumedDelivery };
      }
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
      const { notice, order, secret } = settled.notice;
      if (order) await options.notifications.send(chatId, { kind: "payment_notice", payment: notice, order, ...(secret ? { secret } : {}) });
      return;
    }
    const customerShouldKnow =
      outcome.outcome === "delivered" || outcome.outcome === "paid" || (outcome.outcome === "not_paid" && outcome.status !== "pending");
    // A replayed confirmation may have resumed a delivery a crash interrupted (opening the chat does
    // that): goods nobody has seen yet are announced then too.
    if (!customerShouldKnow && !settled.resumedDelivery) return;
    const reply = await sessions.withSession(chatId, (session) => options.replyFor(session), { readOnly: true });
    if (customerShouldKnow || secretOf(reply)) await options.notifications.send(chatId, reply);
  };

  const door = {
    /**
     * Stops the provider taking money for an invoice whose order closed unpaid (cancelled, expired), where
     * the provider allows it. Best effort: money that still arrives is handled as a late payment.
     */
    async voidInvoice(chatId: ChatId, payment: { provider: string; paymentId: PaymentId }): Promise<void> {
      if (payment.provider !== payments.name || !payments.cancelInvoice) return;
      const voided = await payments.cancelInvoice(payment.paymentId).catch((err: unknown) => {
        log.warn("could not void the invoice of a closed order", { chatId, err });
        return undefined;
      });
      if (voided && !voided.ok) log.warn("provider refused to void the invoice of a closed order", { chatId, reason: voided.reason });
    },

    /**
     * Finishes late payments a crash left `pending` (written down, policy not yet carried out): each is
     * re-fetched and settled again, which carries out the policy once and tells the customer.
     */
    async finishPendingLate(): Promise<number> {
      const pending: LatePayment[] = [];
      for await (const [, late] of stores.latePayments.entries()) if (late.resolution === "pending") pending.push(late);
      for (const late of pending) await door.confirmPayment(payments.name, late.paymentId);
      return pending.length;
    },

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
  return door;
}
