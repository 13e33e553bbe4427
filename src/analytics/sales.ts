/**
 * What the shop sold, by product, by volume tier and by promo code (issue 21, "numbers for the
 * owner"), summed from the read model's order rows: the one set of sums `npm run report`, `/stats`
 * and the dashboard's front page show.
 *
 * A sale is an order that was paid and whose money was not given back. Refunded orders are left out
 * of the sums and counted beside them at list price, as the funnel page shows refunds beside its
 * revenue (which counts every paid order): revenue here plus refunded is that revenue. An order
 * waiting for the owner to return its money by hand stays a sale until the refund is recorded.
 *
 * Credit given is the OpenRouter credit the sales sold (each key's spending limit); margin is the
 * price minus that credit, what the owner keeps of a key's price (negative when a promo sold below
 * cost). Vouchers have no credit and no margin the shop can know (what a voucher costs the owner is
 * outside it), so their lines show none rather than a made-up number. All sums are integer US cents.
 */
import { formatMoney, groupThousands } from "../domain/money.ts";
import { type OrderRow, usdCents } from "./read-model.ts";

/** Sums over a set of sales, in US cents. */
export type SalesSums = {
  sales: number;
  /** Units (tokens) sold. */
  tokens: number;
  revenueUsdMinor: number;
  /** OpenRouter credit sold, over the sales that carried any ({@link SalesSums.keySales}). */
  creditUsdMinor: number;
  /** Price minus credit over those same sales; signed. */
  marginUsdMinor: number;
  /** Sales that sold OpenRouter credit (0: vouchers only, so credit and margin mean nothing). */
  keySales: number;
};

/** One volume tier of a product: `tier` is its `from` threshold, null at the product's own price. */
export type TierSales = SalesSums & { tier: number | null };

/** One product's sales, its tiers (own price first, then by threshold), and its refunds. */
export type ProductSales = SalesSums & {
  productId: string;
  tiers: TierSales[];
  /** Paid orders whose money went back to the customer, and their list price. */
  refunds: number;
  refundedUsdMinor: number;
};

/** One promo code's sales (the owner's spelling) and what it took off their prices. */
export type PromoUses = { code: string; uses: number; discountUsdMinor: number };

export type SalesByProduct = {
  /** Products with a sale or a refund, most revenue first. */
  products: ProductSales[];
  /** Codes used by a sale, most used first. */
  promos: PromoUses[];
  total: SalesSums & { refunds: number; refundedUsdMinor: number };
};

const emptySums = (): SalesSums => ({ sales: 0, tokens: 0, revenueUsdMinor: 0, creditUsdMinor: 0, marginUsdMinor: 0, keySales: 0 });

function addSale(sums: SalesSums, summary: OrderRow["summary"]): void {
  sums.sales++;
  sums.tokens += summary.tokens ?? 0;
  sums.revenueUsdMinor += usdCents(summary.usd);
  // An order summed before catalogs (no credit field) or a voucher adds to neither credit nor margin.
  if (summary.credit && summary.margin) {
    sums.keySales++;
    sums.creditUsdMinor += usdCents(summary.credit);
    sums.marginUsdMinor += summary.margin.minor;
  }
}

/**
 * Sums the paid orders among `orders` by product, tier and promo code (see the module's comment for
 * what counts). `since`: only orders paid at or after it.
 */
export function salesByProduct(orders: Iterable<OrderRow>, options: { since?: number } = {}): SalesByProduct {
  const products = new Map<string, ProductSales & { byTier: Map<number | null, TierSales> }>();
  const promos = new Map<string, PromoUses>();
  const total: SalesByProduct["total"] = { ...emptySums(), refunds: 0, refundedUsdMinor: 0 };
  for (const row of orders) {
    const s = row.summary;
    if (!row.paid || (options.since !== undefined && (s.paidAt ?? row.updatedAt) < options.since)) continue;
    let product = products.get(s.productId);
    if (!product) {
      product = { productId: s.productId, ...emptySums(), tiers: [], refunds: 0, refundedUsdMinor: 0, byTier: new Map() };
      products.set(s.productId, product);
    }
    if (row.refundedAt !== null) {
      product.refunds++;
      product.refundedUsdMinor += usdCents(s.usd);
      total.refunds++;
      total.refundedUsdMinor += usdCents(s.usd);
      continue;
    }
    const tierKey = s.tier ?? null;
    let tier = product.byTier.get(tierKey);
    if (!tier) product.byTier.set(tierKey, (tier = { tier: tierKey, ...emptySums() }));
    for (const sums of [product, tier, total]) addSale(sums, s);
    if (s.promoCode) {
      let promo = promos.get(s.promoCode);
      if (!promo) promos.set(s.promoCode, (promo = { code: s.promoCode, uses: 0, discountUsdMinor: 0 }));
      promo.uses++;
      promo.discountUsdMinor += usdCents(s.discount ?? null);
    }
  }
  return {
    products: [...products.values()]
      .sort((a, b) => b.revenueUsdMinor - a.revenueUsdMinor || a.productId.localeCompare(b.productId))
      .map(({ byTier, ...product }) => ({
        ...product,
        tiers: [...byTier.values()].sort((a, b) => (a.tier ?? 0) - (b.tier ?? 0)),
      })),
    promos: [...promos.values()].sort((a, b) => b.uses - a.uses || a.code.localeCompare(b.code)),
    total,
  };
}

/** US cents as "$12.50", a negative amount as "−$1.25". */
export function usdText(minor: number): string {
  const text = formatMoney({ minor: Math.abs(minor), currency: "USD" });
  return minor < 0 ? `−${text}` : text;
}

/** Credit given and margin of some sales, or "—" for both when none sold OpenRouter credit. */
export function keyNumbers(sums: SalesSums): { credit: string; margin: string } {
  return sums.keySales === 0
    ? { credit: "—", margin: "—" }
    : { credit: usdText(sums.creditUsdMinor), margin: usdText(sums.marginUsdMinor) };
}

/** How a tier is named for people: "own price" or "from 10,000". */
export const tierLabel = (tier: number | null): string => (tier === null ? "own price" : `from ${groupThousands(String(tier))}`);

/** True when a product sold at more than its own price (a tier line says something). */
export const hasTiers = (product: ProductSales): boolean => product.tiers.some((t) => t.tier !== null);

/** A plain-text table (monospace) of sales by product and tier, then promo codes: `npm run report`'s "By product". */
export function formatSalesByProduct(sales: SalesByProduct): string {
  const header = ["product", "sales", "tokens", "revenue", "credit given", "margin", "refunded"];
  const line = (name: string, sums: SalesSums, refunded: string) => {
    const { credit, margin } = keyNumbers(sums);
    return [name, String(sums.sales), groupThousands(String(sums.tokens)), usdText(sums.revenueUsdMinor), credit, margin, refunded];
  };
  const refunded = (n: number, minor: number) => (n === 0 ? "-" : `${n} (${usdText(minor)})`);
  const body: string[][] = [];
  for (const product of sales.products) {
    body.push(line(product.productId, product, refunded(product.refunds, product.refundedUsdMinor)));
    if (hasTiers(product)) for (const tier of product.tiers) body.push(line(`  ${tierLabel(tier.tier)}`, tier, ""));
  }
  body.push(line("total", sales.total, refunded(sales.total.refunds, sales.total.refundedUsdMinor)));
  const out = ["By product", ...table(header, body)];
  if (sales.promos.length > 0) {
    out.push(
      "",
      "Promo codes",
      ...table(
        ["code", "uses", "discount given"],
        sales.promos.map((p) => [p.code, String(p.uses), usdText(p.discountUsdMinor)]),
      ),
    );
  } else out.push("", "Promo codes: none used.");
  out.push(
    "",
    "Sales are paid orders not refunded (refunded ones are counted apart, at list price). Revenue is the list price paid, after promo discounts.",
    "Credit given is the OpenRouter credit sold (the keys' limits); margin = price − credit. Vouchers have no credit: — for both.",
  );
  return out.join("\n");
}

/** At most this many products and promo codes on `/stats` (a Telegram message holds 4,096 characters). */
const SHORT_LINES = 10;

/** A few short lines for Telegram's `/stats`: each product's sales, revenue, credit and margin, then promo uses. */
export function formatSalesShort(sales: SalesByProduct): string {
  if (sales.products.length === 0) return "By product: no sales yet.";
  const more = (n: number) => (n > SHORT_LINES ? [`… and ${n - SHORT_LINES} more: npm run report or the dashboard lists them all.`] : []);
  const lines = sales.products.slice(0, SHORT_LINES).map((p) => {
    const { credit, margin } = keyNumbers(p);
    const refunds = p.refunds === 0 ? "" : `, ${p.refunds} refunded (${usdText(p.refundedUsdMinor)})`;
    return `${p.productId}: ${p.sales} sale${p.sales === 1 ? "" : "s"}, ${usdText(p.revenueUsdMinor)}, credit ${credit}, margin ${margin}${refunds}`;
  });
  const promos =
    sales.promos.length === 0
      ? "Promo codes: none used."
      : `Promo codes: ${sales.promos
          .slice(0, SHORT_LINES)
          .map((p) => `${p.code} ×${p.uses} (−${usdText(p.discountUsdMinor)})`)
          .join(", ")}`;
  return ["By product (paid, not refunded):", ...lines, ...more(sales.products.length), promos, ...more(sales.promos.length)].join("\n");
}

/** Rows under a header, first column left, the others right, with a rule under the header. */
function table(header: string[], body: string[][]): string[] {
  const rows = [header, ...body];
  const widths = header.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...body.map(line)];
}
