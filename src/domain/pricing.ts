/**
 * Prices an order of one product, exactly, in integer cents: the volume tier, then the promo code,
 * then the currency the customer pays in. Every step rounds in a stated direction and never through a
 * float (BigInt where a product of two amounts could pass 2^53):
 *
 * 1. **Tier**: the tier with the highest `from` not above the amount prices the *whole* amount (no
 *    marginal brackets); below the first tier, the product's own price.
 * 2. **List price**: amount × unit price ÷ `pricePer`, rounded *up* to a cent (the shop is never
 *    short-changed by rounding; the same rule as before catalogs).
 * 3. **Promo**: a percentage discount is rounded *down* to a cent (the price never goes below the exact
 *    discounted price); a dollar discount is taken whole. Either is capped so at least one cent is left
 *    to pay: payment providers cannot invoice nothing.
 * 4. **Charge**: USD and USDT are the same cents; Stars are whole, rounded *up*.
 * 5. **Credit** (OpenRouter keys): credit per unit × amount ÷ `pricePer`, rounded *down*: a key never
 *    holds more than was sold. Promos and tiers do not change it.
 */
import type { Currency, Money } from "./money.ts";
import { money } from "./money.ts";
import type { Product, ProductId, Promo, Tier } from "./products.ts";

/** What an order costs and why: every figure a quote shows. All USD money is in cents. */
export type PriceBreakdown = {
  productId: ProductId;
  units: number;
  /** The units `unitPrice` is for (the product's `pricePer`). */
  pricePer: number;
  /** USD per `pricePer` units that priced the order: the tier's, else the product's own. */
  unitPrice: Money;
  /** The volume tier applied, or null at the product's own price. */
  tier: Tier | null;
  /** The amount at the product's own price: what it would cost without the tier (equals `list` without one). */
  baseList: Money;
  /** The amount at `unitPrice`, rounded up to a cent: the price before any promo. */
  list: Money;
  /** The promo code applied (the owner's spelling), or null. */
  promoCode: string | null;
  /** What the promo took off (0 USD without one). */
  discount: Money;
  /** `list` − `discount`, never below one cent: the USD price of the order. */
  final: Money;
  /** `final` in the currency the customer pays in. */
  charge: Money;
  /** The OpenRouter credit the order buys (the key's spending limit); null for vouchers. */
  credit: Money | null;
  /** `final` − `credit`, in cents (negative when a promo sells below cost); null for vouchers. */
  marginUsdCents: number | null;
};

/** What pricing needs besides the product and the amount. */
export type PriceOptions = {
  /** The currency the payment provider charges in. */
  currency: Currency;
  /** Telegram Stars per US dollar (used for XTR only). */
  starsPerUsd: number;
  /** A promo code already checked with `checkPromo`; null or absent for none. */
  promo?: Promo | null;
};

/** True when `units` may be sold at all: a whole number within the product's min..max. */
export function productWithinLimits(product: Product, units: number): boolean {
  return Number.isSafeInteger(units) && units >= product.min && units <= product.max;
}

/** The tier that prices `units`: the one with the highest `from` not above it; null below every tier. */
export function tierFor(product: Product, units: number): Tier | null {
  let applied: Tier | null = null;
  for (const tier of product.tiers) if (tier.from <= units && (applied === null || tier.from > applied.from)) applied = tier;
  return applied;
}

/** `units` at `centsPer` per `per` units, rounded up to a cent. */
function priceAt(units: number, centsPer: number, per: number): number {
  const numerator = BigInt(units) * BigInt(centsPer);
  const denominator = BigInt(per);
  return toSafe((numerator + denominator - 1n) / denominator);
}

function toSafe(value: bigint): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError("price overflow: amount too large for its price");
  return Number(value);
}

/**
 * The promo's discount on a `list` price in cents: a percentage rounded down, a dollar amount whole,
 * either capped at `list` − 1 so one cent is left to pay.
 */
export function discountCents(promo: Promo, listCents: number): number {
  const discount = promo.discount;
  let cents: number;
  switch (discount.kind) {
    case "percent":
      cents = toSafe((BigInt(listCents) * BigInt(discount.percent)) / 100n);
      break;
    case "usd":
      cents = discount.usdCents;
      break;
    default: {
      const unhandled: never = discount;
      throw new Error(`unknown discount ${JSON.stringify(unhandled)}`);
    }
  }
  return Math.max(0, Math.min(cents, listCents - 1));
}

/** A USD amount in the charge currency: USDT cents 1:1, Stars rounded up to a whole star. */
export function convertFromUsd(usd: Money, currency: Currency, starsPerUsd: number): Money {
  switch (currency) {
    case "USD":
    case "USDT":
      return money(usd.minor, currency);
    case "XTR":
      return money(priceAt(usd.minor, starsPerUsd, 100), "XTR");
    default: {
      const unhandled: never = currency;
      throw new Error(`unknown currency ${String(unhandled)}`);
    }
  }
}

/** The OpenRouter credit `units` of the product buy, rounded down to a cent; null for vouchers. */
export function creditFor(product: Product, units: number): Money | null {
  if (product.creditUsdCents === null) return null;
  return money(toSafe((BigInt(units) * BigInt(product.creditUsdCents)) / BigInt(product.pricePer)), "USD");
}

/** True when the promo may be used on this product (its `products` list, or every product). */
export function promoAppliesTo(promo: Promo, productId: string): boolean {
  return promo.products === null || promo.products.includes(productId);
}

/**
 * Prices `units` of `product` (see the module comment for the order of steps and their rounding).
 * Throws a RangeError for an amount outside the product's limits or a promo for another product:
 * callers check {@link productWithinLimits} and `checkPromo` first.
 */
export function priceOrder(product: Product, units: number, options: PriceOptions): PriceBreakdown {
  if (!productWithinLimits(product, units)) throw new RangeError(`units out of range for ${product.id}: ${units}`);
  const promo = options.promo ?? null;
  if (promo !== null && !promoAppliesTo(promo, product.id)) throw new RangeError(`promo ${promo.code} does not apply to ${product.id}`);
  const tier = tierFor(product, units);
  const unitCents = tier?.priceUsdCents ?? product.priceUsdCents;
  const listCents = priceAt(units, unitCents, product.pricePer);
  const baseCents = tier === null ? listCents : priceAt(units, product.priceUsdCents, product.pricePer);
  const discount = promo === null ? 0 : discountCents(promo, listCents);
  const final = money(listCents - discount, "USD");
  const credit = creditFor(product, units);
  return {
    productId: product.id,
    units,
    pricePer: product.pricePer,
    unitPrice: money(unitCents, "USD"),
    tier,
    baseList: money(baseCents, "USD"),
    list: money(listCents, "USD"),
    promoCode: promo?.code ?? null,
    discount: money(discount, "USD"),
    final,
    charge: convertFromUsd(final, options.currency, options.starsPerUsd),
    credit,
    marginUsdCents: credit === null ? null : final.minor - credit.minor,
  };
}

/**
 * How many units a budget of `usdCents` buys before any promo: the largest amount whose list price
 * (tier included) is within the budget. With tiers the price is not monotonic (10,000 units at a
 * volume price can cost less than 9,999), so each tier's band is tried. Not clamped to the product's
 * limits: an amount outside them is refused with the limits, like any other.
 */
export function unitsForBudget(product: Product, usdCents: number): number {
  const budget = BigInt(usdCents) * BigInt(product.pricePer);
  // ceil(n × p ÷ per) ≤ budget exactly when n ≤ budget × per ÷ p, so the floor is the most in a band.
  const most = (cents: number) => budget / BigInt(cents);
  const tiers = [...product.tiers].sort((a, b) => a.from - b.from);
  const bands = [{ from: 1, cents: product.priceUsdCents }, ...tiers.map((t) => ({ from: t.from, cents: t.priceUsdCents }))];
  let best = 0n;
  bands.forEach((band, i) => {
    const next = bands[i + 1];
    const top = next === undefined ? most(band.cents) : minBig(most(band.cents), BigInt(next.from - 1));
    if (top >= BigInt(band.from) && top > best) best = top;
  });
  return toSafe(best);
}

function minBig(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}
