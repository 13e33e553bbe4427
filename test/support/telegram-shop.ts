/**
 * The Telegram shop of the e2e tests: the real app and bot (grammY, our getUpdates loop or webhook
 * route, the chat inboxes) against the Bot API stand-in (`scripts/bot-api-stub.ts`), with customers
 * who type, press buttons and pay, and what the bot shows them. Waiting is on the stand-in's socket:
 * each helper returns once the bot made the call it waits for.
 *
 * Call {@link telegramShops} once at the top of a test file: it closes every shop and stand-in it
 * opened after each test.
 */
import type { UserFromGetMe } from "grammy/types";
import { afterEach, expect } from "vitest";
import { type App, type AppOverrides, createApp } from "../../src/app.ts";
import { loadConfig } from "../../src/config.ts";
import { silentLogger } from "../../src/log.ts";
import { type TelegramHandle, type TelegramRunOptions, startTelegram } from "../../src/telegram/index.ts";
import { type BotApiStub, type BotMessage, buttonsOf, startBotApiStub } from "./bot-api-stub.ts";

export { type BotApiStub, type BotMessage, buttonsOf } from "./bot-api-stub.ts";

/** The webhook every webhook-mode shop registers, and its secret. */
/** Who the bot is, for a bot driven offline (`createBot(app, { botInfo: TEST_BOT_INFO })`: no getMe call). */
export const TEST_BOT_INFO: UserFromGetMe = {
  id: 1,
  is_bot: true,
  first_name: "Goblin",
  username: "goblin_bot",
  can_join_groups: true,
  can_read_all_group_messages: false,
  supports_inline_queries: false,
  can_connect_to_business: false,
  has_main_web_app: false,
  has_topics_enabled: false,
  allows_users_to_create_topics: false,
  can_manage_bots: false,
  supports_join_request_queries: false,
};

export const WEBHOOK = { path: "/telegram/hook", url: "https://shop.example/telegram/hook", secret: "s3cret-value" };

export type TelegramShopOptions = {
  /** Environment on top of an in-memory store, `PUBLIC_URL=https://shop.example` and the stand-in's token and root. */
  env?: Record<string, string>;
  /** `true`: updates come by webhook ({@link WEBHOOK}) instead of long polling. */
  webhook?: boolean;
  /** The bot's run options; long polls last 1 s so a stopping bot is not held up. */
  run?: TelegramRunOptions;
  /** App overrides; the log is silent unless given. */
  overrides?: AppOverrides;
  /** A stand-in another shop already talks to (a restart, a second instance); a fresh one otherwise. */
  api?: BotApiStub;
};

export type TelegramShop = {
  api: BotApiStub;
  app: App;
  telegram: TelegramHandle;
  /** A customer types `text`; resolves with the next message the bot shows in that chat (sent or edited). */
  say(chatId: number, text: string): Promise<string>;
  /**
   * A customer presses the button labelled like `label` on `message` (the chat's last by default);
   * resolves with what the bot shows next and the toast it answered the press with.
   */
  press(chatId: number, label: RegExp, message?: BotMessage): Promise<{ shown: string; toast: string | undefined }>;
  /** Pays the sandbox invoice whose link `shown` carries, as the customer's browser would; returns its payment id. */
  pay(shown: string): Promise<string>;
  /** Posts an update to the webhook as Telegram does (webhook mode); the HTTP status and how long the answer took. */
  post(update: object, secret?: string): Promise<{ status: number; ms: number }>;
  /** Stops the bot and closes the app (waiting for updates in flight). Safe to call twice. */
  close(): Promise<void>;
};

/** The sandbox payment id in a message that shows a pay link. */
export const paymentIdIn = (shown: string) => /\/pay\/sandbox\/([A-Za-z0-9_-]+)/.exec(shown)?.[1];

export function telegramShops() {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    while (cleanups.length > 0) await cleanups.pop()!();
  });

  /** A fresh Bot API stand-in, closed after the test. */
  const stub = async (): Promise<BotApiStub> => {
    const api = await startBotApiStub();
    cleanups.push(() => api.close());
    return api;
  };

  const open = async (options: TelegramShopOptions = {}): Promise<TelegramShop> => {
    const api = options.api ?? (await stub());
    const config = loadConfig({
      STORE_URL: "memory://",
      PUBLIC_URL: "https://shop.example",
      TELEGRAM_BOT_TOKEN: api.token,
      TELEGRAM_API_ROOT: api.url,
      ...(options.webhook ? { TELEGRAM_WEBHOOK_URL: WEBHOOK.url, TELEGRAM_WEBHOOK_SECRET: WEBHOOK.secret } : {}),
      ...options.env,
    });
    const app = await createApp(config, { listen: false, log: silentLogger, ...options.overrides });
    let telegram: TelegramHandle;
    try {
      telegram = await startTelegram(app, { pollTimeoutSeconds: 1, ...options.run });
    } catch (error) {
      await app.close();
      throw error;
    }
    let closing: Promise<void> | null = null;
    const close = () =>
      (closing ??= (async () => {
        await telegram.stop();
        await app.close();
      })());
    cleanups.push(close);

    const post = async (update: object, secret = WEBHOOK.secret) => {
      const started = performance.now();
      const response = await app.http.dispatch({
        method: "POST",
        path: telegram.webhookPath ?? WEBHOOK.path,
        headers: { "x-telegram-bot-api-secret-token": secret },
        rawBody: Buffer.from(JSON.stringify(update)),
      });
      return { status: response.status, ms: performance.now() - started };
    };

    return {
      api,
      app,
      telegram,
      close,
      post,
      async say(chatId, text) {
        const since = api.mark();
        if (telegram.mode === "webhook") expect((await post(api.textUpdate(chatId, text))).status).toBe(200);
        else api.text(chatId, text);
        return api.nextShown(chatId, since);
      },
      async press(chatId, label, message = api.lastMessage(chatId)) {
        const target = buttonsOf(message).find((b) => label.test(b.text) && b.callback_data);
        expect(target, `no button ${label} in ${JSON.stringify(message?.buttons)}`).toBeDefined();
        const since = api.mark();
        const callbackId = api.press(chatId, message!, target!.callback_data!);
        const shown = await api.nextShown(chatId, since);
        const answer = await api.waitFor((c) => c.method === "answerCallbackQuery" && c.payload.callback_query_id === callbackId, since);
        return { shown, toast: answer.payload.text as string | undefined };
      },
      async pay(shown) {
        const paymentId = paymentIdIn(shown);
        expect(paymentId, `no pay link in: ${shown}`).toBeDefined();
        const response = await app.http.dispatch({
          method: "POST",
          path: `/pay/sandbox/${paymentId}`,
          headers: {},
          rawBody: Buffer.alloc(0),
        });
        expect(response.status, String(response.body)).toBe(200);
        return paymentId!;
      },
    };
  };

  return {
    /** Opens a shop (and its stand-in, unless given); both are closed after the test. */
    open,
    stub,
    /** Runs `cleanup` after the test, before the shops opened earlier are closed. */
    onCleanup(cleanup: () => Promise<void> | void) {
      cleanups.push(cleanup);
    },
  };
}
