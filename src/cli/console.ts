/**
 * The console chat: the whole product in a terminal, for trying it without Telegram. In a terminal it
 * is an interactive prompt; with piped input it reads every line, prints every reply and exits 0, so
 * a purchase can be scripted: `printf 'I need 2000 tokens\nyes\n' | npm start`. The language is
 * `--lang ru` (`npm start -- --lang ru`), else the one in `LANG`, else the shop's default.
 */
import { createInterface } from "node:readline";
import type { Readable, Writable } from "node:stream";
import type { App } from "../app.ts";
import type { EngineReply } from "../engine/reply.ts";
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
  const say = (text: string) => output.write(`\n🧌 ${text.replace(/\n/g, "\n   ")}\n`);
  const show = (reply: EngineReply) => say(formatForConsole(app.renderer.render(reply, language)));

  // Payment confirmations and expiries arrive without the customer typing: print them as they come.
  app.engine.setNotifier(async (notifiedChat, reply) => {
    if (notifiedChat !== chatId) return;
    show(reply);
    if (interactive) rl.prompt(true);
  });

  const rl = createInterface({ input, output: interactive ? output : undefined, terminal: interactive, prompt: "you › " });
  // Take the iterator now: lines (and end of input) that arrive before the loop starts are buffered.
  const lines = rl[Symbol.asyncIterator]();
  say(formatForConsole(app.renderer.welcome(language)));
  const current = await app.engine.view(chatId);
  if (current.kind === "order") show(current);
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
    if (!interactive) output.write(`\nyou › ${text}\n`);
    try {
      show(await app.engine.handleText(chatId, text));
    } catch (error) {
      app.log.error("console message failed", { error: String(error) });
      show({ kind: "unavailable" });
    }
    if (interactive) rl.prompt();
  }
  rl.close();
}
