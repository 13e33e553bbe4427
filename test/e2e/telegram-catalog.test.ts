/**
 * Issue 21, point 7: a second product without touching code. The real bot polls a local stand-in of the
 * Bot API; the app starts with a catalog of two products (test/fixtures/catalog-two-products.yaml:
 * vouchers, and OpenRouter credit sold as real keys from the OpenRouter stand-in) and customers buy each
 * by text and by buttons, in English and in Russian. Products are chosen with their buttons; amounts,
 * "yes"/«да», /promo and /orders are typed.
 */
import { afterEach, describe, expect, it } from "vitest";
import { type App, createApp } from "../../src/app.ts";
import { loadConfig } from "../../src/config.ts";
import { silentLogger } from "../../src/log.ts";
import { startTelegram } from "../../src/telegram/index.ts";
import { type BotApiStub, type BotMessage, buttonsOf, startBotApiStub } from "../support/bot-api-stub.ts";
import { latinWords } from "../support/english.ts";
import { type OpenRouterStub, startOpenRouterStub } from "../support/openrouter-stub.ts";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

type Shop = { api: BotApiStub; app: App; openRouter: OpenRouterStub };

async function openShop(): Promise<Shop> {
  const api = await startBotApiStub();
  cleanups.push(() => api.close());
  const openRouter = await startOpenRouterStub();
  cleanups.push(() => openRouter.close());
  const config = loadConfig({
    STORE_URL: "memory://",
    PUBLIC_URL: "https://shop.example",
    TELEGRAM_BOT_TOKEN: api.token,
    TELEGRAM_API_ROOT: api.url,
    CATALOG_FILE: "test/fixtures/catalog-two-products.yaml",
    DELIVERY_PROVIDER: "openrouter",
    OPENROUTER_API_URL: openRouter.url,
    OPENROUTER_PROVISIONING_KEY: openRouter.provisioningKey,
    ALLOW_SANDBOX_PAYMENTS_WITH_REAL_DELIVERY: "1",
  });
  const app = await createApp(config, { listen: false, log: silentLogger });
  const telegram = await startTelegram(app, { pollTimeoutSeconds: 1, bot: { rateLimit: false } });
  cleanups.push(async () => {
    await telegram.stop();
    await app.close();
  });
  return { api, app, openRouter };
}

async function say(api: BotApiStub, chatId: number, text: string) {
  const since = api.mark();
  api.text(chatId, text);
  return api.nextShown(chatId, since);
}

async function press(api: BotApiStub, chatId: number, label: RegExp, message: BotMessage | undefined = api.lastMessage(chatId)) {
  const target = buttonsOf(message).find((b) => label.test(b.text) && b.callback_data);
  expect(target, `no button ${label} in ${JSON.stringify(message?.buttons)}`).toBeDefined();
  const since = api.mark();
  api.press(chatId, message!, target!.callback_data!);
  return api.nextShown(chatId, since);
}

/** Pays the invoice from the pay link shown, as the customer's browser would; returns the message that follows. */
async function pay(shop: Shop, chatId: number, invoice: string) {
  const paymentId = /\/pay\/sandbox\/([A-Za-z0-9_-]+)/.exec(invoice)?.[1];
  expect(paymentId, `no pay link in: ${invoice}`).toBeDefined();
  const since = shop.api.mark();
  const response = await shop.app.http.dispatch({
    method: "POST",
    path: `/pay/sandbox/${paymentId}`,
    headers: {},
    rawBody: Buffer.alloc(0),
  });
  expect(response.status).toBe(200);
  await shop.app.flushSandboxWebhooks();
  return shop.api.nextShown(chatId, since);
}

const spaced = (text: string) => text.replace(/\u00a0/g, " ");
const secretIn = (text: string) => /<tg-spoiler><code>([^<]+)<\/code>/.exec(text)?.[1];
/** Latin words left in Russian text once the products' own names (the owner wrote them so) are set aside. */
const english = (text: string) => latinWords(text.replace(/OpenRouter|GPT/g, " "));

describe("a shop of two products, bought in English", () => {
  it("by buttons: the start menu's products, a product's packages, Confirm: the voucher comes with how to use it", async () => {
    const shop = await openShop();
    const { api } = shop;
    const welcome = await say(api, 301, "/start");
    expect(welcome).toContain("• GPT tokens: <b>$20.00</b> per 1,000 tokens");
    expect(buttonsOf(api.lastMessage(301)).map((b) => b.text)).toEqual(["GPT tokens", "OpenRouter credit"]);
    const chosen = await press(api, 301, /^GPT tokens$/);
    expect(chosen).toContain("100 tokens to 1,000,000 tokens");
    const quote = await press(api, 301, /^10k$/);
    expect(quote).toContain("<b>10,000 tokens (GPT tokens)</b> for <b>$180.00</b>");
    expect(quote).toContain("Price: $18.00 per 1,000 tokens (volume price from 10,000 tokens)");
    const invoice = await press(api, 301, /Confirm/);
    const delivered = await pay(shop, 301, invoice);
    expect(secretIn(delivered)).toMatch(/^TG-/);
    expect(delivered).toContain("🎟 To use it, send the code to the shop owner");
    expect(shop.openRouter.created).toHaveLength(0);
  });

  it("by text: a promo code and an amount typed, the product pressed, 'yes': a real key limited to the credit, reissued from /orders", async () => {
    const shop = await openShop();
    const { api, openRouter } = shop;
    expect(await say(api, 302, "/promo spring10")).toContain("🏷 Promo code <code>SPRING10</code> applied: 10% off your order.");
    const asked = await say(api, 302, "I need 2500 tokens");
    expect(asked).toContain("🛒 Which product are the <b>2,500 tokens</b> for?");
    const quote = await press(api, 302, /^OpenRouter credit$/);
    expect(quote).toContain("<b>2,500 tokens (OpenRouter credit)</b> for <b>$28.13</b>");
    expect(quote).toContain("🏷 Promo code <code>SPRING10</code>: −$3.12 (was $31.25)");
    expect(quote).toContain("🔑 The key holds <b>$25.00</b> of OpenRouter credit.");
    const invoice = await say(api, 302, "yes");
    expect(invoice).toContain("/pay/sandbox/");
    const delivered = await pay(shop, 302, invoice);
    const key = secretIn(delivered);
    expect(key).toMatch(/^sk-or-v1-/);
    expect(delivered).toContain("🔑 This key holds <b>$25.00</b> of OpenRouter credit.");
    // The key's limit is the credit sold ($25.00), not the $28.13 paid.
    expect(openRouter.usableKeysFor(openRouter.created[0]!.name.split(" ").at(-1)!).map((k) => k.limit)).toEqual([25]);

    // The customer spends some, loses the key and asks for another from /orders.
    openRouter.spend(key!, 4);
    const orders = await say(api, 302, "/orders");
    expect(orders).toContain("2,500 tokens (OpenRouter credit) for $28.13, delivered");
    const reissued = await press(api, 302, /^🔑 Reissue …/);
    const newKey = secretIn(reissued);
    expect(newKey).toMatch(/^sk-or-v1-/);
    expect(newKey).not.toBe(key);
    expect(reissued).toContain("🔑 This replaces your earlier key or code, which no longer works.");
    const usable = openRouter.created.filter((k) => !k.disabled && openRouter.keys.has(k.hash));
    expect(usable.map((k) => [k.secret === newKey, k.limit])).toEqual([[true, 21]]);
  });
});

describe("a shop of two products, bought in Russian", () => {
  it("by buttons: OpenRouter credit, a package, «Подтвердить»: the key and what it holds, in Russian", async () => {
    const shop = await openShop();
    const { api } = shop;
    api.speaks(303, "ru");
    const welcome = spaced(await say(api, 303, "/start"));
    expect(welcome).toContain("• Кредит OpenRouter: <b>1,25 $</b> за 100 токенов (от 500 токенов до 100 000 токенов)");
    await press(api, 303, /^Кредит OpenRouter$/);
    const quote = spaced(await press(api, 303, /^1 тыс\.$/));
    expect(quote).toContain("<b>1 000 токенов (Кредит OpenRouter)</b> за <b>12,50 $</b>");
    expect(quote).toContain("🔑 На ключе будет <b>10,00 $</b> кредита OpenRouter.");
    const delivered = spaced(await pay(shop, 303, await press(api, 303, /Подтвердить/)));
    expect(secretIn(delivered)).toMatch(/^sk-or-v1-/);
    expect(delivered).toContain("🔑 На этом ключе <b>10,00 $</b> кредита OpenRouter.");
    const shown = api.callsOf("sendMessage", 303).map((c) => String(c.payload.text));
    for (const text of shown) expect(english(text), text).toEqual([]);
  });

  it("by text: «1000 токенов» asks which product, GPT-токены pressed, «да»: the voucher and how to use it, in Russian", async () => {
    const shop = await openShop();
    const { api } = shop;
    api.speaks(304, "ru");
    const asked = spaced(await say(api, 304, "1000 токенов"));
    expect(asked).toContain("🛒 Для какого товара <b>1 000 токенов</b>? Выберите ниже.");
    expect(buttonsOf(api.lastMessage(304)).map((b) => b.text)).toEqual(["GPT-токены", "Кредит OpenRouter"]);
    const quote = spaced(await press(api, 304, /^GPT-токены$/));
    expect(quote).toContain("<b>1 000 токенов (GPT-токены)</b> за <b>20,00 $</b>");
    const invoice = await say(api, 304, "да");
    const delivered = await pay(shop, 304, invoice);
    expect(secretIn(delivered)).toMatch(/^TG-/);
    expect(delivered).toContain("🎟 Чтобы воспользоваться кодом");
    const shown = api.callsOf("sendMessage", 304).map((c) => String(c.payload.text));
    for (const text of shown) expect(english(text), text).toEqual([]);
  });
});
