/**
 * How bold, code, spoilers and escaping look in one channel. The words are the same for the console
 * and Telegram; only the markup differs.
 */
import { escapeHtml } from "./html.ts";

/** Formatting for one channel; `escape` is applied to every user- or provider-supplied string. */
export type Markup = {
  escape(text: string): string;
  bold(text: string): string;
  code(text: string): string;
  spoiler(text: string): string;
};

/** No formatting at all: the console. */
export const plainMarkup: Markup = {
  escape: (text) => text,
  bold: (text) => text,
  code: (text) => text,
  spoiler: (text) => text,
};

/** Telegram's HTML `parse_mode`. */
export const htmlMarkup: Markup = {
  escape: escapeHtml,
  bold: (text) => `<b>${text}</b>`,
  code: (text) => `<code>${text}</code>`,
  spoiler: (text) => `<tg-spoiler>${text}</tg-spoiler>`,
};
