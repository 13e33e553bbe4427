/**
 * What a shop sells, once its catalog has been read and checked (see `catalog-file.ts` for the file
 * the owner writes): products with exact prices in integer US cents, and promo codes. These are the
 * shapes the rest of the product reads; nothing here parses text or touches the disk.
 */
import { z } from "zod";

/** The shape of a product id: lower-case letters, digits and dashes, at most 32 (`gpt-tokens`). */
export const PRODUCT_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,31}$/;
/** A product id as the owner writes it (see {@link PRODUCT_ID_PATTERN}). */
export const ProductId = z.string().regex(PRODUCT_ID_PATTERN);
export type ProductId = z.infer<typeof ProductId>;

/** Positive whole US cents. */
const Cents = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const Units = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);

/** How a product's goods are issued: a voucher code, or an OpenRouter API key with a spending limit. */
export const Delivery = z.enum(["voucher", "openrouter_key"]);
export type Delivery = z.infer<typeof Delivery>;

/**
 * A volume price: from `from` units up, the whole order costs `priceUsdCents` per `pricePer` units
 * (the product's). The tier with the highest `from` not above the amount applies.
 */
export const Tier = z.object({ from: Units, priceUsdCents: Cents }).strict();
export type Tier = z.infer<typeof Tier>;

/**
 * One product. Prices, tiers and credit are integer US cents per `pricePer` units. `name` and
 * `aliases` are keyed by language code (`en`, `ru`); `aliases` are the words customers use for it.
 */
export const Product = z
  .object({
    id: ProductId,
    name: z.record(z.string(), z.string().min(1)),
    aliases: z.record(z.string(), z.array(z.string().min(1))),
    pricePer: Units,
    priceUsdCents: Cents,
    /** Ascending by `from`, each cheaper than the price before it. */
    tiers: z.array(Tier),
    min: Units,
    max: Units,
    /** Amounts offered as buttons, within `min`..`max`. */
    packages: z.array(Units).min(1),
    delivery: Delivery,
    /** `openrouter_key` only: the key's spending limit per `pricePer` units; null for vouchers. */
    creditUsdCents: Cents.nullable(),
  })
  .strict();
export type Product = z.infer<typeof Product>;

/** The shape of a promo code: 2 to 32 letters, digits, `_` or `-`, so it fits a `?start=promo_CODE` link. */
export const PROMO_CODE_PATTERN = /^[A-Za-z0-9_-]{2,32}$/;

/** What a promo code takes off: a whole percentage (1..100) or a fixed number of US cents. */
export const Discount = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("percent"), percent: z.number().int().min(1).max(100) }).strict(),
  z.object({ kind: z.literal("usd"), usdCents: Cents }).strict(),
]);
export type Discount = z.infer<typeof Discount>;

/** A promo code. `code` keeps the owner's spelling; it is matched trimmed and case-insensitively. */
export const Promo = z
  .object({
    code: z.string().regex(PROMO_CODE_PATTERN),
    discount: Discount,
    /** Uses allowed in total (paid orders); null: unlimited. */
    maxUses: Units.nullable(),
    /** The first instant (epoch ms) the code no longer works; null: never expires. */
    expiresAt: z.number().int().nullable(),
    /** One paid order per customer (chat). */
    oncePerCustomer: z.boolean(),
    /** The products it applies to; null: every product. */
    products: z.array(ProductId).min(1).nullable(),
  })
  .strict();
export type Promo = z.infer<typeof Promo>;

/** A whole shop: its products (the first is the default) and promo codes, and the Stars rate. */
export const ShopCatalog = z
  .object({
    products: z.array(Product).min(1),
    promos: z.array(Promo),
    /** How many Telegram Stars one US dollar costs the customer (charging in XTR only). */
    starsPerUsd: z.number().int().positive(),
  })
  .strict();
export type ShopCatalog = z.infer<typeof ShopCatalog>;

/** The shop's product with this id, if any. */
export function findProduct(shop: ShopCatalog, id: string): Product | undefined {
  return shop.products.find((product) => product.id === id);
}

/** The shop's default product: the first one listed. */
export function defaultProduct(shop: ShopCatalog): Product {
  const [first] = shop.products;
  if (first === undefined) throw new Error("a shop catalog has at least one product");
  return first;
}

/**
 * The product's name for a customer speaking `language`: that language's name, else English, else
 * the first one written.
 */
export function productName(product: Product, language: string): string {
  return product.name[language] ?? product.name.en ?? Object.values(product.name)[0] ?? product.id;
}
