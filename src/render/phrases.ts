/**
 * The small phrases every reply of one language is built from: amounts of tokens, money, time left,
 * the catalog's products, limits and help text, and the package (or product) buttons.
 */
import { type Catalog, shopOf } from "../domain/catalog.ts";
import { type Money, money } from "../domain/money.ts";
import { type Product, type Promo, findProduct, productName } from "../domain/products.ts";
import type { Translator } from "../i18n/index.ts";
import type { Markup } from "./markup.ts";
import { type Button, pressButton } from "./model.ts";

/** The phrases of one language and markup, for one catalog; built once per language. */
export function createPhrases(catalog: Catalog, m: Markup, tr: Translator, now: () => number, promosInForce?: () => readonly Promo[]) {
  const t = tr.t;
  const shop = shopOf(catalog);
  /** The promo codes in force: the owner's dashboard changes too, when the app passes them; else the catalog's. */
  const promos = promosInForce ?? (() => shop.promos);
  /** The shop sells several products: orders name theirs, and the start menu offers products first. */
  const several = shop.products.length > 1;
  const tokens = (count: number) => t("tokens", { count, tokens: tr.count(count) });
  const short = (count: number) => (count % 1000 === 0 ? t("tokens-thousands", { thousands: tr.count(count / 1000) }) : tr.count(count));
  const cash = (value: Money) => m.escape(tr.money(value));
  const timeLeft = (until: number | null) =>
    until === null ? "" : t("time-left", { minutes: Math.max(1, Math.ceil((until - now()) / 60_000)) });
  const limitsWithin = (min: number, max: number) => t("limits", { min: tr.count(min), minCount: min, max: tr.count(max), maxCount: max });
  /** A product of the shop, by id (none for an order that has not chosen one). */
  const productOf = (id: string | null | undefined): Product | undefined => (id ? findProduct(shop, id) : undefined);
  /** The product's name in this language, escaped for a message (the owner wrote it). */
  const nameOf = (product: Product) => m.escape(productName(product, tr.language));
  /** The product's name on a button: labels are plain text in every channel, never markup. */
  const labelOf = (product: Product) => productName(product, tr.language);
  // A one-product shop keeps the catalog view's limits (tests narrow them by hand), as before catalogs.
  const limitsOfProduct = (product: Product) =>
    several ? limitsWithin(product.min, product.max) : limitsWithin(catalog.minTokens, catalog.maxTokens);
  /** An amount, naming its product in a shop of several ("2,000 tokens (GPT tokens)"); `label`: for a button. */
  const amountOf = (count: number, productId: string | null | undefined, label = false) => {
    const product = several ? productOf(productId) : undefined;
    return product ? t("amount-of-product", { amount: tokens(count), product: label ? labelOf(product) : nameOf(product) }) : tokens(count);
  };
  /** The package buttons of one product; in a shop of several each names its product, so it buys it whatever the order. */
  const packagesOf = (product: Product): Button[] =>
    product.packages.map((p) =>
      pressButton(short(p), several ? { action: "package", tokens: p, product: product.id } : { action: "package", tokens: p }),
    );
  const productButtons: Button[] = shop.products.map((product) =>
    pressButton(labelOf(product), { action: "product", product: product.id }),
  );
  // The start menu, the limits and the help depend only on the catalog: built once.
  const packages: Button[] = several
    ? productButtons
    : catalog.packages.map((p) => pressButton(short(p), { action: "package", tokens: p }));
  /** The packages to offer beside an order: its product's once chosen, else the products to choose from. */
  const packagesFor = (productId: string | null | undefined): Button[] => {
    const product = several ? productOf(productId) : undefined;
    return product ? packagesOf(product) : packages;
  };
  const limits = limitsWithin(catalog.minTokens, catalog.maxTokens);
  /** The limits of an order's product, or (none chosen yet) the shop's from the smallest to the largest. */
  const limitsFor = (productId: string | null | undefined) => {
    const product = productOf(productId);
    if (product) return limitsOfProduct(product);
    return several ? limitsWithin(Math.min(...shop.products.map((p) => p.min)), Math.max(...shop.products.map((p) => p.max))) : limits;
  };
  const help = several
    ? t("help-catalog", {
        products: shop.products
          .map((product) =>
            t("catalog-product-line", {
              product: nameOf(product),
              price: m.bold(cash(money(product.priceUsdCents, "USD"))),
              per: tokens(product.pricePer),
              limits: limitsOfProduct(product),
            }),
          )
          .join("\n"),
      })
    : t("help", { price: m.bold(cash(money(catalog.pricePer1kUsdCents, "USD"))), per: tr.count(1000), limits });
  return {
    catalog,
    shop,
    promos,
    several,
    m,
    tr,
    t,
    tokens,
    amountOf,
    short,
    cash,
    timeLeft,
    packages,
    packagesFor,
    productOf,
    nameOf,
    limits,
    limitsFor,
    help,
  };
}

/** See {@link createPhrases}. */
export type Phrases = ReturnType<typeof createPhrases>;
