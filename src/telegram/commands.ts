/**
 * The bot's command menu in the reference language, for the admin menu (which adds to it). Customer
 * menus per language are registered by `language.ts`.
 */
import { REFERENCE_LANGUAGE, loadLocalization } from "../i18n/index.ts";
import { commandMenu } from "./language.ts";

export const BOT_COMMANDS = commandMenu(loadLocalization(), REFERENCE_LANGUAGE);
