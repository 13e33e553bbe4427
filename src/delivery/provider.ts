/**
 * The delivery provider contract: issue the goods for one paid order. Providers must be idempotent
 * by order id where their API allows it; the ledger (`ledger.ts`) makes delivery exactly-once anyway.
 */
import type { ChatId, OrderId } from "../domain/ids.ts";
import type { Money } from "../domain/money.ts";

export type DeliveryRequest = { orderId: OrderId; chatId: ChatId; tokens: number; usd: Money };

/** What was issued. `secret` is shown to the customer once; `ref` and `hint` are safe to store and log. */
export type IssuedGoods = { ref: string; hint: string; secret: string };

/**
 * A failed issue, as a code (`unavailable`: try again later; `rejected`: the provider refused this
 * request) and a detail for the log, never for the customer.
 */
export type DeliveryOutcome = { ok: true; goods: IssuedGoods } | { ok: false; reason: "unavailable" | "rejected"; detail: string };

export type DeliveryProvider = {
  readonly name: "sandbox" | "openrouter";
  issue(request: DeliveryRequest): Promise<DeliveryOutcome>;
  /**
   * For goods that live at the provider (API keys): revokes the order's goods other than `keepRef`
   * (left live by an attempt that died before it heard the answer) and says how many. Absent when
   * issued goods exist only in the shop's own records (vouchers).
   */
  revokeStrays?(orderId: OrderId, keepRef: string): Promise<{ ok: true; revoked: number } | { ok: false; detail: string }>;
  /** How much credit (USD) can still be sold; `null` when the provider has no limit to check. */
  availableUsd?(): Promise<Money | null>;
};
