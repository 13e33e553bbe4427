/**
 * The real bot (grammY, its plugins, our getUpdates loop and chat inboxes) polling a local stand-in of the Bot API, with the real app
 * behind it: customers type, press buttons and pay, and we read what the bot shows them.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { testClock } from "../support/app.ts";
import { gate } from "../support/gate.ts";
import { sandboxOutsideTheStore } from "../support/sandbox-payments.ts";
import { type BotApiStub, WEBHOOK, buttonsOf, paymentIdIn, telegramShops } from "../support/telegram-shop.ts";

const shops = telegramShops();

const deliveredCode = (text: string) => /Your code: <tg-spoiler><code>([^<]+)<\/code>/.exec(text)?.[1];
const codesSent = (api: BotApiStub, chatId: number) =>
  api
    .callsOf("sendMessage", chatId)
    .map((c) => deliveredCode(String(c.payload.text)))
    .filter((code) => code !== undefined);

/** Sandbox payments whose invoice creation waits at `invoicing` until the test releases it (a slow provider). */
function slowInvoicing() {
  const invoicing = gate();
  const payments = sandboxOutsideTheStore();
  const createInvoice = payments.createInvoice.bind(payments);
  payments.createInvoice = async (request) => {
    invoicing.entered();
    await invoicing.released;
    return createInvoice(request);
  };
  return { invoicing, payments };
}

describe("Telegram bot (polling)", () => {
  it("sells 2,000 tokens by text: quote, payment link, delivered code arrives unasked", async () => {
    const { api, app, say, pay } = await shops.open();
    // One menu for everyone (default language), plus one per language Telegram users may speak.
    expect(api.callsOf("setMyCommands").filter((c) => c.payload.language_code === undefined)).toHaveLength(1);
    expect(api.callsOf("deleteWebhook")).toHaveLength(1);

    const quote = await say(101, "I need 2000 tokens");
    expect(quote).toContain("<b>2,000 tokens</b>");
    expect(quote).toContain("$40.00");
    expect(quote).toContain("40.00 USDT");
    expect(api.callsOf("sendMessage", 101).at(-1)?.payload.parse_mode).toBe("HTML");

    const invoice = await say(101, "yes");
    expect(invoice).toContain("https://shop.example/pay/sandbox/");
    expect(buttonsOf(api.lastMessage(101)).some((b) => b.url?.startsWith("https://shop.example/pay/sandbox/"))).toBe(true);

    const since = api.mark();
    await pay(invoice);
    const delivered = await api.nextShown(101, since);
    expect(delivered).toContain("delivered");
    expect(deliveredCode(delivered)).toMatch(/\S{8,}/);
    expect(codesSent(api, 101)).toHaveLength(1);
    // Both typed messages were answered, and how long each answer took is on /metrics.
    expect(await app.metrics.render()).toContain('tokengoblin_reply_seconds_count{channel="telegram"} 2');
  });

  it("sells with buttons only, editing the order message in place", async () => {
    const { api, say, press, pay } = await shops.open();
    const welcome = await say(202, "/start");
    expect(welcome).toContain("Welcome to TokenGoblin");

    const quote = await press(202, /^5k$/);
    expect(quote.shown).toContain("<b>5,000 tokens</b>");
    expect(quote.shown).toContain("$100.00");
    const quoteMessage = api.lastMessage(202)!;

    const confirmed = await press(202, /Confirm/, quoteMessage);
    expect(confirmed.shown).toContain("/pay/sandbox/");
    // The order message itself turned into the invoice: no new message for a button press.
    expect(api.lastMessage(202)!.message_id).toBe(quoteMessage.message_id);
    expect(api.lastMessage(202)!.edits).toBeGreaterThan(0);
    expect(buttonsOf(api.lastMessage(202)).some((b) => b.url?.includes("/pay/sandbox/"))).toBe(true);

    const since = api.mark();
    await pay(confirmed.shown);
    expect(await api.nextShown(202, since)).toContain("Your code");
    expect(codesSent(api, 202)).toHaveLength(1);
  });

  it("lets a customer mix typing and buttons in the middle of one order", async () => {
    const { api, say, press, pay } = await shops.open();
    expect(await say(303, "I need 2000 tokens")).toContain("$40.00");
    const bumped = await press(303, /\+ 1k/);
    expect(bumped.shown).toContain("<b>3,000 tokens</b>");
    expect(bumped.shown).toContain("$60.00");
    expect(await say(303, "make it 4000 instead")).toContain("$80.00");
    const invoice = await press(303, /Confirm/);
    const since = api.mark();
    await pay(invoice.shown);
    const delivered = await api.nextShown(303, since);
    expect(delivered).toContain("4,000 tokens");
    expect(deliveredCode(delivered)).toBeDefined();
  });

  it("answers a button from a cancelled order with 'no longer active' and changes nothing", async () => {
    const { api, say, press } = await shops.open();
    await say(404, "I need 2000 tokens");
    const oldQuote = api.lastMessage(404)!;
    expect(await say(404, "cancel")).toContain("cancelled");

    const stale = await press(404, /Confirm/, oldQuote);
    expect(stale.toast).toBe("This order is no longer active.");
    expect(stale.shown).toContain("no longer active");
    expect(api.messages(404).find((m) => m.message_id === oldQuote.message_id)!.buttons).toEqual([]);
    expect(api.callsOf("sendMessage", 404).some((c) => String(c.payload.text).includes("/pay/sandbox/"))).toBe(false);
  });

  it("serves two customers at once without mixing up their orders or codes", async () => {
    const { api, say, pay } = await shops.open();
    const [a, b] = await Promise.all([say(501, "I need 2000 tokens"), say(502, "I need 7000 tokens")]);
    expect(a).toContain("$40.00");
    expect(b).toContain("$140.00");
    const [invoiceA, invoiceB] = await Promise.all([say(501, "yes"), say(502, "confirm")]);
    const since = api.mark();
    await Promise.all([pay(invoiceA), pay(invoiceB)]);
    const [doneA, doneB] = await Promise.all([api.nextShown(501, since), api.nextShown(502, since)]);
    expect(doneA).toContain("2,000 tokens");
    expect(doneB).toContain("7,000 tokens");
    expect(deliveredCode(doneA)).not.toBe(deliveredCode(doneB));
  });

  it("picks an order back up after the bot restarts and delivers it exactly once", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tokengoblin-tg-"));
    shops.onCleanup(() => rmSync(dir, { recursive: true, force: true }));
    const env = { STORE_URL: `sqlite://${join(dir, "shop.sqlite")}` };
    const first = await shops.open({ env });
    const { api, say } = first;
    await say(606, "I need 2000 tokens");
    const invoice = await say(606, "yes");
    await first.close();

    const second = await shops.open({ env, api });
    expect(await say(606, "/cart")).toContain("/pay/sandbox/");
    const since = api.mark();
    await second.pay(invoice);
    expect(await api.nextShown(606, since)).toContain("Your code");
    // Paying again (a replayed webhook) must not deliver a second time.
    await second.app.http.dispatch({ method: "POST", path: `/pay/sandbox/${paymentIdIn(invoice)}`, headers: {}, rawBody: Buffer.alloc(0) });
    expect(await say(606, "/status")).toContain("delivered");
    expect(codesSent(api, 606)).toHaveLength(1);
  });

  it("asks for text when sent a sticker, and shows the open order", async () => {
    const { api, say } = await shops.open();
    await say(707, "I need 2000 tokens");
    const since = api.mark();
    api.sticker(707);
    const shown = await api.nextShown(707, since);
    expect(shown).toContain("I can only read text");
    expect(shown).toContain("2,000 tokens");
  });

  it("politely refuses a 10,000-character message without trying to understand it", async () => {
    const { say } = await shops.open();
    const shown = await say(808, `I need 2000 tokens ${"a".repeat(10_000)}`);
    expect(shown).toContain("too long");
    expect(await say(808, "/cart")).not.toContain("2,000 tokens");
  });

  it("says edits are not processed instead of acting on them", async () => {
    const { api, say } = await shops.open();
    await say(909, "I need 2000 tokens");
    const since = api.mark();
    api.editedText(909, 1, "I need 9000 tokens");
    expect(await api.nextShown(909, since)).toContain("don't process edited messages");
    expect(await say(909, "/cart")).toContain("2,000 tokens");
  });

  it("starts a quote from a /start buy_5000 deep link and from /buy 3k", async () => {
    const { say } = await shops.open();
    expect(await say(1001, "/start buy_5000")).toContain("$100.00");
    expect(await say(1002, "/buy 3k")).toContain("$60.00");
  });

  it("still sends the order when Telegram refuses a pay button on a private URL", async () => {
    const { api, say } = await shops.open({ env: { PUBLIC_URL: "http://localhost:8080" } });
    await say(1101, "I need 2000 tokens");
    const invoice = await say(1101, "yes");
    expect(invoice).toContain("http://localhost:8080/pay/sandbox/");
    expect(api.lastMessage(1101)!.text).toContain("/pay/sandbox/");
    expect(buttonsOf(api.lastMessage(1101)).some((b) => b.url)).toBe(false);
  });

  it("keeps talking when Telegram rate-limits a reply once (retries after retry_after)", async () => {
    const { api, say } = await shops.open();
    api.failNext("sendMessage", { error_code: 429, description: "Too Many Requests: retry after 0", retry_after: 0 });
    expect(await say(1201, "I need 2000 tokens")).toContain("$40.00");
    expect(api.callsOf("sendMessage", 1201).length).toBe(2);
    expect(api.lastMessage(1201)!.text).toContain("$40.00");
  });

  it("tells a customer who floods the bot to slow down once, and still answers their button presses", async () => {
    const { api } = await shops.open({ run: { bot: { rateLimit: { limit: 2, timeFrameMs: 60_000 } } } });
    const since = api.mark();
    for (let i = 0; i < 6; i++) api.text(1301, "status");
    await api.waitFor((c) => c.method === "sendMessage" && String(c.payload.text).includes("very fast"), since);
    let answered = 0;
    await api.waitFor((c) => c.method === "sendMessage" && !String(c.payload.text).includes("very fast") && ++answered === 2, since);
    const pressed = api.mark();
    const callbackId = api.press(1301, { message_id: 1, chat_id: "1301", text: "old", buttons: [], edits: 0 }, "h");
    const answer = await api.waitFor((c) => c.method === "answerCallbackQuery" && c.payload.callback_query_id === callbackId, pressed);
    expect(String(answer.payload.text)).toContain("very fast");
    const sent = api.callsOf("sendMessage", 1301).map((c) => String(c.payload.text));
    expect(sent.filter((text) => text.includes("very fast"))).toHaveLength(1);
    // Only the two messages within the budget were acted on.
    expect(sent.filter((text) => !text.includes("very fast"))).toHaveLength(2);
  });

  it("ignores group chatter that is not addressed to the bot", async () => {
    const { api } = await shops.open();
    const since = api.mark();
    api.text(-1401, "I need 2000 tokens", { chatType: "group", fromId: 1401 });
    api.text(-1401, "@goblin_test_bot I need 3000 tokens", { chatType: "group", fromId: 1401 });
    const shown = await api.nextShown(-1401, since);
    expect(shown).toContain("3,000 tokens");
    expect(api.callsOf("sendMessage", -1401)).toHaveLength(1);
  });

  it("keeps the conversation going when the command menu, typing indicator and message edits fail", async () => {
    const api = await shops.stub();
    api.failNext("setMyCommands", { error_code: 400, description: "Bad Request: commands are not available" });
    const { say, press } = await shops.open({ api });
    api.failNext("sendChatAction", { error_code: 400, description: "Bad Request: not enough rights" }, 5);
    expect(await say(1451, "I need 2000 tokens")).toContain("$40.00");
    const quoteMessage = api.lastMessage(1451)!;
    api.failNext("editMessageText", { error_code: 400, description: "Bad Request: message can't be edited" });
    const confirmed = await press(1451, /Confirm/, quoteMessage);
    expect(confirmed.shown).toContain("/pay/sandbox/");
    // The edit failed, so the invoice arrived as a new message instead.
    expect(api.lastMessage(1451)!.message_id).not.toBe(quoteMessage.message_id);
  });

  it("tells the customer unasked when an unpaid invoice expires", async () => {
    let now = Date.parse("2026-01-01T12:00:00Z");
    const { api, app, say } = await shops.open({
      env: { PAYMENT_TTL_MINUTES: "5" },
      run: { bot: { now: () => now } },
      overrides: { clock: () => now, sweepIntervalMs: 60_000 },
    });
    await say(1461, "I need 2000 tokens");
    await say(1461, "yes");
    now += 6 * 60_000;
    const since = api.mark();
    await app.engine.runDue();
    expect(await api.nextShown(1461, since)).toContain("expired");
  });

  it("shows 'typing' only while a slow answer is being worked out, and finishes it before stopping", async () => {
    // The bot's timers run on this clock: the typing indicator shows when the test lets 300 ms pass.
    const clock = testClock();
    // A slow language model, answering when the test says so: the only slow path a text message has.
    const model = gate();
    const slowModel = async () => {
      model.entered();
      await model.released;
      return { command: { type: "SET_AMOUNT" as const, tokens: 2000 }, source: "llm" as const };
    };
    const { api, telegram, say } = await shops.open({ run: { bot: { timer: clock.timer } }, overrides: { llm: slowModel } });
    expect(await say(1500, "I need 2000 tokens")).toContain("$40.00");
    // Rule-read: answered at once, and the indicator armed for it was disarmed by the answer.
    expect(clock.armed()).toBe(0);

    const since = api.mark();
    api.text(1501, "could I get roughly a couple grand of them");
    await model.entering;
    expect(clock.armed()).toBe(1);
    clock.advance(299);
    expect(clock.armed()).toBe(1);
    clock.advance(1);
    await api.waitFor((c) => c.method === "sendChatAction" && String(c.payload.chat_id) === "1501", since);
    // Stopping waits for the answer still being worked out.
    const stopping = telegram.stop();
    model.release();
    await stopping;
    expect(api.callsOf("sendMessage", 1501)).toHaveLength(1);
    expect(api.callsOf("sendChatAction")).toHaveLength(1);
  });
  /** A customer's quote confirmed by a rule-read "yes", its invoice held at the provider; the bot's timers on `clock`. */
  const confirmedWithASlowProvider = async (chatId: number) => {
    const clock = testClock();
    const { invoicing, payments } = slowInvoicing();
    const { api, say } = await shops.open({ run: { bot: { timer: clock.timer } }, overrides: { payments } });
    expect(await say(chatId, "I need 2000 tokens")).toContain("$40.00");
    const since = api.mark();
    api.text(chatId, "yes");
    await invoicing.entering;
    return { api, clock, invoicing, since };
  };

  it("shows 'typing' while a provider is slow to create the invoice a rule-read 'yes' asked for", async () => {
    const { api, clock, invoicing, since } = await confirmedWithASlowProvider(1511);
    expect(clock.armed()).toBe(1);
    clock.advance(300);
    await api.waitFor((c) => c.method === "sendChatAction" && String(c.payload.chat_id) === "1511", since);
    // Telegram shows it for 5 seconds: a provider slower than that keeps it showing.
    clock.advance(4_499);
    expect(api.callsOf("sendChatAction")).toHaveLength(1);
    clock.advance(1);
    await api.waitFor(
      (c) => c.method === "sendChatAction" && String(c.payload.chat_id) === "1511" && api.callsOf("sendChatAction").length === 2,
      since,
    );
    clock.advance(4_500);
    await api.waitFor(() => api.callsOf("sendChatAction").length === 3, since);
    invoicing.release();
    expect(await api.nextShown(1511, since)).toContain("/pay/sandbox/");
    // Once answered, it stops.
    expect(clock.armed()).toBe(0);
    clock.advance(60_000);
    expect(api.callsOf("sendChatAction")).toHaveLength(3);
  });

  it("stops repeating 'typing' after about two minutes of a wait that does not end", async () => {
    const { api, clock, invoicing, since } = await confirmedWithASlowProvider(1512);
    clock.advance(300);
    for (let sent = 2; sent <= 27; sent++) {
      await api.waitFor(() => api.callsOf("sendChatAction", 1512).length === sent - 1, since);
      clock.advance(4_500);
    }
    await api.waitFor(() => api.callsOf("sendChatAction", 1512).length === 27, since);
    expect(clock.armed()).toBe(0);
    invoicing.release();
    expect(await api.nextShown(1512, since)).toContain("/pay/sandbox/");
    expect(api.callsOf("sendChatAction", 1512)).toHaveLength(27);
  });

  it("shows no 'typing' for an answer that only waits its turn, however long (a busy shop spends its calls on answers)", async () => {
    const clock = testClock();
    const { api, app, say } = await shops.open({ run: { bot: { timer: clock.timer } } });
    expect(await say(1521, "I need 2000 tokens")).toContain("$40.00");
    // The store is slow to open a new customer's chat and to commit the step (hundreds of chats ahead
    // of this one). Both calls come from inside the bot's handler, while it works out the answer.
    const opening = gate();
    const committing = gate();
    const { openChat, commit } = { openChat: app.store.openChat.bind(app.store), commit: app.store.commit.bind(app.store) };
    app.store.openChat = async (...args) => {
      opening.entered();
      await opening.released;
      return openChat(...args);
    };
    app.store.commit = async (...args) => {
      committing.entered();
      await committing.released;
      return commit(...args);
    };
    const since = api.mark();
    api.text(1522, "I need 3000 tokens");
    await opening.entering;
    clock.advance(5_000);
    expect(clock.armed()).toBe(0);
    opening.release();
    // The step (pricing the amount, in this process) is done; its commit waits its turn.
    await committing.entering;
    clock.advance(5_000);
    expect(clock.armed()).toBe(0);
    committing.release();
    expect(await api.nextShown(1522, since)).toContain("$60.00");
    expect(api.callsOf("sendChatAction")).toHaveLength(0);
  });
});

describe("Telegram bot (webhook)", () => {
  it("registers the webhook with its secret instead of polling", async () => {
    const shop = await shops.open({ webhook: true });
    const { api } = shop;
    expect(shop.telegram.mode).toBe("webhook");
    expect(api.webhook()).toEqual({ url: WEBHOOK.url, secret: WEBHOOK.secret });
    expect(api.callsOf("getUpdates")).toHaveLength(0);
  });

  it("refuses an update without the right secret header and processes nothing", async () => {
    const { api, app, post } = await shops.open({ webhook: true });
    const update = api.textUpdate(1601, "I need 2000 tokens");
    const missing = await app.http.dispatch({
      method: "POST",
      path: WEBHOOK.path,
      headers: {},
      rawBody: Buffer.from(JSON.stringify(update)),
    });
    const wrong = await post(update, "guess");
    expect(missing.status).toBe(401);
    expect(wrong.status).toBe(401);
    expect(api.callsOf("sendMessage")).toHaveLength(0);
    expect((await app.engine.view("1601")).kind).toBe("no_order");
  });

  it("answers an update posted with the right secret", async () => {
    const { api, post } = await shops.open({ webhook: true });
    const since = api.mark();
    const response = await post(api.textUpdate(1701, "I need 2000 tokens"));
    // 200 once the update is kept in the chat's inbox; the answer follows from the inbox.
    expect(response.status).toBe(200);
    expect(await api.nextShown(1701, since)).toContain("$40.00");
  });
});
