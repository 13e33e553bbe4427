import { z } from "zod";
import { type Currency, type Money, money, priceFor } from "./money.ts";

/**
 * What the shop sells and at what price. Prices are per 1,000 tokens in USD minor units; what the
 * customer is actually charged is derived from the USD price in the payment provider's currency.
 */
export const Catalog = z.object({
  pricePer1kUsdCents: z.number().int().positive(),
  minTokens: z.number().int().positive(),
  maxTokens: z.number().int().positive(),
  /** Package buttons offered at the start of a conversation. */
  packages: z.array(z.number().int().positive()).min(1),
  /** How many Telegram Stars one US dollar costs the customer (only used when charging in XTR). */
  starsPerUsd: z.number().int().positive(),
});
export type Catalog = z.infer<typeof Catalog>;

/** The seed's prices: $20.00 per 1,000 tokens, 100 to 1,000,000 tokens, packages 1k/5k/10k/20k. */
export const DEFAULT_CATALOG: Catalog = {
  pricePer1kUsdCents: 2000,
  minTokens: 100,
  maxTokens: 1_000_000,
  packages: [1000, 5000, 10_000, 20_000],
  starsPerUsd: 50,
};

/** The exact price of an amount of tokens: its USD list price and what is charged in `chargeCurrency`. */
export type Price = { usd: Money; charge: Money };

/** True when `tokens` may be sold at all under this catalog. */
export function withinLimits(catalog: Catalog, tokens: number): boolean {
  return Number.isSafeInteger(tokens) && tokens >= catalog.minTokens && tokens <= catalog.maxTokens;
}

/**
 * Prices `tokens`. USDT is pegged 1:1 to USD cents, so a $40.00 order is charged 40.00 USDT: the same
 * integer. Stars are whole units, rounded up. Throws only for amounts outside the catalog's limits,
 * which callers check first with {@link withinLimits}.
 */
export function priceTokens(catalog: Catalog, tokens: number, chargeCurrency: Currency): Price {
  if (!withinLimits(catalog, tokens)) throw new RangeError(`tokens out of range: ${tokens}`);
  const usd = priceFor(tokens, money(catalog.pricePer1kUsdCents, "USD"), 1000);
  return { usd, charge: convertFromUsd(usd, chargeCurrency, catalog) };
}

function convertFromUsd(usd: Money, currency: Currency, catalog: Catalog): Money {
  switch (currency) {
    case "USD":
    case "USDT":
      return money(usd.minor, currency);
    case "XTR":
      return priceFor(usd.minor, money(catalog.starsPerUsd, "XTR"), 100);
    default: {
      const unhandled: never = currency;
      throw new Error(`unknown currency ${String(unhandled)}`);
    }
  }
}
