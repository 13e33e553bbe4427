/**
 * The customer's slash commands, one meaning in every front end: Telegram and the console chat answer
 * `/start`, `/buy N`, `/cart`, `/status`, `/orders`, `/promo CODE`, `/cancel`, `/help` and `/language` through the
 * functions here (issue 22: "the console speaks like Telegram"). A front end only reads the command
 * from its input and shows the answer its own way.
 */
import type { Engine, EngineReply } from "./engine/index.ts";
import type { UpdateRef } from "./engine/customer.ts";
import type { Localization } from "./i18n/index.ts";
import { parseTokenAmount, promoArgument, promoDeepLink } from "./understand/index.ts";

/** The customer commands, in the order of Telegram's menu; each is described by message `command-<name>`. */
export const CUSTOMER_COMMANDS = ["start", "buy", "cart", "status", "orders", "promo", "cancel", "help", "language"] as const;
export type CustomerCommand = (typeof CUSTOMER_COMMANDS)[number];
/** The commands the engine answers; `/language` changes how the front end speaks instead. */
export type OrderCommand = Exclude<CustomerCommand, "language">;

/**
 * `/start buy_5000`: a deep link (`t.me/<bot>?start=buy_5000`) that quotes at once; `/start
 * promo_SPRING10` (`?start=promo_SPRING10`) applies a promo code.
 */
const DEEP_LINK = /^buy_(\d{1,15})$/;
/** `/buy 5000`, `/cart@goblin_bot`: the command, an optional bot name, the argument. */
const TYPED_COMMAND = /^\/([a-z]+)(?:@[A-Za-z0-9_]+)?(?:\s+([\s\S]*))?$/;

const isCustomerCommand = (name: string): name is CustomerCommand => (CUSTOMER_COMMANDS as readonly string[]).includes(name);

/**
 * A customer command in a line of typed text, with its argument (trimmed); null for anything else,
 * including slash commands that are not customer commands (they are read like any other text).
 */
export function readCustomerCommand(text: string): { command: CustomerCommand; argument: string } | null {
  const match = TYPED_COMMAND.exec(text.trim());
  if (!match || !isCustomerCommand(match[1]!)) return null;
  return { command: match[1], argument: (match[2] ?? "").trim() };
}

/** The engine's answer to an order command from `chatId`, exactly as Telegram gives it (`ref`: the Telegram update it applies). */
export async function answerCommand(
  engine: Engine,
  chatId: string,
  command: OrderCommand,
  argument: string,
  ref: UpdateRef = {},
): Promise<EngineReply> {
  switch (command) {
    case "start": {
      const deepLink = DEEP_LINK.exec(argument);
      if (deepLink) return engine.handleCommand(chatId, { type: "SET_AMOUNT", tokens: Number(deepLink[1]) }, "command", ref);
      const promo = promoDeepLink(argument);
      if (promo !== null) return engine.handleCommand(chatId, { type: "APPLY_PROMO", code: promo }, "command", ref);
      // Through the engine, so it remembers that the welcome asked "how many tokens?".
      return engine.greet(chatId, ref);
    }
    case "buy": {
      if (argument === "") return engine.view(chatId, ref);
      const tokens = parseTokenAmount(argument);
      if (tokens !== null) return engine.handleCommand(chatId, { type: "SET_AMOUNT", tokens }, "command", ref);
      const current = await engine.view(chatId);
      return { kind: "not_understood", order: current.kind === "order" ? current.order : null };
    }
    case "cart":
      return engine.view(chatId, ref);
    case "promo": {
      // A code is applied as typed (the catalog decides whether it exists); "/promo" alone gets the help.
      const code = promoArgument(argument);
      if (code !== null) return engine.handleCommand(chatId, { type: "APPLY_PROMO", code }, "command", ref);
      if (argument === "") return engine.handleCommand(chatId, { type: "HELP" }, "command", ref);
      const current = await engine.view(chatId);
      return { kind: "not_understood", order: current.kind === "order" ? current.order : null };
    }
    case "status":
      return engine.handleCommand(chatId, { type: "STATUS" }, "command", ref);
    case "orders":
      return engine.handleCommand(chatId, { type: "ORDERS" }, "command", ref);
    case "cancel":
      return engine.handleCommand(chatId, { type: "CANCEL" }, "command", ref);
    case "help":
      return engine.handleCommand(chatId, { type: "HELP" }, "command", ref);
    default: {
      const unhandled: never = command;
      throw new Error(`unknown customer command ${String(unhandled)}`);
    }
  }
}

/** The language `/language <argument>` names (`ru`, `RU`), among those with a file; undefined otherwise. */
export function languageNamed(localization: Localization, argument: string): string | undefined {
  const wanted = argument.trim().toLowerCase();
  return wanted === "" ? undefined : localization.languages.find((language) => language.toLowerCase() === wanted);
}

/** What `/language` offers: every language with a file, each named in itself ("English", "Русский"). */
export function languageChoices(localization: Localization): { language: string; name: string }[] {
  return localization.languages.map((language) => ({ language, name: localization.translator(language).t("language-name") }));
}
