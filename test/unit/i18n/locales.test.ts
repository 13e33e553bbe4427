import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { STAGES, STATE_WORDS } from "../../../machines/purchase.reading.ts";
import { money } from "../../../src/domain/money.ts";
import { LOCALES_DIR, availableLanguages, checkTranslations, loadLocalization, readResource } from "../../../src/i18n/index.ts";

const NBSP = "\u00a0";
const dirs: string[] = [];
afterEach(() => {
  while (dirs.length > 0) rmSync(dirs.pop()!, { recursive: true, force: true });
});
/** A locales folder with copies of the real files plus `extra` files. */
function localesWith(extra: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "locales-"));
  dirs.push(dir);
  for (const language of availableLanguages()) copyFileSync(join(LOCALES_DIR, `${language}.ftl`), join(dir, `${language}.ftl`));
  for (const [name, text] of Object.entries(extra)) writeFileSync(join(dir, name), text);
  return dir;
}

describe("translation files", () => {
  test("English and Russian are there, English first", () => {
    expect(availableLanguages().slice(0, 1)).toEqual(["en"]);
    expect(availableLanguages()).toContain("ru");
  });

  test("every language has exactly English's messages, all parse, use only known variables and no markup", () => {
    expect(checkTranslations()).toEqual([]);
  });

  test("every message the machine's states name (meta.words) and every stage's word exist in every language", () => {
    // A new state cannot ship without words: its meta.words and its `stage-<name>` must be translated.
    expect(STATE_WORDS.length).toBeGreaterThan(10);
    expect(STAGES).toContain("awaiting_payment");
    const needed = [...STATE_WORDS, ...STAGES.map((stage) => `stage-${stage}`)];
    for (const language of availableLanguages()) {
      const ids = new Set(readResource(language).body.map((entry) => entry.id));
      expect(
        needed.filter((id) => !ids.has(id)),
        `${language}.ftl lacks these`,
      ).toEqual([]);
    }
  });

  test("a file that lacks a message, has one English lacks, or misspells a variable is reported", () => {
    const dir = localesWith({ "eo.ftl": "language-name = Esperanto\nwelcome = Bonvenon! { $helpp }\nsurprise = Surprizo\nbroken = { $\n" });
    const problems = checkTranslations(dir).filter((p) => p.language === "eo");
    expect(problems).toContainEqual({ language: "eo", problem: "missing", id: "help" });
    expect(problems).toContainEqual({ language: "eo", problem: "extra", id: "surprise" });
    expect(problems).toContainEqual({ language: "eo", problem: "unknown_variable", id: "welcome", detail: "$helpp" });
    expect(problems).toContainEqual({ language: "eo", problem: "unparsed", id: "broken" });
  });

  test("HTML special characters in a translation's text are reported", () => {
    const dir = localesWith({ "xx.ftl": "" });
    writeFileSync(join(dir, "xx.ftl"), "language-name = <b>X</b>\n");
    expect(checkTranslations(dir)).toContainEqual(
      expect.objectContaining({ language: "xx", problem: "markup_in_text", id: "language-name" }),
    );
  });

  test("adding a language is adding one file: it is offered and used without code changes", () => {
    const dir = localesWith({ "eo.ftl": "language-name = Esperanto\nask-amount = Kiom da ĵetonoj vi volas?\n" });
    const localization = loadLocalization({ dir });
    expect(localization.languages).toContain("eo");
    expect(localization.negotiate("eo")).toBe("eo");
    expect(localization.translator("eo").t("ask-amount")).toBe("Kiom da ĵetonoj vi volas?");
    // Not yet translated: English, never an error.
    expect(localization.translator("eo").t("rate-limited")).toContain("very fast");
  });
});

describe("plurals and numbers", () => {
  const localization = loadLocalization();
  const tokens = (language: string, count: number) => {
    const tr = localization.translator(language);
    return tr.t("tokens", { count, tokens: tr.count(count) });
  };

  test("Russian tokens take the right plural form", () => {
    expect(tokens("ru", 1)).toBe("1 токен");
    expect(tokens("ru", 2)).toBe("2 токена");
    expect(tokens("ru", 5)).toBe("5 токенов");
    expect(tokens("ru", 21)).toBe("21 токен");
    expect(tokens("ru", 2000)).toBe(`2${NBSP}000 токенов`);
    expect(tokens("en", 1)).toBe("1 token");
    expect(tokens("en", 2000)).toBe("2,000 tokens");
  });

  test("money keeps its exact minor units; only separators and the currency's place change", () => {
    const ru = localization.translator("ru");
    const en = localization.translator("en");
    expect(ru.money(money(4000, "USD"))).toBe("40,00 $");
    expect(en.money(money(4000, "USD"))).toBe("$40.00");
    expect(ru.money(money(123456789, "USDT"))).toBe(`1${NBSP}234${NBSP}567,89 USDT`);
    expect(en.money(money(123456789, "USDT"))).toBe("1,234,567.89 USDT");
    expect(ru.money(money(2000, "XTR"))).toBe(`2${NBSP}000 ⭐`);
    // Beyond what a float can hold exactly: the digits come from the integer, not from Intl on a float.
    expect(en.money(money(Number.MAX_SAFE_INTEGER, "USD"))).toBe("$90,071,992,547,409.91");
    expect(en.money(money(5, "USD"))).toBe("$0.05");
  });

  test("time left counts minutes with 'about a minute' for the last one", () => {
    const ru = localization.translator("ru");
    expect([1, 2, 5, 15, 21].map((minutes) => ru.t("time-left", { minutes }))).toEqual([
      "около минуты",
      "2 минуты",
      "5 минут",
      "15 минут",
      "21 минуту",
    ]);
    expect(localization.translator("en").t("time-left", { minutes: 1 })).toBe("about a minute");
  });

  test("a phrase formatted again (kept from before) reads exactly as formatted the first time", () => {
    const en = loadLocalization().translator("en");
    const first = [en.t("tokens", { count: 2000, tokens: en.count(2000) }), en.money(money(4000, "USD")), en.t("button-confirm")];
    const again = [en.t("tokens", { count: 2000, tokens: en.count(2000) }), en.money(money(4000, "USD")), en.t("button-confirm")];
    expect(again).toEqual(first);
    expect(first).toEqual(["2,000 tokens", "$40.00", "✅ Confirm"]);
  });

  test("a count and a text that read alike are different variables: a kept phrase never answers for the other", () => {
    const en = loadLocalization().translator("en");
    // The number 1 picks the plural form "one"; the text "1" matches no variant and takes the default.
    expect(en.t("tokens", { count: 1, tokens: "1" })).toBe("1 token");
    expect(en.t("tokens", { count: "1", tokens: "1" })).toBe("1 tokens");
    // Variables whose texts run into each other are told apart too.
    expect(en.t("price-with-charge", { usd: "a|charge=b", charge: "c" })).toBe("a|charge=b (you pay c)");
    expect(en.t("price-with-charge", { usd: "a", charge: "b|charge=c" })).toBe("a (you pay b|charge=c)");
  });

  test("a translation's problem is reported every time the phrase is formatted, not only the first", () => {
    const problems: string[] = [];
    const en = loadLocalization({ onError: (_error, { id }) => problems.push(id) }).translator("en");
    en.t("button-less", {});
    en.t("button-less", {});
    expect(problems).toEqual(["button-less", "button-less"]);
  });
});

describe("choosing the language", () => {
  test("a language with a file is used; Ukrainian, Belarusian and Kazakh get Russian; anything else the default", () => {
    const localization = loadLocalization();
    expect(["ru", "ru-RU", "uk", "be", "kk", "en", "en-GB", "de", "", undefined, null].map((tag) => localization.negotiate(tag))).toEqual([
      "ru",
      "ru",
      "ru",
      "ru",
      "ru",
      "en",
      "en",
      "en",
      "en",
      "en",
      "en",
    ]);
  });

  test("POSIX locales from LANG are understood", () => {
    const localization = loadLocalization();
    expect(localization.negotiate("ru_RU.UTF-8")).toBe("ru");
    expect(localization.negotiate("C.UTF-8")).toBe("en");
  });

  test("DEFAULT_LANGUAGE decides for languages without a file", () => {
    const localization = loadLocalization({ defaultLanguage: "ru" });
    expect(localization.negotiate("de")).toBe("ru");
    expect(localization.negotiate("en-US")).toBe("en");
    expect(localization.translator("xx").language).toBe("ru");
  });

  test("a default language without a file is refused at start-up", () => {
    expect(() => loadLocalization({ defaultLanguage: "de" })).toThrow(/de\.ftl/);
  });
});
