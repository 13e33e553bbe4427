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
const ASCII_TOKEN = /\d{1,3}(?: \d{3})+(?!\d)|\d+(?:[.,]\d+)*|[a-z]+|[^\sa-z0-9]/g;
const [DIGIT_0, DIGIT_9, LOWER_A, LOWER_Z] = ["0", "9", "a", "z"].map((c) => c.charCodeAt(0)) as [number, number, number, number];
// "полмиллиона", "полтыщи": the half is its own word for the number grammar.
const HALF_PREFIX = /(?<!\p{L})пол(?=тыс|тыщ|милл|лям)/gu;

/** Lower case, compatibility forms folded, «ё» as «е», apostrophes dropped, thumbs read as words. */
export function normalizeText(raw: string): string {
  return PRINTABLE_ASCII.test(raw) ? normalizeAscii(raw) : normalizeAnyText(raw);
}

/**
 * {@link normalizeText} for printable ASCII, most messages: the folds for Unicode forms, Cyrillic and
 * emoji change nothing in it, and skipping those seven Unicode-aware passes halves the cost of reading
 * a message.
 */
function normalizeAscii(raw: string): string {
  return raw
    .toLowerCase()
    .replace(/['`]/g, "")
    .replace(/([a-z])\1{2,}/g, "$1")
    .replace(/ {2,}/g, " ")
    .trim();
}

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/** {@link normalizeText} for any text (exported so tests can hold the ASCII shortcut to it). */
export function normalizeAnyText(raw: string): string {
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
  // Printable ASCII stays so when normalized; other text may become it (fullwidth letters, a tab).
  if (PRINTABLE_ASCII.test(raw)) return tokenize(normalizeAscii(raw), true);
  const text = normalizeAnyText(raw);
  return tokenize(text, PRINTABLE_ASCII.test(text));
}

/**
 * Cuts normalized text into tokens. Normalized `ascii` text holds no capitals and no letters beyond
 * a-z, so it is cut by TOKEN without its Unicode classes (exported so tests can hold the two equal).
 */
export function tokenize(text: string, ascii: boolean): Message {
  const tokens: Token[] = [];
  for (const m of text.matchAll(ascii ? ASCII_TOKEN : TOKEN)) {
    const t = m[0];
    tokens.push({ kind: kindOf(t, ascii), text: t, start: m.index, end: m.index + t.length });
  }
  const words = tokens.filter((t) => t.kind === "word" || t.kind === "num").map((t) => t.text);
  return { text, tokens, words };
}

function kindOf(token: string, ascii: boolean): TokenKind {
  const first = token.charCodeAt(0);
  if (first >= DIGIT_0 && first <= DIGIT_9) return "num";
  if (ascii) return first >= LOWER_A && first <= LOWER_Z ? "word" : token === "$" ? "cur" : "punct";
  return /^\p{L}/u.test(token) ? "word" : CURRENCY_SIGNS.includes(token) ? "cur" : "punct";
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

const STAR = "*".charCodeAt(0);

export function wordMatches(word: string | undefined, pattern: string): boolean {
  if (word === undefined) return false;
  const stem = pattern.length - 1;
  if (pattern.charCodeAt(stem) !== STAR) return word === pattern;
  // A prefix compared in place: every message checks a few hundred of them, and slicing the "*" off
  // each time made a new string per check.
  if (word.length < stem) return false;
  for (let k = 0; k < stem; k++) if (word.charCodeAt(k) !== pattern.charCodeAt(k)) return false;
  return true;
}

export function startsAt(words: readonly string[], at: number, phrase: Phrase): boolean {
  if (at + phrase.length > words.length) return false;
  for (let k = 0; k < phrase.length; k++) if (!wordMatches(words[at + k], phrase[k] as string)) return false;
  return true;
}

/**
 * A phrase list by its first word, so a word is checked against the phrases it can start instead of
 * all of them: exact first words in a map, prefix ones ("оплатил*") in a short list. Every message
 * is read against about twenty lists. Each phrase keeps its place in the list (`at`), for
 * {@link consistsOf}, which takes the first phrase of the list that fits.
 */
type Placed = { phrase: Phrase; at: number };
type PhraseIndex = { exact: Map<string, Placed[]>; prefixed: readonly Placed[] };
const indexes = new WeakMap<readonly Phrase[], PhraseIndex>();
const NONE: readonly Placed[] = [];

function indexOf(list: readonly Phrase[]): PhraseIndex {
  let index = indexes.get(list);
  if (!index) {
    const exact = new Map<string, Placed[]>();
    const prefixed: Placed[] = [];
    // The list's order (longest first) is kept within each group.
    list.forEach((phrase, at) => {
      const first = phrase[0] ?? "";
      if (first.endsWith("*")) prefixed.push({ phrase, at });
      else exact.set(first, [...(exact.get(first) ?? []), { phrase, at }]);
    });
    indexes.set(list, (index = { exact, prefixed }));
  }
  return index;
}

/** The first phrase of the list (in its order) that starts at word `i`; null when none does. */
function phraseAt(words: readonly string[], i: number, index: PhraseIndex): Phrase | null {
  let found: Placed | null = null;
  for (const placed of index.exact.get(words[i] as string) ?? NONE) {
    if (startsAt(words, i, placed.phrase)) {
      found = placed;
      break;
    }
  }
  for (const placed of index.prefixed) {
    if (found !== null && found.at < placed.at) break;
    if (startsAt(words, i, placed.phrase)) {
      found = placed;
      break;
    }
  }
  return found?.phrase ?? null;
}

/** True when any of the phrases occurs anywhere in the words. */
export function mentions(words: readonly string[], list: readonly Phrase[]): boolean {
  const index = indexOf(list);
  for (let i = 0; i < words.length; i++) if (phraseAt(words, i, index) !== null) return true;
  return false;
}

/** True when one of the phrases starts at word `i`. */
export function startsAny(words: readonly string[], i: number, list: readonly Phrase[]): boolean {
  return phraseAt(words, i, indexOf(list)) !== null;
}

/** True when the words are nothing but these phrases and `fillers`, with at least one phrase. */
export function consistsOf(words: readonly string[], list: readonly Phrase[], fillers: ReadonlySet<string>): boolean {
  const index = indexOf(list);
  let matched = false;
  for (let i = 0; i < words.length;) {
    const phrase = phraseAt(words, i, index);
    if (phrase !== null) {
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
