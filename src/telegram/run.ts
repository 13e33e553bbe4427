/**
 * The bot's lifecycle: long polling with @grammyjs/runner, or a webhook route on the app's HTTP
 * server when `TELEGRAM_WEBHOOK_URL` is set. Either way `stop()` stops taking new updates and waits
 * for the ones in flight, so no customer's message is dropped half-way on shutdown.
 */
import { run, type RunnerHandle } from "@grammyjs/runner";
import { randomUUID } from "node:crypto";
import { type Bot, BotError, GrammyError, HttpError, webhookCallback } from "grammy";
import type { Update } from "grammy/types";
import type { App } from "../app.ts";
import { describeFailure } from "../failures.ts";
import type { HttpRequest, HttpResponse } from "../http/server.ts";
import { StartupError, type StartupStep, withinStartupLimit } from "../startup.ts";
import { registerAdminCommands, watchForAdminAlerts } from "./admin.ts";
import { type BotOptions, createBot, createNotifier } from "./bot.ts";
import { registerCommandMenus } from "./language.ts";
import { createTelegramRenderer } from "./render.ts";

export type TelegramRunOptions = {
  bot?: BotOptions;
  /** Long-poll wait per getUpdates call, in seconds (Telegram allows up to 50). */
  pollTimeoutSeconds?: number;
  /** How long a webhook request may take before Telegram is answered and work continues behind it. */
  webhookTimeoutMs?: number;
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
/** How long an update id is remembered: Telegram gives up redelivering long before. */
const HANDLED_UPDATE_TTL_MS = 24 * 60 * 60 * 1000;

/** The route Telegram posts to: the path of the webhook URL, or `/telegram/webhook` for a bare host. */
export function webhookPathOf(webhookUrl: string): string {
  const path = new URL(webhookUrl).pathname.replace(/\/+$/, "");
  return path === "" ? "/telegram/webhook" : path;
}

/** Starts the bot for an app in the mode its configuration asks for. */
export async function startTelegram(app: App, options: TelegramRunOptions = {}): Promise<TelegramHandle> {
  const { log, config } = app;
  const bot = createBot(app, options.bot);
  const inFlight = new Set<Promise<unknown>>();
  const track = <T>(work: Promise<T>): Promise<T> => {
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work)).catch(() => {});
    return work;
  };
  const drain = async () => {
    while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
  };
  // Every update passes through handleUpdate, whether polled or posted to the webhook (including
  // webhook updates still running after Telegram was answered), so shutdown can wait for all of them.
  const handleUpdate = bot.handleUpdate.bind(bot);
  bot.handleUpdate = (update, webhookReplyEnvelope) => track(handleOnce(update, webhookReplyEnvelope));

  /**
   * Claims the update id in the shared store first: a redelivered update (Telegram did not see our
   * answer, or sent it to another instance) is acknowledged without being answered twice (issue 12).
   * A crash mid-update therefore loses that update rather than answering it twice; the customer
   * can send it again. When the store cannot be asked, the update is handled anyway.
   */
  const firstDelivery = async (update: Update): Promise<boolean> => {
    try {
      return await app.stores.claims.tryClaim(`telegram-update:${bot.botInfo.id}:${update.update_id}`, randomUUID(), HANDLED_UPDATE_TTL_MS);
    } catch (error) {
      log.warn("could not check whether a telegram update was handled before; handling it", { updateId: update.update_id, ...describeFailure(error, [bot.token]) });
      return true;
    }
  };
  /**
   * Never rejects. In webhook mode grammY stops watching this promise once Telegram was answered
   * (`onTimeout: "return"`), so a rejection then would be unhandled and end the process (issue 11);
   * every failure goes to the bot's one error handler instead, in both modes.
   */
  const handleOnce = async (update: Update, webhookReplyEnvelope?: Parameters<Bot["handleUpdate"]>[1]): Promise<void> => {
    try {
      if (!(await firstDelivery(update))) {
        log.info("telegram update delivered again; already handled", { updateId: update.update_id });
        return;
      }
      await handleUpdate(update, webhookReplyEnvelope);
    } catch (error) {
      try {
        if (error instanceof BotError) await bot.errorHandler(error);
        else log.error("telegram update failed", { updateId: update.update_id, ...describeFailure(error, [bot.token]) });
      } catch (reportError) {
        log.error("telegram error handler failed", describeFailure(reportError, [bot.token]));
      }
    }
  };

  // Every Bot API call of the start-up carries the deadline of its step (grammY's own limit is 500 s),
  // so an unreachable or silent Bot API ends start-up with one line instead of hanging it (issue 18).
  let startupDeadline: AbortSignal | undefined;
  bot.api.config.use((prev, method, payload, signal) => prev(method, payload, signal ?? (startupDeadline as typeof signal)));
  const step = <T>(what: Pick<StartupStep<T>, "attempt"> & Partial<StartupStep<T>>) =>
    withinStartupLimit<T>({
      variable: "TELEGRAM_API_ROOT",
      target: `the Bot API at ${config.telegram.apiRoot}`,
      hint: "check TELEGRAM_API_ROOT (unset for Telegram's own) and this host's network",
      limitMs: config.startupTimeoutMs,
      retry: retriableBotApiFailure,
      secrets: [bot.token],
      ...what,
      attempt: (signal) => {
        startupDeadline = signal;
        return what.attempt(signal);
      },
    });

  // Fails loudly on a bad token or unreachable API: nothing else can work without it.
  if (!bot.isInited()) {
    bot.botInfo = await step({ attempt: () => bot.api.getMe(), refusal: (error) => tokenRefusal(error, config.telegram.apiRoot) });
  }
  const now = options.bot?.now;
  app.engine.setNotifier(createNotifier(bot, createTelegramRenderer(config.catalog, { localization: app.localization, ...(now ? { now } : {}) }), app.languages));
  // Best effort (a failure leaves a menu in another language), but within the limit all the same.
  startupDeadline = AbortSignal.timeout(config.startupTimeoutMs);
  await registerCommandMenus(bot.api, app.localization, log);
  await registerAdminCommands(app, bot.api);
  startupDeadline = undefined;
  const stopAdminAlerts = watchForAdminAlerts(app, bot.api);

  const webhookUrl = config.telegram.webhookUrl;
  if (webhookUrl) {
    const path = webhookPathOf(webhookUrl);
    const callback = webhookCallback(bot, httpAdapter, {
      secretToken: config.telegram.webhookSecret,
      // Telegram re-sends updates that are not answered in time; slow work (LLM, payment APIs)
      // carries on after the answer instead.
      onTimeout: "return",
      timeoutMilliseconds: options.webhookTimeoutMs ?? 8_000,
    });
    let accepting = true;
    app.http.route("POST", path, async (request) => {
      if (!accepting) return { status: 503, body: "shutting down\n" };
      try {
        return await callback(request);
      } catch (error) {
        log.warn("telegram webhook request refused", describeFailure(error, [bot.token]));
        return { status: 400, body: "bad update\n" };
      }
    });
    await step({
      attempt: () => bot.api.setWebhook(webhookUrl, { secret_token: config.telegram.webhookSecret, drop_pending_updates: false }),
      refusal: (error) =>
        tokenRefusal(error, config.telegram.apiRoot) ??
        (error instanceof GrammyError && error.error_code === 400
          ? new StartupError("TELEGRAM_WEBHOOK_URL", `Telegram refused the webhook (${error.description}); it must be a public https URL that reaches this server`)
          : null),
    });
    startupDeadline = undefined;
    log.info("telegram bot receiving updates by webhook", { username: bot.botInfo.username, path });
    // Only now does every route exist: /healthz said "not ready" until here, so a load balancer sends
    // no update to an instance that would answer it 404.
    app.setReady(true);
    return {
      mode: "webhook",
      bot,
      webhookPath: path,
      ended: new Promise<void>(() => {}),
      async stop() {
        // The webhook stays registered: Telegram keeps updates queued until we are back.
        accepting = false;
        app.setReady(false);
        stopAdminAlerts();
        await drain();
      },
    };
  }

  // A webhook left over from an earlier deployment would make getUpdates fail with 409.
  await step({ attempt: () => bot.api.deleteWebhook(), refusal: (error) => tokenRefusal(error, config.telegram.apiRoot) });
  startupDeadline = undefined;
  const runner: RunnerHandle = run(bot, {
    runner: { fetch: { timeout: options.pollTimeoutSeconds ?? 30 }, silent: true, maxRetryTime: 60 * 60 * 1000 },
  });
  log.info("telegram bot polling for updates", { username: bot.botInfo.username });
  app.setReady(true);
  const ended = (runner.task() ?? Promise.resolve()).then(
    () => undefined,
    (error: unknown) => log.error("telegram polling stopped; check the bot token and that no other instance polls", describeFailure(error, [bot.token])),
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
        if (runner.isRunning()) await runner.stop().catch(() => {});
        stopAdminAlerts();
        await drain();
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

/** grammY's webhook plumbing, adapted to the app's HTTP server (raw body, plain response object). */
function httpAdapter(request: HttpRequest) {
  let answer: (response: HttpResponse) => void = () => {};
  const response = new Promise<HttpResponse>((resolve) => (answer = resolve));
  const header = request.headers[SECRET_HEADER];
  return {
    // Parsed only after the secret matched: a forged request is never read.
    get update(): Update {
      return JSON.parse(request.rawBody.toString("utf8")) as Update;
    },
    header: Array.isArray(header) ? header[0] : header,
    end: () => answer({ status: 200, body: "" }),
    respond: (json: string) => answer({ status: 200, body: json, headers: { "content-type": "application/json" } }),
    unauthorized: () => answer({ status: 401, body: "secret token is missing or wrong\n" }),
    handlerReturn: response,
  };
}
