/**
 * Sales by product, tier and promo code (issue 21, "numbers for the owner"), summed from the read
 * model fed audit entries as the engine writes them (`toAuditEntry` of each commit's order summary).
 */
import { describe, expect, it } from "vitest";
import { decodeState, encodeState } from "../../../src/analytics/projection-codec.ts";
import { type ProjectionState, applyEntry, emptyProjection } from "../../../src/analytics/projection.ts";
import { formatSalesByProduct, formatSalesShort, salesByProduct } from "../../../src/analytics/sales.ts";
import { ChatId, OrderId } from "../../../src/domain/ids.ts";
import type { AuditEntry, OrderSummary } from "../../../src/domain/records.ts";
import { toAuditEntry } from "../../../src/engine/audit-entries.ts";
import { orderSummary } from "../../support/order-summary.ts";

const USD = (minor: number) => ({ minor, currency: "USD" as const });

/** How a quote was priced, as the engine's summary carries it. */
type Priced = {
  productId: string;
  tokens: number;
  usd: number;
  promoCode?: string;
  discount?: number;
  tier?: number;
  /** OpenRouter credit sold; absent for a voucher. */
  credit?: number;
};

function summary(state: string, tags: string[], p: Priced, extra: Partial<OrderSummary> = {}): OrderSummary {
  return orderSummary({
    state,
    tags,
    productId: p.productId,
    tokens: p.tokens,
    usd: USD(p.usd),
    charge: USD(p.usd),
    provider: "sandbox",
    promoCode: p.promoCode ?? null,
    discount: p.discount ? USD(p.discount) : null,
    tier: p.tier ?? null,
    credit: p.credit === undefined ? null : USD(p.credit),
    margin: p.credit === undefined ? null : { minor: p.usd - p.credit, currency: "USD" },
    reissues: 0,
    ...extra,
  });
}

const logged = (orderId: string, at: number, s: OrderSummary, createdAt: number): AuditEntry =>
  toAuditEntry({ type: "order", chatId: ChatId.parse(`chat-${orderId}`), orderId: OrderId.parse(orderId), summary: s, createdAt, at }, "t");

/** An order's commits: quoted, invoiced, then (unless `until` says otherwise) paid and delivered or refunded. */
function order(orderId: string, start: number, p: Priced, until: "quoted" | "delivered" | "refunded" = "delivered"): AuditEntry[] {
  const pay = { paymentId: `sandbox:${orderId}` as never };
  const entries = [
    logged(orderId, start, summary("quoted", ["open"], p), start),
    logged(orderId, start + 1, summary("awaiting_payment.waiting", ["accepts_payment", "open"], p, pay), start),
  ];
  if (until === "quoted") return entries;
  const paid = { ...pay, paidAt: start + 2 };
  entries.push(logged(orderId, start + 2, summary("paid.recorded", ["paid", "resume"], p, paid), start));
  if (until === "delivered")
    entries.push(
      logged(
        orderId,
        start + 3,
        summary("delivered.settled", ["at_rest", "delivered", "ended", "paid"], p, { ...paid, deliveredAt: start + 3 }),
        start,
      ),
    );
  else
    entries.push(
      logged(orderId, start + 3, summary("delivery_failed", ["needs_owner", "paid"], p, paid), start),
      logged(orderId, start + 4, summary("refunding", ["busy"], p, paid), start),
      logged(orderId, start + 5, summary("refunded", ["at_rest", "ended", "refunded"], p, { ...paid, refunded: USD(p.usd) }), start),
    );
  return entries;
}

function project(entries: readonly AuditEntry[]): ProjectionState {
  const state = emptyProjection();
  for (const e of entries) applyEntry(state, e);
  return state;
}

/** The two products of test/fixtures/catalog-two-products.yaml: vouchers with a volume tier, and OpenRouter credit. */
const SHOP = [
  ...order("o1", 100, { productId: "gpt-tokens", tokens: 1000, usd: 2_000 }),
  ...order("o2", 200, { productId: "gpt-tokens", tokens: 10_000, usd: 18_000, tier: 10_000 }),
  ...order("o3", 300, { productId: "gpt-tokens", tokens: 1000, usd: 1_500, promoCode: "WELCOME5", discount: 500 }),
  ...order("o4", 400, { productId: "or-credit", tokens: 2500, usd: 3_125, credit: 2_500 }),
  ...order("o5", 500, { productId: "or-credit", tokens: 1000, usd: 1_125, promoCode: "SPRING10", discount: 125, credit: 1_000 }),
  // Paid, not delivered, money returned: counted apart, never as a sale or a promo use.
  ...order("o6", 600, { productId: "or-credit", tokens: 1000, usd: 1_250, promoCode: "SPRING10", discount: 0, credit: 1_000 }, "refunded"),
  // Quoted and invoiced, never paid.
  ...order("o7", 700, { productId: "or-credit", tokens: 100_000, usd: 125_000, credit: 100_000 }, "quoted"),
];

describe("sales by product", () => {
  it("sums paid orders per product and tier: sales, tokens, revenue, credit given and margin, in exact cents", () => {
    const sales = salesByProduct(project(SHOP).orders.values());
    expect(sales.products.map((p) => p.productId)).toEqual(["gpt-tokens", "or-credit"]);
    const [vouchers, credit] = sales.products;
    expect(vouchers).toMatchObject({
      sales: 3,
      tokens: 12_000,
      revenueUsdMinor: 21_500,
      keySales: 0,
      creditUsdMinor: 0,
      marginUsdMinor: 0,
      refunds: 0,
    });
    expect(vouchers?.tiers).toEqual([
      { tier: null, sales: 2, tokens: 2000, revenueUsdMinor: 3_500, creditUsdMinor: 0, marginUsdMinor: 0, keySales: 0 },
      { tier: 10_000, sales: 1, tokens: 10_000, revenueUsdMinor: 18_000, creditUsdMinor: 0, marginUsdMinor: 0, keySales: 0 },
    ]);
    expect(credit).toMatchObject({
      sales: 2,
      tokens: 3500,
      revenueUsdMinor: 4_250,
      keySales: 2,
      creditUsdMinor: 3_500,
      marginUsdMinor: 750,
      refunds: 1,
      refundedUsdMinor: 1_250,
    });
    expect(credit?.tiers.map((t) => t.tier)).toEqual([null]);
    expect(sales.total).toEqual({
      sales: 5,
      tokens: 15_500,
      revenueUsdMinor: 25_750,
      creditUsdMinor: 3_500,
      marginUsdMinor: 750,
      keySales: 2,
      refunds: 1,
      refundedUsdMinor: 1_250,
    });
  });

  it("counts a promo code's uses and discount over sales only, not over refunded or unpaid orders", () => {
    expect(salesByProduct(project(SHOP).orders.values()).promos).toEqual([
      { code: "SPRING10", uses: 1, discountUsdMinor: 125 },
      { code: "WELCOME5", uses: 1, discountUsdMinor: 500 },
    ]);
  });

  it("sums a margin below zero when a promo sold credit below cost", () => {
    const sales = salesByProduct(
      project([
        ...order("n1", 0, { productId: "or-credit", tokens: 1000, usd: 625, promoCode: "HALF", discount: 625, credit: 1_000 }),
        ...order("n2", 10, { productId: "or-credit", tokens: 1000, usd: 1_250, credit: 1_000 }),
      ]).orders.values(),
    );
    expect(sales.products[0]).toMatchObject({ revenueUsdMinor: 1_875, creditUsdMinor: 2_000, marginUsdMinor: -125 });
    expect(formatSalesShort(sales)).toContain("or-credit: 2 sales, $18.75, credit $20.00, margin −$1.25");
  });

  it("counts only orders paid since a given time", () => {
    const sales = salesByProduct(project(SHOP).orders.values(), { since: 400 });
    expect(sales.products.map((p) => [p.productId, p.sales])).toEqual([["or-credit", 2]]);
    expect(sales.total.revenueUsdMinor).toBe(4_250);
  });

  it("reads orders summed before catalogs (no credit, tier or promo in their summaries) as plain sales", () => {
    const old = summary("delivered.settled", ["at_rest", "delivered", "ended", "paid"], { productId: "tokens", tokens: 2000, usd: 4_000 });
    for (const key of ["promoCode", "discount", "tier", "credit", "margin", "reissues"] as const) delete old[key];
    const sales = salesByProduct(project([logged("p1", 5, { ...old, paidAt: 5 }, 5)]).orders.values());
    expect(sales.products).toMatchObject([{ productId: "tokens", sales: 1, revenueUsdMinor: 4_000, keySales: 0 }]);
    expect(sales.promos).toEqual([]);
  });

  it("prints a By product table with tiers, refunds and promo codes for the report, and short lines for /stats", () => {
    const sales = salesByProduct(project(SHOP).orders.values());
    const lines = formatSalesByProduct(sales).split("\n");
    expect(lines[0]).toBe("By product");
    expect(lines).toContainEqual(expect.stringMatching(/^gpt-tokens\s+3\s+12,000\s+\$215\.00\s+—\s+—\s+-$/));
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}own price\s+2\s+2,000\s+\$35\.00\s+—\s+—$/));
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}from 10,000\s+1\s+10,000\s+\$180\.00\s+—\s+—$/));
    expect(lines).toContainEqual(expect.stringMatching(/^or-credit\s+2\s+3,500\s+\$42\.50\s+\$35\.00\s+\$7\.50\s+1 \(\$12\.50\)$/));
    expect(lines).toContainEqual(expect.stringMatching(/^total\s+5\s+15,500\s+\$257\.50\s+\$35\.00\s+\$7\.50\s+1 \(\$12\.50\)$/));
    // A product sold only at its own price has no tier lines.
    expect(lines.filter((line) => line.startsWith("  own price"))).toHaveLength(1);
    expect(lines).toContainEqual(expect.stringMatching(/^SPRING10\s+1\s+\$1\.25$/));
    expect(lines).toContainEqual(expect.stringMatching(/^WELCOME5\s+1\s+\$5\.00$/));

    expect(formatSalesShort(sales)).toBe(
      [
        "By product (paid, not refunded):",
        "gpt-tokens: 3 sales, $215.00, credit —, margin —",
        "or-credit: 2 sales, $42.50, credit $35.00, margin $7.50, 1 refunded ($12.50)",
        "Promo codes: SPRING10 ×1 (−$1.25), WELCOME5 ×1 (−$5.00)",
      ].join("\n"),
    );
    const none = salesByProduct([]);
    expect(formatSalesShort(none)).toBe("By product: no sales yet.");
    expect(formatSalesByProduct(none)).toContain("Promo codes: none used.");
  });

  it("keeps a short /stats even with many products and codes", () => {
    const many = Array.from({ length: 14 }, (_, i) =>
      order(`m${i}`, i * 10, { productId: `p-${i}`, tokens: 100, usd: 100 + i, promoCode: `CODE${i}`, discount: 1 }),
    ).flat();
    const text = formatSalesShort(salesByProduct(project(many).orders.values()));
    expect(text.split("\n")).toHaveLength(1 + 10 + 1 + 1 + 1);
    expect(text).toContain("… and 4 more: npm run report or the dashboard lists them all.");
  });
});

describe("the saved read model", () => {
  it("keeps each order's product, tier, promo code, discount, credit and margin, so the sums after a restart are the same", async () => {
    const entries = [
      ...SHOP,
      ...order("n1", 900, { productId: "or-credit", tokens: 1000, usd: 625, promoCode: "HALF", discount: 625, credit: 1_000 }),
    ];
    const state = project(entries);
    const back = decodeState(await encodeState(state))!;
    expect(back).toEqual(state);
    expect(back.orders.get("n1")?.summary).toMatchObject({
      promoCode: "HALF",
      discount: USD(625),
      credit: USD(1_000),
      margin: { minor: -375 },
    });
    expect(back.orders.get("o2")?.summary.tier).toBe(10_000);
    expect(salesByProduct(back.orders.values())).toEqual(salesByProduct(state.orders.values()));
  });

  it("is not read from the format before it kept them: the log is read again", async () => {
    const saved = JSON.parse(await encodeState(project(SHOP))) as { format: string };
    expect(decodeState(JSON.stringify({ ...saved, format: "tokengoblin-projection-5" }))).toBeNull();
  });
});
