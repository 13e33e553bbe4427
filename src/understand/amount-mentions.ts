/**
 * The numbers of a message that may be amounts, each with its role and cues, after they have been
 * read together: a number linked to a cued one is cued too ("2000 or 3000 tokens"), and a bare number
 * borrows its neighbour's scale ("1-2k", «не тысячу, а две»). A number is cued by a unit, a buying or
 * correcting word before it, a message that is nothing but the number and such words, or the bot
 * having just asked "how many?". Money counts only when spending is meant ("$25 worth", not "my 2
 * cents"). What each number is on its own is amount-roles.ts; which one is chosen is amounts.ts.
 */
import { type NumberPhrase, isScale, readNumberAt, wholeOf } from "./numbers.ts";
import { BARE_WORDS, BUDGET_WORDS, LINKS, RANGE_LINKS, SCALE_LINKS } from "./amount-words.ts";
import { type Role, classify, cuedBefore, hasUnit, isMoneyWord, negatedBefore } from "./amount-roles.ts";
import type { Token } from "./text.ts";

/** One number of the message with what the rules concluded about it. */
export type Mention = {
  phrase: NumberPhrase;
  role: Role;
  /** Token amount, cents, or the grand count, as a whole number; null when it is not whole. */
  whole: bigint | null;
  /** Something marks it as an amount (a unit, a scale, a buying word, a cued neighbour). */
  cued: boolean;
  /** Cued by a buying or correcting word, or by the message being nothing else. */
  intended: boolean;
  /** Refused where it stands: "not 100", "instead of 3k". */
  negated: boolean;
};

/** Every number of a message, and the ones among them that are amounts. */
export type AmountMentions = {
  /** Every number in the message, in order, whatever it counts. */
  phrases: readonly NumberPhrase[];
  /** The cued token counts and money, in order; empty when no number is an amount. */
  amounts: readonly Mention[];
};

/** Every number in the message, in order. */
function numbersIn(tokens: readonly Token[]): NumberPhrase[] {
  const found: NumberPhrase[] = [];
  for (let i = 0; i < tokens.length;) {
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
    const t = tokens[i];
    if (t?.kind === "word" && !BARE_WORDS.has(t.text) && !isScale(t) && !isMoneyWord(t.text)) return false;
  }
  return true;
}

/** True when only linking words and punctuation stand between two numbers. */
function linked(tokens: readonly Token[], a: NumberPhrase, b: NumberPhrase): boolean {
  for (const t of tokens.slice(a.end, b.start)) {
    if (t.kind === "word" && !LINKS.has(t.text)) return false;
    if (t.kind === "num" || t.kind === "cur") return false;
  }
  return true;
}

/** True when one of `words` stands between the numbers `a` and `b` ("3k, no sorry, 4k"). */
export function between(tokens: readonly Token[], a: NumberPhrase, b: NumberPhrase, words: ReadonlySet<string>): boolean {
  for (let i = a.end; i < b.start; i++) if (words.has(tokens[i]?.text ?? "")) return true;
  return false;
}

/**
 * Numbers that borrow a scale from their neighbour: "от 5 до 10 тысяч" and "1-2k" (the first takes the
 * second's), "не тысячу, а две" and "5k, not 50" (the second takes the first's).
 */
function shareScale(tokens: readonly Token[], mentions: readonly Mention[]): void {
  for (const [a, b] of neighbours(mentions)) {
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

/** Each mention paired with the one after it, in order; the pairs share the objects, so updates stick. */
function* neighbours(mentions: readonly Mention[]): Generator<[Mention, Mention]> {
  let previous: Mention | undefined;
  for (const m of mentions) {
    if (previous !== undefined) yield [previous, m];
    previous = m;
  }
}

function isCount(m: Mention): boolean {
  return m.role === "tokens" || m.role === "weak";
}

function borrow(m: Mention, whole: bigint): void {
  m.whole = whole;
  m.role = "tokens";
}

function wholeFor(role: Role, p: NumberPhrase): bigint | null {
  if (p.value === null) return null;
  return role === "usd" ? wholeOf(p.value, 2) : wholeOf(p.value); // dollars to cents; the rest as said
}

/**
 * Finds the numbers of a message and which of them are amounts. `askedHowMany`: the bot's last
 * message asked how many tokens, so every number is taken as meant.
 */
export function mentionsIn(tokens: readonly Token[], askedHowMany: boolean): AmountMentions {
  const phrases = numbersIn(tokens);
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
    for (const [a, b] of neighbours(counted)) {
      if ((a.cued || b.cued) && linked(tokens, a.phrase, b.phrase)) {
        a.cued = b.cued = true;
        a.intended = b.intended = a.intended || b.intended;
      }
    }
  }
  shareScale(tokens, counted);
  return { phrases, amounts: counted.filter((m) => m.cued && m.role !== "weak") };
}
