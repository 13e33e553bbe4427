/**
 * The owner's dashboard in a real browser (issues 15, 22): headless Chromium (Debian's `chromium`,
 * found on PATH or at CHROMIUM_PATH) driven by playwright-core. The owner logs in, sees today's sale
 * and what needs them on the front page, opens the order with both sides of its conversation and its
 * timeline, retries a failed delivery; no page scrolls sideways at 1,280 px or at 390 px. The test
 * keeps screenshots in test-artifacts/ (gitignored; CI can upload the folder).
 */
import { accessSync, constants, mkdirSync } from "node:fs";
import { delimiter, join } from "node:path";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PURCHASE_GRAPH } from "../../src/dashboard/diagram.ts";
import { ADMIN_TOKEN, type Shop, openShop } from "../support/dashboard-shop.ts";

const ARTIFACTS = join(process.cwd(), "test-artifacts");

function findChromium(): string | null {
  const candidates = process.env.CHROMIUM_PATH
    ? [process.env.CHROMIUM_PATH]
    : (process.env.PATH ?? "").split(delimiter).flatMap((dir) => [join(dir, "chromium"), join(dir, "chromium-browser")]);
  for (const file of candidates) {
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return null;
}

const executablePath = findChromium();
if (!executablePath && process.env.CI) {
  describe("dashboard in a browser", () => {
    it("has Chromium (required in CI)", () => {
      throw new Error("no chromium on PATH in CI: .ci/run installs Debian's chromium, or set CHROMIUM_PATH");
    });
  });
} else if (!executablePath)
  console.warn("dashboard browser test SKIPPED: no chromium on PATH (apt-get install chromium, or set CHROMIUM_PATH)");

describe.skipIf(!executablePath)("dashboard in a browser", () => {
  let shop: Shop;
  let browser: Browser;
  let base: string;
  let failedOrder: string;
  let sale: string;

  beforeAll(async () => {
    shop = await openShop({ HTTP_PORT: "0" }, { listen: true });
    await shop.seedHistory();
    failedOrder = await shop.failedDelivery();
    await shop.app.engine.handleText("4343", "can you walk my dog on tuesday", {
      profile: { username: "walker", firstName: "Dog Walker With A Very Long Name Indeed" },
    });
    // A customer of the first day comes back and buys again.
    await shop.app.engine.handleText("7000", "hello again", { profile: { username: "ada_l", firstName: "Ada" } });
    await shop.purchase("7000", 1000, "button", "paid");
    await shop.app.start();
    base = `http://127.0.0.1:${shop.app.port}`;
    // The sale the owner has just made in the console, a minute after the failed one.
    shop.clock.advance(60_000);
    sale = await shop.purchase("4242", 5000, "llm", "paid");
    browser = await chromium.launch({
      executablePath: executablePath!,
      headless: true,
      // Chromium's sandbox needs user namespaces a root CI container does not have.
      args: process.getuid?.() === 0 ? ["--no-sandbox"] : [],
    });
    mkdirSync(ARTIFACTS, { recursive: true });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await shop?.app.close();
  });

  it("logs in, sees the sale, opens its timeline, retries a failed delivery", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${base}/admin`);
    expect(new URL(page.url()).pathname).toBe("/admin/login");
    await page.fill("#token", "not the token");
    await page.click("button");
    await expect(page.textContent("[role=alert]")).resolves.toContain("not the admin token");
    await page.fill("#token", ADMIN_TOKEN);
    await page.click("button");
    expect(new URL(page.url()).pathname).toBe("/admin");

    // The front page: today's sale is in, and the failed delivery needs the owner.
    await expect(page.textContent("h1")).resolves.toMatch(/^Today/);
    // The failed delivery was paid for too: $40 + $20 (the returning customer) + $100.
    await expect(page.textContent(".kpis")).resolves.toContain("$160.00");
    await expect(page.textContent("#needs")).resolves.toContain(failedOrder);
    // By product, all time: the seeded week's paid orders and today's, of the built-in product (a voucher: no credit, no margin).
    await expect(page.textContent("#by-product")).resolves.toContain("tokens17$920.00——");
    await expect(page.textContent("#customers")).resolves.toContain("@walker");
    await expect(page.textContent("#customers")).resolves.toMatch(/1 repeat buyers brought \d/);
    await expect(page.textContent("#not-understood")).resolves.toContain("can you walk my dog on tuesday");
    await page.screenshot({ path: join(ARTIFACTS, "dashboard-front.png"), fullPage: true });
    // The README's picture: DASHBOARD_DOCS_SCREENSHOT=1 npx vitest run test/e2e/dashboard.test.ts
    if (process.env.DASHBOARD_DOCS_SCREENSHOT) {
      await page.setViewportSize({ width: 980, height: 900 });
      await page.screenshot({ path: join(process.cwd(), "docs", "dashboard.png"), fullPage: true });
      await page.setViewportSize({ width: 1280, height: 900 });
    }

    // The funnel by source is one click away.
    await page.click("text=By how the amount was set");
    await expect(page.textContent("h1")).resolves.toBe("Funnel");
    // One box per stage of the purchase machine: the picture is drawn from the machine itself.
    await expect(page.locator(".diagram .state").count()).resolves.toBe(PURCHASE_GRAPH.states.length);

    // The orders table, newest first: the sale just made is on top; its page shows the conversation and timeline.
    await page.click("nav >> text=Orders");
    await expect(page.textContent("table tr:nth-child(2) td:first-child")).resolves.toBe(sale);
    await page.click(`a:text("${sale}")`);
    await expect(page.textContent("h1")).resolves.toContain(sale);
    const talk = await page.textContent("#conversation");
    expect(talk).toContain("zorp delta");
    expect(talk).toContain("5,000 tokens for $100.00");
    const timeline = await page.textContent(".timeline");
    expect(timeline).toContain("initial → quoted");
    // The payment is recorded (paid) before the goods go out (delivered): two steps on the timeline.
    expect(timeline).toContain("awaiting_payment.waiting → paid.recorded");
    expect(timeline).toMatch(/paid\.recorded → delivered/);
    expect(timeline).toContain("llm");
    await expect(page.locator(".diagram .edge-path").count()).resolves.toBeGreaterThan(3);
    await page.screenshot({ path: join(ARTIFACTS, "dashboard-order.png"), fullPage: true });

    // Retry the failed delivery from the front page; the order page says it is delivered now.
    await page.click("nav >> text=Today");
    await page.click(`#needs form[action="/admin/orders/${failedOrder}/retry"] button`);
    await expect(page.textContent("[role=status]")).resolves.toContain(`Order ${failedOrder} is now delivered.`);
    expect((await shop.app.engine.orderView(failedOrder))?.stage).toBe("delivered");
    await expect(page.textContent(".timeline")).resolves.toContain("retry delivery");
    await page.screenshot({ path: join(ARTIFACTS, "dashboard-retried.png"), fullPage: true });

    // A promo code added with the form is listed, and a customer can use it at once.
    await page.click("nav >> text=Promo codes");
    await page.fill("input[name=code]", "BROWSER7");
    await page.selectOption("select[name=kind]", "percent");
    await page.fill("input[name=amount]", "7");
    await page.fill("input[name=max_uses]", "3");
    await page.click("text=Add code");
    await expect(page.textContent("[role=status]")).resolves.toContain("BROWSER7 added");
    await expect(page.textContent("table")).resolves.toContain("7% off");
    await shop.app.engine.handleText("4545", "I need 1000 tokens");
    const discounted = await shop.app.engine.handleText("4545", "promo BROWSER7");
    expect(discounted.kind === "order" ? discounted.order.usd?.minor : null).toBe(2_000 - 140);

    // On a desktop and on a phone every page reads without scrolling the page itself sideways.
    const pages = [
      "/admin",
      "/admin/funnel",
      "/admin/orders",
      "/admin/promos",
      `/admin/orders/${sale}`,
      `/admin/orders/${failedOrder}`,
      "/admin/chats/4343",
    ];
    for (const width of [1280, 390]) {
      await page.setViewportSize({ width, height: 844 });
      for (const path of pages) {
        await page.goto(`${base}${path}`);
        // Evaluated in the page, where `document` exists (this project compiles without the DOM types).
        const overflow = await page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth");
        expect(overflow, `${path} at ${width} px`).toBeLessThanOrEqual(0);
      }
    }
    await page.goto(`${base}/admin`);
    await page.screenshot({ path: join(ARTIFACTS, "dashboard-phone.png"), fullPage: true });
    await page.close();
  }, 60_000);
});
