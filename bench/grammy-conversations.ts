/**
 * The same dialogue written with `@grammyjs/conversations` (v2), for comparison: a conversation
 * function that waits for amounts until the customer says yes. The plugin keeps a log of every update
 * the conversation has seen and replays the function through it on each new update, so its cost per
 * update grows with the conversation's length. No network: a fake `fetch` (the client option, because
 * the plugin builds its own `Api` objects inside a conversation and outer transformers do not reach
 * them) answers every Bot API call, and updates go straight into `bot.handleUpdate`.
 */
import { Bot, type Context } from "grammy";
import { type Conversation, type ConversationFlavor, conversations, createConversation } from "@grammyjs/conversations";
import { DEFAULT_CATALOG, priceTokens } from "../src/domain/catalog.ts";
import { formatMoney } from "../src/domain/money.ts";
import { parseTokenAmount } from "../src/understand/index.ts";
import { BOT_INFO, textUpdate } from "./updates.ts";

type Ctx = ConversationFlavor<Context>;

/** The same exact price the product quotes (never float arithmetic, even in a baseline). */
const quote = (tokens: number) => `${tokens} tokens cost ${formatMoney(priceTokens(DEFAULT_CATALOG, tokens, "USD").usd)}. Confirm?`;

async function purchase(conversation: Conversation<Ctx, Context>, ctx: Context) {
  let tokens = parseTokenAmount(ctx.message?.text ?? "") ?? 1000;
  await ctx.reply(quote(tokens));
  for (;;) {
    const next = await conversation.waitFor("message:text");
    const text = next.message.text;
    if (/^(yes|ok)$/i.test(text)) {
      await next.reply("Invoice created.");
      return;
    }
    tokens = parseTokenAmount(text) ?? tokens;
    await next.reply(quote(tokens));
  }
}

/** A bot with the conversations plugin and a fake Bot API; `send(chatId, text)` delivers one update. */
export function createConversationsBot() {
  let messageId = 1;
  const fakeFetch = (async (_url: unknown, init?: { body?: unknown }) => {
    const payload = typeof init?.body === "string" ? (JSON.parse(init.body) as { chat_id?: number; text?: string }) : {};
    const result = {
      message_id: messageId++,
      date: 0,
      chat: { id: payload.chat_id ?? 0, type: "private", first_name: "c" },
      text: payload.text ?? "",
    };
    return new Response(JSON.stringify({ ok: true, result }), { status: 200, headers: { "content-type": "application/json" } });
  }) as unknown as typeof fetch;
  const bot = new Bot<Ctx>("0:bench", {
    client: { fetch: fakeFetch },
    botInfo: BOT_INFO,
  });
  bot.use(conversations());
  bot.use(createConversation(purchase, "purchase"));
  bot.on("message:text", (ctx) => ctx.conversation.enter("purchase"));
  return {
    async send(chatId: number, text: string) {
      await bot.handleUpdate(textUpdate(chatId, text));
    },
  };
}
