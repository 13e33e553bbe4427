/**
 * The conversation through the real bot against the Bot API stand-in (issue 13): a button from an
 * out-of-date message never acts on another amount, money that arrives for a closed order is never
 * silent, a status question checks with the provider, questions keep the order, and /orders lists
 * what a customer bought with a button to buy it again.
 */
import { describe, expect, it } from "vitest";
import { buttonsOf, telegramShops } from "../support/telegram-shop.ts";

const shops = telegramShops();
const payPath = (shown: string) => /\/pay\/sandbox\/([A-Za-z0-9_-]+)/.exec(shown)?.[0];

describe("out-of-date buttons, closed orders and money (issue 13)", () => {
  it("Confirm on the old $40.00 quote after 'actually make it 5000' is out of date: no invoice, the current quote is shown", async () => {
    const { api, say, press } = await shops.open();
    expect(await say(701, "I need 2000 tokens")).toContain("$40.00");
    const oldQuote = api.lastMessage(701)!;
    expect(await say(701, "actually make it 5000")).toContain("$100.00");

    const pressed = await press(701, /Confirm/, oldQuote);
    expect(pressed.toast).toMatch(/out of date/);
    expect(pressed.shown).toContain("out of date");
    expect(pressed.shown).toContain("$100.00");
    expect(pressed.shown).not.toContain("/pay/sandbox/");
    expect(api.messages(701).find((m) => m.message_id === oldQuote.message_id)!.buttons).toEqual([]);
    expect(api.callsOf("sendMessage", 701).some((c) => String(c.payload.text).includes("/pay/sandbox/"))).toBe(false);

    // The current quote's own Confirm invoices the amount it shows.
    const invoice = await press(701, /Confirm/, api.lastMessage(701)!);
    expect(invoice.shown).toContain("/pay/sandbox/");
    expect(invoice.shown).toContain("$100.00");
  });

  it("a button sent before buttons carried amounts does not crash and is answered as out of date", async () => {
    const { api, say } = await shops.open();
    await say(702, "I need 2000 tokens");
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
    const { app, say } = await shops.open();
    await say(703, "I need 2000 tokens");
    const path = payPath(await say(703, "yes"));
    expect(path).toBeDefined();
    expect(await say(703, "cancel")).toContain("cancelled");
    const page = await app.http.dispatch({ method: "GET", path: path!, headers: {}, rawBody: Buffer.alloc(0) });
    expect(String(page.body)).not.toContain("<form");
    expect(String(page.body)).toContain("This order is closed");
    const refused = await app.http.dispatch({ method: "POST", path: path!, headers: {}, rawBody: Buffer.alloc(0) });
    expect(String(refused.body)).toContain("cancelled");
  });

  it("money that still arrives after cancelling is told at once with the code (LATE_PAYMENT=deliver); 'nothing was charged' is never said after", async () => {
    const { api, app, say } = await shops.open();
    // A provider whose links cannot be revoked (like Telegram Stars): the page stays payable.
    delete (app.payments as { cancelInvoice?: unknown }).cancelInvoice;
    await say(704, "I need 2000 tokens");
    const path = payPath(await say(704, "yes"));
    expect(await say(704, "cancel")).toContain("Nothing was charged");

    const since = api.mark();
    await app.http.dispatch({ method: "POST", path: path!, headers: {}, rawBody: Buffer.alloc(0) });
    const told = await api.nextShown(704, since);
    expect(told).toContain("after it had closed");
    expect(told).toContain("40.00 USDT");
    expect(told).toMatch(/Your code: <tg-spoiler><code>TG-/);
    expect(told).not.toContain("Nothing was charged");

    // The code was shown once; asked later, the order says why a cancelled order was delivered after all.
    const status = await say(704, "did my payment go through?");
    expect(status).not.toContain("Nothing was charged");
    expect(status).toContain("arrived after it had closed");
    expect(status).toContain("honoured it and delivered <b>2,000 tokens</b>");
  });

  it("a status question while unpaid says 'Not paid yet' after checking with the provider", async () => {
    const { say } = await shops.open();
    await say(705, "I need 2000 tokens");
    await say(705, "yes");
    expect(await say(705, "Is my payment confirmed?")).toMatch(/^⏳ Not paid yet: I just checked with the test payment page\./);
  });
});

describe("questions and orders (issue 13)", () => {
  it("registers /orders in the command menu", async () => {
    const { api } = await shops.open();
    const menu = api.callsOf("setMyCommands").find((c) => c.payload.language_code === undefined);
    expect(JSON.stringify(menu?.payload.commands)).toContain('"orders"');
  });

  it("/start asks how many, so '3000, is that enough?' is an amount; a question keeps the quote", async () => {
    const { api, say } = await shops.open();
    expect(await say(501, "/start")).toContain("Welcome to TokenGoblin");
    expect(await say(501, "3000, is that enough for my project?")).toContain("<b>3,000 tokens</b>");
    const answer = await say(501, "how does delivery work?");
    expect(answer).toContain("As soon as your payment is confirmed");
    expect(answer).toContain("<b>3,000 tokens</b>");
    expect(buttonsOf(api.lastMessage(501)).some((b) => /Confirm/.test(b.text))).toBe(true);
  });

  it("/orders lists a delivered order with its code's hint, and buys it again with one button", async () => {
    const { api, say, pay } = await shops.open();
    await say(502, "2000 tokens");
    const invoice = await say(502, "yes");
    const since = api.mark();
    await pay(invoice);
    const delivered = await api.nextShown(502, since);
    const code = /<code>([^<]+)<\/code>/.exec(delivered)?.[1] ?? "";
    expect(code).not.toBe("");

    const list = await say(502, "/orders");
    expect(list).toContain("2,000 tokens for $40.00, delivered");
    expect(list).toContain(code.slice(-4));
    expect(list).not.toContain(code);
    const again = buttonsOf(api.lastMessage(502)).find((b) => /Buy 2,000 tokens again/.test(b.text));
    expect(again?.callback_data).toBeDefined();
    const pressed = api.mark();
    api.press(502, api.lastMessage(502)!, again!.callback_data!);
    expect(await api.nextShown(502, pressed)).toContain("<b>2,000 tokens</b> for");
  });
});
