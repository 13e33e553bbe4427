/**
 * Issue 13 in Telegram: /start asks "how many tokens?", questions are answered beside the order, and
 * /orders lists what the customer bought with a button to buy it again.
 */
import { afterEach, describe, expect, it } from "vitest";
import { createApp } from "../../src/app.ts";
import { loadConfig } from "../../src/config.ts";
import { silentLogger } from "../../src/log.ts";
import { startTelegram } from "../../src/telegram/index.ts";
import { type BotApiStub, buttonsOf, startBotApiStub } from "../support/bot-api-stub.ts";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function openShop() {
  const api = await startBotApiStub();
  cleanups.push(() => api.close());
  const config = loadConfig({ STORE_URL: "memory://", PUBLIC_URL: "https://shop.example", TELEGRAM_BOT_TOKEN: api.token, TELEGRAM_API_ROOT: api.url });
  const app = await createApp(config, { listen: false, log: silentLogger });
  const telegram = await startTelegram(app, { pollTimeoutSeconds: 1 });
  cleanups.push(async () => {
    await telegram.stop();
    await app.close();
  });
  return { api, app };
}

async function say(api: BotApiStub, chatId: number, text: string) {
  const since = api.mark();
  api.text(chatId, text);
  return api.nextShown(chatId, since);
}

describe("Telegram: questions and orders (issue 13)", () => {
  it("registers /orders in the command menu", async () => {
    const { api } = await openShop();
    const menu = api.callsOf("setMyCommands").find((c) => c.payload.language_code === undefined);
    expect(JSON.stringify(menu?.payload.commands)).toContain('"orders"');
  });

  it("/start asks how many, so '3000, is that enough?' is an amount; a question keeps the quote", async () => {
    const { api } = await openShop();
    expect(await say(api, 501, "/start")).toContain("Welcome to TokenGoblin");
    expect(await say(api, 501, "3000, is that enough for my project?")).toContain("<b>3,000 tokens</b>");
    const answer = await say(api, 501, "how does delivery work?");
    expect(answer).toContain("As soon as your payment is confirmed");
    expect(answer).toContain("<b>3,000 tokens</b>");
    expect(buttonsOf(api.lastMessage(501)).some((b) => /Confirm/.test(b.text))).toBe(true);
  });

  it("/orders lists a delivered order with its code's hint, and buys it again with one button", async () => {
    const { api, app } = await openShop();
    await say(api, 502, "2000 tokens");
    const invoice = await say(api, 502, "yes");
    const paymentId = /\/pay\/sandbox\/([A-Za-z0-9_-]+)/.exec(invoice)?.[1];
    const since = api.mark();
    await app.http.dispatch({ method: "POST", path: `/pay/sandbox/${paymentId}`, headers: {}, rawBody: Buffer.alloc(0) });
    const delivered = await api.nextShown(502, since);
    const code = /<code>([^<]+)<\/code>/.exec(delivered)?.[1] ?? "";
    expect(code).not.toBe("");

    const list = await say(api, 502, "/orders");
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
