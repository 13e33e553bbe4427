/**
 * The bot's connections to the Bot API: a burst of replies opens one connection per reply in flight,
 * and the next burst reuses them instead of opening them again (each a TLS handshake with Telegram's).
 */
import { afterEach, describe, expect, it } from "vitest";
import { type App, createApp } from "../../src/app.ts";
import { loadConfig } from "../../src/config.ts";
import { silentLogger } from "../../src/log.ts";
import { createBot } from "../../src/telegram/index.ts";
import { type BotApiStub, startBotApiStub } from "../support/bot-api-stub.ts";
import { TEST_BOT_INFO } from "../support/telegram-shop.ts";

const opened: { app?: App; api?: BotApiStub }[] = [];
afterEach(async () => {
  for (const { app, api } of opened.splice(0)) {
    await app?.close();
    await api?.close();
  }
});

describe("Bot API connections", () => {
  it("a burst of 300 replies reuses every connection the burst before opened", async () => {
    const api = await startBotApiStub();
    const config = loadConfig({
      STORE_URL: "memory://",
      PUBLIC_URL: "https://shop.example",
      TELEGRAM_BOT_TOKEN: api.token,
      TELEGRAM_API_ROOT: api.url,
    });
    const app = await createApp(config, { listen: false, log: silentLogger });
    opened.push({ app, api });
    const bot = createBot(app, { botInfo: TEST_BOT_INFO, retry: false });
    // All at once: each reply in flight has a connection of its own (more than grammY's default keeps idle, 256).
    const burst = () => Promise.all(Array.from({ length: 300 }, (_, i) => bot.api.sendMessage(1_000 + i, "Your order is ready")));

    await burst();
    const first = api.connections();
    expect(first).toBeGreaterThan(256);
    await burst();
    expect(api.connections()).toBe(first);
    expect(api.callsOf("sendMessage")).toHaveLength(600);
  });
});
