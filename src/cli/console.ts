/**
 * The console chat: the whole product in a terminal, for trying it without Telegram. In a terminal it
 * is an interactive prompt; with piped input it reads every line, prints every reply and exits 0, so
 * a purchase can be scripted: `printf 'I need 2000 tokens\nyes\n' | npm start`. The language is
 * `--lang ru` (`npm start -- --lang ru`), else the one in `LANG`, else the shop's default.
 */
import { createInterface } from "node:readline";
import type { Readable, Writable } from "node:stream";
import type { App } from "../app.ts";
import { type EngineReply, secretOf } from "../engine/reply.ts";
import type { RenderedMessage } from "../render/messages.ts";

export type ConsoleOptions = {
  input?: Readable & { isTTY?: boolean };
  output?: Writable;
  chatId?: string;
  /** A language tag (`ru`, `ru_RU.UTF-8`); negotiated against `locales/`. Default: the shop's default language. */
  language?: string;
};

/** The language asked for on the command line (`--lang ru`, `--lang=ru`) or, failing that, by the locale (`LC_ALL`, `LC_MESSAGES`, `LANG`). */
export function consoleLanguage(argv: readonly string[], env: Record<string, string | undefined>): string | undefined {
  const index = argv.findIndex((arg) => arg === "--lang" || arg.startsWith("--lang="));
  const flag = index === -1 ? undefined : argv[index]!.includes("=") ? argv[index]!.slice("--lang=".length) : argv[index + 1];
  // POSIX order; "C" and "POSIX" name no language, so the next variable is asked.
  const locale = [env.LC_ALL, env.LC_MESSAGES, env.LANG].find((value) => value && !/^(c|posix)([.@]|$)/i.test(value));
  return flag || locale;
}

/** How a rendered message looks in a terminal: the text, then buttons as hints and links in full. */
export function formatForConsole(message: RenderedMessage): string {
  const lines = [message.text];
  for (const row of message.buttons) {
    const labels = row.map((b) => ("url" in b ? `${b.label}: ${b.url}` : `[${b.label}]`));
    lines.push(`   ${labels.join("  ")}`);
  }
  return lines.join("\n");
}

/** Runs the console chat until input ends (piped) or the user quits (terminal). */
export async function runConsole(app: App, options: ConsoleOptions = {}): Promise<void> {
  const input = options.input ?? process.stdin;
  const output = options.output ?? process.stdout;
  const chatId = options.chatId ?? "console";
  const interactive = input.isTTY === true;
  const language = app.localization.negotiate(options.language);
  // Remembered like a Telegram customer's choice, so the pay page speaks it too.
  await app.languages.choose(chatId, language);
  const say = (text: string) => output.write(`\n🧌 ${forTerminal(text).replace(/\n/g, "\n   ")}\n`);
  const show = (reply: EngineReply) => say(formatForConsole(app.renderer.render(reply, language)));
  /** Shows a reply; goods in it are erased from the ledger only after they were printed. */
  const showAndConfirm = async (reply: EngineReply) => {
    show(reply);
    const goods = secretOf(reply);
    if (goods) await app.engine.secretShown(goods.orderId);
  };

  // Payment confirmations and expiries arrive without the customer typing: print them as they come.
  app.engine.setNotifier(async (notifiedChat, reply) => {
    // Another chat's news (a store shared with a bot) cannot be shown here: say so, so its goods are kept.
    if (notifiedChat !== chatId) throw new Error("the console shows only its own chat");
    show(reply);
    if (interactive) rl.prompt(true);
  });

  const rl = createInterface({ input, output: interactive ? output : undefined, terminal: interactive, prompt: "you › " });
  // Take the iterator now: lines (and end of input) that arrive before the loop starts are buffered.
  const lines = rl[Symbol.asyncIterator]();
  say(formatForConsole(app.renderer.welcome(language)));
  const current = await app.engine.view(chatId);
  if (current.kind === "order") await showAndConfirm(current);
  if (interactive) {
    const url = app.config.http.publicUrl ?? `http://localhost:${app.port}`;
    output.write(`\n${app.localization.translator(language).t("console-hint", { url })}\n`);
    rl.prompt();
  }

  for await (const line of { [Symbol.asyncIterator]: () => lines }) {
    const text = line.trim();
    if (interactive && /^(quit|exit|\/quit)$/i.test(text)) break;
    if (text.length === 0) {
      if (interactive) rl.prompt();
      continue;
    }
    if (!interactive) output.write(`\nyou › ${forTerminal(text)}\n`);
    try {
      await showAndConfirm(await app.engine.handleText(chatId, text));
    } catch (error) {
      app.log.error("console message failed", { err: error });
      show({ kind: "unavailable" });
    }
    if (interactive) rl.prompt();
  }
  rl.close();
}

/**
 * Neutralises control characters before they reach the terminal: a customer's text (echoed, or an
 * amount they typed) must not move the cursor, clear the screen or retitle the window (`ESC[2J`,
 * `ESC]0;…`). Each becomes a visible escape such as `\x1b`; line breaks stay.
 */
export function forTerminal(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}
