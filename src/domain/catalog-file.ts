/**
 * The owner's catalog file (`CATALOG_FILE`, YAML or JSON): one zod schema for what may be written,
 * checked once at start-up. Dollar amounts are quoted decimal strings that become integer cents
 * (never floats); a problem is reported as one line naming the product or promo and the field:
 * `product "gpt-tokens": price_usd must be a dollar amount like "20.00"`. See docs/catalog.md.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { extname } from "node:path";
import type YAML from "yaml";
import { z } from "zod";
import { formatMoney, money, parseMoney } from "./money.ts";
import { PRODUCT_ID_PATTERN, PROMO_CODE_PATTERN, type Promo, ShopCatalog } from "./products.ts";

/**
 * The YAML parser, loaded when a YAML catalog is read: most shops have none, and the parser is about
 * 2 MB of an idle process's memory. Synchronous, as start-up reads the catalog.
 */
const parseYaml = (text: string): unknown => (createRequire(import.meta.url)("yaml") as typeof YAML).parse(text);

const DOLLARS = 'must be a dollar amount like "20.00"';
const WHOLE = "must be a whole number above 0";
// A price must leave room to be multiplied by a Stars rate (at most 100,000 per dollar) exactly.
const MAX_PRICE_CENTS = Math.floor(Number.MAX_SAFE_INTEGER / 100_000);

/** A quoted dollar amount ("20.00") as positive integer cents. Unquoted YAML numbers are floats: refused. */
const Dollars = z.unknown().transform((value, ctx) => {
  const parsed = typeof value === "string" ? parseMoney(value, "USD") : null;
  if (parsed?.ok && parsed.value.minor > 0) return parsed.value.minor;
  if (value === undefined) {
    ctx.addIssue({ code: "custom", message: "is required" });
    return z.NEVER;
  }
  const hint = typeof value === "number" ? " (in quotes: unquoted numbers are read as floats)" : parsed?.ok ? " (more than zero)" : "";
  ctx.addIssue({ code: "custom", message: `${DOLLARS}${hint}` });
  return z.NEVER;
});
const Whole = z.number({ error: WHOLE }).int({ error: WHOLE }).positive({ error: WHOLE }).max(Number.MAX_SAFE_INTEGER, { error: WHOLE });
const Language = z.string().regex(/^[a-z]{2,3}$/, { error: "language codes are two or three lower-case letters, like en or ru" });
const Text = z.string({ error: "must be text" }).trim().min(1, { error: "must not be empty" });
const NAME = 'must be text, or a map of language to text like { en: "GPT tokens", ru: "GPT-токены" }';
const Name = z
  .union([Text.transform((text) => ({ en: text })), z.record(Language, Text)], { error: NAME })
  .refine((names) => Object.keys(names).length > 0, { error: NAME });
const Aliases = z.record(Language, z.array(Text, { error: 'must be a list of words, like ["gpt", "openai"]' }), {
  error: 'must be a map of language to a list of words, like { en: ["gpt"], ru: ["гпт"] }',
});

const TierFile = z.object({ from: Whole, price_usd: Dollars }).strict();

const ProductFile = z
  .object({
    id: z.string({ error: "must be text" }).regex(PRODUCT_ID_PATTERN, {
      error: "must be lower-case letters, digits and dashes (at most 32), like gpt-tokens",
    }),
    name: Name,
    aliases: Aliases.optional(),
    price_per: Whole.optional(),
    price_usd: Dollars,
    tiers: z.array(TierFile, { error: 'must be a list like [{ from: 10000, price_usd: "18.00" }]' }).optional(),
    min: Whole,
    max: Whole,
    packages: z.array(Whole, { error: "must be a list of amounts, like [1000, 5000]" }).min(1, { error: "must list at least one amount" }),
    delivery: z.enum(["voucher", "openrouter_key"], { error: "must be voucher or openrouter_key" }),
    credit_usd: Dollars.optional(),
  })
  .strict()
  .superRefine((p, ctx) => {
    const problem = (path: (string | number)[], message: string) => ctx.addIssue({ code: "custom", path, message });
    if (p.min > p.max) problem(["min"], `must not exceed max (${p.max})`);
    p.packages.forEach((amount, i) => {
      if (amount < p.min || amount > p.max) problem(["packages", i], `must be within min..max (${p.min}..${p.max}), got ${amount}`);
      else if (p.packages.indexOf(amount) !== i) problem(["packages", i], `lists ${amount} twice`);
    });
    let before = { from: p.min, price: p.price_usd, what: "price_usd" };
    (p.tiers ?? []).forEach((tier, i) => {
      if (tier.from <= before.from || tier.from > p.max) {
        problem(
          ["tiers", i, "from"],
          i === 0
            ? `must be above min (${p.min}) and at most max (${p.max})`
            : `must be above the tier before it (${before.from}) and at most max (${p.max})`,
        );
      } else if (tier.price_usd >= before.price) {
        problem(["tiers", i, "price_usd"], `must be lower than ${before.what} (${cash(before.price)}): a volume price is a discount`);
      }
      before = { from: tier.from, price: tier.price_usd, what: `tiers[${i}].price_usd` };
    });
    if (p.delivery === "openrouter_key" && p.credit_usd === undefined) {
      problem(["credit_usd"], "is required for delivery openrouter_key (the key's spending limit per price_per units)");
    } else if (p.delivery !== "openrouter_key" && p.credit_usd !== undefined) {
      problem(["credit_usd"], "is only for delivery openrouter_key (a voucher carries no OpenRouter credit)");
    } else if (p.credit_usd !== undefined && p.credit_usd > before.price) {
      problem(
        ["credit_usd"],
        `(${cash(p.credit_usd)}) must not exceed ${before.what} (${cash(before.price)}): every such sale would lose money`,
      );
    }
    if (BigInt(p.max) * BigInt(p.price_usd) > BigInt(MAX_PRICE_CENTS) * BigInt(p.price_per ?? 1000)) {
      problem(["max"], `is too large for its price: max units must cost at most ${cash(MAX_PRICE_CENTS)}`);
    }
  });

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;
/** "2027-01-31" works through that day (UTC); an instant with its zone stops working at that instant. */
const Expires = z.unknown().transform((value, ctx) => {
  const text = typeof value === "string" ? value.trim() : "";
  const day = DATE.exec(text);
  if (day) {
    const [y, m, d] = [Number(day[1]), Number(day[2]), Number(day[3])];
    const start = Date.UTC(y, m - 1, d);
    const check = new Date(start);
    if (check.getUTCFullYear() === y && check.getUTCMonth() === m - 1 && check.getUTCDate() === d) return start + 24 * 60 * 60_000;
  } else if (INSTANT.test(text) && !Number.isNaN(Date.parse(text))) {
    return Date.parse(text);
  }
  ctx.addIssue({
    code: "custom",
    message: 'must be a date like "2027-01-31" (valid through that day, UTC) or an instant like "2027-01-31T18:00:00Z"',
  });
  return z.NEVER;
});

const PromoFile = z
  .object({
    code: z.string({ error: "must be text" }).trim().regex(PROMO_CODE_PATTERN, {
      error: "must be 2 to 32 letters, digits, _ or - (so it fits a t.me/<bot>?start=promo_CODE link), like SPRING10",
    }),
    percent_off: z
      .number({ error: "must be a whole percentage from 1 to 100" })
      .int({ error: "must be a whole percentage from 1 to 100" })
      .min(1, { error: "must be a whole percentage from 1 to 100" })
      .max(100, { error: "must be a whole percentage from 1 to 100" })
      .optional(),
    usd_off: Dollars.optional(),
    max_uses: Whole.optional(),
    expires: Expires.optional(),
    once_per_customer: z.boolean({ error: "must be true or false" }).optional(),
    products: z
      .array(z.string({ error: "must be product ids" }), { error: "must be a list of product ids, like [gpt-tokens]" })
      .min(1, { error: "must list at least one product (leave it out for every product)" })
      .optional(),
  })
  .strict()
  .superRefine((p, ctx) => {
    if (p.percent_off !== undefined && p.usd_off !== undefined)
      ctx.addIssue({ code: "custom", path: ["usd_off"], message: "cannot be given with percent_off: choose one" });
    if (p.percent_off === undefined && p.usd_off === undefined)
      ctx.addIssue({ code: "custom", path: ["percent_off"], message: "or usd_off is required" });
  });

const CatalogFile = z
  .object(
    {
      products: z.array(ProductFile, { error: "must be a list of products" }).min(1, { error: "must list at least one product" }),
      promos: z.array(PromoFile, { error: "must be a list of promo codes" }).optional(),
    },
    { error: "must be a map with products (and optionally promos)" },
  )
  .strict()
  .superRefine((file, ctx) => {
    const ids = file.products.map((p) => p.id);
    ids.forEach((id, i) => {
      if (ids.indexOf(id) !== i)
        ctx.addIssue({ code: "custom", path: ["products", i, "id"], message: `is used by another product already` });
    });
    const codes = (file.promos ?? []).map((p) => p.code.toUpperCase());
    (file.promos ?? []).forEach((promo, i) => {
      if (codes.indexOf(codes[i] ?? "") !== i)
        ctx.addIssue({ code: "custom", path: ["promos", i, "code"], message: "is used by another promo already (codes ignore case)" });
      promo.products?.forEach((id, k) => {
        if (!ids.includes(id))
          ctx.addIssue({
            code: "custom",
            path: ["promos", i, "products", k],
            message: `names "${id}", which is not a product here (products: ${ids.join(", ")})`,
          });
      });
    });
  });

function cash(cents: number): string {
  return formatMoney(money(cents, "USD"));
}

/** The catalog read, or the one line that says what to fix. */
export type CatalogResult = { ok: true; shop: ShopCatalog } | { ok: false; error: string };

/** How a catalog's text is written. */
export type CatalogFormat = "yaml" | "json";

/** The format a file name says (`.yaml`, `.yml`, `.json`); null for anything else. */
export function catalogFormatOf(path: string): CatalogFormat | null {
  const ext = extname(path).toLowerCase();
  return ext === ".yaml" || ext === ".yml" ? "yaml" : ext === ".json" ? "json" : null;
}

/** `x` in an issue's path, for the owner: `tiers[1].price_usd`, `name.en`. */
function fieldOf(path: readonly PropertyKey[]): string {
  return path.map((key, i) => (typeof key === "number" ? `[${key}]` : i === 0 ? String(key) : `.${String(key)}`)).join("");
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let value = root;
  for (const key of path) value = typeof value === "object" && value !== null ? (value as Record<PropertyKey, unknown>)[key] : undefined;
  return value;
}

/** One zod issue as one line naming the product or promo and the field. */
function describeIssue(raw: unknown, issue: z.core.$ZodIssue): string {
  const [section, index, ...rest] = issue.path;
  let subject = "";
  let path: readonly PropertyKey[] = issue.path;
  if ((section === "products" || section === "promos") && typeof index === "number") {
    const key = section === "products" ? "id" : "code";
    const name = valueAt(raw, [section, index, key]);
    const kind = section === "products" ? "product" : "promo";
    subject = typeof name === "string" && name.trim() !== "" ? `${kind} "${name.trim()}": ` : `${kind} #${index + 1}: `;
    path = rest;
  }
  const field = fieldOf(path);
  if (issue.code === "unrecognized_keys") {
    const keys = issue.keys.map((k) => `"${k}"`).join(", ");
    return `${subject}${field ? `${field}: ` : ""}unknown field ${keys} (check its spelling)`;
  }
  const missing = issue.code === "invalid_type" && valueAt(raw, issue.path) === undefined;
  const message = missing ? "is required" : issue.message;
  return field ? `${subject}${field} ${message}` : `${subject}${message}`;
}

/** A promo as the file writes it, in the shop's own shape. */
function normalizePromo(p: z.output<typeof PromoFile>): Promo {
  return {
    code: p.code,
    discount: p.percent_off !== undefined ? { kind: "percent", percent: p.percent_off } : { kind: "usd", usdCents: p.usd_off ?? 0 },
    maxUses: p.max_uses ?? null,
    expiresAt: p.expires ?? null,
    oncePerCustomer: p.once_per_customer ?? false,
    products: p.products ?? null,
  };
}

/**
 * One promo code written the way the catalog file writes one (`code`, `percent_off` or `usd_off`,
 * `max_uses`, `expires`, `once_per_customer`, `products`), checked by the same rules and answered in the
 * same words: the dashboard's form adds codes through it. `productIds`: the shop's products.
 */
export function parsePromo(raw: unknown, productIds: readonly string[]): { ok: true; promo: Promo } | { ok: false; error: string } {
  const parsed = PromoFile.safeParse(raw);
  if (!parsed.success) {
    const [issue] = parsed.error.issues;
    return {
      ok: false,
      error: issue ? describeIssue({ promos: [raw] }, { ...issue, path: ["promos", 0, ...issue.path] }) : "invalid promo",
    };
  }
  const unknown = parsed.data.products?.find((id) => !productIds.includes(id));
  if (unknown !== undefined)
    return {
      ok: false,
      error: `promo "${parsed.data.code}": products names "${unknown}", which is not a product here (products: ${productIds.join(", ")})`,
    };
  return { ok: true, promo: normalizePromo(parsed.data) };
}

/** The file's data as the normalized, checked shop (see `products.ts`). */
function normalize(file: z.output<typeof CatalogFile>, starsPerUsd: number): ShopCatalog {
  const products = file.products.map((p) => ({
    id: p.id,
    name: p.name,
    aliases: p.aliases ?? {},
    pricePer: p.price_per ?? 1000,
    priceUsdCents: p.price_usd,
    tiers: (p.tiers ?? []).map((t) => ({ from: t.from, priceUsdCents: t.price_usd })),
    min: p.min,
    max: p.max,
    packages: p.packages,
    delivery: p.delivery,
    creditUsdCents: p.credit_usd ?? null,
  }));
  const promos = (file.promos ?? []).map(normalizePromo);
  // The normalized shape has its own schema: a mismatch here is a bug, not the owner's mistake.
  return ShopCatalog.parse({ products, promos, starsPerUsd });
}

/** Reads a catalog from its text. Never throws for the owner's mistakes: they come back as one line. */
export function parseCatalog(text: string, format: CatalogFormat, options: { starsPerUsd: number }): CatalogResult {
  let raw: unknown;
  try {
    raw = format === "json" ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    const first = ((error instanceof Error ? error.message : String(error)).split("\n")[0] ?? "").replace(/:$/, "");
    return { ok: false, error: `is not valid ${format === "json" ? "JSON" : "YAML"}: ${first}` };
  }
  const parsed = CatalogFile.safeParse(raw);
  if (!parsed.success) {
    const [issue] = parsed.error.issues;
    return { ok: false, error: issue ? describeIssue(raw, issue) : "is invalid" };
  }
  return { ok: true, shop: normalize(parsed.data, options.starsPerUsd) };
}

/** Reads and checks the catalog file at `path` (format by extension). */
export function readCatalogFile(path: string, options: { starsPerUsd: number }): CatalogResult {
  const format = catalogFormatOf(path);
  if (format === null) return { ok: false, error: `must name a .yaml, .yml or .json file, got "${path}"` };
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return { ok: false, error: `cannot read "${path}" (${code === "ENOENT" ? "no such file" : (code ?? "unreadable")}): check the path` };
  }
  return parseCatalog(text, format, options);
}
