/**
 * (b) The Telegram path: µs per update through `bot.handleUpdate` for the real bot (grammY middleware +
 * engine, memory store), next to two floors measured in the same run — a bare grammY bot that replies,
 * and the bare XState step. Bot API calls are answered by an API transformer: no network.
 */
import { Bot, type Transformer } from "grammy";
import type { App } from "../src/app.ts";
import { createBot } from "../src/telegram/bot.ts";
import { medianOf, now, usPerOp } from "./timing.ts";
import { BOT_INFO, textUpdate } from "./updates.ts";

/** Answers every Bot API call locally with a plausible result. */
export const offline: Transformer = async (_prev, method, payload) => {
  const chatId = Number((payload as { chat_id?: number }).chat_id ?? 1);
  const message = { message_id: 1, date: 0, chat: { id: chatId, type: "private", first_name: "C" }, text: "ok" };
  const result = method === "sendMessage" || method === "editMessageText" ? message : true;
  return { ok: true, result } as never;
};

/** One update through a grammY bot whose only middleware replies, as an op. */
export function bareGrammyOp(): (i: number) => Promise<void> {
  const bot = new Bot("1:bench", { botInfo: BOT_INFO });
  bot.api.config.use(offline);
  bot.on("message:text", (ctx) => ctx.reply("ok"));
  return (i) => bot.handleUpdate(textUpdate(1 + (i % 50), "hello"));
}

/** µs per update for a grammY bot whose only middleware replies. */
export async function bareGrammyReply(count: number): Promise<number> {
  return usPerOp(count, bareGrammyOp());
}

const amounts = ["change it to 2000", "make it 3000"];

/** One amount change through the real bot on `app` (50 chats in turn, each with a quoted order), as an op. */
export async function telegramEngineOp(app: App): Promise<(i: number) => Promise<void>> {
  const bot = createBot(app, { token: "1:bench", botInfo: BOT_INFO, transformers: [offline], rateLimit: false, retry: false });
  const chats = 50;
  for (let chat = 0; chat < chats; chat++) await bot.handleUpdate(textUpdate(10_000 + chat, "I need 1000 tokens"));
  return (i) => bot.handleUpdate(textUpdate(10_000 + (i % chats), amounts[i % 2] as string));
}

/** µs per update for the real bot on `app`, and the cost of the 1st vs the 100th message of a chat. */
export async function telegramEngine(app: App, count: number): Promise<{ perUpdate: number; first: number; hundredth: number }> {
  const perUpdate = await usPerOp(count, await telegramEngineOp(app));
  const { first, hundredth } = await firstVsHundredth(app);
  return { perUpdate, first, hundredth };
}

/** The median cost of a fresh chat's 1st message and of its 100th, through the real bot on `app`. */
export async function firstVsHundredth(app: App): Promise<{ first: number; hundredth: number }> {
  const bot = createBot(app, { token: "1:bench", botInfo: BOT_INFO, transformers: [offline], rateLimit: false, retry: false });
  // Conversation length: a fresh chat's 1st message vs its 100th.
  const timeOne = async (chatId: number, text: string) => {
    const start = now();
    await bot.handleUpdate(textUpdate(chatId, text));
    return (now() - start) * 1000;
  };
  const firsts: number[] = [];
  const hundredths: number[] = [];
  for (let chat = 0; chat < 10; chat++) {
    const chatId = 50_000 + chat;
    firsts.push(await timeOne(chatId, "I need 1000 tokens"));
    for (let k = 1; k < 99; k++) await bot.handleUpdate(textUpdate(chatId, amounts[k % 2] as string));
    hundredths.push(await timeOne(chatId, amounts[1] as string));
  }
  return { first: medianOf(firsts), hundredth: medianOf(hundredths) };
}
