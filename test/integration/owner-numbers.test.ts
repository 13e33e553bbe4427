/**
 * Issue 21, "numbers for the owner", through the real engine with the two-product catalog
 * (test/fixtures/catalog-two-products.yaml): purchases at the product's own price, at a volume tier
 * and with a promo code, one refunded and one never paid, then what `npm run report`'s "By product",
 * the admin's `/stats` and the dashboard's front page say of them, in exact cents.
 */
import { afterEach, describe, expect, test } from "vitest";
import { formatSalesByProduct, salesByProduct } from "../../src/analytics/sales.ts";
import type { ButtonAction } from "../../src/domain/buttons.ts";
import type { EngineReply } from "../../src/engine/reply.ts";
import { statsMessage } from "../../src/telegram/admin.ts";
import { payUrlOf, startTestApp } from "../support/app.ts";
import { ADMIN_TOKEN, switchableDelivery } from "../support/dashboard-shop.ts";

const CATALOG_FILE = "test/fixtures/catalog-two-products.yaml";
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function shop() {
  const delivery = switchableDelivery();
  const started = await startTestApp({ CATALOG_FILE, ADMIN_TOKEN, DELIVERY_MAX_ATTEMPTS: "1" }, { delivery });
  cleanups.push(() => started.app.close());
  const { app, pay } = started;
  const orderIdOf = (reply: EngineReply) => {
    if (reply.kind !== "order") throw new Error(`no order in ${JSON.stringify(reply)}`);
    return reply.order.orderId;
  };
  /** A customer presses a package of a product (after a promo code, if given), confirms, and pays unless told not to. */
  const buy = async (chatId: string, product: string, tokens: number, options: { promo?: string; pay?: boolean } = {}) => {
    if (options.promo) await app.engine.handleCommand(chatId, { type: "APPLY_PROMO", code: options.promo });
    const press: ButtonAction = { action: "package", tokens, product };
    orderIdOf(await app.engine.handleButton(chatId, press));
    const invoice = await app.engine.handleCommand(chatId, { type: "CONFIRM" });
    if (options.pay !== false) await pay(payUrlOf(invoice));
    return orderIdOf(invoice);
  };
  const front = async () => {
    const page = await app.http.dispatch({
      method: "GET",
      path: "/admin",
      query: new URLSearchParams(),
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      rawBody: Buffer.alloc(0),
    });
    expect(page.status).toBe(200);
    return String(page.body);
  };
  return { app, delivery, buy, front };
}

/** One table row of the front page's "By product" card, its cells' text in order. */
function cardRow(html: string, attribute: string): string[] {
  const card = /<section class="card wide" id="by-product">([\s\S]*?)<\/section>/.exec(html)?.[1] ?? "";
  const row = new RegExp(`<tr ${attribute}>([\\s\\S]*?)</tr>`).exec(card)?.[1];
  if (row === undefined) throw new Error(`no row ${attribute} in the By product card: ${card}`);
  return [...row.matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((m) => m[1]!.replace(/<[^>]+>/g, ""));
}

describe("the owner's numbers by product, tier and promo code", () => {
  test("report, /stats and the dashboard show revenue, credit given and margin per product, its tiers and the promo codes' uses", async () => {
    const { app, delivery, buy, front } = await shop();
    // Vouchers: one at the product's own price ($20.00), one at the volume tier from 10,000 ($180.00).
    await buy("c1", "gpt-tokens", 1000);
    await buy("c2", "gpt-tokens", 10_000);
    // OpenRouter credit: $31.25 for $25.00 of credit, and with SPRING10 $11.25 (−$1.25) for $10.00 of credit.
    await buy("c3", "or-credit", 2500);
    await buy("c4", "or-credit", 1000, { promo: "SPRING10" });
    // Paid, delivery failed, money returned through the provider: counted apart, not as a sale.
    delivery.failing.on = true;
    const refunded = await buy("c5", "or-credit", 1000);
    delivery.failing.on = false;
    expect(await app.engine.admin.refund(refunded, { manual: false, by: "test" })).toMatchObject({ ok: true });
    // Invoiced, never paid.
    await buy("c6", "or-credit", 2500, { pay: false });

    await app.projection.refresh();
    const sales = salesByProduct(app.projection.state().orders.values());
    expect(sales.products.map((p) => [p.productId, p.sales, p.revenueUsdMinor, p.creditUsdMinor, p.marginUsdMinor, p.refunds])).toEqual([
      ["gpt-tokens", 2, 20_000, 0, 0, 0],
      ["or-credit", 2, 4_250, 3_500, 750, 1],
    ]);
    expect(sales.products[0]?.tiers.map((t) => [t.tier, t.sales, t.revenueUsdMinor])).toEqual([
      [null, 1, 2_000],
      [10_000, 1, 18_000],
    ]);
    expect(sales.promos).toEqual([{ code: "SPRING10", uses: 1, discountUsdMinor: 125 }]);

    // npm run report prints this table after the funnel.
    const report = formatSalesByProduct(sales).split("\n");
    expect(report).toContainEqual(expect.stringMatching(/^gpt-tokens\s+2\s+11,000\s+\$200\.00\s+—\s+—\s+-$/));
    expect(report).toContainEqual(expect.stringMatching(/^ {2}from 10,000\s+1\s+10,000\s+\$180\.00\s+—\s+—$/));
    expect(report).toContainEqual(expect.stringMatching(/^or-credit\s+2\s+3,500\s+\$42\.50\s+\$35\.00\s+\$7\.50\s+1 \(\$12\.50\)$/));
    expect(report).toContainEqual(expect.stringMatching(/^total\s+4\s+14,500\s+\$242\.50\s+\$35\.00\s+\$7\.50\s+1 \(\$12\.50\)$/));
    expect(report).toContainEqual(expect.stringMatching(/^SPRING10\s+1\s+\$1\.25$/));

    // /stats: the funnel, then a line per product and the promo codes.
    const stats = statsMessage(app.projection.state());
    expect(stats).toMatch(/^<pre>[\s\S]*total[\s\S]*<\/pre>\n/);
    expect(stats).toContain("gpt-tokens: 2 sales, $200.00, credit —, margin —");
    expect(stats).toContain("or-credit: 2 sales, $42.50, credit $35.00, margin $7.50, 1 refunded ($12.50)");
    expect(stats).toContain("Promo codes: SPRING10 ×1 (−$1.25)");

    // The dashboard's front page: the By product card, with the tier split and the promo codes.
    const html = await front();
    expect(cardRow(html, 'data-product="gpt-tokens"')).toEqual(["gpt-tokens", "2", "$200.00", "—", "—", ""]);
    expect(cardRow(html, 'data-product="or-credit"')).toEqual(["or-credit", "2", "$42.50", "$35.00", "$7.50", "1 ($12.50)"]);
    expect(html).toMatch(
      /<tr class="tier"><td class="muted">&nbsp;&nbsp;from 10,000<\/td><td class="num">1<\/td><td class="num">\$180\.00<\/td>/,
    );
    expect(cardRow(html, 'data-promo="SPRING10"')).toEqual(["SPRING10", "1", "$1.25"]);
  });
});
