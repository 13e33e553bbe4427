/**
 * `npm start`: the Telegram bot when TELEGRAM_BOT_TOKEN is set, otherwise the console chat, on
 * embedded defaults (SQLite file store, sandbox payments and delivery, rules-only understanding).
 */
import { existsSync } from "node:fs";
import { createApp } from "./app.ts";
import { consoleLanguage, runConsole } from "./cli/console.ts";
import { ConfigError, loadConfig } from "./config.ts";
import { createLogger } from "./log.ts";

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
  const app = await createApp(config, { log });
  try {
    await app.start();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE") console.error(`Configuration error: HTTP_PORT ${config.http.port} is already in use; set HTTP_PORT to a free port.`);
    else console.error(`Start-up failed: ${String(error)}`);
    await app.close().catch(() => {});
    return 1;
  }
  if (telegram) {
    const { runTelegram } = await import("./telegram/index.ts");
    await runTelegram(app);
  } else {
    await runConsole(app, { language: consoleLanguage(process.argv.slice(2), process.env) });
  }
  await app.close();
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(`Fatal: ${String(error)}`);
    process.exit(1);
  },
);
