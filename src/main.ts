/**
 * `npm start`: the Telegram bot when TELEGRAM_BOT_TOKEN is set, otherwise the console chat, on
 * embedded defaults (SQLite file store, sandbox payments and delivery, rules-only understanding).
 */
import { existsSync } from "node:fs";
import { hostname } from "node:os";
import { createApp } from "./app.ts";
import { consoleLanguage, runConsole } from "./cli/console.ts";
import { ConfigError, loadConfig } from "./config.ts";
import { describeFailure, redactSecrets, resultWithin } from "./failures.ts";
import { type Logger, createLogger } from "./log.ts";
import { StartupError } from "./startup.ts";

/** Environment variables holding credentials: their values never reach stderr, whatever fails. */
const SECRET_VARIABLES = [
  "TELEGRAM_BOT_TOKEN",
  "TELEGRAM_WEBHOOK_SECRET",
  "LLM_API_KEY",
  "OPENROUTER_API_KEY",
  "CRYPTOPAY_TOKEN",
  "OPENROUTER_PROVISIONING_KEY",
  "ADMIN_TOKEN",
] as const;
const secrets = () => SECRET_VARIABLES.map((name) => process.env[name]);

/**
 * The last line of defence (issue 11). Node's default for an unhandled rejection or an uncaught
 * exception is to print the error with all its fields (grammY's carry the bot token) and exit. For a
 * bot that is the worse choice: one customer's failure would drop every other conversation in flight
 * and leave its chat locks held for their whole lease, and on a shared store those stuck chats made
 * the next instance fail and crash too. The known causes are handled where they happen (telegram/run.ts,
 * telegram/bot.ts, the HTTP server), and tests run without these handlers to prove it; this only catches
 * what nobody has found yet, logs it (redacted, with the stack) so it gets fixed, and keeps serving.
 */
function keepServingOnStrayErrors(log: Logger): void {
  process.on("unhandledRejection", (reason) => {
    log.error("unhandled promise rejection; still serving (this is a bug: please report it)", describeFailure(reason, secrets()));
  });
  process.on("uncaughtException", (error) => {
    log.error("uncaught exception; still serving (this is a bug: please report it)", describeFailure(error, secrets()));
  });
}

/** How long a failed start-up waits for the app to close before exiting anyway. */
const CLOSE_LIMIT_MS = 2_000;

/** The one line a start-up that could not reach the store or the Bot API prints (issue 18). */
function startupFailed(error: StartupError): number {
  console.error(`Start-up failed: ${redactSecrets(error.message, secrets())}`);
  return 1;
}

async function main(): Promise<number> {
  // A local .env (never committed) is read if present; real environment variables win.
  if (existsSync(".env")) process.loadEnvFile(".env");
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`Configuration error: ${error.message}`);
      return 1;
    }
    throw error;
  }
  const telegram = Boolean(config.telegram.token);
  // In the console, JSON log lines would drown the chat: show warnings and errors only.
  const log = createLogger(process.env.TOKENGOBLIN_LOG ?? (telegram ? "info" : "warn"));
  keepServingOnStrayErrors(log);
  // A name stable across restarts on one host and port, so a restarted process takes back the chat
  // leases and delivery claims its crashed predecessor held instead of waiting for them to run out.
  const instanceId = config.instanceId ?? (config.http.port !== 0 ? `${hostname()}:${config.http.port}` : undefined);
  let app;
  try {
    app = await createApp(config, { log, ...(instanceId ? { instanceId } : {}) });
  } catch (error) {
    if (error instanceof StartupError) return startupFailed(error);
    throw error;
  }
  // Whatever failed, the process ends soon: closing waits for an unreachable store no longer than this.
  const closeQuickly = (opened: typeof app) =>
    resultWithin(
      opened.close().catch(() => {}),
      CLOSE_LIMIT_MS,
      undefined,
    );
  try {
    await app.start();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE")
      console.error(`Configuration error: HTTP_PORT ${config.http.port} is already in use; set HTTP_PORT to a free port.`);
    else console.error(`Start-up failed: ${redactSecrets(String(error), secrets())}`);
    await closeQuickly(app);
    return 1;
  }
  if (telegram) {
    const { runTelegram } = await import("./telegram/index.ts");
    try {
      await runTelegram(app);
    } catch (error) {
      if (!(error instanceof StartupError)) throw error;
      await closeQuickly(app);
      return startupFailed(error);
    }
  } else {
    // The console has no routes to wait for: every route exists once the server listens.
    app.setReady(true);
    await runConsole(app, { language: consoleLanguage(process.argv.slice(2), process.env) });
  }
  await app.close();
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(`Fatal: ${redactSecrets(String(error), secrets())}`);
    process.exit(1);
  },
);
