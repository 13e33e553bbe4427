/**
 * The console chat: the whole product in a terminal, for trying it without Telegram. In a terminal it
 * is an interactive prompt; with piped input it reads every line, prints every reply and exits 0, so
 * a purchase can be scripted: `printf 'I need 2000 tokens\nyes\n' | npm start`. The language is
 * `--lang ru` (`npm start -- --lang ru`), else the one in `LANG`, else the shop's default.
 *
 * Buttons work as in Telegram: each is shown with a number, and typing the number (or `#2`), or the
 * button's label ("+ 1k", "confirm"), presses it. So do the customer commands (`/buy 5000`, `/cart`,
 * `/language ru`…), answered by the same code as Telegram's (`customer-commands.ts`). The chat is
 * remembered in the store like a Telegram chat, so a second run starts where the first ended.
 */
import { createInterface } from "node:readline";
import type { Readable, Writable } from "node:stream";
import type { App } from "../app.ts";
import { type CustomerCommand, answerCommand, languageChoices, languageNamed, readCustomerCommand } from "../customer-commands.ts";
import { type EngineReply, secretOf } from "../engine/reply.ts";
import type { Button } from "../render/messages.ts";

/** A button the console shows: one of the chat's (it presses the engine), or a `/language` choice. */
export type ConsoleButton = Button | { label: string; language: string };
/** A message as the console shows it: text, then rows of numbered buttons. */
export type ConsoleMessage = { text: string; buttons: readonly (readonly ConsoleButton[])[] };

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

/**
 * How a rendered message looks in a terminal: the text, then the buttons, each with the number that
 * presses it (`[1] 1k`), links in full.
 */
export function formatForConsole(message: ConsoleMessage): string {
  const lines = [message.text];
  let number = 0;
  for (const row of message.buttons) {
    const labels = row.map((b) => `[${++number}] ${"url" in b ? `${b.label}: ${b.url}` : b.label}`);
    lines.push(`   ${labels.join("   ")}`);
  }
  return lines.join("\n");
}

/** A label or typed text reduced to what a person would type: no emoji or marks, one kind of minus, lower case. */
function typedForm(text: string): string {
  return text
    .normalize("NFKC")
    .replace(/[\u2212\u2013\u2014]/g, "-")
    .replace(/[^\p{L}\p{N}+\-.,$ ]/gu, " ")
    .replace(/\s+/g, " ")
    .trim()
    .toLowerCase();
}

/**
 * The button a line of input presses among those last shown: its number ("2", "#2") or its label,
 * typed with or without its emoji ("+ 1k", "confirm"). Null when the line is ordinary text.
 */
export function pressedButton<B extends { label: string }>(text: string, buttons: readonly B[]): B | null {
  const number = /^#?(\d{1,2})$/.exec(text.trim());
  if (number) return buttons[Number(number[1]) - 1] ?? null;
  const typed = typedForm(text);
  if (typed === "") return null;
  return buttons.find((b) => typedForm(b.label) === typed) ?? null;
}

/** Runs the console chat until input ends (piped) or the user quits (terminal). */
export async function runConsole(app: App, options: ConsoleOptions = {}): Promise<void> {
  const input = options.input ?? process.stdin;
  const output = options.output ?? process.stdout;
  const chatId = options.chatId ?? "console";
  const interactive = input.isTTY === true;
  // Remembered like a Telegram customer's choice, so the pay page speaks it too; `/language` changes it.
  let language = await app.languages.choose(chatId, app.localization.negotiate(options.language));
  const say = (text: string) => output.write(`\n🧌 ${forTerminal(text).replace(/\n/g, "\n   ").replace(/ +$/gm, "")}\n`);
  // The buttons of the last message shown: the ones a number or a label presses.
  let buttons: ConsoleButton[] = [];
  const showMessage = (message: ConsoleMessage) => {
    buttons = message.buttons.flat();
    say(formatForConsole(message));
  };
  const show = (reply: EngineReply) => showMessage(app.renderer.render(reply, language));
  /** `/language`: the choices as buttons; `/language ru` (or pressing a choice) switches at once. */
  const switchLanguage = async (wanted: string | undefined) => {
    const tr = () => app.localization.translator(language);
    if (wanted === undefined) {
      showMessage({
        text: tr().t("language-choose"),
        buttons: [languageChoices(app.localization).map(({ language, name }) => ({ label: name, language }))],
      });
      return;
    }
    language = await app.languages.choose(chatId, wanted);
    buttons = [];
    say(tr().t("language-chosen"));
  };
  /** A customer command, answered as Telegram answers it. */
  const command = async (name: CustomerCommand, argument: string) => {
    if (name === "language") return switchLanguage(languageNamed(app.localization, argument));
    await showAndConfirm(await answerCommand(app.engine, chatId, name, argument));
  };
  /** Shows a reply; goods in it are erased from the ledger only after they were printed. */
  const showAndConfirm = async (reply: EngineReply) => {
    show(reply);
    const goods = secretOf(reply);
    if (goods) await app.engine.secretShown(goods.orderId, chatId);
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
  // Through the engine, like Telegram's /start: it remembers that the welcome asked "how many tokens?".
  show(await app.engine.greet(chatId));
  const current = await app.engine.view(chatId);
  if (secretOf(current)) await showAndConfirm(current);
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
      const typedCommand = readCustomerCommand(text);
      const pressed = typedCommand ? null : pressedButton(text, buttons);
      if (typedCommand) await command(typedCommand.command, typedCommand.argument);
      else if (pressed && "url" in pressed) say(pressed.url);
      else if (pressed && "language" in pressed) await switchLanguage(pressed.language);
      else await showAndConfirm(pressed ? await app.engine.handleButton(chatId, pressed.press) : await app.engine.handleText(chatId, text));
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
