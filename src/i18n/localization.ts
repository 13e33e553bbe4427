/**
 * Translations: one Fluent file per language in `locales/` (`en.ftl`, `ru.ftl`, …), loaded once into
 * `@fluent/bundle` bundles. Adding a language is adding a file; nothing in code lists languages.
 * Numbers and money are formatted here for the language and passed into messages as text; counts that
 * pick a plural form are passed as numbers.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { FluentBundle, FluentResource } from "@fluent/bundle";
import { negotiateLanguages } from "@fluent/langneg";
import { type Money, toDecimalString } from "../domain/money.ts";
import { createBoundedMap } from "../bounded.ts";

/** Where the translations live: one `<language>.ftl` per language. */
export const LOCALES_DIR = fileURLToPath(new URL("../../locales/", import.meta.url));

/** The language every message exists in; a message missing elsewhere falls back to it. */
export const REFERENCE_LANGUAGE = "en";

/**
 * Telegram languages answered in another language when they have no file of their own: customers
 * writing in these usually read Russian comfortably, more so than English.
 */
export const LANGUAGE_NEIGHBOURS: Readonly<Record<string, string>> = { uk: "ru", be: "ru", kk: "ru" };

/** Variables of a message: text already formatted (and escaped for the markup), or a count. */
export type MessageArgs = Readonly<Record<string, string | number>>;

/** The words of one language. */
export type Translator = {
  readonly language: string;
  /** Formats message `id`. Throws for an id that not even the reference language has: that is a bug. */
  t(id: string, args?: MessageArgs): string;
  /** A whole number in this language's digits and grouping: 2000 → "2,000" (en), "2 000" (ru). */
  count(value: number): string;
  /** Money from its integer minor units, in this language's form: "$40.00" (en), "40,00 $" (ru). */
  money(value: Money): string;
};

export type Localization = {
  /** The languages with a file, reference first. */
  readonly languages: readonly string[];
  /** For customers whose language has no file (`DEFAULT_LANGUAGE`). */
  readonly defaultLanguage: string;
  /** The words of `language`; the default language's for one without a file. */
  translator(language: string): Translator;
  /**
   * The language to answer a customer in, from a language tag such as Telegram's `language_code`
   * (`ru`, `pt-br`) or a POSIX locale (`ru_RU.UTF-8`): its own file, else a neighbour's (uk, be, kk →
   * ru), else the default language.
   */
  negotiate(tag: string | null | undefined): string;
};

export type LocalizationOptions = {
  /** Defaults to {@link LOCALES_DIR}. */
  dir?: string;
  /** Defaults to the reference language; must have a file. */
  defaultLanguage?: string;
  /** Told about formatting problems (a variable a translation uses but the code did not pass). */
  onError?: (error: Error, context: { language: string; id: string }) => void;
};

/**
 * The languages that have a file in `dir`, reference first, then alphabetically. Language codes are
 * ASCII, so a plain comparison sorts them: `localeCompare` would load ICU's collation tables at every
 * start (~3 MB of resident memory) for nothing.
 */
export function availableLanguages(dir: string = LOCALES_DIR): string[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith(".ftl"))
    .map((name) => name.slice(0, -".ftl".length))
    .sort((a, b) => (a === REFERENCE_LANGUAGE ? -1 : b === REFERENCE_LANGUAGE ? 1 : a < b ? -1 : a > b ? 1 : 0));
}

/** Parses one language's file; `resource.body` holds only the entries that parsed. */
export function readResource(language: string, dir: string = LOCALES_DIR): FluentResource {
  return new FluentResource(readFileSync(join(dir, `${language}.ftl`), "utf8"));
}

/** `ru_RU.UTF-8` → `ru-RU`; `C` and `POSIX` (no language) → undefined. */
function toLanguageTag(tag: string): string | undefined {
  const clean = tag
    .trim()
    .replace(/[.@].*$/, "")
    .replace(/_/g, "-");
  return clean === "" || /^(c|posix)$/i.test(clean) ? undefined : clean;
}

function numberFormat(language: string) {
  const format = new Intl.NumberFormat(language, { maximumFractionDigits: 0 });
  const decimal = new Intl.NumberFormat(language).formatToParts(1.5).find((part) => part.type === "decimal")?.value ?? ".";
  return {
    // BigInt keeps every digit exact, whatever the size.
    integer: (digits: string) => format.format(BigInt(digits)),
    decimal,
  };
}

/**
 * Formatted phrases each language keeps: a reply is built from a dozen short phrases (button labels,
 * amounts, money, time left, limits) that come back in message after message, and formatting one
 * through Fluent and ICU costs microseconds. Formatting is a pure function of the language, the
 * message and its variables, so a kept phrase is the very text formatting would give again.
 */
const KEPT_PHRASES = 2_000;
/**
 * Only messages with this few variables are kept: a whole message naming an order (its id, amount,
 * price and time) seldom comes back, and would only push the short phrases out.
 */
const KEPT_MAX_VARIABLES = 4;

/** A bounded memo (least recently used phrases make room). */
function keptPhrases<K>() {
  const kept = createBoundedMap<K, string>({ maxEntries: KEPT_PHRASES });
  return {
    get: (key: K) => kept.get(key),
    keep(key: K, text: string): string {
      kept.set(key, text);
      return text;
    },
  };
}

/**
 * The memo key of message `id` with `args`, or null when it is not kept (too many variables). Each
 * value carries its type (a number picks plural forms, a string does not) and its length, so no two
 * different calls share a key whatever their text holds.
 */
function phraseKey(id: string, args: MessageArgs | undefined): string | null {
  let key = id;
  let variables = 0;
  for (const name in args) {
    if (++variables > KEPT_MAX_VARIABLES) return null;
    const value = args[name]!;
    const text = String(value);
    key += `|${name}${typeof value === "number" ? "#" : "="}${text.length}:${text}`;
  }
  return key;
}

function createTranslator(
  language: string,
  bundle: FluentBundle,
  reference: FluentBundle,
  onError: NonNullable<LocalizationOptions["onError"]>,
): Translator {
  // Made on first use: ICU's number data for a language nobody has written in yet is not loaded.
  let formats: ReturnType<typeof numberFormat> | undefined;
  const numbers = () => (formats ??= numberFormat(language));
  const phrases = keptPhrases<string>();
  const counts = keptPhrases<number>();
  const sums = keptPhrases<string>();
  const translator: Translator = {
    language,
    t(id, args) {
      const key = phraseKey(id, args);
      const kept = key === null ? undefined : phrases.get(key);
      if (kept !== undefined) return kept;
      const own = bundle.getMessage(id);
      const [source, message] = own?.value ? [bundle, own] : [reference, reference.getMessage(id)];
      if (!message?.value) throw new Error(`no message "${id}" in locales/${language}.ftl or locales/${REFERENCE_LANGUAGE}.ftl`);
      const errors: Error[] = [];
      const text = source.formatPattern(message.value, args, errors);
      for (const error of errors) onError(error, { language, id });
      // A phrase that reported a problem is formatted (and reported) again next time.
      return key === null || errors.length > 0 ? text : phrases.keep(key, text);
    },
    count(value) {
      const whole = Math.trunc(value);
      return counts.get(whole) ?? counts.keep(whole, numbers().integer(String(whole)));
    },
    money(value) {
      const key = `${value.currency}:${value.minor}`;
      const kept = sums.get(key);
      if (kept !== undefined) return kept;
      // From the exact decimal string, never through a float: only separators change.
      const [whole = "0", fraction] = toDecimalString(value).split(".");
      const amount = fraction === undefined ? numbers().integer(whole) : `${numbers().integer(whole)}${numbers().decimal}${fraction}`;
      return sums.keep(key, translator.t("money", { amount, currency: value.currency }));
    },
  };
  return translator;
}

const cache = new Map<string, Localization>();

/**
 * Loads every language file in the folder (once per folder and default language: apps and tests
 * share the result). Throws when the default language has no file.
 */
export function loadLocalization(options: LocalizationOptions = {}): Localization {
  const dir = options.dir ?? LOCALES_DIR;
  const defaultLanguage = options.defaultLanguage ?? REFERENCE_LANGUAGE;
  const key = `${dir}\n${defaultLanguage}`;
  const cached = options.onError ? undefined : cache.get(key);
  if (cached) return cached;

  const languages = availableLanguages(dir);
  if (!languages.includes(REFERENCE_LANGUAGE))
    throw new Error(`${join(dir, `${REFERENCE_LANGUAGE}.ftl`)} is missing: it is the reference language`);
  if (!languages.includes(defaultLanguage))
    throw new Error(
      `no translation for the default language "${defaultLanguage}": add ${join(dir, `${defaultLanguage}.ftl`)} or choose one of ${languages.join(", ")}`,
    );
  const bundles = new Map<string, FluentBundle>();
  for (const language of languages) {
    // Plain text in chats and attributes: no Unicode isolation marks around variables.
    const bundle = new FluentBundle(language, { useIsolating: false });
    const errors = bundle.addResource(readResource(language, dir));
    if (errors.length > 0) throw new Error(`locales/${language}.ftl: ${errors.map(String).join("; ")}`);
    bundles.set(language, bundle);
  }
  const onError = options.onError ?? (() => {});
  const reference = bundles.get(REFERENCE_LANGUAGE)!;
  const translators = new Map(
    languages.map((language) => [language, createTranslator(language, bundles.get(language)!, reference, onError)]),
  );
  const fallback = translators.get(defaultLanguage)!;

  const localization: Localization = {
    languages,
    defaultLanguage,
    translator: (language) => translators.get(language) ?? fallback,
    negotiate(tag) {
      const wanted = tag ? toLanguageTag(tag) : undefined;
      if (!wanted) return defaultLanguage;
      const [match] = negotiateLanguages([wanted], languages, { strategy: "lookup", defaultLocale: "-" });
      if (match && match !== "-") return match;
      const neighbour = LANGUAGE_NEIGHBOURS[wanted.split("-")[0]!.toLowerCase()];
      return neighbour && languages.includes(neighbour) ? neighbour : defaultLanguage;
    },
  };
  if (!options.onError) cache.set(key, localization);
  return localization;
}
