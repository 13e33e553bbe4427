/**
 * The same dialogue written with `@grammyjs/conversations` (v2), for comparison: a conversation
 * function that waits for amounts until the customer says yes. The plugin keeps a log of every update
 * the conversation has seen and replays the function through it on each new update, so its cost per
 * update grows with the conversation's length. No network: a fake `fetch` (the client option, because
 * the plugin builds its own `Api` objects inside a conversation and outer transformers do not reach
 * them) answers every Bot API call, and updates go straight into `bot.handleUpdate`.
 */
import { Bot, type Context } from "grammy";
import type { Update } from "grammy/types";
import { type Conversation, type ConversationFlavor, conversations, createConversation } from "@grammyjs/conversations";
import { parseTokenAmount } from "../src/understand/index.ts";

type Ctx = ConversationFlavor<Context>;

async function purchase(conversation: Conversation<Ctx, Context>, ctx: Context) {
  let tokens = parseTokenAmount(ctx.message?.text ?? "") ?? 1000;
  await ctx.reply(`${tokens} tokens cost $${(tokens / 50).toFixed(2)}. Confirm?`);
  for (;;) {
    const next = await conversation.waitFor("message:text");
    const text = next.message.text;
    if (/^(yes|ok)$/i.test(text)) {
      await next.reply("Invoice created.");
      return;
    }
    tokens = parseTokenAmount(text) ?? tokens;
    await next.reply(`${tokens} tokens cost $${(tokens / 50).toFixed(2)}. Confirm?`);
  }
}

/** A bot with the conversations plugin and a fake Bot API; `send(chatId, text)` delivers one update. */
export function createConversationsBot() {
  let messageId = 1;
  const fakeFetch = (async (_url: unknown, init?: { body?: unknown }) => {
    const payload = typeof init?.body === "string" ? (JSON.parse(init.body) as { chat_id?: number; text?: string }) : {};
    const result = { message_id: messageId++, date: 0, chat: { id: payload.chat_id ?? 0, type: "private", first_name: "c" }, text: payload.text ?? "" };
    return new Response(JSON.stringify({ ok: true, result }), { status: 200, headers: { "content-type": "application/json" } });
  }) as unknown as typeof fetch;
  const bot = new Bot<Ctx>("0:bench", {
    client: { fetch: fakeFetch },
    botInfo: {
      id: 1,
      is_bot: true,
      first_name: "Bench",
      username: "bench_bot",
      can_join_groups: false,
      can_read_all_group_messages: false,
      supports_inline_queries: false,
      can_connect_to_business: false,
      has_main_web_app: false,
    } as never,
  });
  bot.use(conversations());
  bot.use(createConversation(purchase, "purchase"));
  bot.on("message:text", (ctx) => ctx.conversation.enter("purchase"));
  let updateId = 1;
  return {
    async send(chatId: number, text: string) {
      const update: Update = {
        update_id: updateId++,
        message: {
          message_id: messageId++,
          date: Math.floor(Date.now() / 1000),
          chat: { id: chatId, type: "private", first_name: "c" },
          from: { id: chatId, is_bot: false, first_name: "c" },
          text,
        },
      };
      await bot.handleUpdate(update);
    },
  };
}
