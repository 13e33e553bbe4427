/**
 * What a snapshot means for the rest of the store: the order record derived from it, and the moment
 * the sweeper must look at it next.
 */
import type { OrderProjection } from "../domain/records.ts";
import { type PurchaseSnapshot, stateName } from "./reply.ts";

/** The order record fields derived from a snapshot (creation time and late payments are kept apart). */
export function projectOrder(snapshot: PurchaseSnapshot): Omit<OrderProjection, "createdAt" | "updatedAt"> {
  const c = snapshot.context;
  return {
    v: 1,
    orderId: c.orderId,
    chatId: c.chatId,
    state: stateName(snapshot),
    tokens: c.quote?.tokens ?? c.tokens,
    usd: c.quote?.usd ?? null,
    charge: c.payment?.charge ?? c.quote?.charge ?? null,
    provider: c.payment?.provider ?? null,
    paymentId: c.payment?.paymentId ?? null,
    payUrl: c.payment?.payUrl ?? null,
    quotedAt: c.quote?.quotedAt ?? null,
    paidAt: c.paidAt,
    deliveredAt: c.delivery.deliveredAt,
    deliveryRef: c.delivery.ref,
  };
}

/** The moment the sweeper must look at this snapshot next, or null when nothing is pending. */
export function dueAt(snapshot: PurchaseSnapshot): number | null {
  const c = snapshot.context;
  switch (stateName(snapshot)) {
    case "quoted":
      return c.quote?.expiresAt ?? null;
    case "awaiting_payment":
      return c.payment?.expiresAt ?? null;
    case "paid":
      // Recorded: due at once (a crash stopped it before delivery began). Waiting: at the retry time.
      // Delivering: due at once too, so that a crash mid-delivery is picked up by the next sweep.
      if (snapshot.matches({ paid: "waiting_retry" })) return c.delivery.nextAttemptAt ?? c.paidAt ?? c.lastActivityAt;
      return c.paidAt ?? c.lastActivityAt;
    default:
      return null;
  }
}
