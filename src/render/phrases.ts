/**
 * The small phrases every reply of one language is built from: amounts of tokens, money, time left,
 * the catalog's limits and help text, and the package buttons.
 */
import type { Catalog } from "../domain/catalog.ts";
import { type Money, money } from "../domain/money.ts";
import type { Translator } from "../i18n/index.ts";
import type { Markup } from "./markup.ts";
import { type Button, pressButton } from "./model.ts";

/** The phrases of one language and markup, for one catalog; built once per language. */
export function createPhrases(catalog: Catalog, m: Markup, tr: Translator, now: () => number) {
  const t = tr.t;
  const tokens = (count: number) => t("tokens", { count, tokens: tr.count(count) });
  const short = (count: number) => (count % 1000 === 0 ? t("tokens-thousands", { thousands: tr.count(count / 1000) }) : tr.count(count));
  const cash = (value: Money) => m.escape(tr.money(value));
  const timeLeft = (until: number | null) =>
    until === null ? "" : t("time-left", { minutes: Math.max(1, Math.ceil((until - now()) / 60_000)) });
  // The package buttons, the limits and the price depend only on the catalog: built once.
  const packages: Button[] = catalog.packages.map((p) => pressButton(short(p), { action: "package", tokens: p }));
  const limits = t("limits", { min: tr.count(catalog.minTokens), minCount: catalog.minTokens, max: tr.count(catalog.maxTokens), maxCount: catalog.maxTokens });
  const help = t("help", { price: m.bold(cash(money(catalog.pricePer1kUsdCents, "USD"))), per: tr.count(1000), limits });
  return { catalog, m, tr, t, tokens, short, cash, timeLeft, packages, limits, help };
}

/** See {@link createPhrases}. */
export type Phrases = ReturnType<typeof createPhrases>;
