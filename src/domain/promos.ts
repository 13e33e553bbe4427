/**
 * Promo code rules, as pure functions: which code a customer typed, and whether it may be used on an
 * order now. Counting uses is storage's job (atomically, when an order is paid); these rules say which
 * counts they need and what they conclude from them.
 */
import { promoAppliesTo } from "./pricing.ts";
import type { Promo, ShopCatalog } from "./products.ts";

/** Why a code cannot be used, as a code for the words layer. */
export type PromoRefusal = "unknown" | "expired" | "used_up" | "wrong_product" | "already_used_by_you";

/** A code that may be used, or why not. */
export type PromoCheck = { ok: true; promo: Promo } | { ok: false; reason: PromoRefusal };

/** What deciding on a code needs besides the code itself. */
export type PromoUse = {
  /** The product being ordered. */
  productId: string;
  /** Now, epoch ms (from the engine's clock). */
  now: number;
  /** Paid orders that have used this code so far, shop-wide. */
  usesSoFar: number;
  /** Paid orders of this customer that have used this code (only read for `once_per_customer` codes). */
  usedByThisCustomer: number;
  /**
   * The customer's chat id. Not read by the rule (the counts above are already this customer's); kept
   * so callers can pass one context to the rule, the counter and the log.
   */
  customer?: string;
};

/** A code as it is compared: trimmed, upper case. `" spring10 "` and `"SPRING10"` are the same code. */
export function normalizePromoCode(text: string): string {
  return text.trim().toUpperCase();
}

/** The shop's promo with this code (trimmed, any case), if any. */
export function findPromo(shop: Pick<ShopCatalog, "promos">, text: string): Promo | undefined {
  const code = normalizePromoCode(text);
  if (code === "") return undefined;
  return shop.promos.find((promo) => normalizePromoCode(promo.code) === code);
}

/**
 * Whether `promo` may be used on this order. Reasons are checked in this order, so the customer hears
 * the one that no waiting or other product would fix first: `unknown` (no such code), `expired`,
 * `used_up` (its `max_uses` paid orders reached), `wrong_product`, `already_used_by_you` (a
 * `once_per_customer` code this customer already paid with).
 */
export function checkPromo(promo: Promo | undefined, use: PromoUse): PromoCheck {
  if (promo === undefined) return { ok: false, reason: "unknown" };
  if (promo.expiresAt !== null && use.now >= promo.expiresAt) return { ok: false, reason: "expired" };
  if (promo.maxUses !== null && use.usesSoFar >= promo.maxUses) return { ok: false, reason: "used_up" };
  if (!promoAppliesTo(promo, use.productId)) return { ok: false, reason: "wrong_product" };
  if (promo.oncePerCustomer && use.usedByThisCustomer > 0) return { ok: false, reason: "already_used_by_you" };
  return { ok: true, promo };
}

/** {@link findPromo} then {@link checkPromo}: what a customer's typed code comes to. */
export function checkPromoCode(shop: Pick<ShopCatalog, "promos">, text: string, use: PromoUse): PromoCheck {
  return checkPromo(findPromo(shop, text), use);
}

/** Which counts {@link checkPromo} reads for this code, so storage fetches only those. */
export function promoCountsNeeded(promo: Promo): { usesSoFar: boolean; usedByThisCustomer: boolean } {
  return { usesSoFar: promo.maxUses !== null, usedByThisCustomer: promo.oncePerCustomer };
}
