/**
 * The admin door: what a shop owner may do to an order, from Telegram (`/retry`, `/refund`) or the web
 * dashboard alike. Retrying gives a failed delivery a fresh set of attempts; refunding returns the
 * order's payment (or a late payment kept on it) through the provider, or records a refund made by
 * hand in the provider's app. Every action is written to the audit trail with who did it.
 */
import { OrderId } from "../domain/ids.ts";
import type { Money } from "../domain/money.ts";
import type { OrderRecord } from "../domain/records.ts";
import type { Logger } from "../log.ts";
import type { PaymentProvider } from "../payments/provider.ts";
import { type Stores, readOrder, recordRefund } from "../store/index.ts";
import type { AdminOutcome } from "./events.ts";
import type { Notifications } from "./notify.ts";
import { type EngineReply, stateName } from "./reply.ts";
import type { Session, Sessions } from "./session.ts";

/** An admin action, for the audit trail. */
export type AdminActionEvent = {
  type: "admin";
  chatId: string;
  orderId: string;
  action: "refund" | "manual_refund" | "retry_delivery";
  /** Who did it: the admin's chat id, or "web" for the dashboard. */
  by: string;
  paymentId: string | null;
  refundId: string | null;
  at: number;
};

/** What a refund did, as codes and facts (the adapters word it). */
export type RefundOutcome =
  | { ok: true; order: OrderRecord; paymentId: string; amount: Money; refundId: string | null; manual: boolean; target: "order" | "late"; moved: boolean }
  | { ok: false; reason: "unknown_order" }
  | { ok: false; reason: "already_refunded"; order: OrderRecord }
  | { ok: false; reason: "nothing_to_refund"; order: OrderRecord }
  | { ok: false; reason: "provider_cannot_refund"; order: OrderRecord; paymentId: string; amount: Money }
  | { ok: false; reason: "provider_failed"; order: OrderRecord; paymentId: string; detail: string };

export type AdminDoorOptions = {
  sessions: Sessions;
  stores: Stores;
  payments: PaymentProvider;
  notifications: Notifications;
  replyFor: (session: Session) => Promise<EngineReply>;
  log: Logger;
  clock: () => number;
  record: (event: AdminActionEvent) => void;
};

export type AdminDoor = ReturnType<typeof createAdminDoor>;

export function createAdminDoor(options: AdminDoorOptions) {
  const { sessions, stores, payments, log, clock } = options;

  /** Sends a machine event to the order if it is still its chat's current one, and tells the customer. */
  const move = async (rawOrderId: string, event: "ADMIN_RETRY_DELIVERY" | "REFUND_RECORDED"): Promise<AdminOutcome> => {
    const parsed = OrderId.safeParse(rawOrderId);
    const order = parsed.success ? await stores.orders.get(parsed.data) : undefined;
    if (!order) return { ok: false, reason: "unknown_order" };
    const orderId = order.orderId;
    const result = await sessions.withSession(order.chatId, async (session): Promise<{ outcome: AdminOutcome; reply: EngineReply | null }> => {
      const snapshot = session.actor.getSnapshot();
      if (snapshot.context.orderId !== orderId) return { outcome: { ok: false, reason: "not_current", state: order.state }, reply: null };
      if (!(await sessions.step(session, { type: event, at: clock() }))) {
        return { outcome: { ok: false, reason: "not_allowed", state: stateName(snapshot) }, reply: null };
      }
      return { outcome: { ok: true, state: stateName(session.actor.getSnapshot()) }, reply: await options.replyFor(session) };
    });
    if (result.reply) await options.notifications.send(order.chatId, result.reply);
    return result.outcome;
  };

  return {
    /** Gives a failed delivery a fresh set of attempts. Only orders in `delivery_failed` move. */
    async retryDelivery(orderId: string, by: string): Promise<AdminOutcome> {
      const outcome = await move(orderId, "ADMIN_RETRY_DELIVERY");
      const order = outcome.ok ? await stores.orders.get(OrderId.parse(orderId)) : undefined;
      if (order) options.record({ type: "admin", chatId: order.chatId, orderId, action: "retry_delivery", by, paymentId: null, refundId: null, at: clock() });
      return outcome;
    },

    /**
     * Refunds what an order holds: its payment when its delivery failed, or a late payment kept on it.
     * `manual`: the owner already refunded in the provider's app; only the record is made.
     */
    async refund(rawOrderId: string, mode: { manual: boolean; by: string }): Promise<RefundOutcome> {
      const parsed = OrderId.safeParse(rawOrderId);
      const order = parsed.success ? await readOrder(stores, parsed.data) : undefined;
      if (!order) return { ok: false, reason: "unknown_order" };
      const orderId = order.orderId;
      if (order.refund) return { ok: false, reason: "already_refunded", order };
      const target =
        order.state === "delivery_failed" && order.paymentId && order.charge
          ? { kind: "order" as const, paymentId: order.paymentId, amount: order.charge }
          : // A late payment whose goods were issued (LATE_PAYMENT=deliver) was sold, not kept: nothing to return.
            order.latePayment?.amount && order.latePayment.resolution !== "delivered"
            ? { kind: "late" as const, paymentId: order.latePayment.paymentId, amount: order.latePayment.amount }
            : null;
      if (!target) return { ok: false, reason: "nothing_to_refund", order };
      let refundId: string | null = null;
      if (!mode.manual) {
        if (!payments.refund) return { ok: false, reason: "provider_cannot_refund", order, paymentId: target.paymentId, amount: target.amount };
        const result = await payments.refund(target.paymentId, target.amount);
        if (!result.ok) return { ok: false, reason: "provider_failed", order, paymentId: target.paymentId, detail: result.detail ?? result.reason };
        refundId = result.value.refundId;
      }
      let moved = target.kind === "late";
      if (target.kind === "order") {
        const outcome = await move(orderId, "REFUND_RECORDED");
        // The money went back either way: the refund is recorded on the order even if the machine
        // could not move it (the chat no longer holds this order, e.g. after a store repair).
        if (!outcome.ok) log.warn("refund made but the order could not be marked refunded", { orderId, outcome: outcome.reason });
        moved = outcome.ok;
      }
      await recordRefund(stores, orderId, { paymentId: target.paymentId, amount: target.amount, refundId, manual: mode.manual, at: clock() });
      options.record({
        type: "admin",
        chatId: order.chatId,
        orderId,
        action: mode.manual ? "manual_refund" : "refund",
        by: mode.by,
        paymentId: target.paymentId,
        refundId,
        at: clock(),
      });
      const updated = (await readOrder(stores, orderId)) ?? order;
      return { ok: true, order: updated, paymentId: target.paymentId, amount: target.amount, refundId, manual: mode.manual, target: target.kind, moved };
    },

    /** The low-level door kept for the model tests and older callers: one machine event, no provider call. */
    adminAction(orderId: string, action: "retry_delivery" | "record_refund"): Promise<AdminOutcome> {
      return move(orderId, action === "retry_delivery" ? "ADMIN_RETRY_DELIVERY" : "REFUND_RECORDED");
    },
  };
}
