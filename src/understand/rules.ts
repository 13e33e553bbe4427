/**
 * Deterministic understanding of customer text, tried before the LLM. Rules are free, instant and need
 * no network, and their behaviour is pinned by tests, so the common messages ("5000", "yes", "/status")
 * never wait on or pay for a model call. Anything the rules are not sure about is `unknown` and goes to
 * the LLM; when in doubt the rules prefer `unknown` (or the harmless STATUS) over guessing a command.
 *
 * Priority, highest first: talk of payment or delivery (always STATUS, never anything that could look
 * like "deliver"), slash commands, explicit cancel/restart words, a token amount, help questions,
 * whole-message yes/no, greetings.
 */
import { TokenAmount, type Command } from "../domain/commands.ts";

/** Where the conversation is, as far as understanding text needs to know. */
export type RulesContext = { phase: "browsing" | "quoted" | "awaiting_payment" | "other" };

/** A command the rules are sure of, or `unknown` so the caller can ask the LLM. */
export type RulesResult = { kind: "command"; command: Command } | { kind: "unknown" };

// Longer text is prose, not a command; skipping it keeps the worst case cheap.
const MAX_LENGTH = 500;

type Phrase = readonly string[];

/** Comma-separated phrases, longest first so "go ahead" wins over "go"; written without apostrophes. */
function phrases(list: string): readonly Phrase[] {
  return list.split(", ").map((p) => p.split(" ")).sort((a, b) => b.length - a.length);
}

function wordSet(list: string): ReadonlySet<string> {
  return new Set(list.split(" "));
}

const STATUS_PHRASES = phrases(
  "status, paid, payed, deliver, delivered, delivery, arrived, arrive, receive, received, where is my, " +
    "wheres my, where are my, went through, sent the money, sent money, transferred, transaction, txid, tx",
);
const PAYMENT_WORDS = wordSet("payment payments");
// "payment methods" is a question about how to pay, not about an order's payment.
const PAYMENT_HELP_NEXT = wordSet("method methods option options");
const STOP_PHRASES = phrases("cancel, abort, stop");
const RESTART_PHRASES = phrases(
  "start over, restart, reset, new order, start again, begin again, from scratch",
);
const HELP_PHRASES = phrases(
  "help, how does this work, how does it work, how it works, what can you do, what do you do, " +
    "what do you sell, what can i, how much, price, prices, pricing, cost, costs, rates, how do i, how to, " +
    "what is this, whats this, menu, commands, info, faq, payment method, payment methods, payment options",
);
const YES_PHRASES = phrases(
  "yes, y, yeah, yea, yep, yup, ya, sure, ok, okay, confirm, go ahead, lets do it, do it, lets go, " +
    "sounds good, sounds great, buy, pay, deal, agreed, alright, proceed, absolutely, of course, why not",
);
const NO_PHRASES = phrases(
  "no, n, nope, nah, never mind, nevermind, forget it, forget about it, changed my mind, not now, " +
    "not interested, maybe later",
);
const GREETING_PHRASES = phrases(
  "hi, hello, hey, hiya, howdy, yo, start, good morning, good afternoon, good evening",
);
// Words that may surround a yes/no/greeting without changing its meaning ("yes please", "no thanks").
const FILLERS = wordSet(
  "please pls plz thanks thank you thx ty then now just actually i it so well oh ah sir lets let me we " +
    "want to would like can will that thats is a the some tokens token them this for really",
);
// A cancel or restart under a negation or inside a question ("don't cancel", "can I cancel later?")
// is not an instruction; those go on to the later rules or the LLM.
const NEGATIONS = wordSet("not never dont doesnt didnt wont cant cannot isnt shouldnt wouldnt");
const QUESTION_OPENERS = wordSet("can could how what why when should will would is do does may");

// A number written with digits, with an optional currency sign before it and scale word after it.
// Each part is either fixed-width or starts with a distinct character, so matching stays linear.
// Groups: 1 currency sign, 2 whole part ("2,000" or "2 000"), 3 decimals, 4 scale ("k", "million").
const DIGIT_AMOUNT = new RegExp(
  String.raw`(?<![\p{L}\p{N}_#.\-−])(?<!\d,)([$€£¥₽₹₿]\s?)?(\d{1,3}(?:[ ,]\d{3})+|\d+)(?:\.(\d+))?` +
    String.raw`(?:\s?(k|m|b|bn|mil|mln|thousand|million|billion)(?![\p{L}\p{N}]))?(?![\p{L}\p{N}_%\-−]|[.,]\d)`,
  "gu",
);
const MONEY_AFTER = new RegExp(
  String.raw`^\s?(?:[$€£¥₽₹₿]|(?:usd[tc]?|dollars?|bucks|eur|euros?|rub|rubles?|roubles?|gbp|pounds?|ton|btc` +
    String.raw`|eth|stars?|xtr|cents?)(?![\p{L}\p{N}]))`,
  "u",
);
const MONEY_BEFORE = /(?<!\p{L})(?:usd[tc]?|eur|rub|gbp)\s?$/u;
const MONEY_WORDS = wordSet(
  "usd usdt usdc dollar dollars bucks eur euro euros rub rubles gbp pounds ton btc eth stars xtr cents",
);
const TOKEN_WORDS = wordSet("token tokens");
// Maps, not object literals: a customer typing "constructor" must not reach Object.prototype.
const SCALE_ZEROS = new Map([
  ["k", 3], ["thousand", 3], ["m", 6], ["mil", 6], ["mln", 6], ["million", 6],
  ["b", 9], ["bn", 9], ["billion", 9],
]);
const UNITS =
  "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen " +
  "seventeen eighteen nineteen";
const TENS = "twenty thirty forty fifty sixty seventy eighty ninety";
const SMALL_NUMBERS = new Map([
  ...UNITS.split(" ").map((w, i) => [w, i] as const),
  ...TENS.split(" ").map((w, i) => [w, (i + 2) * 10] as const),
]);
const BIG_SCALES = new Map([["thousand", 1e3], ["million", 1e6], ["billion", 1e9]]);
const SLASH_COMMAND = /^\/([a-z]+)(?:@[\p{L}\p{N}_]+)?(?:\s(.*))?$/u;

/** The message twice: `text` keeps symbols for numbers and money, `words` serves phrase matching. */
function normalize(raw: string): { text: string; words: string[] } {
  const text = raw
    .normalize("NFKC")
    .toLowerCase()
    .replace(/['’‘`]/gu, "") // "don't" reads as "dont", and "2'000" as "2000"
    .replace(/👍|👌|✅|✔/gu, " yes ")
    .replace(/👎|❌/gu, " no ")
    .replace(/[\s\p{Cc}\p{Cf}\p{Z}]+/gu, " ")
    .trim();
  return { text, words: wordsOf(text) };
}

function wordsOf(text: string): string[] {
  return text.split(/[^\p{L}\p{N}]+/u).filter((w) => w.length > 0);
}

function startsAt(words: readonly string[], at: number, phrase: Phrase): boolean {
  return phrase.every((w, k) => words[at + k] === w);
}

/** True when any of the phrases occurs anywhere in the message. */
function mentions(words: readonly string[], list: readonly Phrase[]): boolean {
  return words.some((_, i) => list.some((p) => startsAt(words, i, p)));
}

/** True when the message is nothing but these phrases and fillers, with at least one phrase. */
function consistsOf(words: readonly string[], list: readonly Phrase[]): boolean {
  let matched = false;
  for (let i = 0; i < words.length; ) {
    const phrase = list.find((p) => startsAt(words, i, p));
    if (phrase !== undefined) {
      matched = true;
      i += phrase.length;
    } else if (FILLERS.has(words[i] ?? "")) {
      i += 1;
    } else {
      return false;
    }
  }
  return matched;
}

function isAboutPayment(words: readonly string[]): boolean {
  return (
    mentions(words, STATUS_PHRASES) ||
    words.some((w, i) => PAYMENT_WORDS.has(w) && !PAYMENT_HELP_NEXT.has(words[i + 1] ?? ""))
  );
}

function isHedged(words: readonly string[]): boolean {
  return QUESTION_OPENERS.has(words[0] ?? "") || words.some((w) => NEGATIONS.has(w));
}

function asTokens(value: number | bigint): number | null {
  if (BigInt(value) > BigInt(Number.MAX_SAFE_INTEGER)) return null;
  const parsed = TokenAmount.safeParse(Number(value));
  return parsed.success ? parsed.data : null;
}

/** "2,000" / "2.5k" / "1.5 million" to tokens; null when the result is not a positive whole number. */
function digitValue(whole: string, fraction: string, scale: string | undefined): number | null {
  const zeros = scale === undefined ? 0 : (SCALE_ZEROS.get(scale) ?? 0);
  if (/[^0]/.test(fraction.slice(zeros))) return null; // "1.2345k" is not a whole number of tokens
  return asTokens(BigInt(whole.replace(/[ ,]/g, "") + fraction.slice(0, zeros).padEnd(zeros, "0")));
}

function isNumberWord(word: string | undefined): boolean {
  return word !== undefined && (SMALL_NUMBERS.has(word) || word === "hundred" || BIG_SCALES.has(word));
}

/** Reads "twenty five thousand" starting at `start`; value null when the words do not form a number. */
function readWordNumber(words: readonly string[], start: number) {
  let total = 0;
  let group = 0; // the part below the last thousand/million/billion
  let lastScale = Infinity;
  let hasScale = false;
  let valid = true;
  let i = start;
  if (words[i] === "a" || words[i] === "an") {
    const next = words[i + 1] ?? "";
    if (next !== "hundred" && !BIG_SCALES.has(next)) return undefined;
    group = 1;
    i += 1;
  }
  for (; i < words.length; i++) {
    const word = words[i] ?? "";
    const small = SMALL_NUMBERS.get(word);
    const big = BIG_SCALES.get(word);
    if (small !== undefined) {
      // "twenty five" is a number, "two five" or "twenty eleven" is not
      if (group % 100 !== 0 && (small >= 10 || group % 10 !== 0)) valid = false;
      group += small;
    } else if (word === "hundred") {
      if (group >= 100) valid = false;
      group = (group || 1) * 100;
      hasScale = true;
    } else if (big !== undefined) {
      if (big >= lastScale) valid = false;
      total += (group || 1) * big;
      group = 0;
      lastScale = big;
      hasScale = true;
    } else if (!(word === "and" && i > start && isNumberWord(words[i + 1]))) {
      break;
    }
  }
  if (i === start) return undefined;
  return { value: valid ? asTokens(total + group) : null, hasScale, end: i };
}

/** Every amount mentioned in normalized text, in digits or words; null marks an unreadable one. */
function amountMentions(text: string): (number | null)[] {
  const found: (number | null)[] = [];
  let rest = "";
  let last = 0;
  for (const m of text.matchAll(DIGIT_AMOUNT)) {
    const end = m.index + m[0].length;
    rest += `${text.slice(last, m.index)} `; // the word pass must not count "2 thousand" twice
    last = end;
    const isMoney =
      m[1] !== undefined ||
      MONEY_AFTER.test(text.slice(end)) ||
      MONEY_BEFORE.test(text.slice(Math.max(0, m.index - 7), m.index));
    if (!isMoney) found.push(digitValue(m[2] ?? "", m[3] ?? "", m[4]));
  }
  const words = wordsOf(rest + text.slice(last));
  for (let i = 0; i < words.length; ) {
    const reading = readWordNumber(words, i);
    if (reading === undefined) {
      i += 1;
      continue;
    }
    i = reading.end;
    const next = words[i] ?? "";
    // A bare "one" is usually not an amount ("one question"); a scale or "tokens" makes it one.
    if (!MONEY_WORDS.has(next) && (reading.hasScale || TOKEN_WORDS.has(next))) found.push(reading.value);
  }
  return found;
}

// Words that change what a number means ("half a million", "2 grand", "another thousand", "double"):
// the rules can't do that arithmetic safely, so such a message is left to the LLM or a clarifying reply.
const AMOUNT_MODIFIERS = wordSet(
  "half quarter couple dozen grand another more extra add plus minus double triple twice thrice few several same",
);

/** The one token amount in normalized `text` (whose words are `words`), or null. */
function amountIn(text: string, words: readonly string[] = wordsOf(text)): number | null {
  if (words.some((word) => AMOUNT_MODIFIERS.has(word))) return null;
  const mentioned = amountMentions(text);
  const distinct = new Set(mentioned);
  const [only] = distinct;
  return distinct.size === 1 && only !== undefined ? only : null;
}

/**
 * Parses a token amount written in any supported way ("2,000", "2.5k", "1.5 million", "twenty five
 * thousand"); null when there is none, it is money ("$40", "40 USDT"), it is not a positive whole
 * safe integer, or the text mentions two different amounts.
 */
export function parseTokenAmount(text: string): number | null {
  if (typeof text !== "string" || text.length > MAX_LENGTH) return null;
  const { text: clean, words } = normalize(text);
  return amountIn(clean, words);
}

const UNKNOWN: RulesResult = { kind: "unknown" };

function command(c: Command): RulesResult {
  return { kind: "command", command: c };
}

/** Before a quote an amount asks for one; after it, the amount replaces the quoted one. */
function amountCommand(tokens: number, context: RulesContext): RulesResult {
  const phase = context.phase;
  switch (phase) {
    case "browsing":
    case "other":
      return command({ type: "QUOTE", tokens });
    case "quoted":
    case "awaiting_payment": // the machine refuses this and explains why
      return command({ type: "CHANGE_AMOUNT", tokens });
    default: {
      const _unhandled: never = phase;
      return UNKNOWN;
    }
  }
}

const SLASH_COMMANDS = new Map<string, Command>([
  ["start", { type: "HELP" }],
  ["help", { type: "HELP" }],
  ["confirm", { type: "CONFIRM" }],
  ["cancel", { type: "CANCEL" }],
  ["stop", { type: "CANCEL" }],
  ["status", { type: "STATUS" }],
  ["restart", { type: "RESTART" }],
]);

function fromSlashCommand(name: string, args: string, context: RulesContext): RulesResult {
  if (name === "buy") {
    const tokens = amountIn(args);
    return tokens === null ? command({ type: "HELP" }) : amountCommand(tokens, context);
  }
  const known = SLASH_COMMANDS.get(name);
  return known === undefined ? UNKNOWN : command({ ...known });
}

/**
 * Reads a customer message as a command without any network call. Never throws; returns `unknown`
 * for anything it is not sure about (including text over 500 characters) so the caller can ask the LLM.
 */
export function understandByRules(text: string, context: RulesContext): RulesResult {
  if (typeof text !== "string" || text.length > MAX_LENGTH) return UNKNOWN;
  const { text: clean, words } = normalize(text);
  if (clean === "") return UNKNOWN;
  if (/^\?+$/.test(clean)) return command({ type: "HELP" });
  // Claims like "I have paid, deliver now" only ever ask for a status check; the provider decides.
  if (isAboutPayment(words)) return command({ type: "STATUS" });
  const slash = SLASH_COMMAND.exec(clean);
  if (slash !== null) return fromSlashCommand(slash[1] ?? "", slash[2] ?? "", context);
  const hedged = isHedged(words);
  if (!hedged && mentions(words, STOP_PHRASES)) return command({ type: "CANCEL" });
  if (!hedged && mentions(words, RESTART_PHRASES)) return command({ type: "RESTART" });
  const tokens = amountIn(clean, words);
  if (tokens !== null) return amountCommand(tokens, context);
  if (mentions(words, HELP_PHRASES)) return command({ type: "HELP" });
  if (consistsOf(words, YES_PHRASES)) return command({ type: "CONFIRM" });
  if (consistsOf(words, NO_PHRASES)) return command({ type: "CANCEL" });
  if (consistsOf(words, GREETING_PHRASES)) return command({ type: "HELP" });
  return UNKNOWN;
}
