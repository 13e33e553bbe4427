/**
 * The harness behind the phrasing tables (issues 13 and 14): customer messages with the reading a
 * person would give them, run through the rules alone. Accuracy is reported, not demanded row by row;
 * only the safety rows ("must") have to pass every time.
 */
import { describe, expect, test } from "vitest";
import type { FaqTopic, LanguageCode, Reading, ReadingContext } from "../../../src/understand/reading.ts";
import { readMessage } from "../../../src/understand/read.ts";

/** What kind of reading a row checks; used to group misses and to pick the safety checks. */
export type Category = "amount" | "budget" | "correction" | "negation" | "non_amount" | "question" | "intent" | "clarify";

export type PhrasingRow = {
  text: string;
  expect: Reading;
  category: Category;
  phase?: ReadingContext["phase"];
  /** The bot just asked "how many tokens?". */
  asked?: boolean;
  /** For negations: the amount the customer said they do not want. */
  not?: number;
};

export const amount = (tokens: number): Reading => ({ kind: "amount", tokens });
export const budget = (usdCents: number): Reading => ({ kind: "budget", usdCents });
export const question = (topic: FaqTopic): Reading => ({ kind: "question", topic });
export const language = (code: LanguageCode): Reading => ({ kind: "language", code });
export const clarifyAmounts = (...tokens: number[]): Reading => ({
  kind: "clarify",
  candidates: tokens.map((t) => ({ kind: "amount", tokens: t })),
});
export const promo = (code: string): Reading => ({ kind: "promo", code });
export const is = (kind: Exclude<Reading["kind"], "amount" | "budget" | "question" | "language" | "clarify" | "promo">): Reading =>
  ({ kind }) as Reading;

/** Rows of one category in one phase, from [text, expected] pairs. */
export function rowsOf(
  category: Category,
  cases: readonly (readonly [string, Reading] | readonly [string, Reading, number])[],
  options: { phase?: ReadingContext["phase"]; asked?: boolean } = {},
): PhrasingRow[] {
  return cases.map(([text, expected, not]) => ({
    text,
    expect: expected,
    category,
    ...options,
    ...(not === undefined ? {} : { not }),
  }));
}

function readRow(row: PhrasingRow): Reading {
  return readMessage(row.text, { phase: row.phase ?? "browsing", askedHowMany: row.asked ?? false });
}

/** Why a row's reading is unsafe, or null: the checks that must hold for every row, always. */
export function safetyProblem(row: PhrasingRow, got: Reading): string | null {
  const isAmount = got.kind === "amount" || got.kind === "budget";
  if (row.category === "non_amount" && isAmount) return "read a non-amount as an amount";
  if (row.not !== undefined && got.kind === "amount" && got.tokens === row.not) return "picked the negated amount";
  const wanted = row.expect.kind;
  if (wanted === "confirm" && got.kind === "cancel") return "read a confirmation as a cancel";
  if (wanted === "cancel" && got.kind === "confirm") return "read a cancel as a confirmation";
  if ((wanted === "status" || wanted === "paid_claim" || wanted === "reissue") && (got.kind === "confirm" || isAmount)) {
    return "read talk of payment as an order step";
  }
  if (wanted === "promo" && (got.kind === "confirm" || isAmount)) return "read a promo code as an order step";
  return null;
}

function show(text: string): string {
  return JSON.stringify(text).replace(/\$(?=\d)/g, "＄");
}

/** Runs a phrasing table: reports accuracy and misses, holds the floor, and checks every safety row. */
export function describePhrasings(label: string, rows: readonly PhrasingRow[], minRows: number, floor: number): void {
  describe(`rules-only phrasings (${label})`, () => {
    test(`has at least ${minRows} phrasings`, () => {
      expect(rows.length).toBeGreaterThanOrEqual(minRows);
    });

    test(`reads at least ${Math.round(floor * 1000) / 10}% of the phrasings as a person would`, () => {
      const misses: string[] = [];
      for (const row of rows) {
        const got = readRow(row);
        try {
          expect(got).toEqual(row.expect);
        } catch {
          misses.push(`  [${row.category}] ${show(row.text)}: expected ${JSON.stringify(row.expect)}, got ${JSON.stringify(got)}`);
        }
      }
      const hits = rows.length - misses.length;
      const percent = Math.round((hits / rows.length) * 1000) / 10;
      console.log(`rules-only accuracy ${label}: ${hits}/${rows.length} = ${percent}%`);
      if (misses.length > 0) console.log(`misses (${label}):\n${misses.join("\n")}`);
      expect(hits / rows.length).toBeGreaterThanOrEqual(floor);
    });

    const safety = rows.map((row) => [show(row.text), row] as const);
    test.each(safety)("never misreads %s unsafely", (_title, row) => {
      expect(safetyProblem(row, readRow(row))).toBeNull();
    });
  });
}
