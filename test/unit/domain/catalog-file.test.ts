import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { ConfigError, loadConfig } from "../../../src/config.ts";
import { parseCatalog, readCatalogFile } from "../../../src/domain/catalog-file.ts";
import { priceTokens, singleProductView } from "../../../src/domain/catalog.ts";

const EXAMPLE = join(import.meta.dirname, "..", "..", "..", "catalog.example.yaml");
const STARS = { starsPerUsd: 50 };

const PRODUCT = `products:
  - id: gpt-tokens
    name: { en: "GPT tokens", ru: "GPT-токены" }
    price_usd: "20.00"
    min: 100
    max: 1000000
    packages: [1000, 5000]
    delivery: voucher
`;

/** The one line a catalog's text is refused with, or "ok". */
function problem(text: string): string {
  const read = parseCatalog(text, "yaml", STARS);
  return read.ok ? "ok" : read.error;
}

function tempFile(name: string, text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), "catalog-")), name);
  writeFileSync(path, text);
  return path;
}

describe("the shipped example catalog", () => {
  test("loads: two products (a voucher and an OpenRouter key) and its promo codes, in exact cents", () => {
    const read = readCatalogFile(EXAMPLE, STARS);
    if (!read.ok) throw new Error(read.error);
    const [tokens, credit] = read.shop.products;
    expect(tokens).toMatchObject({ id: "tokens", pricePer: 1000, priceUsdCents: 2000, delivery: "voucher", creditUsdCents: null });
    expect(tokens?.tiers).toEqual([
      { from: 10_000, priceUsdCents: 1800 },
      { from: 100_000, priceUsdCents: 1600 },
    ]);
    expect(credit).toMatchObject({
      id: "openrouter-credit",
      pricePer: 100,
      priceUsdCents: 125,
      delivery: "openrouter_key",
      creditUsdCents: 100,
    });
    expect(read.shop.promos.map((p) => p.code)).toEqual(["SPRING10", "WELCOME5"]);
    expect(read.shop.promos[0]).toMatchObject({
      discount: { kind: "percent", percent: 10 },
      maxUses: 100,
      expiresAt: Date.UTC(2027, 1, 1),
    });
    expect(read.shop.promos[1]).toMatchObject({ discount: { kind: "usd", usdCents: 500 }, oncePerCustomer: true, products: ["tokens"] });
  });

  test("CATALOG_FILE makes its first product the catalog today's callers read, tiers included", () => {
    const config = loadConfig({ CATALOG_FILE: EXAMPLE, STARS_PER_USD: "70" });
    expect(config.shop.products).toHaveLength(2);
    expect(config.shop.starsPerUsd).toBe(70);
    expect(config.catalog).toMatchObject({
      pricePer1kUsdCents: 2000,
      minTokens: 100,
      maxTokens: 1_000_000,
      packages: [1000, 5000, 10_000, 20_000],
      starsPerUsd: 70,
    });
    expect(priceTokens(config.catalog, 2000, "USD").usd.minor).toBe(4000);
    // 10,000 tokens reach the $18.00 tier: $180.00, not $200.00.
    expect(priceTokens(config.catalog, 10_000, "USDT").charge).toEqual({ minor: 18_000, currency: "USDT" });
  });

  test("a product priced per another count is seen per 1,000 (rounded up) and priced exactly", () => {
    const read = readCatalogFile(EXAMPLE, STARS);
    if (!read.ok) throw new Error(read.error);
    const view = singleProductView(read.shop, "openrouter-credit");
    expect(view.pricePer1kUsdCents).toBe(1250);
    expect(priceTokens(view, 1000, "USD").usd.minor).toBe(1250);
    expect(() => singleProductView(read.shop, "nope")).toThrow(RangeError);
  });
});

describe("without CATALOG_FILE", () => {
  test("the shop is one built-in product from PRICE_PER_1K_TOKENS, MIN_TOKENS and MAX_TOKENS, as a voucher", () => {
    const config = loadConfig({ PRICE_PER_1K_TOKENS: "19.99", MIN_TOKENS: "500", MAX_TOKENS: "50000" });
    expect(config.shop.promos).toEqual([]);
    expect(config.shop.products).toEqual([
      expect.objectContaining({
        id: "tokens",
        pricePer: 1000,
        priceUsdCents: 1999,
        min: 500,
        max: 50_000,
        packages: [1000, 5000, 10_000, 20_000],
        delivery: "voucher",
        creditUsdCents: null,
      }),
    ]);
    expect(config.catalog).toMatchObject({ pricePer1kUsdCents: 1999, minTokens: 500, maxTokens: 50_000 });
  });

  test("with DELIVERY_PROVIDER=openrouter the built-in product is a key whose credit is the whole price, as before", () => {
    const config = loadConfig({
      DELIVERY_PROVIDER: "openrouter",
      OPENROUTER_PROVISIONING_KEY: "k",
      PAYMENT_PROVIDER: "stars",
      TELEGRAM_BOT_TOKEN: "1:x",
    });
    expect(config.shop.products[0]).toMatchObject({ delivery: "openrouter_key", creditUsdCents: 2000 });
  });
});

describe("a catalog with a mistake stops start-up with one line naming the product or promo and the field", () => {
  const promo = (lines: string) => `${PRODUCT}promos:\n  - code: SPRING10\n${lines}`;
  test.each([
    [
      PRODUCT.replace('"20.00"', "20.00"),
      'product "gpt-tokens": price_usd must be a dollar amount like "20.00" (in quotes: unquoted numbers are read as floats)',
    ],
    [PRODUCT.replace('"20.00"', '"20.001"'), 'product "gpt-tokens": price_usd must be a dollar amount like "20.00"'],
    [PRODUCT.replace('"20.00"', '"0.00"'), 'product "gpt-tokens": price_usd must be a dollar amount like "20.00" (more than zero)'],
    [PRODUCT.replace("    min: 100\n", ""), 'product "gpt-tokens": min is required'],
    [`${PRODUCT}    pirce_usd: "1.00"\n`, 'product "gpt-tokens": unknown field "pirce_usd" (check its spelling)'],
    [PRODUCT.replace("max: 1000000", "max: 10"), 'product "gpt-tokens": min must not exceed max (10)'],
    [PRODUCT.replace("min: 100", "min: 0"), 'product "gpt-tokens": min must be a whole number above 0'],
    [PRODUCT.replace("min: 100", "min: 1.5"), 'product "gpt-tokens": min must be a whole number above 0'],
    [
      PRODUCT.replace("[1000, 5000]", "[1000, 5000000]"),
      'product "gpt-tokens": packages[1] must be within min..max (100..1000000), got 5000000',
    ],
    [PRODUCT.replace("[1000, 5000]", "[1000, 1000]"), 'product "gpt-tokens": packages[1] lists 1000 twice'],
    [PRODUCT.replace("[1000, 5000]", "[]"), 'product "gpt-tokens": packages must list at least one amount'],
    [
      PRODUCT.replace("gpt-tokens", "GPT Tokens"),
      'product "GPT Tokens": id must be lower-case letters, digits and dashes (at most 32), like gpt-tokens',
    ],
    [
      PRODUCT.replace('{ en: "GPT tokens", ru: "GPT-токены" }', '""'),
      'product "gpt-tokens": name must be text, or a map of language to text like { en: "GPT tokens", ru: "GPT-токены" }',
    ],
    [PRODUCT.replace("voucher", "email"), 'product "gpt-tokens": delivery must be voucher or openrouter_key'],
    [
      `${PRODUCT}    credit_usd: "16.00"\n`,
      'product "gpt-tokens": credit_usd is only for delivery openrouter_key (a voucher carries no OpenRouter credit)',
    ],
    [
      PRODUCT.replace("voucher", "openrouter_key"),
      'product "gpt-tokens": credit_usd is required for delivery openrouter_key (the key\'s spending limit per price_per units)',
    ],
    [
      `${PRODUCT.replace("voucher", "openrouter_key")}    credit_usd: "20.01"\n`,
      'product "gpt-tokens": credit_usd ($20.01) must not exceed price_usd ($20.00): every such sale would lose money',
    ],
    [
      `${PRODUCT.replace("voucher", "openrouter_key")}    credit_usd: "19.00"\n    tiers: [{ from: 10000, price_usd: "18.00" }]\n`,
      'product "gpt-tokens": credit_usd ($19.00) must not exceed tiers[0].price_usd ($18.00): every such sale would lose money',
    ],
    [
      `${PRODUCT}    tiers: [{ from: 100, price_usd: "18.00" }]\n`,
      'product "gpt-tokens": tiers[0].from must be above min (100) and at most max (1000000)',
    ],
    [
      `${PRODUCT}    tiers: [{ from: 2000000, price_usd: "18.00" }]\n`,
      'product "gpt-tokens": tiers[0].from must be above min (100) and at most max (1000000)',
    ],
    [
      `${PRODUCT}    tiers: [{ from: 5000, price_usd: "18.00" }, { from: 5000, price_usd: "17.00" }]\n`,
      'product "gpt-tokens": tiers[1].from must be above the tier before it (5000) and at most max (1000000)',
    ],
    [
      `${PRODUCT}    tiers: [{ from: 5000, price_usd: "20.00" }]\n`,
      'product "gpt-tokens": tiers[0].price_usd must be lower than price_usd ($20.00): a volume price is a discount',
    ],
    [`${PRODUCT}    tiers: [{ from: 5000 }]\n`, 'product "gpt-tokens": tiers[0].price_usd is required'],
    [
      PRODUCT.replace("max: 1000000", "max: 100000000000"),
      'product "gpt-tokens": max is too large for its price: max units must cost at most $900,719,925.47',
    ],
    [PRODUCT + PRODUCT.replace("products:\n", ""), 'product "gpt-tokens": id is used by another product already'],
    [
      PRODUCT.replace("    price_usd", "    - oops\n    price_usd"),
      "is not valid YAML: A block sequence may not be used as an implicit map key at line 4, column 1",
    ],
    ["", "must be a map with products (and optionally promos)"],
    ["promos: []", "products is required"],
    ["products: []", "products must list at least one product"],
    [`${PRODUCT}extras: 1\n`, 'unknown field "extras" (check its spelling)'],
    [promo("    percent_off: 0\n"), 'promo "SPRING10": percent_off must be a whole percentage from 1 to 100'],
    [promo("    percent_off: 101\n"), 'promo "SPRING10": percent_off must be a whole percentage from 1 to 100'],
    [promo("    percent_off: 12.5\n"), 'promo "SPRING10": percent_off must be a whole percentage from 1 to 100'],
    [promo('    percent_off: 10\n    usd_off: "5.00"\n'), 'promo "SPRING10": usd_off cannot be given with percent_off: choose one'],
    [promo("    max_uses: 5\n"), 'promo "SPRING10": percent_off or usd_off is required'],
    [
      promo("    usd_off: 5\n"),
      'promo "SPRING10": usd_off must be a dollar amount like "20.00" (in quotes: unquoted numbers are read as floats)',
    ],
    [
      promo("    percent_off: 10\n    expires: 2027-02-30\n"),
      'promo "SPRING10": expires must be a date like "2027-01-31" (valid through that day, UTC) or an instant like "2027-01-31T18:00:00Z"',
    ],
    [
      promo('    percent_off: 10\n    expires: "next week"\n'),
      'promo "SPRING10": expires must be a date like "2027-01-31" (valid through that day, UTC) or an instant like "2027-01-31T18:00:00Z"',
    ],
    [
      promo("    percent_off: 10\n    products: [claude]\n"),
      'promo "SPRING10": products[0] names "claude", which is not a product here (products: gpt-tokens)',
    ],
    [promo("    percent_off: 10\n    once_per_customer: maybe\n"), 'promo "SPRING10": once_per_customer must be true or false'],
    [
      promo('    percent_off: 10\n  - code: spring10\n    usd_off: "1.00"\n'),
      'promo "spring10": code is used by another promo already (codes ignore case)',
    ],
    [
      `${PRODUCT}promos:\n  - code: "10% OFF"\n    percent_off: 10\n`,
      'promo "10% OFF": code must be 2 to 32 letters, digits, _ or - (so it fits a t.me/<bot>?start=promo_CODE link), like SPRING10',
    ],
    [`${PRODUCT}promos:\n  - percent_off: 10\n`, "promo #1: code is required"],
  ])("%#: %s", (text, line) => {
    expect(problem(text)).toBe(line);
  });

  test("the environment variable is named first, on one line: CATALOG_FILE: product …", () => {
    const path = tempFile("shop.yaml", PRODUCT.replace('"20.00"', '"twenty"'));
    const error = (() => {
      try {
        loadConfig({ CATALOG_FILE: path });
      } catch (caught) {
        return caught;
      }
      return null;
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toBe('CATALOG_FILE: product "gpt-tokens": price_usd must be a dollar amount like "20.00"');
  });

  test("a missing file or an unknown extension says what to check", () => {
    expect(() => loadConfig({ CATALOG_FILE: "/nowhere/shop.yaml" })).toThrow(
      'CATALOG_FILE: cannot read "/nowhere/shop.yaml" (no such file): check the path',
    );
    expect(() => loadConfig({ CATALOG_FILE: "shop.toml" })).toThrow('CATALOG_FILE: must name a .yaml, .yml or .json file, got "shop.toml"');
  });

  test("JSON works the same, by extension, with the same checks", () => {
    const product = { id: "gpt", name: "GPT tokens", price_usd: "20.00", min: 100, max: 1000, packages: [100], delivery: "voucher" };
    const good = readCatalogFile(tempFile("shop.json", JSON.stringify({ products: [product] })), STARS);
    expect(good.ok && good.shop.products[0]?.name).toEqual({ en: "GPT tokens" });
    const bad = readCatalogFile(tempFile("shop.json", JSON.stringify({ products: [{ ...product, price_usd: 20 }] })), STARS);
    expect(bad).toEqual({
      ok: false,
      error: 'product "gpt": price_usd must be a dollar amount like "20.00" (in quotes: unquoted numbers are read as floats)',
    });
    expect(readCatalogFile(tempFile("shop.json", "{ products: "), STARS)).toMatchObject({
      ok: false,
      error: expect.stringMatching(/^is not valid JSON: /),
    });
  });
});

describe("what a valid file may leave out", () => {
  test("price_per defaults to 1000, tiers and aliases to none, promos to none; expiry instants are exact", () => {
    const read = parseCatalog(
      `${PRODUCT}promos:\n  - code: NIGHT\n    usd_off: "2.50"\n    expires: "2027-01-31T18:00:00+02:00"\n`,
      "yaml",
      STARS,
    );
    if (!read.ok) throw new Error(read.error);
    expect(read.shop.products[0]).toMatchObject({ pricePer: 1000, tiers: [], aliases: {} });
    expect(read.shop.promos[0]).toMatchObject({
      expiresAt: Date.UTC(2027, 0, 31, 16),
      maxUses: null,
      oncePerCustomer: false,
      products: null,
    });
  });
});
