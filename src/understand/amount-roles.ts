/**
 * What one number in a message is, judged from the words and signs around it (issue 13, item 4): a
 * token count, dollars or cents, other money, "grand", a count of something else, a name ("gpt-4"),
 * or unreadable ("-5"). Also the cues that say a number is meant as an order ("buy", "make it") or
 * refused ("not", "instead of"). One number at a time: how the numbers of a message combine is
 * amount-mentions.ts, and which one the customer wants is amounts.ts.
 */
import { type NumberPhrase, wholeOf } from "./numbers.ts";
import {
  AFTER_AMOUNT,
  BUDGET_BEFORE,
  CENT_WORDS,
  CODES_BEFORE,
  CUES,
  DONT,
  NAMES_BEFORE,
  NEGATIONS_BEFORE,
  OTHER_MONEY_WORDS,
  PACKAGE_WORDS,
  PAST_PURCHASE,
  RATE_BEFORE,
  SIGNS,
  SKIPPABLE,
  THANKS,
  TOKEN_ADJECTIVES,
  TOKEN_WORDS,
  USD_WORDS,
  WANTING,
} from "./amount-words.ts";
import { type Token, touching } from "./text.ts";

/**
 * What a number stands for. "weak": a number in words without a scale or unit ("две"), an amount only
 * if it borrows a scale from a neighbour. "ignored": it counts or names something else. "invalid": it
 * looks like an amount but cannot be one ("-5").
 */
export type Role = "tokens" | "weak" | "usd" | "cents" | "other_money" | "grand" | "ignored" | "invalid";

/** The word or digits at `i`, or "" for a sign, punctuation or a position outside the message. */
export function wordAt(tokens: readonly Token[], i: number): string {
  const t = tokens[i];
  return t?.kind === "word" || t?.kind === "num" ? t.text : "";
}

/** True for a word that names a currency or cents ("dollars", "евро", "cents"). */
export function isMoneyWord(word: string): boolean {
  return USD_WORDS.has(word) || CENT_WORDS.has(word) || OTHER_MONEY_WORDS.has(word);
}

/** "gpt-4", "4o", "#12", "50%", "5:30", "-5": digits that are not a count of anything sold. */
function identifierRole(tokens: readonly Token[], p: NumberPhrase): Role | null {
  const first = tokens[p.start];
  const prev = tokens[p.start - 1];
  const next = tokens[p.end];
  if (first?.kind === "num") {
    if (touching(prev, first)) {
      if (prev?.kind === "word") return "ignored";
      if (prev?.kind === "punct" && /^[-–−]$/.test(prev.text)) {
        const before = tokens[p.start - 2];
        if (before?.kind === "num" && touching(before, prev)) return null; // "2000-3000"
        return touching(before, prev) ? "ignored" : "invalid"; // "gpt-4" names; "-5" is negative
      }
      if (prev?.kind === "punct" && /^[#№@_/:+.,^*]$/.test(prev.text)) return "ignored";
    }
    if (prev?.kind === "word" && NAMES_BEFORE.has(prev.text)) return "ignored";
  }
  if (prev?.kind === "word" && RATE_BEFORE.has(prev.text)) return "ignored"; // "price per 1k", "per thousand"
  const last = tokens[p.end - 1];
  if (touching(last, next) && next !== undefined) {
    if (next.kind === "word" && !isMoneyWord(next.text) && !TOKEN_WORDS.has(next.text) && !PACKAGE_WORDS.has(next.text)) {
      return "ignored"; // "4o", "1st", "2x"
    }
    if (next.kind === "punct" && /^[%‰:/_^]$/.test(next.text)) return "ignored";
    if (next.kind === "punct" && /^[-–]$/.test(next.text) && tokens[p.end + 1]?.kind === "word" && touching(next, tokens[p.end + 1])) {
      return "ignored";
    }
  }
  return null;
}

/** "$25", "25 usd", "€10", "50 cents": money by its sign, code or word. */
function moneyRole(tokens: readonly Token[], p: NumberPhrase): Role | null {
  const prev = tokens[p.start - 1];
  const next = tokens[p.end];
  const sign = (t: Token | undefined) => (t?.kind === "cur" ? SIGNS.get(t.text) : undefined);
  const kind = sign(prev) ?? sign(next) ?? (prev?.kind === "word" ? CODES_BEFORE.get(prev.text) : undefined);
  if (kind !== undefined) return kind === "usd" ? "usd" : "other_money";
  const after = next?.kind === "word" ? next.text : "";
  if (USD_WORDS.has(after)) return "usd";
  if (CENT_WORDS.has(after)) return "cents";
  if (OTHER_MONEY_WORDS.has(after)) return "other_money";
  return null;
}

/** True when a token or package word goes with the number: "5k tokens", "10k api tokens", "пакет на 5000". */
export function hasUnit(tokens: readonly Token[], p: NumberPhrase): boolean {
  const after = wordAt(tokens, p.end);
  const unitAfter =
    TOKEN_WORDS.has(after) ||
    PACKAGE_WORDS.has(after) ||
    ((TOKEN_ADJECTIVES.has(after) || after === "of") && TOKEN_WORDS.has(wordAt(tokens, p.end + 1)));
  const before = wordAt(tokens, p.start - 1);
  const packageBefore =
    PACKAGE_WORDS.has(before) || ((before === "of" || before === "на") && PACKAGE_WORDS.has(wordAt(tokens, p.start - 2)));
  return unitAfter || packageBefore;
}

/** A word after the number that it counts: "3 times", "4 people", "10 разработчиков". */
function countsSomethingElse(tokens: readonly Token[], p: NumberPhrase): boolean {
  const next = tokens[p.end];
  if (next?.kind !== "word") return false;
  return !AFTER_AMOUNT.has(next.text) && !TOKEN_WORDS.has(next.text) && !PACKAGE_WORDS.has(next.text) && !TOKEN_ADJECTIVES.has(next.text);
}

/**
 * True when a buying or correcting word (or one of `cues`) comes shortly before the number, across
 * fillers and punctuation: "buy 5000", "make it, say, 3k", «хочу 2000».
 */
export function cuedBefore(tokens: readonly Token[], p: NumberPhrase, cues: ReadonlySet<string> = CUES): boolean {
  const sign = tokens[p.start - 1]?.kind === "cur" ? 1 : 0; // "на $20", "for $10"
  const end = p.start - sign;
  // The five tokens before it, nearest first.
  for (const t of tokens.slice(Math.max(0, end - 5), end).reverse()) {
    if (t.kind === "num" || t.kind === "cur") return false;
    if (t.kind === "punct") continue;
    if (cues.has(t.text)) return true;
    if (!SKIPPABLE.has(t.text)) return false;
  }
  return false;
}

/** "I bought 2000 tokens last week": an earlier purchase, not this order. */
function toldAsPast(tokens: readonly Token[], p: NumberPhrase): boolean {
  for (let i = p.start - 1; i >= Math.max(0, p.start - 4); i--) if (PAST_PURCHASE.has(wordAt(tokens, i))) return true;
  return false;
}

/** True when the number is refused right before it: "not 100", "instead of 3k", "I dont want 500", «вместо 1000». */
export function negatedBefore(tokens: readonly Token[], p: NumberPhrase): boolean {
  const w1 = wordAt(tokens, p.start - 1);
  const w2 = wordAt(tokens, p.start - 2);
  const w3 = wordAt(tokens, p.start - 3);
  if (NEGATIONS_BEFORE.has(w1) || w1 === "вместо") return true;
  if ((w2 === "instead" && w1 === "of") || (w2 === "rather" && w1 === "than")) return true;
  return (WANTING.has(w1) && DONT.has(w2)) || (WANTING.has(w1) && DONT.has(w3));
}

/** What the number `p` stands for, from its neighbours alone; the first rule that fits wins. */
export function classify(tokens: readonly Token[], p: NumberPhrase): Role {
  const identifier = identifierRole(tokens, p);
  if (identifier !== null) return identifier;
  const money = moneyRole(tokens, p);
  if (money !== null) return money;
  if (p.grand) return "grand";
  // "my budget is 100": dollars, said without a currency
  if (p.digits && cuedBefore(tokens, p, BUDGET_BEFORE)) return "usd";
  if (countsSomethingElse(tokens, p)) return "ignored";
  // A number in words needs a scale or a unit: "one question" is not an amount, "one thousand" is.
  if (!p.digits && !p.scaled && !hasUnit(tokens, p)) return "weak";
  if (toldAsPast(tokens, p) || THANKS.has(wordAt(tokens, p.start - 1))) return "ignored";
  const value = p.value === null ? null : wholeOf(p.value);
  // "1 token" is a price question ("how much is 1 token"), not an order.
  if (value === 1n && /^(token|токен)$/.test(wordAt(tokens, p.end))) return "ignored";
  return "tokens";
}
