/**
 * A local stand-in for the Telegram Bot API: an HTTP server on 127.0.0.1 that answers the methods the
 * bot uses under `/bot<token>/<method>`, keeps the bot's messages per chat (with edits), serves
 * `getUpdates` with long-poll and offset semantics, and lets a test play customers: type text, press
 * buttons, send stickers, edit messages. Like Telegram it refuses URL buttons pointing at private
 * hosts and edits that change nothing.
 *
 * Used by the tests (through `test/support/bot-api-stub.ts`) and by `npm run demo:telegram`.
 */
import { type IncomingMessage, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";

type Json = Record<string, unknown>;
/** A call the bot made, recorded once answered; `ok` is false when the stub answered with an error. */
export type ApiCall = { method: string; payload: Json; ok: boolean };
export type InlineButton = { text: string; callback_data?: string; url?: string };
/** A message the bot sent, as it looks now (after edits). */
export type BotMessage = { message_id: number; chat_id: string; text: string; buttons: InlineButton[][]; edits: number };
export type Failure = { error_code: number; description: string; retry_after?: number };

const BOT_USER = { id: 7_000_001, is_bot: true, first_name: "TokenGoblin", username: "goblin_test_bot" };

export type BotApiStub = Awaited<ReturnType<typeof startBotApiStub>>;

export async function startBotApiStub(options: { token?: string } = {}) {
  const token = options.token ?? "123456:TEST-token-for-the-stub";
  const calls: ApiCall[] = [];
  const pending: Json[] = [];
  const messages = new Map<string, BotMessage[]>();
  const failures = new Map<string, Failure[]>();
  const callWaiters = new Set<() => void>();
  const pollWaiters = new Set<() => void>();
  let nextUpdateId = 1;
  let nextMessageId = 1;
  let nextCallbackId = 1;
  let webhook: { url: string; secret: string | undefined } | null = null;

  const notifyPolls = () => {
    for (const wake of [...pollWaiters]) wake();
  };
  const record = (call: ApiCall) => {
    calls.push(call);
    for (const wake of [...callWaiters]) wake();
  };
  const chatOf = (id: unknown) => String(id);
  const chatMessages = (chatId: string) => {
    let list = messages.get(chatId);
    if (!list) messages.set(chatId, (list = []));
    return list;
  };
  const keyboard = (markup: unknown): InlineButton[][] =>
    (markup as { inline_keyboard?: InlineButton[][] } | undefined)?.inline_keyboard ?? [];
  const privateUrl = (rows: InlineButton[][]) =>
    rows.flat().find((b) => b.url !== undefined && /^https?:\/\/(localhost|127\.|10\.|192\.168\.)/i.test(b.url));
  const bad = (description: string, error_code = 400): Failure => ({ error_code, description });
  /** Telegram's `language_code` of each customer who has one (see `speaks`). */
  const languageCodes = new Map<number, string>();
  const userOf = (chatId: number) => {
    const languageCode = languageCodes.get(chatId);
    return { id: chatId, is_bot: false, first_name: `Customer ${chatId}`, ...(languageCode ? { language_code: languageCode } : {}) };
  };
  const chatFor = (chatId: number, type = "private") =>
    type === "private" ? { id: chatId, type, first_name: `Customer ${chatId}` } : { id: chatId, type, title: "A group" };
  const asTelegramMessage = (message: BotMessage) => ({
    message_id: message.message_id,
    date: Math.floor(Date.now() / 1000),
    chat: chatFor(Number(message.chat_id)),
    from: BOT_USER,
    text: message.text,
    ...(message.buttons.length > 0 ? { reply_markup: { inline_keyboard: message.buttons } } : {}),
  });

  const methods: Record<string, (payload: Json, request: IncomingMessage) => Promise<unknown> | unknown> = {
    getMe: () => ({ ...BOT_USER, can_join_groups: true, can_read_all_group_messages: false, supports_inline_queries: false }),
    setMyCommands: () => true,
    deleteWebhook: () => {
      webhook = null;
      return true;
    },
    setWebhook: (payload) => {
      webhook = { url: String(payload.url), secret: payload.secret_token === undefined ? undefined : String(payload.secret_token) };
      return true;
    },
    sendChatAction: () => true,
    answerCallbackQuery: () => true,
    sendMessage: (payload) => {
      const buttons = keyboard(payload.reply_markup);
      const refused = privateUrl(buttons);
      if (refused) return bad(`Bad Request: inline keyboard button URL '${refused.url}' is invalid: Wrong HTTP URL`);
      const message: BotMessage = {
        message_id: nextMessageId++,
        chat_id: chatOf(payload.chat_id),
        text: String(payload.text),
        buttons,
        edits: 0,
      };
      chatMessages(message.chat_id).push(message);
      return asTelegramMessage(message);
    },
    editMessageText: (payload) => {
      const message = chatMessages(chatOf(payload.chat_id)).find((m) => m.message_id === Number(payload.message_id));
      if (!message) return bad("Bad Request: message to edit not found");
      const buttons = keyboard(payload.reply_markup);
      if (privateUrl(buttons)) return bad("Bad Request: inline keyboard button URL is invalid: Wrong HTTP URL");
      if (message.text === String(payload.text) && JSON.stringify(message.buttons) === JSON.stringify(buttons)) {
        return bad("Bad Request: message is not modified: specified new message content and reply markup are exactly the same");
      }
      Object.assign(message, { text: String(payload.text), buttons, edits: message.edits + 1 });
      return asTelegramMessage(message);
    },
    editMessageReplyMarkup: (payload) => {
      const message = chatMessages(chatOf(payload.chat_id)).find((m) => m.message_id === Number(payload.message_id));
      if (!message) return bad("Bad Request: message to edit not found");
      const buttons = keyboard(payload.reply_markup);
      if (JSON.stringify(message.buttons) === JSON.stringify(buttons)) return bad("Bad Request: message is not modified");
      Object.assign(message, { buttons, edits: message.edits + 1 });
      return asTelegramMessage(message);
    },
    getUpdates: async (payload, request) => {
      const offset = Number(payload.offset ?? 0);
      const limit = Number(payload.limit ?? 100);
      const timeoutMs = Number(payload.timeout ?? 0) * 1000;
      // Telegram forgets updates below the offset: they were confirmed.
      while (pending.length > 0 && Number(pending[0]!.update_id) < offset) pending.shift();
      if (pending.length === 0 && timeoutMs > 0) {
        await new Promise<void>((resolve) => {
          const done = () => {
            clearTimeout(timer);
            pollWaiters.delete(done);
            request.off("close", done);
            resolve();
          };
          const timer = setTimeout(done, timeoutMs);
          pollWaiters.add(done);
          request.once("close", done);
        });
      }
      return pending.filter((u) => Number(u.update_id) >= offset).slice(0, limit);
    },
  };

  const respond = (res: ServerResponse, status: number, body: unknown) => {
    if (res.destroyed) return;
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      void (async () => {
        const match = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(new URL(req.url ?? "/", "http://stub").pathname);
        if (!match || match[1] !== token) return respond(res, 401, { ok: false, error_code: 401, description: "Unauthorized" });
        const method = match[2]!;
        const raw = Buffer.concat(chunks).toString("utf8");
        const payload = (raw ? JSON.parse(raw) : {}) as Json;
        const failure = failures.get(method)?.shift();
        if (failure) {
          record({ method, payload, ok: false });
          const { retry_after, ...rest } = failure;
          return respond(res, failure.error_code, {
            ok: false,
            ...rest,
            ...(retry_after === undefined ? {} : { parameters: { retry_after } }),
          });
        }
        const handler = methods[method];
        if (!handler) {
          record({ method, payload, ok: false });
          return respond(res, 404, { ok: false, error_code: 404, description: `Not Found: method ${method} is not in the stub` });
        }
        const result = await handler(payload, req);
        if (result && typeof result === "object" && "error_code" in result) {
          record({ method, payload, ok: false });
          const error = result as Failure;
          return respond(res, error.error_code, { ok: false, error_code: error.error_code, description: error.description });
        }
        record({ method, payload, ok: true });
        respond(res, 200, { ok: true, result });
      })();
    });
  });
  let connections = 0;
  server.on("connection", () => connections++);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const push = (update: Json) => {
    const full = { update_id: nextUpdateId++, ...update };
    pending.push(full);
    notifyPolls();
    return full;
  };

  const waitFor = (predicate: (call: ApiCall) => boolean, since = 0, timeoutMs = 5_000) =>
    new Promise<ApiCall>((resolve, reject) => {
      let checked = since;
      const check = () => {
        for (; checked < calls.length; checked++) {
          if (predicate(calls[checked]!)) {
            cleanup();
            resolve(calls[checked]!);
            return;
          }
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(
          new Error(
            `the bot made no matching call within ${timeoutMs} ms; calls since: ${calls
              .slice(since)
              .map((c) => c.method)
              .join(", ")}`,
          ),
        );
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        callWaiters.delete(check);
      };
      callWaiters.add(check);
      check();
    });

  const shows = (chatId: number) => (call: ApiCall) =>
    call.ok && (call.method === "sendMessage" || call.method === "editMessageText") && chatOf(call.payload.chat_id) === String(chatId);

  const stub = {
    url,
    token,
    bot: BOT_USER,
    calls,
    /** The webhook the bot registered, if any. */
    webhook: () => webhook,
    /** Connections the bot opened to the stand-in so far (each a TLS handshake with Telegram's servers). */
    connections: () => connections,
    /** Index of the next call; pass it to `waitFor` to ignore earlier calls. */
    mark: () => calls.length,
    waitFor,
    /** Makes the next `times` calls of a method fail like Telegram would. */
    failNext(method: string, failure: Failure, times = 1) {
      failures.set(method, [...(failures.get(method) ?? []), ...Array.from({ length: times }, () => failure)]);
    },
    /** The bot's messages in a chat, oldest first, as they look after edits. */
    messages: (chatId: number) => [...chatMessages(String(chatId))],
    lastMessage: (chatId: number) => chatMessages(String(chatId)).at(-1),
    /** Calls to a method (optionally for one chat). */
    callsOf: (method: string, chatId?: number) =>
      calls.filter((c) => c.method === method && (chatId === undefined || chatOf(c.payload.chat_id) === String(chatId))),
    /** From now on, updates from this customer carry Telegram's `language_code` (their app's language). */
    speaks(chatId: number, languageCode: string) {
      languageCodes.set(chatId, languageCode);
    },
    /** A customer types a message; commands get their bot_command entity like in real Telegram. */
    text(chatId: number, text: string, extra: Json = {}) {
      const command = /^\/\S+/.exec(text);
      return push({
        message: {
          message_id: nextMessageId++,
          date: Math.floor(Date.now() / 1000),
          chat: chatFor(chatId, typeof extra.chatType === "string" ? extra.chatType : "private"),
          from: userOf(typeof extra.fromId === "number" ? extra.fromId : chatId),
          text,
          ...(command ? { entities: [{ type: "bot_command", offset: 0, length: command[0].length }] } : {}),
        },
      });
    },
    /** A customer presses an inline button of one of the bot's messages. */
    press(chatId: number, message: BotMessage, data: string) {
      const id = String(nextCallbackId++);
      push({ callback_query: { id, from: userOf(chatId), chat_instance: `ci${chatId}`, message: asTelegramMessage(message), data } });
      return id;
    },
    sticker(chatId: number) {
      return push({
        message: {
          message_id: nextMessageId++,
          date: Math.floor(Date.now() / 1000),
          chat: chatFor(chatId),
          from: userOf(chatId),
          sticker: {
            file_id: "sticker-1",
            file_unique_id: "s1",
            type: "regular",
            width: 512,
            height: 512,
            is_animated: false,
            is_video: false,
          },
        },
      });
    },
    editedText(chatId: number, messageId: number, text: string) {
      const date = Math.floor(Date.now() / 1000);
      return push({ edited_message: { message_id: messageId, date, edit_date: date, chat: chatFor(chatId), from: userOf(chatId), text } });
    },
    /** Waits for the next message the bot successfully shows in a chat (sent or edited) and returns its text. */
    async nextShown(chatId: number, since: number, timeoutMs?: number) {
      const call = await waitFor(shows(chatId), since, timeoutMs);
      return String(call.payload.text);
    },
    /** An update as Telegram would post it to a webhook. */
    textUpdate(chatId: number, text: string) {
      return {
        update_id: nextUpdateId++,
        message: { message_id: nextMessageId++, date: Math.floor(Date.now() / 1000), chat: chatFor(chatId), from: userOf(chatId), text },
      };
    },
    async close() {
      notifyPolls();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
  return stub;
}

/** The buttons of a message, flattened. */
export const buttonsOf = (message: BotMessage | undefined) => (message ? message.buttons.flat() : []);
