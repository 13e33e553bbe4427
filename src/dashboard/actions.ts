/**
 * The owner's two actions on an order, through the engine's admin door exactly as the Telegram admin
 * commands do them: retry a failed delivery, and refund a payment (through the provider, or record one
 * made by hand in the provider's app). The admin door writes both to the order's audit trail.
 */
import type { DashboardHost } from "./host.ts";
import type { OrderRecord } from "../domain/records.ts";
import type { AdminOutcome, RefundOutcome } from "../engine/index.ts";
import { money as amount } from "./html.ts";

/** What an action did, for the page's notice. */
export type ActionResult = { ok: boolean; message: string };

/** Who did it, in the audit trail. */
const WHO = "dashboard";

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

const refundText = (id: string, outcome: RefundOutcome): string => {
  if (outcome.ok) {
    const what = outcome.target === "late" ? "the late payment" : "the order's payment";
    const how = outcome.manual ? "Recorded the manual refund of" : `Refunded (refund ${outcome.refundId ?? ""})`;
    const unmoved = outcome.moved ? "" : " It stays in its state; the refund is recorded on the order.";
    return `${how} ${amount(outcome.amount)} for ${what} ${outcome.paymentId}. Order ${id} is ${outcome.order.state}.${unmoved}`;
  }
  switch (outcome.reason) {
    case "unknown_order":
      return `There is no order ${id}.`;
    case "already_refunded":
      return `Order ${id} was already refunded (${outcome.order.refund ? amount(outcome.order.refund.amount) : "—"}).`;
    case "nothing_to_refund":
      return `Order ${id} is ${outcome.order.state} with no late payment: there is nothing to refund.`;
    case "provider_cannot_refund":
      return `${outcome.order.provider ?? "This provider's"} payments cannot be refunded from here. Refund ${amount(outcome.amount)} for payment ${outcome.paymentId} in the provider's app, then press "Record manual refund".`;
    case "provider_failed":
      return `The refund of ${outcome.paymentId} failed (${outcome.detail}); nothing was recorded. Try again later, or refund in the provider's app and record it.`;
    default: {
      const unhandled: never = outcome;
      return String(unhandled);
    }
  }
};

/** Retries a failed delivery with a fresh set of attempts (the engine's admin door). */
export async function retryDelivery(app: DashboardHost, order: OrderRecord): Promise<ActionResult> {
  const outcome = await app.engine.admin.retryDelivery(order.orderId, WHO);
  return { ok: outcome.ok, message: outcomeText(order.orderId, outcome) };
}

/**
 * Refunds what the order owes back: its payment when delivery failed, else a late or wrong-amount
 * payment. `manual` records a refund already made in the provider's app.
 */
export async function refundOrder(app: DashboardHost, order: OrderRecord, manual: boolean): Promise<ActionResult> {
  const outcome = await app.engine.admin.refund(order.orderId, { manual, by: WHO });
  return { ok: outcome.ok, message: refundText(order.orderId, outcome) };
}
