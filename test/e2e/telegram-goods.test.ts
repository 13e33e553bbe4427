/**
 * Delivered goods are erased from the ledger only once Telegram accepted the message carrying them
 * (issue 11): a refused delivery message (the customer blocked the bot, Telegram had an outage) leaves
 * the code obtainable by the next status question, and the shop's admins are told.
 */
import { afterEach, describe, expect, it } from "vitest";
import { type App, createApp } from "../../src/app.ts";
import { loadConfig } from "../../src/config.ts";
import { silentLogger } from "../../src/log.ts";
import { type TelegramHandle, startTelegram } from "../../src/telegram/index.ts";
import { type BotApiStub, startBotApiStub } from "../support/bot-api-stub.ts";

const CUSTOMER = 4242;
const ADMIN = 9001;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function shop(): Promise<{ api: BotApiStub; app: App; telegram: TelegramHandle }> {
  const api = await startBotApiStub();
  cleanups.push(() => api.close());
  const config = loadConfig({
    STORE_URL: "memory://",
    PUBLIC_URL: "https://shop.example",
    TELEGRAM_BOT_TOKEN: api.token,
    TELEGRAM_API_ROOT: api.url,
    ADMIN_CHAT_IDS: String(ADMIN),
  });
  const app = await createApp(config, { listen: false, log: silentLogger });
  const telegram = await startTelegram(app, { pollTimeoutSeconds: 1, bot: { retry: false } });
  cleanups.push(async () => {
    await telegram.stop();
    await app.close();
  });
  return { api, app, telegram };
}

const codeIn = (text: string) => /<tg-spoiler><code>([^<]+)<\/code>/.exec(text)?.[1];

async function orderAndPay(api: BotApiStub, app: App, failDelivery: { error_code: number; description: string }) {
  let since = api.mark();
  api.text(CUSTOMER, "2000 tokens");
  await api.nextShown(CUSTOMER, since);
  since = api.mark();
  api.text(CUSTOMER, "yes");
  const invoice = await api.nextShown(CUSTOMER, since);
  const paymentId = /\/pay\/sandbox\/([A-Za-z0-9_-]+)/.exec(invoice)?.[1];
  expect(paymentId, invoice).toBeDefined();
  api.failNext("sendMessage", failDelivery);
  const paid = await app.http.dispatch({ method: "POST", path: `/pay/sandbox/${paymentId}`, headers: {}, rawBody: Buffer.alloc(0) });
  expect(paid.status).toBe(200);
}

describe("delivered goods whose message Telegram refused", () => {
  it("are shown by the next status question (403: the customer had blocked the bot), then erased, and the admin is told", async () => {
    const { api, app } = await shop();
    await orderAndPay(api, app, { error_code: 403, description: "Forbidden: bot was blocked by the user" });
    const alert = await api.waitFor((c) => c.method === "sendMessage" && String(c.payload.chat_id) === String(ADMIN) && /could not be sent/.test(String(c.payload.text)));
    expect(String(alert.payload.text)).toContain(String(CUSTOMER));
    const current = (await app.engine.chat(String(CUSTOMER))).order;
    const order = current && current !== "invalid" ? current : undefined;
    expect((await app.engine.orderView(order!.orderId))?.stage).toBe("delivered");
    const goods = () => app.store.goods(order!.orderId, order!.chatId);
    expect((await goods())?.secret, "the code is kept while no message carried it").toMatch(/^TG-/);

    let since = api.mark();
    api.text(CUSTOMER, "/status");
    const shown = await api.nextShown(CUSTOMER, since);
    const code = codeIn(shown);
    expect(code, shown).toMatch(/^TG-/);
    // The bot erases it right after Telegram's answer, a moment after the stub recorded the message.
    await expect.poll(async () => (await goods())?.secret, { timeout: 2_000 }).toBeNull();

    since = api.mark();
    api.text(CUSTOMER, "/status");
    const again = await api.nextShown(CUSTOMER, since);
    expect(codeIn(again), "shown once").toBeUndefined();
    expect(again).toContain(code!.slice(-4));
  });

  it("survive a Telegram outage on the delivery message: the code is still obtainable and never lost", async () => {
    const { api, app } = await shop();
    await orderAndPay(api, app, { error_code: 502, description: "Bad Gateway" });
    const since = api.mark();
    api.text(CUSTOMER, "status");
    const shown = await api.nextShown(CUSTOMER, since);
    expect(codeIn(shown), shown).toMatch(/^TG-/);
  });
});
