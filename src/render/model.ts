/**
 * The render model: a reply as words and buttons, before a channel shows it. Buttons say what they
 * mean ({@link ButtonAction}), not how a channel packs it: Telegram turns a press into
 * `callback_data` (`src/telegram/render.ts`), the console presses it when its number or label is typed.
 */
import type { ButtonAction } from "../domain/buttons.ts";

/**
 * A button as the words describe it: a press that means a {@link ButtonAction}, or a link. Each
 * channel turns it into its own form.
 */
export type Button = { label: string; press: ButtonAction } | { label: string; url: string };

/** A reply in words: the text (in the renderer's markup) and rows of buttons. */
export type RenderedMessage = { text: string; buttons: Button[][] };

/** A button that presses `press`. */
export const pressButton = (label: string, press: ButtonAction): Button => ({ label, press });
