/**
 * The grammY wiring, without any lifecycle: commands, text, inline buttons (the cart handler),
 * non-text updates, rate limiting and error handling, all mapped onto the engine. Polling and webhook
 * modes live in `run.ts`; tests and benchmarks drive the returned bot with `bot.handleUpdate`.
 */
import { Agent as HttpAgent } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import { isStarsProvider } from "../payments/stars.ts";
import { starsPaymentsComposer } from "./stars.ts";
import { autoRetry } from "@grammyjs/auto-retry";
import { retryServerErrors } from "./retry.ts";
import { createBoundedMap } from "../bounded.ts";
import { limit } from "@grammyjs/ratelimiter";
import { Bot, type BotError, Composer, type Context, GrammyError, type Transformer } from "grammy";
import type { UserFromGetMe } from "grammy/types";
import type { App } from "../app.ts";
import { ChatBusyError, UpdateAppliedElsewhereError } from "../engine/index.ts";
import { StoreUnavailableError } from "../store/index.ts";
import { type Timer, describeFailure, safeTimeout } from "../failures.ts";
import { decodeButton } from "./buttons.ts";
import { type EngineReply, secretOf } from "../engine/reply.ts";
import type { Notifier } from "../engine/events.ts";
import type { LanguagePreferences } from "../i18n/index.ts";
import type { Logger } from "../log.ts";
import { REPLY_SECONDS } from "../metrics.ts";
import { CUSTOMER_COMMANDS, answerCommand } from "../customer-commands.ts";
import { type AdminOptions, createAdmin } from "./admin.ts";
import { createChatLanguages, languageCommands } from "./language.ts";
import { rateLimitCounters } from "./rate-limit.ts";
import { type TelegramMessage, type TelegramRenderer, createTelegramRenderer, withoutUrlButtons } from "./render.ts";

export type BotOptions = {
  /** Defaults to `app.config.telegram.token`. */
  token?: string;
  /** Skips the `getMe` call at start-up (tests, benchmarks). */
  botInfo?: UserFromGetMe;
  /** Extra API transformers, applied after auto-retry (tests record or short-circuit calls). */
  transformers?: Transformer[];
  /**
   * Per-user message budget; `false` turns the limiter off (benchmarks). `clock` (default `Date.now`)
   * times the windows; `maxUsers` bounds how many users are counted at once.
   */
  rateLimit?: { limit: number; timeFrameMs: number; clock?: () => number; maxUsers?: number } | false;
  /** Auto-retry for 429 and 5xx answers; `false` turns it off. */
  retry?: { maxRetryAttempts: number; maxDelaySeconds: number } | false;
  /** Clock for "valid for N minutes" in messages. */
  now?: () => number;
  /** Arms the typing indicator and a slow button's early answer; Node's timers by default (tests pass a clock's). */
  timer?: Timer;
  /** Admin commands (broadcast pace, clock). */
  admin?: AdminOptions;
};

/**
 * Idle Bot API connections kept for the next calls. A burst of replies opens one connection per call in
 * flight; grammY's default agent keeps 256 of them, so after a burst of 500 it closed half, to open
 * them again (each a TLS handshake with Telegram's servers) at the next burst.
 */
const IDLE_BOT_API_CONNECTIONS = 512;

/**
 * The connections Bot API calls go over: kept alive, as many as calls in flight. Not capped: with a
 * cap, a call queued for a busy connection can fail as "Premature close" once it gets one, when the
 * server answers chunked (node-fetch 2, node-fetch/node-fetch#1767).
 */
function botApiAgent(apiRoot: string): HttpAgent | undefined {
  const pool = { keepAlive: true, maxFreeSockets: IDLE_BOT_API_CONNECTIONS };
  if (apiRoot.startsWith("https:")) return new HttpsAgent(pool);
  if (apiRoot.startsWith("http:")) return new HttpAgent(pool);
  return undefined;
}

/** How long one Bot API call may take before it fails (see createBot). */
const BOT_API_TIMEOUT_SECONDS = 60;

/** After this long without an engine answer, a button press is acknowledged without a toast. */
const SLOW_BUTTON_MS = 2_500;
/** A text answer that waits on the model or a provider longer than this shows "typing…" meanwhile. */
const TYPING_AFTER_MS = 300;
/**
 * Telegram shows "typing…" for 5 seconds (or until the next message): a longer wait sends it again
 * this often, at most {@link TYPING_REPEATS} times (a wait longer than that is stuck, not slow).
 */
const TYPING_EVERY_MS = 4_500;
const TYPING_REPEATS = 26;

const isNotModified = (error: unknown) => error instanceof GrammyError && /message is not modified/i.test(error.description);
/** Telegram refuses URL buttons whose address it does not accept (private hosts, bad schemes). */
const isBadButtonUrl = (error: unknown) =>
  error instanceof GrammyError && error.error_code === 400 && /url|button/i.test(error.description);

/** Sends a message; if Telegram refuses its URL buttons, sends it again without them. */
export async function sendMessage(api: Bot["api"], chatId: number | string, message: TelegramMessage): Promise<void> {
  try {
    await api.sendMessage(chatId, message.text, message.options);
  } catch (error) {
    if (!isBadButtonUrl(error)) throw error;
    const fallback = withoutUrlButtons(message);
    await api.sendMessage(chatId, fallback.text, fallback.options);
  }
}

/**
 * The one renderer configuration of the Telegram front end (replies to updates and notifications
 * alike): the shop's catalog, its words and its FAQ; `now` for "valid for N minutes".
 */
export function shopRenderer(app: App, now?: () => number): TelegramRenderer {
  return createTelegramRenderer(app.config.catalog, {
    localization: app.localization,
    faq: app.faq,
    promos: app.promos.known,
    ...(now ? { now } : {}),
  });
}

/**
 * Tells customers about things that happen without them writing (payment confirmed, delivered,
 * expired), in the chat's language. Throws when the message could not be sent, so the engine keeps an
 * undelivered secret for the customer's next status request.
 */
export function createNotifier(bot: Bot, renderer: TelegramRenderer, languages?: LanguagePreferences): Notifier {
  return async (chatId, reply) => {
    await sendMessage(bot.api, chatId, renderer.reply(reply, languages ? await languages.of(chatId) : undefined));
  };
}

const quiet = (log: Logger, what: string) => (error: unknown) => {
  log.debug(`telegram ${what} failed; carrying on`, { err: error });
};

/**
 * The one place an update's failure ends up: a log line with what failed and where, never the
 * update's context (its API object holds the bot token) and never the token inside a message or URL.
 * A chat held by another instance is expected under load, hence a warning; the customer was already
 * told to try again by the middleware in {@link createBot}.
 */
export function updateFailureHandler(log: Logger, token: string): (error: BotError) => void {
  return (failure) => {
    const update = failure.ctx?.update;
    const fields = {
      updateId: update?.update_id,
      chatId: failure.ctx?.chat?.id,
      ...describeFailure(failure.error, [token]),
    };
    if (failure.error instanceof UpdateAppliedElsewhereError) {
      log.info("telegram update applied and answered by another instance meanwhile; not answered again", fields);
    } else if (failure.error instanceof ChatBusyError || failure.error instanceof StoreUnavailableError) {
      log.warn("telegram update not handled now; it stays in the chat's inbox and is tried again", fields);
    } else log.error("telegram update failed", fields);
  };
}

/** In groups the bot only answers commands, mentions of it and replies to its own messages. */
function addressedToBot(ctx: Context): boolean {
  const chat = ctx.chat;
  if (!chat || chat.type === "private") return true;
  const message = ctx.message;
  if (!message) return ctx.callbackQuery !== undefined;
  if (message.reply_to_message?.from?.id === ctx.me.id) return true;
  const text = message.text ?? message.caption ?? "";
  if (text.startsWith("/")) return true;
  return text.toLowerCase().includes(`@${ctx.me.username.toLowerCase()}`);
}

/**
 * A command (a message starting with one) or a button press: the only updates the command and button
 * handlers answer. A bot_command entity at the start is what grammY's `command` filter looks for.
 */
function commandOrPress(ctx: Context): boolean {
  if (ctx.callbackQuery !== undefined) return true;
  const message = ctx.message ?? ctx.channelPost;
  return message?.entities?.some((entity) => entity.type === "bot_command" && entity.offset === 0) ?? false;
}

/**
 * Runs `composer` for the updates `when` accepts; every other update passes it by at once. Like
 * `Composer.filter`, without its cost: a grammY filter (each `command`, `on`, `callbackQuery`) builds
 * a composer for every update it looks at, a dozen of them for each customer's text otherwise.
 */
function only(when: (ctx: Context) => boolean, composer: Composer<Context>) {
  return (ctx: Context, next: () => Promise<void>) => (when(ctx) ? composer.middleware()(ctx, next) : next());
}

/** Builds the bot for an app. Nothing is fetched or sent until an update arrives. */
export function createBot(app: App, options: BotOptions = {}): Bot {
  const token = options.token ?? app.config.telegram.token;
  if (!token) throw new Error("TELEGRAM_BOT_TOKEN is not set; the Telegram front end needs a bot token from @BotFather");
  const log = app.log;
  const engine = app.engine;
  const renderer = shopRenderer(app, options.now);
  const apiRoot = app.config.telegram.apiRoot;
  const agent = botApiAgent(apiRoot);
  const bot = new Bot(token, {
    // A Bot API call that hangs gives up after a minute instead of grammY's 500 s: the chat's inbox
    // (whose lease is renewed while its drain waits) is held up no longer than that. Above the long
    // poll's 30 s, which is one call too.
    client: { apiRoot, timeoutSeconds: BOT_API_TIMEOUT_SECONDS, ...(agent ? { baseFetchConfig: { agent } } : {}) },
    ...(options.botInfo ? { botInfo: options.botInfo } : {}),
  });

  if (options.retry !== false) {
    // Network failures are not retried here: auto-retry would wait for them indefinitely and hold up
    // the chat; they surface to bot.catch (or the notifier) instead.
    bot.api.config.use(
      autoRetry({ maxRetryAttempts: 3, maxDelaySeconds: 30, ...options.retry, rethrowHttpErrors: true, rethrowInternalServerErrors: true }),
    );
    // 5xx: a few quick attempts, and no pause after the last (see retry.ts).
    bot.api.config.use(retryServerErrors());
  }
  for (const transformer of options.transformers ?? []) bot.api.config.use(transformer);

  const chatOf = (ctx: Context) => String(ctx.chat?.id ?? ctx.from?.id ?? "");
  /**
   * The update a handler applies (committed with the step, so a redelivered update is applied once)
   * and, in a private chat, who wrote it: the owner's dashboard lists customers by these names.
   */
  const applied = (ctx: Context) => {
    const from = ctx.chat?.type === "private" ? ctx.from : undefined;
    return {
      updateId: ctx.update.update_id,
      ...(from ? { profile: { username: from.username ?? null, firstName: from.first_name || null } } : {}),
    };
  };
  const languages = createChatLanguages(app, chatOf);
  const languageOf = languages.of;
  const words = languages.words;
  /** Goods in a reply are erased from the ledger only once Telegram accepted the message carrying them. */
  const delivered = async (ctx: Context, answer: EngineReply) => {
    const goods = secretOf(answer);
    if (goods) await engine.secretShown(goods.orderId, chatOf(ctx));
  };
  const reply = async (ctx: Context, answer: EngineReply) => {
    await sendMessage(ctx.api, chatOf(ctx), renderer.reply(answer, await languageOf(ctx)));
    await delivered(ctx, answer);
  };
  /** The chat's open order, to show beside an answer that is not about it. */
  const currentOrder = async (chatId: string) => {
    const current = await engine.view(chatId);
    return current.kind === "order" ? current.order : null;
  };

  // One failing update must never stop the bot: log it and keep serving everyone else. The inbox
  // (inbox.ts) hands every update's failure here, as grammY's own polling loop would.
  bot.catch(updateFailureHandler(log, token));

  // Telegram always sends a message with its chat; one without is malformed (or forged): nobody to
  // answer, and every handler below may assume `ctx.chat` for a message.
  bot.use(async (ctx, next) => {
    if (ctx.msg !== undefined && ctx.chat === undefined) {
      log.warn("telegram update has a message without a chat; ignored", { updateId: ctx.update.update_id });
      return;
    }
    await next();
  });

  // Stars payments arrive as bot updates: pre-checkout queries must be answered within 10 s, so they
  // come before rate limiting (and, having no chat, they skip the chat inboxes: see inbox.ts).
  if (isStarsProvider(app.payments)) bot.use(starsPaymentsComposer(app));

  if (options.rateLimit !== false) {
    const budget = { limit: 8, timeFrameMs: 4_000, ...options.rateLimit };
    // Both per-user maps forget a user one time frame after their last message, and hold a bounded number.
    const bounds = {
      timeFrameMs: budget.timeFrameMs,
      maxUsers: budget.maxUsers ?? 10_000,
      ...(budget.clock ? { clock: budget.clock } : {}),
    };
    // Every excess update reaches us (so every button press is answered), but a flooding customer
    // is told to slow down only once per time frame: replying to each message would flood them back.
    const toldRecently = createBoundedMap<number, true>({
      maxEntries: bounds.maxUsers,
      ttlMs: bounds.timeFrameMs,
      ...(budget.clock ? { clock: budget.clock } : {}),
    });
    bot.use(
      limit({
        limit: budget.limit,
        timeFrame: budget.timeFrameMs,
        alwaysReply: true,
        storageClient: rateLimitCounters(bounds),
        keyGenerator: (ctx: Context) => (ctx.from ? String(ctx.from.id) : undefined),
        onLimitExceeded: (ctx: Context) => {
          if (ctx.callbackQuery) {
            void words(ctx, "toast-rate-limited")
              .then((text) => ctx.answerCallbackQuery({ text }))
              .catch(quiet(log, "answerCallbackQuery"));
            return;
          }
          const user = ctx.from?.id;
          if (!ctx.chat || user === undefined || toldRecently.has(user)) return;
          toldRecently.set(user, true);
          void reply(ctx, { kind: "rate_limited" }).catch(quiet(log, "rate limit notice"));
        },
      }),
    );
  }
  const addressed = new Composer<Context>();
  bot.use(only(addressedToBot, addressed));
  // Updates whose customer was told "busy": an update that stays in its inbox is tried again at every
  // sweep while the chat stays busy, and its customer hears it once, not at every try.
  const toldBusy = createBoundedMap<number, true>({ maxEntries: 10_000 });
  // When the engine or the store fails, the customer still hears something and a button's spinner
  // stops; the error goes on to bot.catch. Nothing is lost: a failed step persists nothing.
  addressed.use(async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      // Another instance applied this update and answered it (this one stalled past its lease): say nothing.
      if (error instanceof UpdateAppliedElsewhereError) throw error;
      if (ctx.callbackQuery) await ctx.answerCallbackQuery().catch(quiet(log, "answerCallbackQuery"));
      // The store or the chat is not available for a moment: the update waits in its inbox and is
      // answered when it is tried again, so the customer is told just that.
      const passing = error instanceof StoreUnavailableError || error instanceof ChatBusyError;
      const toldBefore = passing && toldBusy.has(ctx.update.update_id);
      if (passing) toldBusy.set(ctx.update.update_id, true);
      if (ctx.chat && !toldBefore) await reply(ctx, { kind: passing ? "busy" : "unavailable" }).catch(quiet(log, "unavailable notice"));
      throw error;
    }
  });
  // Every chat's language is settled (and remembered on first contact) before anything answers it.
  addressed.use(async (ctx, next) => {
    await languageOf(ctx);
    await next();
  });
  // Admin chats first; in every other chat admin commands fall through to the customer handlers.
  addressed.use(createAdmin(app, options.admin));

  // Commands and button presses; a customer's text or sticker skips them all.
  const actions = new Composer<Context>();
  addressed.use(only(commandOrPress, actions));
  // The same answers as the console's (customer-commands.ts); /language is languageCommands below.
  for (const command of CUSTOMER_COMMANDS) {
    if (command === "language") continue;
    actions.command(command, async (ctx) => reply(ctx, await answerCommand(engine, chatOf(ctx), command, ctx.match.trim(), applied(ctx))));
  }

  actions.use(languageCommands(app, renderer, languages, (ctx, message) => sendMessage(ctx.api, chatOf(ctx), message)));

  actions.on("callback_query:data", async (ctx) => {
    let answered = false;
    const answer = async (text?: string) => {
      if (answered) return;
      answered = true;
      await ctx.answerCallbackQuery(text ? { text } : {}).catch(quiet(log, "answerCallbackQuery"));
    };
    const action = decodeButton(ctx.callbackQuery.data);
    if (!action || !ctx.chat) {
      await answer(await words(ctx, "toast-dead-button"));
      return;
    }
    // Buttons never go through understanding: the button says exactly what the customer wants.
    // Pricing or creating a payment can be slow; stop the button's spinner rather than leave it hanging.
    const disarmSlow = safeTimeout(SLOW_BUTTON_MS, answer, quiet(log, "answerCallbackQuery"), options.timer);
    let result: EngineReply;
    try {
      result = await engine.handleButton(chatOf(ctx), action, applied(ctx));
    } finally {
      disarmSlow();
    }
    const message = ctx.callbackQuery.message;
    if (result.kind === "stale_button") {
      await answer(await words(ctx, result.outdated ? "toast-outdated-button" : "toast-stale-button"));
      // Take the dead buttons off the old message, then show the current order below it.
      if (message) await ctx.editMessageReplyMarkup({ reply_markup: { inline_keyboard: [] } }).catch(quiet(log, "editMessageReplyMarkup"));
      await reply(ctx, result);
      return;
    }
    await answer();
    const rendered = renderer.reply(result, await languageOf(ctx));
    // A delivered code gets a fresh message so it is not lost by a later edit of the order message.
    const inPlace = message !== undefined && !(result.kind === "order" && result.secret);
    if (inPlace) {
      try {
        await ctx.api.editMessageText(message.chat.id, message.message_id, rendered.text, rendered.options);
        return;
      } catch (error) {
        if (isNotModified(error)) return;
        log.debug("could not edit the order message; sending a new one", { err: error });
      }
    }
    await sendMessage(ctx.api, chatOf(ctx), rendered);
    await delivered(ctx, result);
  });
  actions.on("callback_query", async (ctx) => {
    await ctx.answerCallbackQuery().catch(quiet(log, "answerCallbackQuery"));
  });

  let mention: RegExp | undefined; // built once, on the first group message (needs the bot's username)
  addressed.on("message:text", async (ctx) => {
    const received = performance.now();
    const text =
      ctx.chat.type === "private"
        ? ctx.message.text
        : ctx.message.text.replace((mention ??= new RegExp(`@${ctx.me.username}\\b`, "gi")), "").trim();
    // A typing indicator only while the answer waits on something slow (the model, a provider) for
    // more than a moment: a busy shop (hundreds of chats at once) does not spend its Bot API calls on
    // indicators for answers that only wait their turn. Armed for each slow part and cleared when it
    // ends; whatever it throws goes to the log, never to the process (an armed timer that threw once
    // ended the process, issue 11).
    let disarmTyping: (() => void) | undefined;
    const showTyping = () => {
      disarmTyping?.();
      let cancel = () => {};
      const arm = (ms: number, repeats: number) => {
        const send = () => {
          if (repeats > 0) arm(TYPING_EVERY_MS, repeats - 1);
          return ctx.replyWithChatAction("typing");
        };
        cancel = safeTimeout(ms, send, quiet(log, "sendChatAction"), options.timer);
      };
      arm(TYPING_AFTER_MS, TYPING_REPEATS);
      const disarm = () => cancel();
      disarmTyping = disarm;
      return () => {
        disarm();
        if (disarmTyping === disarm) disarmTyping = undefined;
      };
    };
    let answer: EngineReply;
    try {
      answer = await engine.handleText(chatOf(ctx), text, { ...applied(ctx), onSlowAnswer: showTyping });
    } finally {
      disarmTyping?.();
    }
    await reply(ctx, answer);
    app.metrics.observe(REPLY_SECONDS, (performance.now() - received) / 1000, { channel: "telegram" });
  });
  addressed.on("message", async (ctx) => {
    // Stickers, photos, voice, documents…: say what we can read, and show where the order stands.
    await reply(ctx, { kind: "unsupported_message", order: await currentOrder(chatOf(ctx)) });
  });
  bot.on("edited_message", async (ctx) => {
    if (ctx.chat.type !== "private") return;
    await ctx.api.sendMessage(ctx.chat.id, await words(ctx, "edits-not-processed"));
  });

  return bot;
}
