import type { App } from "../app.ts";

/** Runs the Telegram bot until it is stopped. */
export async function runTelegram(app: App): Promise<void> {
  app.log.error("the Telegram front end is not part of this build yet; unset TELEGRAM_BOT_TOKEN to use the console chat");
  await app.close();
}
