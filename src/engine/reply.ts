/**
 * What the engine answers: codes and facts taken from the machine's snapshot, never words. The
 * renderer (`src/render`) turns a reply into text and buttons for the console or Telegram.
 */
import type { SnapshotFrom } from "xstate";
import type { PurchaseMachine, Problem } from "../../machines/purchase.machine.ts";
import { type Money, money } from "../domain/money.ts";
import type { Currency } from "../domain/money.ts";
import type { OrderState } from "../domain/records.ts";

/** The customer-visible facts of one order. */
export type OrderView = {
  orderId: string;
  state: OrderState;
  tokens: number | null;
  usd: Money | null;
  charge: Money | null;
  payUrl: string | null;
  quoteExpiresAt: number | null;
  paymentExpiresAt: number | null;
  deliveryHint: string | null;
  nextDeliveryAttemptAt: number | null;
  problem: Problem | null;
};

/** Why a request was not carried out. */
export type Refusal =
  | "amount_out_of_range"
  | "nothing_to_confirm"
  | "nothing_to_cancel"
  | "payment_in_progress"
  | "delivery_in_progress"
  | "not_now";

export type Reply =
  | { kind: "help"; order: OrderView | null }
  | { kind: "order"; order: OrderView; secret?: string }
  | { kind: "no_order"; lastOrder: OrderView | null }
  | { kind: "refused"; reason: Refusal; order: OrderView | null; tokens?: number }
  | { kind: "not_understood"; order: OrderView | null }
  | { kind: "stale_button"; order: OrderView | null }
  | { kind: "too_long"; limit: number }
  | { kind: "unsupported_message"; order: OrderView | null }
  | { kind: "rate_limited" }
  | { kind: "unavailable" };

/** Any reply may carry a notice that the stored conversation could not be restored and restarted. */
export type EngineReply = Reply & { notice?: "conversation_reset" };

export type PurchaseSnapshot = SnapshotFrom<PurchaseMachine>;

/** The top-level state name of a snapshot (`paid` for both of its sub-states). */
export function stateName(snapshot: PurchaseSnapshot): OrderState {
  const value = snapshot.value;
  return (typeof value === "string" ? value : Object.keys(value)[0]) as OrderState;
}

const toMoney = (value: { minor: number; currency: string } | null | undefined): Money | null =>
  value ? money(value.minor, value.currency as Currency) : null;

/** Projects a snapshot onto what the customer may see. Secrets are never in a snapshot. */
export function orderView(snapshot: PurchaseSnapshot): OrderView {
  const c = snapshot.context;
  return {
    orderId: c.orderId,
    state: stateName(snapshot),
    tokens: c.quote?.tokens ?? c.tokens,
    usd: toMoney(c.quote?.usd),
    charge: toMoney(c.payment?.charge ?? c.quote?.charge),
    payUrl: c.payment?.payUrl ?? null,
    quoteExpiresAt: c.quote?.expiresAt ?? null,
    paymentExpiresAt: c.payment?.expiresAt ?? null,
    deliveryHint: c.delivery.hint,
    nextDeliveryAttemptAt: c.delivery.nextAttemptAt,
    problem: c.problem,
  };
}
