export {
  LANGUAGE_NEIGHBOURS,
  LOCALES_DIR,
  REFERENCE_LANGUAGE,
  availableLanguages,
  loadLocalization,
  readResource,
} from "./localization.ts";
export type { Localization, LocalizationOptions, MessageArgs, Translator } from "./localization.ts";
export { createLanguagePreferences } from "./preferences.ts";
export type { LanguagePreferences } from "./preferences.ts";
export { checkTranslations } from "./check.ts";
export type { TranslationProblem } from "./check.ts";
