/**
 * Issue 21 through the whole engine, with a catalog of two products (test/fixtures/catalog-two-products.yaml):
 * choosing a product, what a quote is made of, promo codes counted once when paid (reserved at Confirm,
 * given back when an order closes unpaid), the owner's numbers in the order summary, and a lost code
 * reissued from /orders at most three times.
 */
import { afterEach, describe, expect, test } from "vitest";
import type { ButtonAction } from "../../src/domain/buttons.ts";
import { ChatId } from "../../src/domain/ids.ts";
import type { EngineReply } from "../../src/engine/reply.ts";
import type { RenderedMessage } from "../../src/render/messages.ts";
import { payUrlOf, startTestApp } from "../support/app.ts";

const CATALOG_FILE = "test/fixtures/catalog-two-products.yaml";
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function shop(env: Record<string, string> = {}) {
  const started = await startTestApp({ CATALOG_FILE, ...env });
  cleanups.push(() => started.app.close());
  const { engine, renderer } = started.app;
  const shown = (reply: EngineReply, language = "en") => ({ reply, ...renderer.render(reply, language) });
  return {
    ...started,
    say: async (chatId: string, text: string, language = "en") => shown(await engine.handleText(chatId, text), language),
    press: async (chatId: string, button: ButtonAction, language = "en") => shown(await engine.handleButton(chatId, button), language),
    command: async (chatId: string, command: Parameters<typeof engine.handleCommand>[1], language = "en") =>
      shown(await engine.handleCommand(chatId, command), language),
  };
}

const stageOf = (reply: EngineReply) =>
  "order" in reply && reply.order ? reply.order.stage : reply.kind === "no_order" ? reply.lastOrder?.stage : null;
const pressable = (message: Pick<RenderedMessage, "buttons">) =>
  message.buttons.flat().flatMap((b) => ("press" in b ? [{ label: b.label, press: b.press }] : []));
const orderOf = (reply: EngineReply) => {
  if (!("order" in reply) || !reply.order) throw new Error(`no order in ${JSON.stringify(reply)}`);
  return reply.order;
};

describe("choosing a product", () => {
  test("the start menu offers the products; a product's button offers its packages, which quote it", async () => {
    const { press, app } = await shop();
    const welcome = app.renderer.render(await app.engine.greet("c1"));
    expect(welcome.text).toContain("• GPT tokens: $20.00 per 1,000 tokens");
    expect(welcome.text).toContain("• OpenRouter credit: $1.25 per 100 tokens (500 tokens to 100,000 tokens)");
    expect(pressable(welcome).map((b) => b.press)).toEqual([
      { action: "product", product: "gpt-tokens" },
      { action: "product", product: "or-credit" },
    ]);
    const chosen = await press("c1", { action: "product", product: "or-credit" });
    expect(stageOf(chosen.reply)).toBe("initial");
    expect(chosen.text).toContain("500 tokens to 100,000 tokens");
    expect(pressable(chosen).map((b) => b.press)).toEqual([
      { action: "package", tokens: 1000, product: "or-credit" },
      { action: "package", tokens: 2500, product: "or-credit" },
    ]);
    const quoted = await press("c1", { action: "package", tokens: 2500, product: "or-credit" });
    expect(quoted.text).toContain("2,500 tokens (OpenRouter credit) for $31.25");
    expect(quoted.text).toContain("Price: $1.25 per 100 tokens");
    expect(quoted.text).toContain("🔑 The key holds $25.00 of OpenRouter credit.");
  });

  test("an amount without a product asks which; pressing one quotes that amount of it", async () => {
    const { say, press } = await shop();
    const asked = await say("c1", "2000 tokens");
    expect(stageOf(asked.reply)).toBe("choosing_product");
    expect(asked.text).toBe("🛒 Which product are the 2,000 tokens for? Pick one below.");
    expect(pressable(asked).map((b) => b.label)).toEqual(["GPT tokens", "OpenRouter credit"]);
    const quoted = await press("c1", { action: "product", product: "gpt-tokens" });
    expect(quoted.text).toMatch(/^🧾 2,000 tokens \(GPT tokens\) for \$40\.00/);
    // Asked in Russian, the same question and products in Russian.
    const ru = await say("c2", "2000 токенов", "ru");
    expect(ru.text.replace(/\u00a0/g, " ")).toBe("🛒 Для какого товара 2 000 токенов? Выберите ниже.");
    expect(pressable(ru).map((b) => b.label)).toEqual(["GPT-токены", "Кредит OpenRouter"]);
  });

  test("an amount one product does not sell is refused with that product's limits", async () => {
    const { say, press } = await shop();
    await say("c1", "200 tokens");
    const refused = await press("c1", { action: "product", product: "or-credit" });
    expect(refused.reply).toMatchObject({ kind: "refused", reason: "amount_out_of_range", tokens: 200, product: "or-credit" });
    expect(refused.text).toContain("200 tokens (OpenRouter credit) is outside what I can sell: orders are 500 tokens to 100,000 tokens.");
    expect(stageOf((await press("c1", { action: "product", product: "gpt-tokens" })).reply)).toBe("quoted");
  });

  test("a volume price says which tier priced the order", async () => {
    const { press } = await shop();
    const quoted = await press("c1", { action: "package", tokens: 10000, product: "gpt-tokens" });
    expect(quoted.text).toContain("10,000 tokens (GPT tokens) for $180.00");
    expect(quoted.text).toContain("Price: $18.00 per 1,000 tokens (volume price from 10,000 tokens)");
  });
});

describe("promo codes", () => {
  test("a code given before any amount prices the next quote, which shows the discount", async () => {
    const { command, press } = await shop();
    const applied = await command("c1", { type: "APPLY_PROMO", code: "spring10" });
    expect(applied.text).toContain("🏷 Promo code SPRING10 applied: 10% off your order.");
    const quoted = await press("c1", { action: "package", tokens: 1000, product: "or-credit" });
    expect(quoted.text).toContain("1,000 tokens (OpenRouter credit) for $11.25");
    expect(quoted.text).toContain("🏷 Promo code SPRING10: −$1.25 (was $12.50)");
    expect(quoted.text).toContain("The key holds $10.00 of OpenRouter credit.");
  });

  test("unknown, expired and wrong-product codes are refused, in both languages; the quote stands", async () => {
    const { command, press } = await shop();
    await press("c1", { action: "package", tokens: 1000, product: "or-credit" });
    const cases = [
      ["NOPE", "I don't know that promo code.", "Такого промокода нет."],
      ["old", "That promo code has expired", "Срок действия этого промокода истёк"],
      ["WELCOME5", "That promo code is not valid for this product", "Этот промокод не действует для этого товара"],
    ] as const;
    for (const [code, en, ru] of cases) {
      const refused = await command("c1", { type: "APPLY_PROMO", code });
      expect(refused.text).toContain(en);
      expect(refused.text).toContain("1,000 tokens (OpenRouter credit) for $12.50");
      expect((await command("c1", { type: "STATUS" }, "ru")).text).toContain(ru);
    }
  });

  test("a code's use is reserved at Confirm, so the last use goes to one order; cancelling gives it back", async () => {
    const { command, press } = await shop();
    for (const chat of ["c1", "c2"]) {
      await command(chat, { type: "APPLY_PROMO", code: "SPRING10" });
      await press(chat, { action: "package", tokens: 1000, product: "gpt-tokens" });
    }
    const first = await command("c1", { type: "CONFIRM" });
    expect(stageOf(first.reply)).toBe("awaiting_payment");
    expect(orderOf(first.reply).usd).toEqual({ minor: 1_800, currency: "USD" });
    // The second order was quoted with the code; at Confirm it is used up: priced again without it, not invoiced.
    const second = await command("c2", { type: "CONFIRM" });
    expect(stageOf(second.reply)).toBe("quoted");
    expect(orderOf(second.reply)).toMatchObject({
      usd: { minor: 2_000 },
      promoCode: null,
      promoRefusal: "used_up",
      problem: "promo_refused",
    });
    expect(second.text).toContain("That promo code has been used up, so it was not applied.");
    // The first customer cancels: the use comes back, and the next order may take it.
    await command("c1", { type: "CANCEL" });
    const again = await command("c2", { type: "APPLY_PROMO", code: "SPRING10" });
    expect(orderOf(again.reply)).toMatchObject({ usd: { minor: 1_800 }, promoCode: "SPRING10" });
    expect(stageOf((await command("c2", { type: "CONFIRM" })).reply)).toBe("awaiting_payment");
  });

  test("a once-per-customer code is refused to the customer's next order once paid with, and a paid order keeps its use", async () => {
    const { command, press, pay, app } = await shop();
    await command("c1", { type: "APPLY_PROMO", code: "WELCOME5" });
    await press("c1", { action: "package", tokens: 1000, product: "gpt-tokens" });
    const invoice = await command("c1", { type: "CONFIRM" });
    await pay(payUrlOf(invoice.reply));
    const paid = await app.engine.order(orderOf(invoice.reply).orderId);
    expect(paid?.summary).toMatchObject({
      promoCode: "WELCOME5",
      discount: { minor: 500, currency: "USD" },
      usd: { minor: 1_500 },
      tier: null,
      credit: null,
      margin: null,
    });
    expect(paid?.summary.tags).toContain("delivered");
    const next = await command("c1", { type: "APPLY_PROMO", code: "welcome5" });
    expect(next.text).toContain("You have already used that promo code");
    expect((await command("c2", { type: "APPLY_PROMO", code: "welcome5" })).reply).toMatchObject({
      kind: "order",
      order: { promoCode: "WELCOME5" },
    });
  });

  test("the summary of an OpenRouter order carries its credit and margin, and its tier", async () => {
    const { press, command, app } = await shop();
    await press("c1", { action: "package", tokens: 2500, product: "or-credit" });
    const invoice = await command("c1", { type: "CONFIRM" });
    const order = await app.engine.order(orderOf(invoice.reply).orderId);
    expect(order?.summary).toMatchObject({
      productId: "or-credit",
      promoCode: null,
      discount: null,
      tier: null,
      credit: { minor: 2_500 },
      margin: { minor: 625, currency: "USD" },
    });
    await press("c2", { action: "package", tokens: 10000, product: "gpt-tokens" });
    const tiered = await app.engine.order(orderOf(await app.engine.handleCommand("c2", { type: "CONFIRM" })).orderId);
    expect(tiered?.summary).toMatchObject({ tier: 10_000, usd: { minor: 18_000 } });
  });
});

describe("a lost code reissued from /orders", () => {
  test("a delivered order offers '🔑 Reissue'; pressing it shows a new code once, up to three times, then the owner helps", async () => {
    const { press, command, pay, app, notifications } = await shop();
    await press("c1", { action: "package", tokens: 1000, product: "gpt-tokens" });
    const invoice = await command("c1", { type: "CONFIRM" });
    await pay(payUrlOf(invoice.reply));
    const orderId = orderOf(invoice.reply).orderId;
    const delivered = notifications.find((n) => n.reply.kind === "order" && n.reply.secret);
    const firstCode = delivered?.reply.kind === "order" ? delivered.reply.secret : undefined;
    expect(app.renderer.render(delivered!.reply).text).toContain("🎟 To use it, send the code to the shop owner");
    await app.engine.secretShown(orderId, "c1");

    const codes = new Set([firstCode]);
    for (let n = 1; n <= 3; n++) {
      const list = await command("c1", { type: "ORDERS" });
      const reissue = pressable(list).find((b) => b.press.action === "reissue");
      expect(reissue?.label).toMatch(/^🔑 Reissue …/);
      const again = await press("c1", reissue!.press);
      expect(again.reply).toMatchObject({ kind: "order", order: { reissues: n }, secret: expect.stringMatching(/^TG-/) });
      expect(again.text).toContain("🔑 This replaces your earlier key or code, which no longer works.");
      codes.add(again.reply.kind === "order" ? again.reply.secret : undefined);
      await app.engine.secretShown(orderId, "c1");
    }
    expect(codes.size).toBe(4);
    expect((await app.store.goods(orderId, ChatId.parse("c1")))?.revoked).toHaveLength(3);
    const list = await command("c1", { type: "ORDERS" });
    expect(pressable(list).some((b) => b.press.action === "reissue")).toBe(false);
    const refused = await command("c1", { type: "REISSUE" });
    expect(refused.reply).toMatchObject({ kind: "refused", reason: "reissue_limit" });
    expect(refused.text).toContain("Please contact the shop owner");
    expect((await command("c9", { type: "REISSUE" }, "ru")).text).toContain("Нет доставленного заказа");
  });
});
