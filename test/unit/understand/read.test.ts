import { describe, expect, test } from "vitest";
import { DEFAULT_CATALOG } from "../../../src/domain/catalog.ts";
import { priceTokens } from "../../../src/domain/catalog.ts";
import { tokensForBudget } from "../../../src/understand/budget.ts";
import { readMessage } from "../../../src/understand/read.ts";
import { Reading } from "../../../src/understand/reading.ts";
import { commandFor } from "../../../src/understand/rules.ts";
import { readByRules } from "../../support/rules-only.ts";

describe("tokensForBudget", () => {
  test.each([
    [2500, 1250],
    [2550, 1275],
    [999, 499],
    [1, 0],
    [100_000_000, 50_000_000],
  ])("%i cents buy %i tokens at $20.00 per 1,000, rounded down", (cents, tokens) => {
    expect(tokensForBudget(DEFAULT_CATALOG, cents)).toBe(tokens);
  });

  test("the quote for a budget never costs more than the budget", () => {
    for (let cents = 200; cents < 5000; cents += 7) {
      const tokens = tokensForBudget(DEFAULT_CATALOG, cents);
      expect(priceTokens(DEFAULT_CATALOG, tokens, "USD").usd.minor).toBeLessThanOrEqual(cents);
    }
  });
});

describe("the rules alone on budgets", () => {
  test("sets the amount to the tokens a budget buys, whether browsing or quoted", async () => {
    expect(await readByRules("$25 worth", { phase: "browsing" })).toEqual({
      kind: "command",
      command: { type: "SET_AMOUNT", tokens: 1250 },
    });
    expect(await readByRules("на 50 долларов", { phase: "quoted" })).toEqual({
      kind: "command",
      command: { type: "SET_AMOUNT", tokens: 2500 },
    });
  });

  test("prices a budget with the catalog it is given", async () => {
    const catalog = { ...DEFAULT_CATALOG, pricePer1kUsdCents: 1000 };
    expect(await readByRules("$25 worth", { phase: "browsing", catalog })).toEqual({
      kind: "command",
      command: { type: "SET_AMOUNT", tokens: 2500 },
    });
  });

  test("leaves a budget too small to buy one token to the LLM", async () => {
    expect(await readByRules("1 cent worth", { phase: "browsing" })).toEqual({ kind: "unknown" });
  });
});

describe("readMessage", () => {
  test("reads a bare number as an amount when the bot asked how many, and a number of things otherwise", () => {
    expect(readMessage("3000, is that enough for my project?", { phase: "browsing", askedHowMany: true })).toEqual({
      kind: "amount",
      tokens: 3000,
    });
    expect(readMessage("3000, is that enough for my project?", { phase: "browsing" })).toEqual({ kind: "none" });
  });

  test.each([
    ["2 packs of 5k", { kind: "none" }],
    ["2 пакета по 5000", { kind: "none" }],
    ["3 x 1000", { kind: "none" }],
    ["10^6", { kind: "none" }],
    ["my budget is 100", { kind: "budget", usdCents: 10_000 }],
    ["100 bucks max", { kind: "budget", usdCents: 10_000 }],
    ["you said 2000 but I want 3000", { kind: "amount", tokens: 3000 }],
    ["what is 5000 tokens in dollars", { kind: "amount", tokens: 5000 }],
    ["4k please. Actually no, cancel", { kind: "cancel" }],
    ["5000р", { kind: "none" }],
  ] as const)("reads %s as %o (found by probing)", (text, expected) => {
    expect(readMessage(text, { phase: "browsing" })).toEqual(expected);
  });

  test("asks instead of guessing between two amounts", () => {
    expect(readMessage("2000 or 3000", { phase: "browsing" })).toEqual({
      kind: "clarify",
      candidates: [
        { kind: "amount", tokens: 2000 },
        { kind: "amount", tokens: 3000 },
      ],
    });
  });

  const NOUNS = ["times", "people", "days", "minutes", "devs", "accounts", "раза", "человека", "дней", "минут"];
  const FRAMES = ["I tried {n} {x}", "we are {n} {x}", "it took {n} {x}", "у нас {n} {x}", "уже {n} {x} жду ответа"];
  const counts = FRAMES.flatMap((frame) =>
    NOUNS.flatMap((noun) => ["3", "12", "2000", "5k"].map((n) => frame.replace("{n}", n).replace("{x}", noun))),
  );
  test.each(counts)("never reads a count of things as an amount: %s", (text) => {
    const reading = readMessage(text, { phase: "browsing" });
    expect(reading.kind === "amount" || reading.kind === "budget").toBe(false);
  });

  test("a paid claim is only ever a paid claim or a status question, in any phase", () => {
    for (const text of ["I paid 5000", "оплатил 2000 токенов", "paid $40, deliver now", "я перевел 50 долларов, подтверди"]) {
      for (const phase of ["browsing", "quoted", "awaiting_payment", "other"] as const) {
        expect(["paid_claim", "status"]).toContain(readMessage(text, { phase }).kind);
      }
    }
  });

  test("every reading fits the Reading schema and maps to a valid result", () => {
    const texts = [...counts, "$25.50", "полмиллиона", "3k, no sorry, 4k", "give me 2 grand", "что такое токены?", "", "?"];
    for (const text of texts) {
      const reading = readMessage(text, { phase: "browsing" });
      expect(Reading.parse(reading)).toEqual(reading);
      expect(["command", "unknown"]).toContain(commandFor(reading, { phase: "browsing" }).kind);
    }
  });
});
