/**
 * Which product a message names (issue 21), by the product's name or an alias in any language ("1000
 * gpt tokens", «токены для claude», "$25 of claude credit"), and the amount said with it. Pure and
 * offline, like the rest of the rules. `product-command.ts` turns what it finds into a command, in a
 * shop that sells several products.
 */
import type { Product, ProductId, ShopCatalog } from "../domain/products.ts";
import { findAmount } from "./amounts.ts";
import type { Reading } from "./reading.ts";
import { MAX_LENGTH, type Token, readText } from "./text.ts";

/** A product the message names, and the amount said with it (null when none is). */
export type ProductReading = {
  productId: ProductId;
  amount: Extract<Reading, { kind: "amount" | "budget" | "clarify" }> | null;
};

// Words every product's name may share ("GPT tokens", "Claude credit"): they name no product on their own.
const GOODS = /^(token|tokens|credit|credits|токен\p{L}*|кредит\p{L}*)$/u;

/** One way to name a product: its words, the last matching any ending when the owner wrote "клод*". */
type Name = { productId: ProductId; words: readonly string[]; prefix: boolean; language: string; specific: number };

/** A name found in the message: the product, where (word positions), how specific, in which language. */
type Found = { name: Name; from: number; to: number };

function namesOf(product: Product): Name[] {
  const names: Name[] = [];
  const add = (text: string, language: string) => {
    const prefix = text.trim().endsWith("*");
    const words = readText(text.replace(/\*\s*$/, "")).words;
    if (words.length > 0)
      names.push({ productId: product.id, words, prefix, language, specific: words.filter((w) => !GOODS.test(w)).length });
  };
  for (const [language, name] of Object.entries(product.name)) add(name, language);
  for (const [language, aliases] of Object.entries(product.aliases)) for (const alias of aliases) add(alias, language);
  add(product.id.replace(/-/g, " "), "*");
  return names;
}

// Russian case endings, longest first: «токенов», «кредита», «токенами» name what «токены», «кредит» do.
const RUSSIAN_ENDING = /(?:ами|ями|ов|ев|ей|ам|ям|ах|ях|ой|ом|ем|ы|и|а|я|у|ю|е|о|ь)$/u;

/** A Russian word without its case ending, when at least three letters remain; other words as they are. */
function stem(word: string): string {
  if (!/^\p{Script=Cyrillic}+$/u.test(word)) return word;
  const bare = word.replace(RUSSIAN_ENDING, "");
  return bare.length >= 3 ? bare : word;
}

/** A written word matches a name's word exactly, by the owner's "*", as its English plural, or in another Russian case. */
function wordFits(said: string | undefined, wanted: string, prefix: boolean): boolean {
  if (said === undefined) return false;
  if (prefix) return said.startsWith(wanted);
  return said === wanted || said === `${wanted}s` || `${said}s` === wanted || stem(said) === stem(wanted);
}

function findNames(words: readonly string[], names: readonly Name[]): Found[] {
  const found: Found[] = [];
  for (let at = 0; at < words.length; at++) {
    for (const name of names) {
      const last = name.words.length - 1;
      if (name.words.every((w, k) => wordFits(words[at + k], w, name.prefix && k === last)))
        found.push({ name, from: at, to: at + name.words.length });
    }
  }
  return found;
}

/** The product the found names point at: the most specific wins, then the customer's language; a tie is no answer. */
function choose(found: readonly Found[], language: string): Found | null {
  const best = (list: readonly Found[], score: (f: Found) => number): Found[] => {
    const top = Math.max(...list.map(score));
    return list.filter((f) => score(f) === top);
  };
  let candidates = best(found, (f) => (f.name.specific > 0 ? 1 : 0));
  candidates = best(candidates, (f) => f.name.specific * 100 + f.name.words.length);
  if (new Set(candidates.map((f) => f.name.productId)).size > 1)
    candidates = best(candidates, (f) => (f.name.language === language ? 1 : 0));
  const products = new Set(candidates.map((f) => f.name.productId));
  return products.size === 1 ? (candidates[0] ?? null) : null;
}

/**
 * The message's tokens with the product's name read as "tokens" (and any "credit" or "tokens" beside
 * it taken in), so "$25 of claude credit" reads as "$25 of tokens" and "1000 mistral tokens" as "1000
 * tokens". A number right after a name that does not end in such a word ("claude 3", "gpt-4") names a
 * model: the message is then read as written, where such numbers are never amounts.
 */
function withNameAsTokens(tokens: readonly Token[], wordIndex: readonly number[], match: Found): readonly Token[] {
  let from = wordIndex[match.from] ?? 0;
  let to = (wordIndex[match.to - 1] ?? from) + 1;
  const isGoods = (t: Token | undefined) => t?.kind === "word" && GOODS.test(t.text);
  const namesModel =
    !isGoods(tokens[to - 1]) && (tokens[to]?.kind === "num" || (tokens[to]?.kind === "punct" && tokens[to + 1]?.kind === "num"));
  if (namesModel) return tokens;
  while (isGoods(tokens[to])) to += 1;
  while (isGoods(tokens[from - 1])) from -= 1;
  const start = tokens[from]?.start ?? 0;
  const end = tokens[to - 1]?.end ?? start;
  return [...tokens.slice(0, from), { kind: "word", text: "tokens", start, end }, ...tokens.slice(to)];
}

/**
 * The product `text` names, by any of its names or aliases in any language (case, «ё» and English
 * plurals ignored; an alias ending in "*" matches any ending), and the amount said with it. When names
 * of several products appear, the most specific wins ("gpt tokens" over "tokens"; a shared word like
 * "tokens" or "credit" alone counts least), then one in the customer's `language`; still a tie, or no
 * name at all: null, and the caller keeps its default product.
 */
export function readProduct(text: string, shop: Pick<ShopCatalog, "products">, language: string): ProductReading | null {
  if (typeof text !== "string" || text.length > MAX_LENGTH) return null;
  const message = readText(text);
  const wordIndex: number[] = [];
  message.tokens.forEach((t, i) => {
    if (t.kind === "word" || t.kind === "num") wordIndex.push(i);
  });
  const found = findNames(message.words, shop.products.flatMap(namesOf));
  if (found.length === 0) return null;
  const match = choose(found, language);
  if (match === null) return null;
  const amount = findAmount(withNameAsTokens(message.tokens, wordIndex, match), false).reading;
  return { productId: match.name.productId, amount };
}
