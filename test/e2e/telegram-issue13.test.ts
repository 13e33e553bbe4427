/**
 * Issue 13 through the real bot against the Bot API stand-in: a button from an out-of-date message
 * never acts on another amount, and money that arrives for a closed order is never silent.
 */
import { afterEach, describe, expect, it } from "vitest";
import { type App, createApp } from "../../src/app.ts";
import { loadConfig } from "../../src/config.ts";
import { silentLogger } from "../../src/log.ts";
import { type TelegramHandle, startTelegram } from "../../src/telegram/index.ts";
import { type BotApiStub, type BotMessage, buttonsOf, startBotApiStub } from "../support/bot-api-stub.ts";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function openShop(env: Record<string, string> = {}): Promise<{ api: BotApiStub; app: App; telegram: TelegramHandle }> {
  const api = await startBotApiStub();
  cleanups.push(() => api.close());
  const config = loadConfig({ STORE_URL: "memory://", PUBLIC_URL: "https://shop.example", TELEGRAM_BOT_TOKEN: api.token, TELEGRAM_API_ROOT: api.url, ...env });
  const app = await createApp(config, { listen: false, log: silentLogger });
  const telegram = await startTelegram(app, { pollTimeoutSeconds: 1 });
  cleanups.push(async () => {
    await telegram.stop();
    await app.close();
  });
  return { api, app, telegram };
}

async function say(api: BotApiStub, chatId: number, text: string) {
  const since = api.mark();
  api.text(chatId, text);
  return api.nextShown(chatId, since);
}

async function press(api: BotApiStub, chatId: number, label: RegExp, message: BotMessage) {
  const target = buttonsOf(message).find((b) => label.test(b.text) && b.callback_data);
  expect(target, `no button ${label} in ${JSON.stringify(message.buttons)}`).toBeDefined();
  const since = api.mark();
  const callbackId = api.press(chatId, message, target!.callback_data!);
  const shown = await api.nextShown(chatId, since);
  const answer = await api.waitFor((c) => c.method === "answerCallbackQuery" && c.payload.callback_query_id === callbackId, since);
  return { shown, toast: answer.payload.text as string | undefined };
}

const payPath = (shown: string) => /\/pay\/sandbox\/([A-Za-z0-9_-]+)/.exec(shown)?.[0];

describe("Telegram: issue 13", () => {
  it("Confirm on the old $40.00 quote after 'actually make it 5000' is out of date: no invoice, the current quote is shown", async () => {
    const { api } = await openShop();
    expect(await say(api, 701, "I need 2000 tokens")).toContain("$40.00");
    const oldQuote = api.lastMessage(701)!;
    expect(await say(api, 701, "actually make it 5000")).toContain("$100.00");

    const pressed = await press(api, 701, /Confirm/, oldQuote);
    expect(pressed.toast).toMatch(/out of date/);
    expect(pressed.shown).toContain("out of date");
    expect(pressed.shown).toContain("$100.00");
    expect(pressed.shown).not.toContain("/pay/sandbox/");
    expect(api.messages(701).find((m) => m.message_id === oldQuote.message_id)!.buttons).toEqual([]);
    expect(api.callsOf("sendMessage", 701).some((c) => String(c.payload.text).includes("/pay/sandbox/"))).toBe(false);

    // The current quote's own Confirm invoices the amount it shows.
    const invoice = await press(api, 701, /Confirm/, api.lastMessage(701)!);
    expect(invoice.shown).toContain("/pay/sandbox/");
    expect(invoice.shown).toContain("$100.00");
  });

  it("a button sent before buttons carried amounts does not crash and is answered as out of date", async () => {
    const { api } = await openShop();
    await say(api, 702, "I need 2000 tokens");
    const quote = api.lastMessage(702)!;
    const confirm = buttonsOf(quote).find((b) => /Confirm/.test(b.text))!;
    const legacy = confirm.callback_data!.split("|").slice(0, 2).join("|");
    const since = api.mark();
    api.press(702, quote, legacy);
    const shown = await api.nextShown(702, since);
    expect(shown).toContain("out of date");
    expect(shown).not.toContain("/pay/sandbox/");
  });

  it("cancelling voids the sandbox invoice: the pay page says the order is closed and takes no money", async () => {
    const { api, app } = await openShop();
    await say(api, 703, "I need 2000 tokens");
    const path = payPath(await say(api, 703, "yes"));
    expect(path).toBeDefined();
    expect(await say(api, 703, "cancel")).toContain("cancelled");
    const page = await app.http.dispatch({ method: "GET", path: path!, headers: {}, rawBody: Buffer.alloc(0) });
    expect(String(page.body)).not.toContain("<form");
    expect(String(page.body)).toContain("This order is closed");
    const refused = await app.http.dispatch({ method: "POST", path: path!, headers: {}, rawBody: Buffer.alloc(0) });
    expect(String(refused.body)).toContain("cancelled");
  });

  it("money that still arrives after cancelling is told at once with the code (LATE_PAYMENT=deliver); 'nothing was charged' is never said after", async () => {
    const { api, app } = await openShop();
    // A provider whose links cannot be revoked (like Telegram Stars): the page stays payable.
    delete (app.payments as { cancelInvoice?: unknown }).cancelInvoice;
    await say(api, 704, "I need 2000 tokens");
    const path = payPath(await say(api, 704, "yes"));
    expect(await say(api, 704, "cancel")).toContain("Nothing was charged");

    const since = api.mark();
    await app.http.dispatch({ method: "POST", path: path!, headers: {}, rawBody: Buffer.alloc(0) });
    const told = await api.nextShown(704, since);
    expect(told).toContain("after it had closed");
    expect(told).toContain("40.00 USDT");
    expect(told).toMatch(/Your code: <tg-spoiler><code>TG-/);
    expect(told).not.toContain("Nothing was charged");

    // The code was shown once; asked later, the order says why a cancelled order was delivered after all.
    const status = await say(api, 704, "did my payment go through?");
    expect(status).not.toContain("Nothing was charged");
    expect(status).toContain("arrived after it had closed");
    expect(status).toContain("honoured it and delivered <b>2,000 tokens</b>");
  });

  it("a status question while unpaid says 'Not paid yet' after checking with the provider", async () => {
    const { api } = await openShop();
    await say(api, 705, "I need 2000 tokens");
    await say(api, 705, "yes");
    expect(await say(api, 705, "Is my payment confirmed?")).toMatch(/^⏳ Not paid yet: I just checked with the test payment page\./);
  });
});
