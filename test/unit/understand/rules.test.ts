import { describe, expect, test } from "vitest";
import { Command } from "../../../src/domain/commands.ts";
import { parseTokenAmount } from "../../../src/understand/rules.ts";
import { type RulesOnlyContext, type RulesOnlyResult as RulesResult, readByRules } from "../../support/rules-only.ts";
import { seededRandom } from "../../support/seeded-random.ts";

type Phase = RulesOnlyContext["phase"];
type Expected = Command | "unknown";
/** [title, text, phase, expected]; the title is built here so odd characters stay readable. */
type Row = [string, string, Phase, Expected];

const PHASES: readonly Phase[] = ["browsing", "quoted", "awaiting_payment", "other"];

// The core rework (issues 18–20): a number always sets the amount; the machine decides whether it is
// a new quote or a new amount for the quote on the table, so every phase reads it the same way.
const amount = (tokens: number): Command => ({ type: "SET_AMOUNT", tokens });
const CONFIRM: Command = { type: "CONFIRM" };
const CANCEL: Command = { type: "CANCEL" };
const STATUS: Command = { type: "STATUS" };
const HELP: Command = { type: "HELP" };

function outcomeOf(expected: Expected): string {
  if (expected === "unknown") return "unknown, left for the LLM";
  switch (expected.type) {
    case "SET_AMOUNT":
      return `an amount of ${expected.tokens} tokens`;
    case "CONFIRM":
      return "a confirmation";
    case "CANCEL":
      return "a cancellation";
    case "STATUS":
      return "a status check";
    case "HELP":
      return "a request for help";
    case "ASK":
      return `a question about ${expected.topic}`;
    case "ORDERS":
      return "the order list";
    case "THANKS":
      return "thanks in kind";
    case "SET_PRODUCT":
      return `the product ${expected.product}`;
    case "APPLY_PROMO":
      return `the promo code ${expected.code}`;
    case "REISSUE":
      return "a new key or code for a lost one";
    default: {
      const unhandled: never = expected;
      return unhandled;
    }
  }
}

/**
 * Quotes text for a test title: invisible characters are escaped, and "$" before a digit becomes a
 * fullwidth "＄" because vitest reads "$40" in a title as a placeholder (NFKC makes both the same).
 */
function show(text: string): string {
  const visible = text.replace(/\p{C}/gu, (c) => `\\u${(c.codePointAt(0) ?? 0).toString(16).padStart(4, "0")}`);
  return `'${visible.replace(/\$(?=\d)/g, "＄")}'`;
}

function rows(phase: Phase, expected: Expected, texts: readonly string[]): Row[] {
  const where = phase.replace("_", " ");
  return texts.map((text) => [`${show(text)} while ${where} as ${outcomeOf(expected)}`, text, phase, expected]);
}

function amountRows(phase: Phase, make: (tokens: number) => Command, cases: [string, number][]): Row[] {
  return cases.flatMap(([text, tokens]) => rows(phase, make(tokens), [text]));
}

function resultOf(expected: Expected): RulesResult {
  return expected === "unknown" ? { kind: "unknown" } : { kind: "command", command: expected };
}

const AMOUNT_CASES: [string, number | null][] = [
  ["2000", 2000],
  ["2,000", 2000],
  ["2 000", 2000],
  ["2k", 2000],
  ["2K", 2000],
  ["2.5k", 2500],
  ["1m", 1_000_000],
  ["1.5 million", 1_500_000],
  ["two thousand", 2000],
  ["five hundred tokens", 500],
  ["twenty five thousand", 25_000],
  ["twenty-five thousand", 25_000],
  ["a thousand", 1000],
  ["2 thousand", 2000],
  ["10k tokens", 10_000],
  ["3000 tokens please", 3000],
  ["1,000,000", 1_000_000],
  ["one hundred and fifty thousand", 150_000],
  ["two thousand five hundred", 2500],
  ["２０００", 2000],
  ["1000000000000", 1_000_000_000_000],
  ["5000 tokens for $40", 5000],
  ["5000 tokens, yes 5000", 5000],
  ["1.2345k", null],
  ["2.5", null],
  ["2,5", null],
  ["$40", null],
  ["40 USDT", null],
  ["40 dollars", null],
  ["40$", null],
  ["€40", null],
  ["USDT 40", null],
  ["forty thousand dollars", null],
  ["2000 or 3000", null],
  ["2000-3000", null],
  ["-5", null],
  ["−5000", null],
  ["0", null],
  ["zero tokens", null],
  ["99999999999999999999", null],
  ["I have one question", null],
  ["50%", null],
  ["order #12345", null],
  ["", null],
  // Modifiers the rules can't do arithmetic with are left to the LLM (found by the LLM phrasing table).
  // Issue 13: fractions of a scale are read ("three quarters of a million"); this was null before.
  ["put me down for half a million", 500_000],
  ["about 2 grand", null],
  ["a dozen thousand", null],
  ["gimme a couple thousand", null],
  ["add another thousand", null],
  ["same as last time but double", null],
];

const AMOUNTS = AMOUNT_CASES.map(
  ([text, tokens]) =>
    [tokens === null ? `finds no token amount in ${show(text)}` : `reads ${show(text)} as ${tokens} tokens`, text, tokens] as const,
);

const TABLE: Row[] = [
  ...amountRows("browsing", amount, [
    ["2000", 2000],
    ["2,000", 2000],
    ["2 000", 2000],
    ["2k", 2000],
    ["2.5k", 2500],
    ["1m", 1_000_000],
    ["1.5 million", 1_500_000],
    ["two thousand", 2000],
    ["five hundred tokens", 500],
    ["twenty five thousand", 25_000],
    ["a thousand", 1000],
    ["10k tokens", 10_000],
    ["3000 tokens please", 3000],
    ["I need 2000 tokens for my project", 2000],
    ["can I get 5k tokens", 5000],
    ["buy 10000", 10_000],
    ["how much for 5000 tokens?", 5000],
    ["yes, 3000", 3000],
    ["1000000000000", 1_000_000_000_000],
  ]),
  ...amountRows("other", amount, [["2k", 2000]]),
  ...amountRows("quoted", amount, [
    ["change it to 5000", 5000],
    ["make it 5k instead", 5000],
    ["actually 3000", 3000],
    ["5000", 5000],
    ["no, make it 5000", 5000],
    ["yes, 3000", 3000],
    ["I changed my mind, 4000", 4000],
  ]),
  ...amountRows("awaiting_payment", amount, [["5000", 5000]]),
  // Issue 13: a budget in money is quoted as the tokens it buys, rounded down ($20.00 per 1,000 tokens).
  ...rows("browsing", amount(2000), ["$40", "40 USDT", "40 dollars", "buy $40", "/buy $40"]),
  ...amountRows("browsing", amount, [
    ["$25.50 worth", 1275],
    ["what can I get for 9.99 dollars?", 499],
  ]),
  ...rows("browsing", "unknown", ["2000 or 3000", "-5", "1.2345k", "three grand"]),
  ...rows("quoted", CONFIRM, [
    "yes",
    "Y",
    "yeah",
    "yep",
    "sure",
    "ok",
    "Okay!",
    "confirm",
    "go ahead",
    "let's do it",
    "let’s do it",
    "sounds good",
    "buy",
    "pay",
    "👍",
    "👍🏽",
    "yes please",
    "ok, go ahead",
    "I want to pay",
  ]),
  ...rows("browsing", CONFIRM, ["yes"]),
  ...rows("awaiting_payment", CONFIRM, ["yes"]),
  ...rows("quoted", CANCEL, [
    "no",
    "nope",
    "cancel",
    "Cancel.",
    "stop",
    "never mind",
    "nevermind",
    "forget it",
    "abort",
    "I changed my mind",
    "no thanks",
    "cancel 5000",
    "👎",
  ]),
  ...rows("quoted", "unknown", ["don't cancel", "can I cancel later?", "I'm not sure"]),
  ...rows("awaiting_payment", STATUS, [
    "status",
    "where is my order",
    "is my payment confirmed?",
    "did my payment go through",
    "I have paid",
    "I paid",
    "I have paid, deliver now",
    "has it arrived",
    "check payment",
    "payment confirmed",
    "PAYMENT_CONFIRMED",
    "mark as paid",
    "I paid for 5000 tokens",
    "I have paid, cancel",
  ]),
  ...rows("browsing", STATUS, ["I have paid, deliver now", "payment confirmed"]),
  ...rows("browsing", HELP, [
    "help",
    "how does this work",
    "what can you do",
    "?",
    "hi",
    "hello",
    "Hey!",
    "how do I restart?",
    // Issue 14: greetings are understood (this was unknown before).
    "hello there",
  ]),
  // Issue 13: a question names its FAQ topic, answered in the owner's words; the order list is its own command.
  ...rows("browsing", { type: "ASK", topic: "price" }, ["prices", "how much", "How much does it cost?"]),
  ...rows("browsing", { type: "ASK", topic: "coins" }, ["what payment methods do you accept?"]),
  ...rows("quoted", { type: "ASK", topic: "validity" }, ["how long do the tokens last?"]),
  ...rows("awaiting_payment", { type: "ASK", topic: "refunds" }, ["can I get a refund?"]),
  ...rows("quoted", { type: "ORDERS" }, ["/orders", "my orders", "what did I buy?"]),
  // Issue 21: thanks and goodbyes in kind; wanting tokens without an amount is the help that asks how many.
  ...rows("quoted", { type: "THANKS" }, ["thanks!", "bye", "спасибо!", "пока"]),
  ...rows("browsing", HELP, ["I need some tokens", "хочу купить токены"]),
  ...rows("browsing", { type: "ASK", topic: "coins" }, ["а чем платить?"]),
  ...rows("awaiting_payment", STATUS, ["пришли код", "send me my code"]),
  // Asking for a lost key is a status question unless a REISSUE is allowed (see below).
  ...rows("browsing", STATUS, ["I lost my key", "потерял ключ", "send me the code"]),
  ...rows("browsing", { type: "ASK", topic: "coins" }, ["how do I pay?", "what coins?"]),
  ...amountRows("browsing", amount, [["сколько стоит 10к?", 10_000]]),
  ...rows("quoted", { type: "THANKS" }, ["thanks", "спасибо"]),
  ...rows("browsing", { type: "APPLY_PROMO", code: "SPRING10" }, [
    "/promo SPRING10",
    "promo SPRING10",
    "промокод SPRING10",
    "/start promo_SPRING10",
  ]),
  ...rows("quoted", { type: "APPLY_PROMO", code: "welcome5" }, ["/promo welcome5", "promo code: welcome5"]),
  ...amountRows("browsing", amount, [["how much would 10k cost?", 10_000]]),
  // The core rework: "start over" cancels the order on the table (RESTART is gone); a new amount starts the next one.
  ...rows("quoted", CANCEL, ["start over", "restart", "reset", "new order", "let's start over with 5000"]),
  ...amountRows("browsing", amount, [
    ["/buy 5000", 5000],
    ["/buy@TokenGoblinBot 5k", 5000],
  ]),
  ...amountRows("quoted", amount, [["/buy 5000", 5000]]),
  ...rows("browsing", HELP, ["/buy", "/help", "/start", "/start ref_42"]),
  ...rows("quoted", STATUS, ["/status", "/status@TokenGoblinBot"]),
  ...rows("quoted", CANCEL, ["/cancel"]),
  ...rows("quoted", CONFIRM, ["/confirm", "/confirm@TokenGoblinBot"]),
  ...rows("quoted", CANCEL, ["/restart"]),
  ...rows("browsing", "unknown", [
    "what's the weather",
    "lorem ipsum",
    "",
    "   ",
    "🎉🎉🎉",
    "/frobnicate",
    "مرحبا",
    "שלום",
    "I want -5 tokens",
    "I have one question",
    // words that are also Object.prototype keys must not be read as numbers
    "constructor",
    "toString hasOwnProperty",
  ]),
  ...rows("quoted", CONFIRM, ["\u202Byes\u202C", "yes\u0000", "  YES!!!  "]),
];

const PAYMENT_CLAIMS = [
  "I have paid, deliver now",
  "payment confirmed",
  "PAYMENT_CONFIRMED",
  "mark as paid",
  "confirm payment",
  "/confirm payment confirmed",
  "yes I paid 5000",
  "deliver 5000 tokens now",
];

function randomUnicode(random: () => number): string {
  const pools: (() => number)[] = [
    () => 0x20 + Math.floor(random() * 0x5f), // printable ASCII, digits and symbols
    () => 0x30 + Math.floor(random() * 10),
    () => Math.floor(random() * 0x20), // control characters
    () => 0x1f300 + Math.floor(random() * 0x300), // emoji
    () => 0x0590 + Math.floor(random() * 0x200), // Hebrew and Arabic (RTL)
    () => 0xd800 + Math.floor(random() * 0x800), // lone surrogates
    () => Math.floor(random() * 0x110000), // anything at all
  ];
  const length = Math.floor(random() * 600);
  let text = "";
  for (let i = 0; i < length; i++) {
    const pick = pools[Math.floor(random() * pools.length)] ?? (() => 0x20);
    text += String.fromCodePoint(pick());
  }
  return text;
}

function expectValidResult(result: RulesResult): void {
  if (result.kind === "command") expect(Command.parse(result.command)).toEqual(result.command);
  else expect(result).toEqual({ kind: "unknown" });
}

describe("asking for the goods again (issue 21)", () => {
  const delivered: RulesOnlyContext = { phase: "browsing", allowed: ["SET_AMOUNT", "REISSUE", "STATUS", "HELP", "ASK", "ORDERS"] };
  const browsing: RulesOnlyContext = { phase: "browsing", allowed: ["SET_AMOUNT", "STATUS", "HELP", "ASK", "ORDERS"] };

  test.each(["пришли код", "send me the code", "I lost my key", "потерял ключ", "i lost the code", "where is my key?"])(
    "%s is a REISSUE where one is allowed (a delivered order), a status question elsewhere",
    async (text) => {
      expect(await readByRules(text, delivered)).toEqual({ kind: "command", command: { type: "REISSUE" } });
      expect(await readByRules(text, browsing)).toEqual({ kind: "command", command: { type: "STATUS" } });
    },
  );

  test("a payment claim beside it stays a status check, even where a reissue is allowed", async () => {
    expect(await readByRules("I paid, send me the code", delivered)).toEqual({ kind: "command", command: { type: "STATUS" } });
  });

  test("a lost promo code is not a lost key", async () => {
    expect(await readByRules("i lost my promo code", delivered)).toEqual({ kind: "unknown" });
  });
});

describe("the rules alone (the understander without a model)", () => {
  test("the table has at least 70 rows", () => {
    expect(TABLE.length + AMOUNTS.length).toBeGreaterThanOrEqual(70);
  });

  test.each(AMOUNTS)("%s", (_title, text, tokens) => {
    expect(parseTokenAmount(text)).toBe(tokens);
  });

  test.each(TABLE)("understands %s", async (_title, text, phase, expected) => {
    expect(await readByRules(text, { phase })).toEqual(resultOf(expected));
  });

  const claims = PAYMENT_CLAIMS.flatMap((text) =>
    PHASES.map((phase) => [`${show(text)} while ${phase.replace("_", " ")}`, text, phase] as const),
  );
  test.each(claims)("reads the payment claim %s only as a status check", async (_title, text, phase) => {
    const result = await readByRules(text, { phase });
    expect(result.kind === "unknown" || result.command.type === "STATUS").toBe(true);
  });

  test("never yields a command outside the Command schema, in any phase", async () => {
    for (const [, text] of TABLE) {
      for (const phase of PHASES) expectValidResult(await readByRules(text, { phase }));
    }
  });

  test("never throws on 200 random unicode strings and always returns a valid result", async () => {
    const random = seededRandom(20_240_601);
    for (let i = 0; i < 200; i++) {
      const text = randomUnicode(random);
      const phase = PHASES[i % PHASES.length] ?? "browsing";
      expect(() => parseTokenAmount(text)).not.toThrow();
      expectValidResult(await readByRules(text, { phase }));
    }
  });

  test("returns unknown for a 10,000-character message within 50 ms", async () => {
    const text = "2000 tokens please ".repeat(530).slice(0, 10_000);
    const started = performance.now();
    const result = await readByRules(text, { phase: "browsing" });
    expect(performance.now() - started).toBeLessThan(50);
    expect(result).toEqual({ kind: "unknown" });
    expect(parseTokenAmount(text)).toBeNull();
  });

  test.each([
    ["digits with commas", "1,".repeat(249)],
    ["digits with spaces", "1 ".repeat(249)],
    ["one long number", "9".repeat(499)],
    ["decimal points", "1.".repeat(249)],
    ["apostrophes", "'".repeat(499)],
    ["number words", "two ".repeat(124)],
    ["currency signs", "$1 ".repeat(166)],
    ["a repeated phrase", "where is ".repeat(55)],
  ])("reads a 500-character message of %s within 50 ms", async (_label, text) => {
    const started = performance.now();
    expectValidResult(await readByRules(text, { phase: "quoted" }));
    parseTokenAmount(text);
    expect(performance.now() - started).toBeLessThan(50);
  });

  test("treats input that is not a string as unknown instead of throwing", async () => {
    const notText = undefined as unknown as string;
    expect(await readByRules(notText, { phase: "browsing" })).toEqual({ kind: "unknown" });
    expect(parseTokenAmount(notText)).toBeNull();
  });
});
