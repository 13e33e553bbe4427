import type { App } from "../app.ts";
import { StartupError, reasonOf } from "../startup.ts";
import { startTelegram } from "./run.ts";

export { createBot, createNotifier, shopRenderer } from "./bot.ts";
export type { BotOptions } from "./bot.ts";
export { createTelegramRenderer, toTelegram } from "./render.ts";
export type { TelegramMessage, TelegramRenderer } from "./render.ts";
export { startTelegram, webhookPathOf } from "./run.ts";
export type { TelegramHandle, TelegramRunOptions } from "./run.ts";

/**
 * Runs the Telegram bot (polling, or webhook when TELEGRAM_WEBHOOK_URL is set) until SIGINT/SIGTERM
 * or until polling ends by itself, then returns after in-flight updates finished; the caller closes
 * the app. Start-up failures (Bot API unreachable, token refused) throw a {@link StartupError}.
 */
export async function runTelegram(app: App): Promise<void> {
  const handle = await startTelegram(app).catch((error: unknown) => {
    // One line for the operator instead of a stack trace; main turns it into a failed exit.
    if (error instanceof StartupError) throw error;
    throw new StartupError(
      "TELEGRAM_BOT_TOKEN",
      `could not start the Telegram bot (${reasonOf(error, [app.config.telegram.token])}); check TELEGRAM_BOT_TOKEN from @BotFather and TELEGRAM_API_ROOT`,
    );
  });
  let onSignal: () => void = () => {};
  const signalled = new Promise<void>((resolve) => (onSignal = resolve));
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    await Promise.race([signalled, handle.ended]);
    app.log.info("telegram bot stopping; finishing updates in flight");
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await handle.stop();
  }
}
