/**
 * Words for Telegram: an engine reply rendered with the shared renderer in HTML markup, turned into
 * what the Bot API takes (`text`, `parse_mode`, an inline keyboard). Every user- or provider-supplied
 * string is escaped by the renderer, so nothing a customer types can inject formatting.
 */
import type { InlineKeyboardButton, InlineKeyboardMarkup } from "grammy/types";
import type { Catalog } from "../domain/catalog.ts";
import type { EngineReply } from "../engine/reply.ts";
import { encodeButton } from "./buttons.ts";
import { type Button, type RenderedMessage, type RendererOptions, createRenderer, htmlMarkup } from "../render/messages.ts";

/** A message ready for `sendMessage`/`editMessageText`. */
export type TelegramMessage = {
  text: string;
  options: {
    parse_mode: "HTML";
    reply_markup?: InlineKeyboardMarkup;
    link_preview_options: { is_disabled: true };
  };
};

/** A rendered button as Telegram takes it: a link, or the press packed into `callback_data`. */
const toButton = (button: Button): InlineKeyboardButton =>
  "url" in button ? { text: button.label, url: button.url } : { text: button.label, callback_data: encodeButton(button.press) };

/**
 * Converts a rendered message (plus any Telegram-only buttons); an empty keyboard is left out so
 * Telegram shows no button area.
 */
export function toTelegram(message: RenderedMessage, extra: InlineKeyboardButton[][] = []): TelegramMessage {
  const rows = [...message.buttons.map((row) => row.map(toButton)), ...extra].filter((row) => row.length > 0);
  return {
    text: message.text,
    options: {
      parse_mode: "HTML",
      ...(rows.length > 0 ? { reply_markup: { inline_keyboard: rows } } : {}),
      // Pay links in the text would otherwise unfurl into a large preview of the payment page.
      link_preview_options: { is_disabled: true },
    },
  };
}

/**
 * The same message without URL buttons. Telegram refuses a whole message when a button's URL is not
 * public (e.g. the sandbox pay page on localhost); the link is in the text as well, so the customer
 * loses nothing.
 */
export function withoutUrlButtons(message: TelegramMessage): TelegramMessage {
  const rows = (message.options.reply_markup?.inline_keyboard ?? [])
    .map((row) => row.filter((button) => !("url" in button)))
    .filter((row) => row.length > 0);
  const { reply_markup: _dropped, ...rest } = message.options;
  void _dropped;
  return { text: message.text, options: { ...rest, ...(rows.length > 0 ? { reply_markup: { inline_keyboard: rows } } : {}) } };
}

/** Renders engine replies and the welcome message for one catalog, in Telegram HTML and any language. */
export function createTelegramRenderer(catalog: Catalog, options: RendererOptions = {}) {
  const renderer = createRenderer(catalog, htmlMarkup, options);
  return {
    localization: renderer.localization,
    /** `language` defaults to the shop's default language. */
    reply: (reply: EngineReply, language?: string): TelegramMessage => toTelegram(renderer.render(reply, language)),
    welcome: (language?: string): TelegramMessage => toTelegram(renderer.welcome(language)),
    /** Message `id` on its own (no engine reply behind it) in `language`, e.g. the /language answer. */
    text: (language: string, id: string): TelegramMessage =>
      toTelegram({ text: renderer.localization.translator(language).t(id), buttons: [] }),
  };
}

export type TelegramRenderer = ReturnType<typeof createTelegramRenderer>;
