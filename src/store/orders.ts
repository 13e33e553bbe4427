/**
 * Reading an order whole, and recording the money facts the purchase machine does not know. The
 * machine's projection (`orders`, written only by the engine), late payments and refunds are separate
 * records, so no writer can overwrite another's.
 */
import type { OrderId } from "../domain/ids.ts";
import type { LatePayment, OrderRecord, Refund } from "../domain/records.ts";
import type { Stores } from "./stores.ts";

/** The order's projection with its late payment and refund, or undefined for an unknown order. */
export async function readOrder(stores: Stores, orderId: OrderId): Promise<OrderRecord | undefined> {
  const [order, latePayment, refund] = await Promise.all([
    stores.orders.get(orderId),
    stores.latePayments.get(orderId),
    stores.refunds.get(orderId),
  ]);
  if (!order) return undefined;
  return { ...order, latePayment: latePayment ?? null, refund: refund ?? null };
}

/**
 * Keeps the first payment that came too late (or in the wrong amount) for a refund. The atomic claim
 * makes "first" hold across processes; callers log any later one.
 */
export async function recordLatePayment(stores: Stores, orderId: OrderId, late: LatePayment): Promise<void> {
  if (!(await stores.claims.tryClaim(`late-payment:${orderId}`, late.paymentId, null))) return;
  await stores.latePayments.set(orderId, late);
}

/** Records an admin's refund (through the provider or by hand). */
export async function recordRefund(stores: Stores, orderId: OrderId, refund: Refund): Promise<void> {
  await stores.refunds.set(orderId, refund);
}
