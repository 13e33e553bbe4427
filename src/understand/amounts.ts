/**
 * Which amount a message asks for (issue 13, item 4), once its amount mentions are known (see
 * amount-mentions.ts). Several amounts: a correction ("3k, no sorry, 4k") keeps the last; a negated
 * one ("not 100") is dropped; tokens named next to money keep the tokens; two left without a
 * correction ("2000 or 3000") ask which, and so does "2 grand" (tokens or dollars?). Amounts the rules
 * cannot read safely ("2000 more", "2 packs of 5k", "-5", "2.5 tokens") block the reading instead of
 * guessing, so the LLM or a question takes over.
 */
import type { AmountOption, Reading } from "./reading.ts";
import { type NumberPhrase, readNumberAt } from "./numbers.ts";
import { AFTER_AMOUNT, CORRECTIONS, CORRECTS_BEFORE_IT, LINKS, MODIFIERS, PACKAGE_PLURALS, TIMES } from "./amount-words.ts";
import { wordAt } from "./amount-roles.ts";
import { type Mention, between, mentionsIn } from "./amount-mentions.ts";
import type { Token } from "./text.ts";

/** What the amount rules made of a message. */
export type AmountFinding = {
  /** amount, budget or clarify; null when no number in the message is an amount. */
  reading: Extract<Reading, { kind: "amount" | "budget" | "clarify" }> | null;
  /** Some amount-like number could not be read safely (negative, fractional, "a few more"). */
  blocked: boolean;
  /** The amount came with a buying word or stood alone, so it is the point of the message. */
  intended: boolean;
};

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

/** A modifier next to the number, with no punctuation between: "2000 more", "another thousand". */
function modified(tokens: readonly Token[], p: NumberPhrase): boolean {
  // `side`: up to two tokens walking away from the number.
  const near = (side: readonly Token[]): boolean => {
    for (const t of side) {
      if (t.kind !== "word") return false;
      if (MODIFIERS.has(t.text)) return true;
    }
    return false;
  };
  return near(tokens.slice(Math.max(0, p.start - 2), p.start).reverse()) || near(tokens.slice(p.end, p.end + 2));
}

/** "6k, er, 5k I mean": a correcting word just after the last amount. */
function correctedAfter(tokens: readonly Token[], p: NumberPhrase): boolean {
  for (let i = p.end; i < Math.min(tokens.length, p.end + 3); i++) if (CORRECTS_BEFORE_IT.has(wordAt(tokens, i))) return true;
  return false;
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
  if (a.kind === "amount") return b.kind === "amount" && a.tokens === b.tokens;
  return b.kind === "budget" && a.usdCents === b.usdCents;
}

/**
 * Finds the amount a message asks for, if any. `askedHowMany`: the bot's last message asked how many
 * tokens, so a number on its own is an answer.
 */
export function findAmount(tokens: readonly Token[], askedHowMany: boolean): AmountFinding {
  const { phrases, amounts } = mentionsIn(tokens, askedHowMany);
  const none: AmountFinding = { reading: null, blocked: false, intended: false };
  if (amounts.length === 0) return none;
  const intended = amounts.some((m) => m.intended);
  const blocked: AmountFinding = { reading: null, blocked: true, intended };
  if (phrases.some((p) => multiplies(tokens, p))) return blocked;
  if (amounts.some((m) => modified(tokens, m.phrase))) return blocked;
  const wanted = amounts.filter((m) => !m.negated);
  const first = wanted.at(0);
  const last = wanted.at(-1);
  if (first === undefined || last === undefined) return none;
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
  // "3k, no sorry, 4k" or "6k, er, 5k I mean": the last amount stands
  const corrected = wanted.length > 1 && (between(tokens, first.phrase, last.phrase, CORRECTIONS) || correctedAfter(tokens, last.phrase));
  const pick = (option: AmountOption): AmountFinding => ({ reading: option, blocked: false, intended });
  const lastOption = options.at(-1);
  if (corrected && lastOption !== undefined) return pick(lastOption);
  // Tokens named next to money ("5000 tokens for $40"): the tokens are the order, the money a guess at its price.
  const tokenOptions = options.filter((o) => o.kind === "amount");
  const chosen = tokenOptions.length > 0 ? tokenOptions : options;
  const distinct = chosen.filter((o, i) => chosen.findIndex((x) => sameOption(x, o)) === i);
  const [only] = distinct;
  if (distinct.length === 1 && only !== undefined) return pick(only);
  return { reading: { kind: "clarify", candidates: distinct }, blocked: false, intended };
}
