/**
 * The bot's lifecycle: long polling, or a webhook route on the app's HTTP server when
 * `TELEGRAM_WEBHOOK_URL` is set. Either way every update goes through the chat inboxes
 * (`inbox.ts`): it is kept in the store before Telegram hears it arrived — the webhook answers 200
 * only then (503 otherwise, so Telegram sends it again), and polling confirms an update (the next
 * `getUpdates` offset) only then. `stop()` stops taking updates and waits for those in flight.
 */
import { timingSafeEqual } from "node:crypto";
import { type Bot, GrammyError, HttpError } from "grammy";
import type { Update } from "grammy/types";
import type { App } from "../app.ts";
import { describeFailure } from "../failures.ts";
import { StartupError, type StartupStep, withinStartupLimit } from "../startup.ts";
import { registerAdminCommands, watchForAdminAlerts } from "./admin.ts";
import { type BotOptions, createBot, createNotifier, shopRenderer } from "./bot.ts";
import { createInbox } from "./inbox.ts";
import { registerCommandMenus } from "./language.ts";

export type TelegramRunOptions = {
  bot?: BotOptions;
  /** Long-poll wait per getUpdates call, in seconds (Telegram allows up to 50). */
  pollTimeoutSeconds?: number;
  /** The chat lease while working off an inbox (the engine's, by default 10 s). */
  leaseMs?: number;
};

/** A running bot. */
export type TelegramHandle = {
  mode: "polling" | "webhook";
  bot: Bot;
  /** The HTTP path Telegram posts updates to (webhook mode). */
  webhookPath: string | null;
  /** Resolves when polling ended by itself (e.g. another instance took over, token revoked). */
  ended: Promise<void>;
  /** Stops taking updates and waits for those in flight. Safe to call twice. */
  stop(): Promise<void>;
};

const SECRET_HEADER = "x-telegram-bot-api-secret-token";
/** Pause after a failed getUpdates before the next, growing to a minute. */
const POLL_RETRY_MS = { first: 500, max: 60_000 };

/** The route Telegram posts to: the path of the webhook URL, or `/telegram/webhook` for a bare host. */
export function webhookPathOf(webhookUrl: string): string {
  const path = new URL(webhookUrl).pathname.replace(/\/+$/, "");
  return path === "" ? "/telegram/webhook" : path;
}

/** Compares the webhook's secret header with ours in constant time. */
function secretMatches(given: string | string[] | undefined, expected: string): boolean {
  const value = Array.isArray(given) ? given[0] : given;
  if (value === undefined) return false;
  const [a, b] = [Buffer.from(value), Buffer.from(expected)];
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Starts the bot for an app in the mode its configuration asks for. */
export async function startTelegram(app: App, options: TelegramRunOptions = {}): Promise<TelegramHandle> {
  const { log, config } = app;
  const bot = createBot(app, options.bot);
  const secrets = [bot.token];
  const inbox = createInbox(app, bot, { leaseMs: options.leaseMs ?? 10_000, secrets, oneMoment: true });
  const stopPendingHook = app.engine.onPendingUpdates((chatId) => inbox.drain(chatId));

  // Every Bot API call of the start-up carries the deadline of its step (grammY's own limit is 500 s),
  // so an unreachable or silent Bot API ends start-up with one line instead of hanging it (issue 18).
  let startupDeadline: AbortSignal | undefined;
  bot.api.config.use((prev, method, payload, signal) => prev(method, payload, signal ?? (startupDeadline as typeof signal)));
  const step = async <T>(what: Pick<StartupStep<T>, "attempt"> & Partial<StartupStep<T>>) => {
    try {
      return await withinStartupLimit<T>({
        variable: "TELEGRAM_API_ROOT",
        target: `the Bot API at ${config.telegram.apiRoot}`,
        hint: "check TELEGRAM_API_ROOT (unset for Telegram's own) and this host's network",
        limitMs: config.startupTimeoutMs,
        retry: retriableBotApiFailure,
        secrets,
        ...what,
        attempt: (signal) => {
          startupDeadline = signal;
          return what.attempt(signal);
        },
      });
    } finally {
      startupDeadline = undefined;
    }
  };

  // Fails loudly on a bad token or unreachable API: nothing else can work without it.
  if (!bot.isInited()) {
    bot.botInfo = await step({ attempt: () => bot.api.getMe(), refusal: (error) => tokenRefusal(error, config.telegram.apiRoot) });
  }
  app.engine.setNotifier(createNotifier(bot, shopRenderer(app, options.bot?.now), app.languages));
  // Best effort (a failure leaves a menu in another language), but within the limit all the same.
  startupDeadline = AbortSignal.timeout(config.startupTimeoutMs);
  await registerCommandMenus(bot.api, app.localization, log);
  await registerAdminCommands(app, bot.api);
  startupDeadline = undefined;
  const stopAdminAlerts = watchForAdminAlerts(app, bot.api);
  const finish = async () => {
    stopPendingHook();
    stopAdminAlerts();
    await inbox.stop();
  };

  const webhookUrl = config.telegram.webhookUrl;
  if (webhookUrl) {
    const path = webhookPathOf(webhookUrl);
    const secret = config.telegram.webhookSecret ?? "";
    let accepting = true;
    app.http.route("POST", path, async (request) => {
      if (!accepting) return { status: 503, body: "shutting down\n" };
      if (!secretMatches(request.headers[SECRET_HEADER], secret)) return { status: 401, body: "secret token is missing or wrong\n" };
      let update: Update;
      try {
        update = JSON.parse(request.rawBody.toString("utf8")) as Update;
        if (typeof update.update_id !== "number") throw new Error("no update_id");
      } catch {
        return { status: 400, body: "bad update\n" };
      }
      try {
        await inbox.accept(update);
      } catch (error) {
        // Not kept: Telegram must send it again.
        log.warn("telegram update not kept; asking Telegram to send it again", {
          updateId: update.update_id,
          ...describeFailure(error, secrets),
        });
        return { status: 503, body: "retry later\n" };
      }
      return { status: 200, body: "" };
    });
    await step({
      attempt: () => bot.api.setWebhook(webhookUrl, { secret_token: secret, drop_pending_updates: false }),
      refusal: (error) =>
        tokenRefusal(error, config.telegram.apiRoot) ??
        (error instanceof GrammyError && error.error_code === 400
          ? new StartupError(
              "TELEGRAM_WEBHOOK_URL",
              `Telegram refused the webhook (${error.description}); it must be a public https URL that reaches this server`,
            )
          : null),
    });
    log.info("telegram bot receiving updates by webhook", { username: bot.botInfo.username, path });
    // Only now does every route exist: /healthz said "not ready" until here, so a load balancer sends
    // no update to an instance that would answer it 404.
    app.setReady(true);
    let stopping: Promise<void> | null = null;
    return {
      mode: "webhook",
      bot,
      webhookPath: path,
      ended: new Promise<void>(() => {}),
      stop() {
        // The webhook stays registered: Telegram keeps updates queued until we are back.
        stopping ??= (async () => {
          accepting = false;
          app.setReady(false);
          await finish();
        })();
        return stopping;
      },
    };
  }

  // A webhook left over from an earlier deployment would make getUpdates fail with 409.
  await step({ attempt: () => bot.api.deleteWebhook(), refusal: (error) => tokenRefusal(error, config.telegram.apiRoot) });
  const polling = new AbortController();
  const poll = async () => {
    let offset: number | undefined;
    let pause = POLL_RETRY_MS.first;
    while (!polling.signal.aborted) {
      let updates: Update[];
      try {
        updates = await bot.api.getUpdates(
          { offset, timeout: options.pollTimeoutSeconds ?? 30 },
          polling.signal as Parameters<Bot["api"]["getUpdates"]>[1],
        );
        pause = POLL_RETRY_MS.first;
      } catch (error) {
        if (polling.signal.aborted) return;
        // Another instance polling (409) or a revoked token (401) will not pass by retrying fast.
        if (error instanceof GrammyError && (error.error_code === 401 || error.error_code === 404)) throw error;
        log.warn("getUpdates failed; retrying", { pauseMs: pause, ...describeFailure(error, secrets) });
        await new Promise((resolve) => setTimeout(resolve, pause));
        pause = Math.min(pause * 2, POLL_RETRY_MS.max);
        continue;
      }
      for (const update of updates) {
        // Kept before it is confirmed: the next offset confirms it. Until the store keeps it, try again.
        for (;;) {
          try {
            await inbox.accept(update);
            break;
          } catch (error) {
            log.warn("telegram update not kept yet; retrying", { updateId: update.update_id, ...describeFailure(error, secrets) });
            await new Promise((resolve) => setTimeout(resolve, pause));
            pause = Math.min(pause * 2, POLL_RETRY_MS.max);
            if (polling.signal.aborted) return;
          }
        }
        offset = update.update_id + 1;
      }
    }
  };
  log.info("telegram bot polling for updates", { username: bot.botInfo.username });
  app.setReady(true);
  const ended = poll().then(
    () => undefined,
    (error: unknown) =>
      log.error("telegram polling stopped; check the bot token and that no other instance polls", describeFailure(error, secrets)),
  );
  let stopping: Promise<void> | null = null;
  return {
    mode: "polling",
    bot,
    webhookPath: null,
    ended,
    stop() {
      stopping ??= (async () => {
        app.setReady(false);
        polling.abort();
        await ended;
        await finish();
      })();
      return stopping;
    },
  };
}

/** Worth another try within the start-up limit: the request did not arrive, or Telegram had a moment (5xx, 429). */
function retriableBotApiFailure(error: unknown): boolean {
  if (error instanceof HttpError) return true;
  return error instanceof GrammyError && (error.error_code >= 500 || error.error_code === 429);
}

/** The Bot API answered but refused the token: 401 (revoked) or 404 (no such bot, or not a Bot API). */
function tokenRefusal(error: unknown, apiRoot: string): StartupError | null {
  if (!(error instanceof GrammyError) || (error.error_code !== 401 && error.error_code !== 404)) return null;
  return new StartupError(
    "TELEGRAM_BOT_TOKEN",
    `the Bot API at ${apiRoot} refused the token (${error.error_code} ${error.description}); check TELEGRAM_BOT_TOKEN from @BotFather (and TELEGRAM_API_ROOT if you set it)`,
  );
}
