/**
 * The bot without any network: `createBot` driven by `bot.handleUpdate`, with an API transformer
 * standing in for Telegram (the path benchmarks use). Checks that buttons never reach the language
 * model and that everything shown is HTML-escaped.
 */
import type { Transformer } from "grammy";
import type { Update } from "grammy/types";
import { afterEach, describe, expect, it } from "vitest";
import { type App, createApp } from "../../src/app.ts";
import { loadConfig } from "../../src/config.ts";
import type { Understander } from "../../src/engine/index.ts";
import { silentLogger } from "../../src/log.ts";
import { createBot } from "../../src/telegram/index.ts";
import { TEST_BOT_INFO } from "../support/telegram-shop.ts";

type Call = { method: string; payload: Record<string, unknown> };
const apps: App[] = [];
afterEach(async () => {
  while (apps.length > 0) await apps.pop()!.close();
});

async function setUp() {
  let llmCalls = 0;
  const llm: Understander = async () => {
    llmCalls++;
    return null;
  };
  const config = loadConfig({ STORE_URL: "memory://", PUBLIC_URL: "https://shop.example", TELEGRAM_BOT_TOKEN: "1:offline" });
  const app = await createApp(config, { listen: false, log: silentLogger, llm });
  apps.push(app);
  const calls: Call[] = [];
  const offline: Transformer = async (_prev, method, payload) => {
    calls.push({ method, payload: payload as Record<string, unknown> });
    return { ok: true, result: true as never };
  };
  const bot = createBot(app, {
    botInfo: TEST_BOT_INFO,
    transformers: [offline],
  });
  let updateId = 1;
  const from = { id: 42, is_bot: false, first_name: "Ann" };
  const chat = { id: 42, type: "private" as const, first_name: "Ann" };
  const send = (text: string) =>
    bot.handleUpdate({ update_id: updateId++, message: { message_id: updateId, date: 0, chat, from, text } } as Update);
  const press = (data: string) =>
    bot.handleUpdate({
      update_id: updateId++,
      callback_query: {
        id: `cb${updateId}`,
        from,
        chat_instance: "c",
        data,
        message: { message_id: 1, date: 0, chat, from, text: "order" },
      },
    } as Update);
  /** A command as Telegram sends it (with its bot_command entity), in a private chat or a group. */
  const command = (text: string, group = false) => {
    const where = group ? { id: -42, type: "group" as const, title: "Friends" } : chat;
    const entities = [{ type: "bot_command" as const, offset: 0, length: text.split(" ")[0]!.length }];
    return bot.handleUpdate({
      update_id: updateId++,
      message: { message_id: updateId, date: 0, chat: where, from, text, entities },
    } as Update);
  };
  return { app, calls, send, command, press, llmCalls: () => llmCalls };
}

const shown = (calls: Call[]) =>
  calls.filter((c) => c.method === "sendMessage" || c.method === "editMessageText").map((c) => String(c.payload.text));

describe("Telegram bot without the network", () => {
  it("buys with buttons without ever asking the language model", async () => {
    const t = await setUp();
    await t.press("p|2000");
    const view = await t.app.engine.view("42");
    if (view.kind !== "order") throw new Error(`expected an order, got ${view.kind}`);
    // Quote buttons carry the amount their message showed (issue 13): 2,000 → 3,000, then confirm 3,000.
    await t.press(`a|${view.order.orderId}|3000|2000`);
    await t.press(`c|${view.order.orderId}|3000`);
    expect(shown(t.calls).at(-1)).toContain("/pay/sandbox/");
    expect(t.calls.filter((c) => c.method === "answerCallbackQuery")).toHaveLength(3);
    expect(t.llmCalls()).toBe(0);
  });

  it("asks the language model only for text the rules cannot read", async () => {
    const t = await setUp();
    await t.send("I need 2000 tokens");
    expect(t.llmCalls()).toBe(0);
    await t.send("hmm what would my cousin like <b>");
    expect(t.llmCalls()).toBe(1);
  });

  it("answers commands as commands, also one addressed to it by name in a group, never as text to read", async () => {
    const t = await setUp();
    const read: string[] = [];
    const handleText = t.app.engine.handleText;
    t.app.engine.handleText = (chatId, text, ref) => {
      read.push(text);
      return handleText(chatId, text, ref);
    };
    await t.command("/buy 2000");
    expect(shown(t.calls).at(-1)).toContain("2,000 tokens");
    await t.command("/help@goblin_bot", true);
    const inGroup = t.calls.filter((c) => c.method === "sendMessage" && c.payload.chat_id === "-42");
    expect(inGroup).toHaveLength(1);
    expect(String(inGroup[0]!.payload.text)).toContain("I sell AI API credit");
    expect(read).toEqual([]);
    await t.send("I need 3000 tokens");
    expect(read).toEqual(["I need 3000 tokens"]);
  });

  it("answers a forged button with a toast and touches no order", async () => {
    const t = await setUp();
    await t.press("c|ord_<script>|x");
    const answer = t.calls.find((c) => c.method === "answerCallbackQuery");
    expect(String(answer?.payload.text)).toContain("doesn't work");
    expect(shown(t.calls)).toHaveLength(0);
    expect((await t.app.engine.view("42")).kind).toBe("no_order");
  });

  it("sends HTML with every reply and keeps customer text out of the markup", async () => {
    const t = await setUp();
    await t.send("/buy <b>lots</b>");
    const sent = t.calls.filter((c) => c.method === "sendMessage");
    expect(sent.length).toBeGreaterThan(0);
    for (const call of sent) {
      expect(call.payload.parse_mode).toBe("HTML");
      expect(String(call.payload.text)).not.toContain("<b>lots</b>");
    }
  });

  it("answers 'something went wrong' and stops the button spinner when the engine fails", async () => {
    const t = await setUp();
    const failing = async () => {
      throw new Error("store unreachable");
    };
    t.app.engine.handleText = failing;
    t.app.engine.handleButton = failing;
    await expect(t.send("I need 2000 tokens")).rejects.toThrow("store unreachable");
    expect(shown(t.calls).at(-1)).toContain("something went wrong on our side");
    await expect(t.press("p|2000")).rejects.toThrow("store unreachable");
    expect(t.calls.filter((c) => c.method === "answerCallbackQuery")).toHaveLength(1);
    expect(shown(t.calls).filter((text) => text.includes("something went wrong"))).toHaveLength(2);
  });
});
