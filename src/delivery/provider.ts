/**
 * The delivery provider contract: issue the goods for one paid order. Providers must be idempotent
 * by order id where their API allows it; the ledger (`ledger.ts`) makes delivery exactly-once anyway.
 */
import type { ChatId, OrderId } from "../domain/ids.ts";
import type { Money } from "../domain/money.ts";

/**
 * One paid order's goods. `usd`: what was paid for them; `credit`: the OpenRouter credit sold (an API
 * key's spending limit), absent or null for vouchers and orders priced before catalogs (the key's limit
 * is then `usd`, as before). `productId`: the catalog product, when the shop routes goods by product.
 */
export type DeliveryRequest = { orderId: OrderId; chatId: ChatId; tokens: number; usd: Money; credit?: Money | null; productId?: string };

/** Replace an order's delivered goods (`oldRef`): the old ones stop working, the new carry what remains of them. */
export type ReissueRequest = { orderId: OrderId; chatId: ChatId; tokens: number; oldRef: string; productId?: string };

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
  /**
   * Replaces delivered goods: the old ones are made unusable (an API key disabled at the provider, with
   * its remaining limit carried over to the new key) and new ones issued. At most one of the order's
   * goods works at a time; calling it again after an interrupted call is safe (the ledger guards it).
   */
  reissue?(request: ReissueRequest): Promise<DeliveryOutcome>;
  /** How much credit (USD) can still be sold; `null` when the provider has no limit to check. */
  availableUsd?(): Promise<Money | null>;
};
