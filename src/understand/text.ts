/**
 * A customer's message as the rules see it: normalized once, then cut into tokens (numbers, words,
 * currency signs, punctuation) that remember where they stood, so "5k", "5 k" and "gpt-4" can be
 * told apart. Also the small phrase-matching helpers the intent rules share.
 */

/** Messages longer than this are prose, not commands; skipping them keeps the worst case cheap. */
export const MAX_LENGTH = 500;

export type TokenKind = "num" | "word" | "cur" | "punct";

/** One piece of a message; `start`/`end` are offsets in the normalized text. */
export type Token = { kind: TokenKind; text: string; start: number; end: number };

/** A normalized message: its text, its tokens, and its words (letters and digits) for phrase matching. */
export type Message = { text: string; tokens: readonly Token[]; words: readonly string[] };

const CURRENCY_SIGNS = "$€£¥₽₹₿";
// Digits grouped by spaces ("12 000"), or digits with dots and commas ("1,000,000", "2.5", "15,50").
const TOKEN = new RegExp(String.raw`\d{1,3}(?: \d{3})+(?!\d)|\d+(?:[.,]\d+)*|\p{L}+|[${CURRENCY_SIGNS}]|[^\s\p{L}\p{N}]`, "gu");
// "полмиллиона", "полтыщи": the half is its own word for the number grammar.
const HALF_PREFIX = /(?<!\p{L})пол(?=тыс|тыщ|милл|лям)/gu;

/** Lower case, compatibility forms folded, «ё» as «е», apostrophes dropped, thumbs read as words. */
export function normalizeText(raw: string): string {
  return raw
    .normalize("NFKC")
    .toLowerCase()
    .replace(/ё/gu, "е")
    .replace(/['’‘`ʼ]/gu, "") // "don't" reads as "dont"
    .replace(/👍|👌|✅|✔/gu, " yes ")
    .replace(/👎|❌/gu, " no ")
    .replace(HALF_PREFIX, "пол ")
    .replace(/(?<=\p{L})-(?=(?:то|нибудь|либо|таки)(?!\p{L}))/gu, "") // «где-то» is one word, not «где»
    .replace(/(\p{L})\1{2,}/gu, "$1") // "ummm", "yesss", "нееет": drawn-out letters
    .replace(/[\s\p{Cc}\p{Cf}\p{Z}]+/gu, " ")
    .trim();
}

/** Normalizes and tokenizes a message. */
export function readText(raw: string): Message {
  const text = normalizeText(raw);
  const tokens: Token[] = [];
  for (const m of text.matchAll(TOKEN)) {
    const t = m[0];
    const kind: TokenKind = /^\d/.test(t) ? "num" : /^\p{L}/u.test(t) ? "word" : CURRENCY_SIGNS.includes(t) ? "cur" : "punct";
    tokens.push({ kind, text: t, start: m.index, end: m.index + t.length });
  }
  const words = tokens.filter((t) => t.kind === "word" || t.kind === "num").map((t) => t.text);
  return { text, tokens, words };
}

/** True when two tokens touch, with no space between them. */
export function touching(left: Token | undefined, right: Token | undefined): boolean {
  return left !== undefined && right !== undefined && left.end === right.start;
}

/**
 * A phrase is a list of words; a word ending in "*" matches any word starting with the rest, which
 * keeps Russian endings ("оплатил*" for оплатил, оплатила, оплатили) in one entry.
 */
export type Phrase = readonly string[];

/** Comma-separated phrases, longest first so "go ahead" wins over "go"; written without apostrophes. */
export function phrases(list: string): readonly Phrase[] {
  return list
    .split(",")
    .map((p) => p.trim().split(" "))
    .sort((a, b) => b.length - a.length);
}

export function wordSet(list: string): ReadonlySet<string> {
  return new Set(list.split(/\s+/).filter((w) => w !== ""));
}

export function wordMatches(word: string | undefined, pattern: string): boolean {
  if (word === undefined) return false;
  return pattern.endsWith("*") ? word.startsWith(pattern.slice(0, -1)) : word === pattern;
}

export function startsAt(words: readonly string[], at: number, phrase: Phrase): boolean {
  return phrase.every((w, k) => wordMatches(words[at + k], w));
}

/**
 * A phrase list by its first word, so a word is checked against the phrases it can start instead of
 * all of them: exact first words in a map, prefix ones ("оплатил*") in a short list. Every message
 * is read against about twenty lists.
 */
type PhraseIndex = { exact: Map<string, Phrase[]>; prefixed: readonly Phrase[] };
const indexes = new WeakMap<readonly Phrase[], PhraseIndex>();

function indexOf(list: readonly Phrase[]): PhraseIndex {
  let index = indexes.get(list);
  if (!index) {
    const exact = new Map<string, Phrase[]>();
    const prefixed: Phrase[] = [];
    // The list's order (longest first) is kept within each group.
    for (const phrase of list) {
      const first = phrase[0] ?? "";
      if (first.endsWith("*")) prefixed.push(phrase);
      else exact.set(first, [...(exact.get(first) ?? []), phrase]);
    }
    indexes.set(list, (index = { exact, prefixed }));
  }
  return index;
}

/** True when any of the phrases occurs anywhere in the words. */
export function mentions(words: readonly string[], list: readonly Phrase[]): boolean {
  const { exact, prefixed } = indexOf(list);
  for (let i = 0; i < words.length; i++) {
    for (const phrase of exact.get(words[i] as string) ?? []) if (startsAt(words, i, phrase)) return true;
    for (const phrase of prefixed) if (startsAt(words, i, phrase)) return true;
  }
  return false;
}

/** True when the words are nothing but these phrases and `fillers`, with at least one phrase. */
export function consistsOf(words: readonly string[], list: readonly Phrase[], fillers: ReadonlySet<string>): boolean {
  let matched = false;
  for (let i = 0; i < words.length;) {
    const phrase = list.find((p) => startsAt(words, i, p));
    if (phrase !== undefined) {
      matched = true;
      i += phrase.length;
    } else if (fillers.has(words[i] ?? "")) {
      i += 1;
    } else {
      return false;
    }
  }
  return matched;
}
