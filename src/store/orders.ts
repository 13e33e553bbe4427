/**
 * Reading an order whole, and recording the money facts the purchase machine does not know. The
 * machine's projection (`orders`) and these adjustments are separate records so each has one writer.
 */
import type { OrderAdjustments, OrderRecord } from "../domain/records.ts";
import type { Stores } from "./stores.ts";

type LatePayment = NonNullable<OrderAdjustments["latePayment"]>;
type Refund = NonNullable<OrderAdjustments["refund"]>;

/** The order's projection with its late payment and refund, or undefined for an unknown order. */
export async function readOrder(stores: Stores, orderId: string): Promise<OrderRecord | undefined> {
  const [order, adjustments] = await Promise.all([stores.orders.get(orderId), stores.orderAdjustments.get(orderId)]);
  if (!order) return undefined;
  return { ...order, latePayment: adjustments?.latePayment ?? null, refund: adjustments?.refund ?? null };
}

async function adjust(stores: Stores, orderId: string, change: (current: OrderAdjustments) => OrderAdjustments | null) {
  const current = (await stores.orderAdjustments.get(orderId)) ?? { v: 1 as const, orderId, latePayment: null, refund: null };
  const next = change(current);
  if (next) await stores.orderAdjustments.set(orderId, next);
}

/** Keeps the first payment that came too late (or in the wrong amount) for a refund; later ones are logged by callers. */
export function recordLatePayment(stores: Stores, orderId: string, late: LatePayment): Promise<void> {
  return adjust(stores, orderId, (current) => (current.latePayment ? null : { ...current, latePayment: late }));
}

/** Records an admin's refund (through the provider or by hand). */
export function recordRefund(stores: Stores, orderId: string, refund: Refund): Promise<void> {
  return adjust(stores, orderId, (current) => ({ ...current, refund }));
}
