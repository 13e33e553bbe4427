/**
 * The owner's two actions on an order, exactly as the Telegram admin commands do them: retry a failed
 * delivery through the engine's admin door, and refund a payment (through the provider, or record one
 * made by hand in the provider's app). Both are written to the order's audit trail.
 *
 * `refundOrder` mirrors `refund()` in src/telegram/admin.ts step for step; when the refund logic moves
 * into the engine's admin door, this function becomes a call to it.
 */
import type { App } from "../app.ts";
import type { AdminAuditEvent } from "../audit/index.ts";
import type { Money } from "../domain/money.ts";
import type { OrderRecord } from "../domain/records.ts";
import type { AdminOutcome } from "../engine/engine.ts";
import { recordRefund } from "../store/index.ts";
import { money as amount } from "./html.ts";

/** What an action did, for the page's notice. */
export type ActionResult = { ok: boolean; message: string };

const who = "dashboard";

function audit(app: App, order: OrderRecord, action: AdminAuditEvent["action"], paymentId: string | null, refundId: string | null, at: number) {
  app.audit.record({ type: "admin", chatId: order.chatId, orderId: order.orderId, action, by: who, paymentId, refundId, at });
}

const outcomeText = (orderId: string, outcome: AdminOutcome): string => {
  if (outcome.ok) return `Order ${orderId} is now ${outcome.state}.`;
  switch (outcome.reason) {
    case "unknown_order":
      return `There is no order ${orderId}.`;
    case "not_current":
      return `Order ${orderId} (${outcome.state}) is no longer its chat's current order; the engine cannot move it.`;
    case "not_allowed":
      return `Order ${orderId} is ${outcome.state}; only orders in delivery_failed can be retried this way.`;
    default: {
      const unhandled: never = outcome;
      return String(unhandled);
    }
  }
};

/** Retries a failed delivery with a fresh set of attempts (the engine's admin door). */
export async function retryDelivery(app: App, order: OrderRecord, now: number): Promise<ActionResult> {
  const outcome = await app.engine.adminAction(order.orderId, "retry_delivery");
  if (outcome.ok) audit(app, order, "retry_delivery", null, null, now);
  return { ok: outcome.ok, message: outcomeText(order.orderId, outcome) };
}

/**
 * Refunds what the order owes back: its payment when delivery failed, else a late or wrong-amount
 * payment. `manual` records a refund already made in the provider's app. Mirrors admin.ts `refund()`.
 */
export async function refundOrder(app: App, order: OrderRecord, manual: boolean, now: number): Promise<ActionResult> {
  const id = order.orderId;
  if (order.refund) return { ok: false, message: `Order ${id} was already refunded (${amount(order.refund.amount)}).` };
  const target =
    order.state === "delivery_failed" && order.paymentId && order.charge
      ? { kind: "order" as const, paymentId: order.paymentId, money: order.charge }
      : order.latePayment
        ? { kind: "late" as const, paymentId: order.latePayment.paymentId, money: order.latePayment.amount }
        : null;
  if (!target) return { ok: false, message: `Order ${id} is ${order.state} with no late payment: there is nothing to refund.` };
  let refundId: string | null = null;
  if (!manual) {
    if (!app.payments.refund) {
      return {
        ok: false,
        message: `${app.payments.name} payments cannot be refunded from here. Refund ${amount(target.money)} for payment ${target.paymentId} in the provider's app, then press "Record manual refund".`,
      };
    }
    const result = await app.payments.refund(target.paymentId, target.money as Money);
    if (!result.ok) {
      return { ok: false, message: `The refund of ${target.paymentId} failed (${result.reason}); nothing was recorded. Try again later, or refund in the provider's app and record it.` };
    }
    refundId = result.value.refundId;
  }
  let state: string = order.state;
  let unmoved = "";
  if (target.kind === "order") {
    const outcome = await app.engine.adminAction(id, "record_refund");
    if (!outcome.ok) {
      app.log.warn("refund made but the order could not be marked refunded", { orderId: id, outcome: outcome.reason });
      unmoved = ` It stays in its state (${outcome.reason.replace("_", " ")}); the refund is recorded on the order.`;
    } else state = outcome.state;
  }
  await recordRefund(app.stores, id, { paymentId: target.paymentId, amount: target.money, refundId, manual, at: now });
  audit(app, order, manual ? "manual_refund" : "refund", target.paymentId, refundId, now);
  const what = target.kind === "late" ? "the late payment" : "the order's payment";
  const how = manual ? "Recorded the manual refund of" : `Refunded (refund ${refundId ?? ""})`;
  return { ok: true, message: `${how} ${amount(target.money)} for ${what} ${target.paymentId}. Order ${id} is ${state}.${unmoved}` };
}
