/** Fake Telegram inputs shared by the benchmarks: who the bot is, and a customer's text update. */
import type { Update, UserFromGetMe } from "grammy/types";

/** The bot's identity, so `bot.init()` (a `getMe` call) is never needed. */
export const BOT_INFO = {
  id: 42,
  is_bot: true,
  first_name: "Bench",
  username: "bench_bot",
  can_join_groups: false,
  can_read_all_group_messages: false,
  supports_inline_queries: false,
  can_connect_to_business: false,
  has_main_web_app: false,
} as UserFromGetMe;

let updateId = 0;

/** A private-chat text message from customer `chatId`, with a fresh update id. */
export function textUpdate(chatId: number, text: string): Update {
  updateId += 1;
  const user = { id: chatId, is_bot: false, first_name: "C" };
  return {
    update_id: updateId,
    message: {
      message_id: updateId,
      date: Math.floor(Date.now() / 1000),
      chat: { id: chatId, type: "private", first_name: "C" },
      from: user,
      text,
    },
  };
}
