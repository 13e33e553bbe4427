/**
 * Delivered goods are erased from the ledger only once Telegram accepted the message carrying them
 * (issue 11): a refused delivery message (the customer blocked the bot, Telegram had an outage) leaves
 * the code obtainable by the next status question, and the shop's admins are told.
 */
import { describe, expect, it } from "vitest";
import { type TelegramShop, telegramShops } from "../support/telegram-shop.ts";

const CUSTOMER = 4242;
const ADMIN = 9001;
const shops = telegramShops();
/** A shop with an admin to alert, whose Bot API calls are not retried: a refused message stays refused. */
const shop = () => shops.open({ env: { ADMIN_CHAT_IDS: String(ADMIN) }, run: { bot: { retry: false } } });

const codeIn = (text: string) => /<tg-spoiler><code>([^<]+)<\/code>/.exec(text)?.[1];

/** The customer orders and pays; Telegram refuses the message carrying the goods with `failDelivery`. */
async function orderAndPay({ api, say, pay }: TelegramShop, failDelivery: { error_code: number; description: string }) {
  await say(CUSTOMER, "2000 tokens");
  const invoice = await say(CUSTOMER, "yes");
  api.failNext("sendMessage", failDelivery);
  await pay(invoice);
}

describe("delivered goods whose message Telegram refused", () => {
  it("are shown by the next status question (403: the customer had blocked the bot), then erased, and the admin is told", async () => {
    const opened = await shop();
    const { api, app } = opened;
    await orderAndPay(opened, { error_code: 403, description: "Forbidden: bot was blocked by the user" });
    const alert = await api.waitFor(
      (c) => c.method === "sendMessage" && String(c.payload.chat_id) === String(ADMIN) && /could not be sent/.test(String(c.payload.text)),
    );
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
    const opened = await shop();
    const { api } = opened;
    await orderAndPay(opened, { error_code: 502, description: "Bad Gateway" });
    const since = api.mark();
    api.text(CUSTOMER, "status");
    const shown = await api.nextShown(CUSTOMER, since);
    expect(codeIn(shown), shown).toMatch(/^TG-/);
  });
});
