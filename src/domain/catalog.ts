/**
 * The catalog as today's callers read it: one product's price per 1,000 tokens, limits, packages and
 * the Stars rate ({@link Catalog}). A shop with several products (`products.ts`, read from
 * `CATALOG_FILE` by `catalog-file.ts`) is seen through this view one product at a time
 * ({@link singleProductView}); without a file the shop is one built-in product made from the
 * environment's PRICE_PER_1K_TOKENS, MIN_TOKENS and MAX_TOKENS ({@link builtInShop}).
 */
import { z } from "zod";
import { type Currency, type Money, ceilDiv } from "./money.ts";
import { priceOrder } from "./pricing.ts";
import { type Delivery, Product, ShopCatalog, defaultProduct, findProduct } from "./products.ts";

/**
 * What the shop sells and at what price, for one product. Prices are per 1,000 tokens in USD minor units; what the
 * customer is actually charged is derived from the USD price in the payment provider's currency.
 */
export const Catalog = z.object({
  /** Per 1,000 units; for a product priced per another count, rounded up to a cent (display and budgets only). */
  pricePer1kUsdCents: z.number().int().positive(),
  minTokens: z.number().int().positive(),
  maxTokens: z.number().int().positive(),
  /** Package buttons offered at the start of a conversation. */
  packages: z.array(z.number().int().positive()).min(1),
  /** How many Telegram Stars one US dollar costs the customer (only used when charging in XTR). */
  starsPerUsd: z.number().int().positive(),
  /** The product these fields describe, when the view came from a shop: it prices with its own `pricePer` and tiers. */
  product: Product.optional(),
  /** The whole shop the view came from: every product and promo code. */
  shop: ShopCatalog.optional(),
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

/** The id of the one product a shop without `CATALOG_FILE` sells. */
export const BUILT_IN_PRODUCT_ID = "tokens";

/**
 * The product a catalog view describes: its own `product`, or (for a view written by hand, like
 * {@link DEFAULT_CATALOG}) the built-in product made from its fields, delivered as vouchers.
 */
export function productOf(catalog: Catalog): Product {
  return catalog.product ?? builtInProduct(catalog, "voucher");
}

/**
 * The built-in product from a single-product catalog: priced per 1,000 tokens, no tiers. Delivered as
 * `delivery` says; an OpenRouter key's credit is the whole price, as before catalogs (no margin).
 */
export function builtInProduct(catalog: Omit<Catalog, "product" | "shop">, delivery: Delivery): Product {
  return {
    id: BUILT_IN_PRODUCT_ID,
    name: { en: "tokens", ru: "токены" },
    aliases: {},
    pricePer: 1000,
    priceUsdCents: catalog.pricePer1kUsdCents,
    tiers: [],
    min: catalog.minTokens,
    max: catalog.maxTokens,
    packages: [...catalog.packages],
    delivery,
    creditUsdCents: delivery === "openrouter_key" ? catalog.pricePer1kUsdCents : null,
  };
}

/**
 * The shop without a catalog file: the one built-in product and no promo codes. `delivery` follows
 * DELIVERY_PROVIDER (`openrouter` → `openrouter_key`, `sandbox` → `voucher`).
 */
export function builtInShop(catalog: Omit<Catalog, "product" | "shop">, delivery: Delivery): ShopCatalog {
  return { products: [builtInProduct(catalog, delivery)], promos: [], starsPerUsd: catalog.starsPerUsd };
}

/**
 * The whole shop a catalog view belongs to: its own `shop`, or, for a view written by hand (like
 * {@link DEFAULT_CATALOG}), the one product it describes and no promo codes.
 */
export function shopOf(catalog: Catalog): ShopCatalog {
  return catalog.shop ?? { products: [productOf(catalog)], promos: [], starsPerUsd: catalog.starsPerUsd };
}

/**
 * One product of a shop seen as today's {@link Catalog}: its limits, packages and price (per 1,000,
 * rounded up to a cent when it is priced per another count), plus the product itself and the shop.
 * `productId` defaults to the shop's first product. Throws for an id the shop does not sell.
 */
export function singleProductView(shop: ShopCatalog, productId?: string): Catalog {
  const product = productId === undefined ? defaultProduct(shop) : findProduct(shop, productId);
  if (product === undefined) throw new RangeError(`no product "${productId}" in the catalog`);
  return {
    pricePer1kUsdCents: ceilDiv(product.priceUsdCents * 1000, product.pricePer),
    minTokens: product.min,
    maxTokens: product.max,
    packages: [...product.packages],
    starsPerUsd: shop.starsPerUsd,
    product,
    shop,
  };
}

/** The exact price of an amount of tokens: its USD list price and what is charged in `chargeCurrency`. */
export type Price = { usd: Money; charge: Money };

/** True when `tokens` may be sold at all under this catalog. */
export function withinLimits(catalog: Catalog, tokens: number): boolean {
  return Number.isSafeInteger(tokens) && tokens >= catalog.minTokens && tokens <= catalog.maxTokens;
}

/**
 * Prices `tokens` of the catalog's product (its tiers included, no promo code): a thin wrapper over
 * `priceOrder` for today's callers. USDT is pegged 1:1 to USD cents, so a $40.00 order is charged
 * 40.00 USDT: the same integer. Stars are whole units, rounded up. Throws only for amounts outside the
 * catalog's limits, which callers check first with {@link withinLimits}.
 */
export function priceTokens(catalog: Catalog, tokens: number, chargeCurrency: Currency): Price {
  if (!withinLimits(catalog, tokens)) throw new RangeError(`tokens out of range: ${tokens}`);
  // The view's limits are the ones callers checked; a hand-edited copy of a view keeps them authoritative.
  const product = { ...productOf(catalog), min: catalog.minTokens, max: catalog.maxTokens };
  const price = priceOrder(product, tokens, { currency: chargeCurrency, starsPerUsd: catalog.starsPerUsd });
  return { usd: price.final, charge: price.charge };
}
