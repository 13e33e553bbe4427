/**
 * Which language each chat is answered in: negotiated from the customer's language on first contact,
 * changed with /language, stored per chat so it survives restarts.
 */
import type { LanguagePreference } from "../domain/preferences.ts";
import type { Collection } from "../store/index.ts";
import type { Localization } from "./localization.ts";

export type LanguagePreferences = {
  /**
   * The chat's language. A chat seen for the first time gets the language negotiated from `tag`
   * (e.g. Telegram's `language_code`), and it is remembered; without a tag nothing is stored and the
   * default language is used.
   */
  of(chatId: string, tag?: string | null): Promise<string>;
  /** The customer chose `language` (one with a file); returns what is now stored. */
  choose(chatId: string, language: string): Promise<string>;
};

export function createLanguagePreferences(
  collection: Collection<LanguagePreference>,
  localization: Localization,
  clock: () => number = Date.now,
): LanguagePreferences {
  return {
    async of(chatId, tag) {
      const stored = await collection.get(chatId);
      // A language whose file was removed since is negotiated again.
      if (stored && localization.languages.includes(stored.language)) return stored.language;
      if (tag === undefined || tag === null || tag === "") return localization.defaultLanguage;
      const language = localization.negotiate(tag);
      await collection.set(chatId, { v: 1, language, chosen: false, updatedAt: clock() });
      return language;
    },
    async choose(chatId, language) {
      const known = localization.languages.includes(language) ? language : localization.defaultLanguage;
      await collection.set(chatId, { v: 1, language: known, chosen: true, updatedAt: clock() });
      return known;
    },
  };
}
