/**
 * Numbers as people write them, in digits, words or both: "3.500", "12 000", "2,5к", "twelve hundred",
 * "5 thousand 200", "three quarters of a million", "две с половиной тысячи", "тысяч пять". Values are
 * exact fractions of bigints, never floats, so "2.5k" is exactly 2500 and "1.2345k" is not whole.
 */
import type { NumberWord } from "./number-words.ts";
import { EN_NUMBER_JOINERS, EN_NUMBER_WORDS } from "./numbers-en.ts";
import { RU_NUMBER_JOINERS, RU_NUMBER_WORDS } from "./numbers-ru.ts";
import { type Token, touching } from "./text.ts";

/** An exact non-negative fraction. */
export type Ratio = { n: bigint; d: bigint };

const ZERO: Ratio = { n: 0n, d: 1n };
const ratio = (n: bigint, d = 1n): Ratio => ({ n, d });
const add = (a: Ratio, b: Ratio): Ratio => ratio(a.n * b.d + b.n * a.d, a.d * b.d);
const times = (a: Ratio, b: Ratio): Ratio => ratio(a.n * b.n, a.d * b.d);
const isZero = (a: Ratio): boolean => a.n === 0n;
const power = (zeros: number): bigint => 10n ** BigInt(zeros);

/** The whole number `value × 10^zeros`, or null when it has a fractional part. */
export function wholeOf(value: Ratio, zeros = 0): bigint | null {
  const scaled = value.n * power(zeros);
  return scaled % value.d === 0n ? scaled / value.d : null;
}

const WORDS: ReadonlyMap<string, NumberWord> = new Map([...EN_NUMBER_WORDS, ...RU_NUMBER_WORDS]);
const JOINERS: ReadonlySet<string> = new Set([...EN_NUMBER_JOINERS, ...RU_NUMBER_JOINERS]);

export function numberWord(token: Token | undefined): NumberWord | undefined {
  return token?.kind === "word" ? WORDS.get(token.text) : undefined;
}

/** True for a token that is a scale word such as "k", "тыс" or "million". */
export function isScale(token: Token | undefined): boolean {
  return numberWord(token)?.kind === "scale";
}

/**
 * Reads digits with their separators. Dots or commas before groups of three digits group thousands
 * ("1,000,000", "3.500"), except a single one before a scale word, which is a decimal point
 * ("1.500 млн"); one or two digits after the last separator are decimals ("2.5", "15,50").
 */
export function digitValue(raw: string, scaleFollows: boolean): Ratio | null {
  const compact = raw.replace(/ /g, "");
  const parts = compact.split(/[.,]/);
  const separators = compact.replace(/[^.,]/g, "");
  const [first = "", ...rest] = parts;
  if (rest.length === 0) return ratio(BigInt(first));
  const last = rest[rest.length - 1] ?? "";
  const allGroups = rest.every((p) => p.length === 3) && first.length <= 3 && new Set(separators).size === 1;
  if (allGroups && (rest.length > 1 || !scaleFollows)) return ratio(BigInt(first + rest.join("")));
  // A decimal point last: whatever comes before it groups thousands with the other separator.
  const decimalMark = separators[separators.length - 1];
  const grouping = separators.slice(0, -1);
  const middle = rest.slice(0, -1);
  if (grouping.includes(decimalMark ?? "") || (middle.length > 0 && first.length > 3)) return null;
  if (!middle.every((p) => p.length === 3)) return null;
  return ratio(BigInt(first + middle.join("") + last), power(last.length));
}

/** A number found in a message: tokens `start` up to (not including) `end`. */
export type NumberPhrase = {
  /** null when the words do not make one number ("twenty eleven"). */
  value: Ratio | null;
  start: number;
  end: number;
  /** Has a hundred/thousand/million word or suffix ("5k", "twelve hundred"). */
  scaled: boolean;
  /** Zeros of the last scale applied (3 for "10 тысяч"), 0 without one. */
  scaleZeros: number;
  /** Said "grand", which may mean dollars. */
  grand: boolean;
  /** Written with at least one digit. */
  digits: boolean;
};

type Step = NumberWord["kind"] | "num" | "start";

const NUMERIC: ReadonlySet<Step> = new Set(["num", "unit", "ten", "hundred", "hundreds"]);

function startsNumber(token: Token | undefined): boolean {
  return token?.kind === "num" || numberWord(token) !== undefined;
}

/** Reads the number starting at `tokens[start]`, if one does. */
export function readNumberAt(tokens: readonly Token[], start: number): NumberPhrase | undefined {
  let total = ZERO;
  let group = ZERO; // the part below the last scale
  let lastZeros = Infinity;
  let prev: Step = "start";
  let valid = true;
  let scaled = false;
  let grand = false;
  let digits = false;
  let article = false;
  let fraction = false;
  let end = start;
  let i = start;
  const first = tokens[start];
  if ((first?.text === "a" || first?.text === "an") && numberWord(tokens[start + 1]) !== undefined) {
    const next = numberWord(tokens[start + 1]);
    if (next === undefined || next.kind === "unit" || next.kind === "ten") return undefined;
    article = true;
    i += 1;
  }
  let settled = start; // the end of the number as of its last scale
  scan: for (; i < tokens.length; i++) {
    const token = tokens[i] as Token;
    if (token.kind === "num") {
      if (prev !== "start" && prev !== "scale") break;
      const value = digitValue(token.text, isScale(tokens[i + 1]));
      // "5 thousand 200" is one number; "5k and 10k" is two
      if (prev === "scale" && (isScale(tokens[i + 1]) || value === null || (wholeOf(value) ?? 0n) >= power(lastZeros))) break;
      if (value === null) valid = false;
      else group = value;
      digits = true;
      prev = "num";
      end = i + 1;
      continue;
    }
    // "twenty-five": a hyphen inside a number written in words
    if (token.kind === "punct" && /^[-–]$/.test(token.text) && (prev === "ten" || prev === "scale")) {
      if (touching(tokens[i - 1], token) && touching(token, tokens[i + 1]) && numberWord(tokens[i + 1])) continue;
      break;
    }
    if (token.kind !== "word") break;
    const word = numberWord(token);
    if (word === undefined) {
      if (prev !== "start" && JOINERS.has(token.text) && (startsNumber(tokens[i + 1]) || JOINERS.has(tokens[i + 1]?.text ?? ""))) {
        continue;
      }
      break;
    }
    const before = prev;
    switch (word.kind) {
      case "unit": {
        const afterTen = before === "ten" && word.quarters % 4 === 0 && word.quarters > 0 && word.quarters < 40;
        const fresh = before === "start" || before === "scale" || before === "hundred" || before === "hundreds";
        if (!afterTen && !fresh) break scan; // two numbers side by side ("two five") are not one number
        group = add(group, ratio(BigInt(word.quarters), 4n));
        break;
      }
      case "ten":
        if (before !== "start" && before !== "scale" && before !== "hundred" && before !== "hundreds") break scan;
        group = add(group, ratio(BigInt(word.value)));
        break;
      case "hundreds":
        if (before !== "start" && before !== "scale") break scan;
        group = add(group, ratio(BigInt(word.value)));
        break;
      case "hundred":
        if (before !== "start" && before !== "unit" && before !== "num" && before !== "ten") break scan;
        group = times(isZero(group) ? ratio(1n) : group, ratio(100n));
        scaled = true;
        break;
      case "scale":
      case "grand": {
        const zeros = word.kind === "grand" ? 3 : word.zeros;
        const short = word.kind === "grand" || word.short;
        if (before === "start" && short) return undefined; // "k" alone is "ok", not a thousand
        if (before === "start" && !article) {
          // "тысяч пять": a scale before its count means "about five thousand"
          const count = numberWord(tokens[i + 1]);
          if (count?.kind === "unit" || count?.kind === "ten") {
            const value = count.kind === "unit" ? ratio(BigInt(count.quarters), 4n) : ratio(BigInt(count.value));
            return {
              value: times(value, ratio(power(zeros))),
              start,
              end: i + 2,
              scaled: true,
              scaleZeros: zeros,
              grand: false,
              digits: false,
            };
          }
        } else if (!NUMERIC.has(before) && before !== "half" && before !== "quarter" && !(before === "start" && article)) {
          break scan;
        }
        if (zeros >= lastZeros) {
          // "two thousand and three thousand" is two numbers: the second count belongs to the next one
          end = settled;
          group = ZERO;
          break scan;
        }
        total = add(total, times(isZero(group) ? ratio(1n) : group, ratio(power(zeros))));
        group = ZERO;
        lastZeros = zeros;
        scaled = true;
        settled = i + 1;
        grand ||= word.kind === "grand";
        break;
      }
      case "half":
        if (before !== "start" && before !== "unit" && before !== "num") break scan;
        group = add(group, ratio(1n, 2n)); // "half a million", "one and a half", «две с половиной»
        fraction = true;
        break;
      case "quarter":
        if (before !== "start" && before !== "unit") break scan;
        group = before === "start" ? ratio(1n, 4n) : times(group, ratio(1n, 4n)); // "a quarter", "three quarters"
        fraction = true;
        break;
      default: {
        const unhandled: never = word;
        return unhandled;
      }
    }
    prev = word.kind;
    end = i + 1;
  }
  if (end === start || (article && end === start + 1)) return undefined;
  // "half that", "a quarter": a fraction with nothing to take it of is not a number
  if (fraction && !scaled) return undefined;
  const value = valid ? add(total, group) : null;
  return { value, start, end, scaled, scaleZeros: Number.isFinite(lastZeros) ? lastZeros : 0, grand, digits };
}
