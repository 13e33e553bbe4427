/**
 * Issue 14: the bot speaks the customer's language. The real bot polls a local stand-in of the Bot
 * API; customers' updates carry Telegram's `language_code` like real ones do.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { App, AppOverrides } from "../../src/app.ts";
import { latinWords } from "../support/english.ts";
import { type BotApiStub, buttonsOf, paymentIdIn, telegramShops } from "../support/telegram-shop.ts";

const shops = telegramShops();
/** A shop without the flood limit: these customers write more than 8 messages in 4 seconds. */
const openShop = (env: Record<string, string> = {}, overrides: AppOverrides = {}, api?: BotApiStub) =>
  shops.open({ env, overrides, run: { bot: { rateLimit: false } }, ...(api ? { api } : {}) });

const page = async (app: App, method: "GET" | "POST", paymentId: string) =>
  String((await app.http.dispatch({ method, path: `/pay/sandbox/${paymentId}`, headers: {}, rawBody: Buffer.alloc(0) })).body);
/** The words a person reads on a page: no markup, styles, or ids. */
const visibleText = (html: string) =>
  html
    .replace(/<style>[^<]*<\/style>/g, " ")
    .replace(/<[^>]+>/g, " ")
    .replace(/\b(ord|sbx)_[\w-]+/g, " ");
const spaced = (text: string) => text.replace(/\u00a0/g, " ");

/** Everything the bot showed or said in a chat: messages (after edits), their buttons, and every toast. */
function everythingShown(api: BotApiStub, chatId: number): string[] {
  const texts = ["sendMessage", "editMessageText"].flatMap((method) => api.callsOf(method, chatId).map((c) => String(c.payload.text)));
  const labels = api.messages(chatId).flatMap((m) => buttonsOf(m).map((b) => b.text));
  const toasts = api
    .callsOf("answerCallbackQuery")
    .map((c) => c.payload.text)
    .filter((text): text is string => typeof text === "string");
  return [...texts, ...labels, ...toasts];
}

describe("a Russian-speaking customer", () => {
  it("buys 5 000 tokens from first contact to delivered code without one English sentence", async () => {
    const { api, app, say, press } = await openShop();
    api.speaks(2101, "ru");

    expect(await say(2101, "/start")).toContain("Добро пожаловать в TokenGoblin");
    const quote = (await press(2101, /^5 тыс\.$/)).shown;
    expect(spaced(quote)).toContain("<b>5 000 токенов</b> за <b>100,00 $</b> (к оплате <b>100,00 USDT</b>)");
    const quoteMessage = api.lastMessage(2101)!;
    expect(spaced((await press(2101, /\+ 1 тыс\./)).shown)).toContain("<b>6 000 токенов</b>");
    expect(spaced(await say(2101, "/help"))).toContain("за 1 000 токенов");
    const invoice = (await press(2101, /Подтвердить/, quoteMessage)).shown;
    expect(invoice).toContain("Оплатить: https://shop.example/pay/sandbox/");
    // The quote message itself became the invoice.
    const invoiceMessage = api.messages(2101).find((m) => m.message_id === quoteMessage.message_id);
    expect(buttonsOf(invoiceMessage).map((b) => b.text)).toContain("💳 Оплатить 120,00 USDT");
    expect(await say(2101, "/status")).toContain("Я сообщу, как только оплата будет подтверждена");
    // A sticker is answered (in Russian, beside the order) before the next message is sent.
    const stickered = api.mark();
    api.sticker(2101);
    expect(await api.nextShown(2101, stickered)).toContain("Я понимаю только текст");
    expect(await say(2101, "/cart")).toMatch(/^💳 Заказ/);

    // The pay page speaks the order's language too.
    const paymentId = paymentIdIn(invoice)!;
    const shown = await page(app, "GET", paymentId);
    expect(shown).toContain('<html lang="ru">');
    expect(spaced(shown)).toContain("6 000 токенов");
    expect(latinWords(visibleText(shown))).toEqual([]);
    const since = api.mark();
    const paid = await page(app, "POST", paymentId);
    expect(paid).toContain("Платёж отправлен");
    expect(latinWords(visibleText(paid))).toEqual([]);
    expect(latinWords(visibleText(await page(app, "POST", paymentId)))).toEqual([]);

    // The delivered code arrives unasked, in Russian.
    const delivered = await api.nextShown(2101, since);
    expect(delivered).toContain("Ваш код: <tg-spoiler><code>");
    expect(await say(2101, "/cancel")).toContain("Открытого заказа, который можно отменить, нет.");
    // Buttons that no longer work get a toast in Russian too.
    for (const data of ["c|ord_gone", "zz|forged"]) {
      const before = api.mark();
      api.press(2101, api.lastMessage(2101)!, data);
      await api.waitFor((c) => c.method === "answerCallbackQuery" && typeof c.payload.text === "string", before);
    }

    const everything = everythingShown(api, 2101);
    expect(everything.length).toBeGreaterThan(10);
    for (const text of everything) expect(latinWords(text), text).toEqual([]);
  });

  it("finds the Russian command menu registered for Russian, Ukrainian, Belarusian and Kazakh Telegram", async () => {
    const { api } = await openShop();
    const menus = api.callsOf("setMyCommands");
    const menu = (code: string | undefined) =>
      menus.find((c) => c.payload.language_code === code)?.payload.commands as { command: string; description: string }[];
    expect(menu(undefined)).toContainEqual({ command: "buy", description: "Buy tokens, e.g. /buy 5000" });
    for (const code of ["ru", "uk", "be", "kk"])
      expect(menu(code)).toContainEqual({ command: "buy", description: "Купить токены, например /buy 5000" });
    expect(menu("ru").map((c) => c.command)).toEqual(menu(undefined).map((c) => c.command));
  });

  it("is answered in Russian when Telegram says Ukrainian (no Ukrainian file yet)", async () => {
    const { api, say } = await openShop();
    api.speaks(2201, "uk");
    expect(await say(2201, "/start")).toContain("Добро пожаловать");
  });
});

describe("an English customer of the same bot", () => {
  it("still gets English, before and after a Russian customer", async () => {
    const { api, say } = await openShop();
    api.speaks(2301, "ru");
    api.speaks(2303, "de");
    expect(await say(2301, "/start")).toContain("Добро пожаловать");
    expect(await say(2302, "I need 2000 tokens")).toContain("<b>2,000 tokens</b> for <b>$40.00</b>");
    expect(await say(2303, "/start")).toContain("Welcome to TokenGoblin");
    expect(spaced(await say(2301, "/buy 2000"))).toContain("2 000 токенов");
  });
});

describe("/language", () => {
  it("switches with a button, and the choice outlives a restart and the customer's Telegram language", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tokengoblin-lang-"));
    shops.onCleanup(() => rmSync(dir, { recursive: true, force: true }));
    const env = { STORE_URL: `sqlite://${join(dir, "shop.sqlite")}` };
    const first = await openShop(env);
    const { api, say, press } = first;
    api.speaks(2401, "en");

    expect(await say(2401, "/language")).toBe("Choose your language:");
    const prompt = api.lastMessage(2401)!;
    expect(buttonsOf(prompt).map((b) => b.text)).toEqual(["English", "Русский"]);
    expect((await press(2401, /Русский/, prompt)).shown).toBe("Готово: теперь я пишу по-русски.");
    expect(api.lastMessage(2401)!.message_id).toBe(prompt.message_id);
    const chatMenu = api
      .callsOf("setMyCommands")
      .find((c) => JSON.stringify(c.payload.scope) === JSON.stringify({ type: "chat", chat_id: 2401 }));
    expect(chatMenu?.payload.commands).toContainEqual({ command: "language", description: "Сменить язык" });
    expect(await say(2401, "/cart")).toContain("Открытых заказов пока нет");
    await first.close();

    const second = await openShop(env, {}, api);
    expect(await second.say(2401, "/help")).toContain("Я продаю");
    expect(await second.say(2401, "/language en")).toBe("Done: I'll write in English from now on.");
    expect(await second.say(2401, "/help")).toContain("I sell");
  });
});

describe("admin alerts", () => {
  it("reach a Russian-speaking admin in Russian while the English customer reads English", async () => {
    const { api, app, say } = await openShop(
      { ADMIN_CHAT_IDS: "2501", DELIVERY_MAX_ATTEMPTS: "1" },
      { delivery: { name: "sandbox", issue: async () => ({ ok: false, reason: "unavailable", detail: "provider down" }) } },
    );
    api.speaks(2501, "ru");
    expect(await say(2501, "/start")).toContain("Добро пожаловать");

    await say(2502, "I need 2000 tokens");
    const invoice = await say(2502, "yes");
    const since = api.mark();
    await page(app, "POST", paymentIdIn(invoice)!);
    const alert = await api.nextShown(2501, since);
    expect(alert).toMatch(/^⚠️ Доставка заказа <code>ord_[\w-]+<\/code> \(чат <code>2502<\/code>\) не удалась/);
    expect(alert).toMatch(/\/refund ord_[\w-]+\.$/);
    expect(await api.nextShown(2502, since)).toContain("delivery failed several times");
  });
});
