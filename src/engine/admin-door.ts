/**
 * The admin door: what a shop owner may do to an order, from Telegram (`/retry`, `/refund`) or the web
 * dashboard alike. Each action is an event to the order's own machine, which decides whether the order
 * takes it in its state: retry a failed delivery, return its money through the provider, or record
 * money the owner returned by hand (the order's own, or a stray payment's). Audited with who did it.
 */
import type { SystemEvent } from "../../machines/purchase.machine.ts";
import { statePath } from "../../machines/purchase.reading.ts";
import { OrderId, type PaymentId } from "../domain/ids.ts";
import type { ShopStore } from "../store/shop-store.ts";
import type { AdminAction, AdminOutcome } from "./events.ts";
import type { Notifications } from "./notify.ts";
import type { OrderActor } from "./orders.ts";
import { type EngineReply, orderView } from "./reply.ts";
import type { Session, Sessions } from "./session.ts";

export type AdminDoorOptions = {
  sessions: Sessions;
  store: ShopStore;
  notifications: Notifications;
  replyForOrder: (session: Session, order: OrderActor) => Promise<EngineReply>;
  clock: () => number;
};

export type AdminDoor = ReturnType<typeof createAdminDoor>;

export function createAdminDoor(options: AdminDoorOptions) {
  const { sessions, store, clock } = options;

  /** Sends the order one owner's event, records who did it, and tells the customer when the order moved. */
  const act = async (rawOrderId: string, action: AdminAction, event: SystemEvent, by: string): Promise<AdminOutcome> => {
    const parsed = OrderId.safeParse(rawOrderId);
    const record = parsed.success ? await store.readOrder(parsed.data) : undefined;
    if (!record) return { ok: false, reason: "unknown_order" };
    const result = await sessions.withChat(
      record.chatId,
      async (session): Promise<{ outcome: AdminOutcome; reply: EngineReply | null }> => {
        const order = await session.order(record.orderId);
        if (!order) return { outcome: { ok: false, reason: "unknown_order" }, reply: null };
        const before = statePath(order.actor.getSnapshot());
        if (!(await session.step(order, event))) return { outcome: { ok: false, reason: "not_allowed", state: before }, reply: null };
        session.note({ type: "admin", chatId: session.chatId, orderId: order.orderId, action, by, at: clock() });
        const after = orderView(order.actor.getSnapshot());
        const reply = after.path !== before ? await options.replyForOrder(session, order) : null;
        return { outcome: { ok: true, state: after.path }, reply };
      },
    );
    if (result.reply) await options.notifications.send(record.chatId, result.reply);
    return result.outcome;
  };

  return {
    /** Gives a failed delivery a fresh set of attempts. */
    retryDelivery(orderId: string, by: string): Promise<AdminOutcome> {
      return act(orderId, "retry_delivery", { type: "ADMIN_RETRY_DELIVERY", at: clock() }, by);
    },

    /**
     * Returns the order's money: through the provider (`manual: false`), or records that the owner
     * already returned it by hand in the provider's app (`manual: true`; `chargeId` for a stray payment).
     */
    refund(orderId: string, mode: { manual: boolean; by: string; chargeId?: PaymentId }): Promise<AdminOutcome> {
      const at = clock();
      return mode.manual
        ? act(orderId, "manual_refund", { type: "REFUND_RECORDED", at, ...(mode.chargeId ? { chargeId: mode.chargeId } : {}) }, mode.by)
        : act(orderId, "refund", { type: "ADMIN_REFUND", at }, mode.by);
    },
  };
}
