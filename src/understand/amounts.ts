/**
 * Which numbers in a message are amounts (issue 13, item 4). A number is a token amount only with a
 * cue: a unit ("tokens", "k", "тыс", a package word), a buying or correcting word before it ("buy",
 * "make it", "rather", "хочу", "лучше"), a message that is nothing but the number and such words, or
 * the bot having just asked "how many?". Money ("$25", "на 50 долларов") is a budget. A number that
 * counts something else ("3 times", "team of 4", "gpt-4", "50%") is never an amount.
 *
 * Several amounts: a correction ("3k, no sorry, 4k") keeps the last; a negated one ("not 100") is
 * dropped; two left without a correction ("2000 or 3000") ask which.
 */
import type { AmountOption, Reading } from "./reading.ts";
import { type NumberPhrase, isScale, readNumberAt, wholeOf } from "./numbers.ts";
import {
  AFTER_AMOUNT,
  BARE_WORDS,
  BUDGET_BEFORE,
  BUDGET_WORDS,
  CENT_WORDS,
  CODES_BEFORE,
  CORRECTIONS,
  CORRECTS_BEFORE_IT,
  CUES,
  DONT,
  LINKS,
  MODIFIERS,
  NAMES_BEFORE,
  NEGATIONS_BEFORE,
  OTHER_MONEY_WORDS,
  PACKAGE_WORDS,
  PACKAGE_PLURALS,
  PAST_PURCHASE,
  RANGE_LINKS,
  RATE_BEFORE,
  SCALE_LINKS,
  SIGNS,
  THANKS,
  TIMES,
  SKIPPABLE,
  TOKEN_ADJECTIVES,
  TOKEN_WORDS,
  USD_WORDS,
  WANTING,
} from "./amount-words.ts";
import { type Token, touching } from "./text.ts";

/** What the amount rules made of a message. */
export type AmountFinding = {
  /** amount, budget or clarify; null when no number in the message is an amount. */
  reading: Extract<Reading, { kind: "amount" | "budget" | "clarify" }> | null;
  /** Some amount-like number could not be read safely (negative, fractional, "a few more"). */
  blocked: boolean;
  /** The amount came with a buying word or stood alone, so it is the point of the message. */
  intended: boolean;
};


/** "weak": a number in words without a scale or unit ("две"), an amount only if it borrows a scale. */
type Role = "tokens" | "weak" | "usd" | "cents" | "other_money" | "grand" | "ignored" | "invalid";

type Mention = {
  phrase: NumberPhrase;
  role: Role;
  /** Token amount, cents, or the grand count, as a whole number; null when it is not whole. */
  whole: bigint | null;
  cued: boolean;
  /** Cued by a buying or correcting word, or by the message being nothing else. */
  intended: boolean;
  negated: boolean;
};

function wordAt(tokens: readonly Token[], i: number): string {
  const t = tokens[i];
  return t?.kind === "word" || t?.kind === "num" ? t.text : "";
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

function isMoneyWord(word: string): boolean {
  return USD_WORDS.has(word) || CENT_WORDS.has(word) || OTHER_MONEY_WORDS.has(word);
}

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

function hasUnit(tokens: readonly Token[], p: NumberPhrase): boolean {
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

/** A buying or correcting word (or one of `cues`) shortly before the number, across fillers and punctuation. */
function cuedBefore(tokens: readonly Token[], p: NumberPhrase, cues: ReadonlySet<string> = CUES): boolean {
  const sign = tokens[p.start - 1]?.kind === "cur" ? 1 : 0; // "на $20", "for $10"
  for (let i = p.start - 1 - sign, seen = 0; i >= 0 && seen < 5; i--, seen++) {
    const t = tokens[i] as Token;
    if (t.kind === "num" || t.kind === "cur") return false;
    if (t.kind === "punct") continue;
    if (cues.has(t.text)) return true;
    if (!SKIPPABLE.has(t.text)) return false;
  }
  return false;
}

/** "2 packs of 5k", "3 x 1000", «2 пакета по 5000»: arithmetic the rules leave to the LLM or a question. */
function multiplies(tokens: readonly Token[], p: NumberPhrase): boolean {
  const next = wordAt(tokens, p.end);
  const isNumberAt = (i: number) => readNumberAt(tokens, i) !== undefined;
  if (PACKAGE_PLURALS.has(next)) return true;
  if (TIMES.has(tokens[p.end]?.text ?? "") && isNumberAt(p.end + 1)) return true;
  if (TIMES.has(tokens[p.start - 1]?.text ?? "") && p.start >= 2 && tokens[p.start - 2]?.kind === "num") return true;
  const counted = tokens[p.end]?.kind === "word" && !AFTER_AMOUNT.has(next) && !LINKS.has(next);
  return counted && (wordAt(tokens, p.end + 1) === "of" || wordAt(tokens, p.end + 1) === "по") && isNumberAt(p.end + 2);
}

/** "I bought 2000 tokens last week": an earlier purchase, not this order. */
function toldAsPast(tokens: readonly Token[], p: NumberPhrase): boolean {
  for (let i = p.start - 1; i >= Math.max(0, p.start - 4); i--) if (PAST_PURCHASE.has(wordAt(tokens, i))) return true;
  return false;
}

function negatedBefore(tokens: readonly Token[], p: NumberPhrase): boolean {
  const w1 = wordAt(tokens, p.start - 1);
  const w2 = wordAt(tokens, p.start - 2);
  const w3 = wordAt(tokens, p.start - 3);
  if (NEGATIONS_BEFORE.has(w1) || w1 === "вместо") return true;
  if ((w2 === "instead" && w1 === "of") || (w2 === "rather" && w1 === "than")) return true;
  return (WANTING.has(w1) && DONT.has(w2)) || (WANTING.has(w1) && DONT.has(w3));
}

function classify(tokens: readonly Token[], p: NumberPhrase): Role {
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

function wholeFor(role: Role, p: NumberPhrase): bigint | null {
  if (p.value === null) return null;
  return role === "usd" ? wholeOf(p.value, 2) : wholeOf(p.value); // dollars to cents; the rest as said
}

/** Every number in the message, in order. */
function numbersIn(tokens: readonly Token[]): NumberPhrase[] {
  const found: NumberPhrase[] = [];
  for (let i = 0; i < tokens.length; ) {
    const phrase = readNumberAt(tokens, i);
    if (phrase === undefined) {
      i += 1;
      continue;
    }
    found.push(phrase);
    i = phrase.end;
  }
  return found;
}

/** True when the only words outside the numbers are ones that go with an amount ("ok", "make it"). */
function isBare(tokens: readonly Token[], phrases: readonly NumberPhrase[]): boolean {
  let k = 0;
  for (let i = 0; i < tokens.length; i++) {
    const phrase = phrases[k];
    if (phrase !== undefined && i >= phrase.start) {
      i = phrase.end - 1;
      k += 1;
      continue;
    }
    const t = tokens[i] as Token;
    if (t.kind === "word" && !BARE_WORDS.has(t.text) && !isScale(t) && !isMoneyWord(t.text)) return false;
  }
  return true;
}

/** True when only linking words and punctuation stand between two numbers. */
function linked(tokens: readonly Token[], a: NumberPhrase, b: NumberPhrase): boolean {
  for (let i = a.end; i < b.start; i++) {
    const t = tokens[i] as Token;
    if (t.kind === "word" && !LINKS.has(t.text)) return false;
    if (t.kind === "num" || t.kind === "cur") return false;
  }
  return true;
}

function between(tokens: readonly Token[], a: NumberPhrase, b: NumberPhrase, words: ReadonlySet<string>): boolean {
  for (let i = a.end; i < b.start; i++) if (words.has(tokens[i]?.text ?? "")) return true;
  return false;
}

/**
 * Numbers that borrow a scale from their neighbour: "от 5 до 10 тысяч" and "1-2k" (the first takes the
 * second's), "не тысячу, а две" and "5k, not 50" (the second takes the first's).
 */
function shareScale(tokens: readonly Token[], mentions: Mention[]): void {
  for (let k = 0; k + 1 < mentions.length; k++) {
    const a = mentions[k] as Mention;
    const b = mentions[k + 1] as Mention;
    if (a.whole === null || b.whole === null || !isCount(a) || !isCount(b)) continue;
    const small = (m: Mention) => m.role === "weak" || (!m.phrase.scaled && (m.whole ?? 0n) < 1000n);
    if (!a.phrase.scaled && b.phrase.scaled && between(tokens, a.phrase, b.phrase, RANGE_LINKS)) {
      const scaled = a.whole * 10n ** BigInt(b.phrase.scaleZeros);
      if (scaled < b.whole || a.role === "weak") borrow(a, scaled);
    } else if (a.phrase.scaled && small(b) && between(tokens, a.phrase, b.phrase, SCALE_LINKS)) {
      borrow(b, b.whole * 10n ** BigInt(a.phrase.scaleZeros));
    }
  }
}

function isCount(m: Mention): boolean {
  return m.role === "tokens" || m.role === "weak";
}

function borrow(m: Mention, whole: bigint): void {
  m.whole = whole;
  m.role = "tokens";
}

function asSafe(value: bigint | null): number | null {
  return value !== null && value > 0n && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : null;
}

function optionOf(m: Mention): AmountOption | null {
  const value = asSafe(m.whole);
  if (value === null) return null;
  return m.role === "tokens" || m.role === "grand" ? { kind: "amount", tokens: value } : { kind: "budget", usdCents: value };
}

function sameOption(a: AmountOption, b: AmountOption): boolean {
  return a.kind === b.kind && (a.kind === "amount" ? a.tokens === (b as typeof a).tokens : a.usdCents === (b as typeof a).usdCents);
}

/**
 * Finds the amount a message asks for, if any. `askedHowMany`: the bot's last message asked how many
 * tokens, so a number on its own is an answer.
 */
export function findAmount(tokens: readonly Token[], askedHowMany: boolean): AmountFinding {
  const phrases = numbersIn(tokens);
  const none: AmountFinding = { reading: null, blocked: false, intended: false };
  if (phrases.length === 0) return none;
  const bare = isBare(tokens, phrases);
  const budgetTalk = tokens.some((t) => t.kind === "word" && BUDGET_WORDS.has(t.text));
  const mentions: Mention[] = phrases.map((phrase) => {
    const role = classify(tokens, phrase);
    const intended = bare || cuedBefore(tokens, phrase) || askedHowMany;
    const money = role === "usd" || role === "cents";
    // Money is a budget only when spending is meant: "$25 worth", "for 80 dollars", not "my 2 cents".
    const cued = money ? intended || budgetTalk : intended || phrase.scaled || hasUnit(tokens, phrase) || role === "grand";
    return { phrase, role, whole: wholeFor(role, phrase), cued, intended, negated: negatedBefore(tokens, phrase) };
  });
  const counted = mentions.filter((m) => m.role !== "ignored" && m.role !== "other_money");
  // Amounts linked to a cued one are amounts too: "not 3000 — 300", "2000 or 3000 tokens".
  for (let pass = 0; pass < 2; pass++) {
    for (let k = 0; k + 1 < counted.length; k++) {
      const a = counted[k] as Mention;
      const b = counted[k + 1] as Mention;
      if ((a.cued || b.cued) && linked(tokens, a.phrase, b.phrase)) {
        a.cued = b.cued = true;
        a.intended = b.intended = a.intended || b.intended;
      }
    }
  }
  shareScale(tokens, counted);
  const amounts = counted.filter((m) => m.cued && m.role !== "weak");
  if (amounts.length === 0) return none;
  const intended = amounts.some((m) => m.intended);
  const blocked: AmountFinding = { reading: null, blocked: true, intended };
  if (phrases.some((p) => multiplies(tokens, p))) return blocked;
  if (amounts.some((m) => modified(tokens, m.phrase))) return blocked;
  const wanted = amounts.filter((m) => !m.negated);
  if (wanted.length === 0) return none;
  const options: AmountOption[] = [];
  for (const m of wanted) {
    if (m.role === "invalid") return blocked;
    const option = optionOf(m);
    if (option === null) return blocked;
    if (m.role === "grand") {
      // "2 grand": two thousand tokens, or two thousand dollars' worth?
      const cents = m.whole === null ? null : asSafe(m.whole * 100n);
      if (cents === null || wanted.length > 1) return blocked;
      return { reading: { kind: "clarify", candidates: [option, { kind: "budget", usdCents: cents }] }, blocked: false, intended };
    }
    options.push(option);
  }
  const firstOption = wanted[0] as Mention;
  const lastOption = wanted[wanted.length - 1] as Mention;
  // "3k, no sorry, 4k" or "6k, er, 5k I mean": the last amount stands
  const corrected =
    wanted.length > 1 &&
    (between(tokens, firstOption.phrase, lastOption.phrase, CORRECTIONS) || correctedAfter(tokens, lastOption.phrase));
  const pick = (option: AmountOption): AmountFinding => ({ reading: option, blocked: false, intended });
  if (corrected) return pick(options[options.length - 1] as AmountOption);
  // Tokens named next to money ("5000 tokens for $40"): the tokens are the order, the money a guess at its price.
  const tokenOptions = options.filter((o) => o.kind === "amount");
  const chosen = tokenOptions.length > 0 ? tokenOptions : options;
  const distinct = chosen.filter((o, i) => chosen.findIndex((x) => sameOption(x, o)) === i);
  if (distinct.length === 1) return pick(distinct[0] as AmountOption);
  return { reading: { kind: "clarify", candidates: distinct }, blocked: false, intended };
}

function correctedAfter(tokens: readonly Token[], p: NumberPhrase): boolean {
  for (let i = p.end; i < Math.min(tokens.length, p.end + 3); i++) if (CORRECTS_BEFORE_IT.has(wordAt(tokens, i))) return true;
  return false;
}

/** A modifier next to the number, with no punctuation between: "2000 more", "another thousand". */
function modified(tokens: readonly Token[], p: NumberPhrase): boolean {
  const near = (from: number, step: number): boolean => {
    for (let i = from, seen = 0; i >= 0 && i < tokens.length && seen < 2; i += step, seen++) {
      const t = tokens[i] as Token;
      if (t.kind !== "word") return false;
      if (MODIFIERS.has(t.text)) return true;
    }
    return false;
  };
  return near(p.start - 1, -1) || near(p.end, 1);
}
