/**
 * Which language a Telegram chat is answered in, and how a customer changes it: the chat's stored
 * language (negotiated from Telegram's `language_code` on first contact), `/language` with a button
 * per language, and the command menus per language.
 */
import { Composer, type Bot, type Context } from "grammy";
import type { BotCommand, LanguageCode } from "grammy/types";
import type { App } from "../app.ts";
import { CUSTOMER_COMMANDS, languageChoices, languageNamed } from "../customer-commands.ts";
import { type Localization, LANGUAGE_NEIGHBOURS } from "../i18n/index.ts";
import type { Logger } from "../log.ts";
import { type TelegramMessage, type TelegramRenderer, toTelegram } from "./render.ts";

/** Callback data of the /language buttons: `lang|ru`. Telegram-only: `decodeButton` (`buttons.ts`) returns null for it. */
const LANGUAGE_BUTTON = /^lang\|([A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*)$/;
const PER_ROW = 3;

/** The command menu in one language: the customer commands, each described by message `command-<name>`. */
export function commandMenu(localization: Localization, language: string): BotCommand[] {
  const tr = localization.translator(language);
  return CUSTOMER_COMMANDS.map((command) => ({ command, description: tr.t(`command-${command}`) }));
}

/**
 * Registers the command menu: in the default language for everyone, and in each language with a file
 * (or a neighbour's, e.g. Ukrainian → Russian) for users whose Telegram speaks it. Best effort: a
 * failure only leaves a menu in another language.
 */
export async function registerCommandMenus(api: Bot["api"], localization: Localization, log: Logger): Promise<void> {
  const menus: { language: string; languageCode?: LanguageCode }[] = [{ language: localization.defaultLanguage }];
  const codes = new Set([
    ...localization.languages.map((language) => language.split("-")[0]!.toLowerCase()),
    ...Object.keys(LANGUAGE_NEIGHBOURS),
  ]);
  for (const code of codes) {
    const language = localization.negotiate(code);
    // Telegram takes two-letter codes only; users of a language without a menu see the default one.
    if (/^[a-z]{2}$/.test(code) && (language !== localization.defaultLanguage || localization.languages.includes(code)))
      menus.push({ language, languageCode: code as LanguageCode });
  }
  for (const menu of menus) {
    await api
      .setMyCommands(commandMenu(localization, menu.language), menu.languageCode ? { language_code: menu.languageCode } : {})
      .catch((error: unknown) => {
        log.warn("could not register the bot's command menu; commands still work", {
          language: menu.languageCode ?? "default",
          err: error,
        });
      });
  }
}

/** The language of the chat an update comes from, looked up once per update. */
export type ChatLanguages = {
  of(ctx: Context): Promise<string>;
  /** Message `id` (plain text, e.g. a toast) in the chat's language. */
  words(ctx: Context, id: string): Promise<string>;
  /** The customer chose `language`: stored, and used for the rest of this update. */
  choose(ctx: Context, language: string): Promise<string>;
};

export function createChatLanguages(app: App, chatOf: (ctx: Context) => string): ChatLanguages {
  const localization = app.localization;
  const byUpdate = new WeakMap<Context, Promise<string>>();
  const of = (ctx: Context): Promise<string> => {
    let language = byUpdate.get(ctx);
    if (!language) {
      // On first contact the customer's Telegram language decides, and is remembered. If the store
      // fails, the customer is still answered in it.
      const tag = ctx.from?.language_code;
      language = app.languages.of(chatOf(ctx), tag).catch(() => localization.negotiate(tag));
      byUpdate.set(ctx, language);
    }
    return language;
  };
  return {
    of,
    words: async (ctx, id) => localization.translator(await of(ctx)).t(id),
    async choose(ctx, wanted) {
      const language = await app.languages.choose(chatOf(ctx), wanted);
      byUpdate.set(ctx, Promise.resolve(language));
      return language;
    },
  };
}

/**
 * `/language` shows a button per language, each named in itself; `/language ru` switches at once.
 * In a private chat the command menu follows the choice (admin chats keep their longer menu).
 */
export function languageCommands(
  app: App,
  renderer: TelegramRenderer,
  languages: ChatLanguages,
  send: (ctx: Context, message: TelegramMessage) => Promise<void>,
): Composer<Context> {
  const localization = app.localization;
  const admins = new Set(app.config.adminChatIds);
  const quiet = (what: string) => (error: unknown) => app.log.debug(`telegram ${what} failed; carrying on`, { err: error });
  const composer = new Composer<Context>();

  const choose = async (ctx: Context, wanted: string): Promise<TelegramMessage> => {
    const language = await languages.choose(ctx, wanted);
    if (ctx.chat?.type === "private" && !admins.has(String(ctx.chat.id))) {
      await ctx.api
        .setMyCommands(commandMenu(localization, language), { scope: { type: "chat", chat_id: ctx.chat.id } })
        .catch(quiet("setMyCommands"));
    }
    return renderer.text(language, "language-chosen");
  };

  composer.command("language", async (ctx) => {
    const wanted = languageNamed(localization, ctx.match);
    if (wanted) return send(ctx, await choose(ctx, wanted));
    const choices = languageChoices(localization).map(({ language, name }) => ({ text: name, callback_data: `lang|${language}` }));
    const rows = Array.from({ length: Math.ceil(choices.length / PER_ROW) }, (_, row) => choices.slice(row * PER_ROW, (row + 1) * PER_ROW));
    await send(ctx, toTelegram({ text: localization.translator(await languages.of(ctx)).t("language-choose"), buttons: [] }, rows));
  });

  composer.callbackQuery(LANGUAGE_BUTTON, async (ctx) => {
    const wanted = localization.languages.find((language) => language === ctx.match[1]);
    if (!wanted || !ctx.chat) {
      await ctx.answerCallbackQuery({ text: await languages.words(ctx, "toast-dead-button") }).catch(quiet("answerCallbackQuery"));
      return;
    }
    const chosen = await choose(ctx, wanted);
    await ctx.answerCallbackQuery().catch(quiet("answerCallbackQuery"));
    // The answer replaces the language buttons; a new message if the old one cannot be edited.
    const message = ctx.callbackQuery.message;
    const edited =
      message !== undefined &&
      (await ctx.api.editMessageText(message.chat.id, message.message_id, chosen.text, chosen.options).then(
        () => true,
        (error: unknown) => /message is not modified/i.test(String(error)),
      ));
    if (!edited) await send(ctx, chosen);
  });
  return composer;
}
