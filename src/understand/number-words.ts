/**
 * What a word contributes to a number, in the vocabulary shared by the English and Russian tables:
 * the grammar in numbers.ts reads "three quarters of a million" and "две с половиной тысячи" alike.
 */
export type NumberWord =
  /** 0–19, or 1½ ("полторы"), in quarters so halves and quarters stay whole numbers. */
  | { kind: "unit"; quarters: number }
  /** 20, 30, … 90. */
  | { kind: "ten"; value: number }
  /** A whole hundreds group: Russian "двести" is 200 by itself. */
  | { kind: "hundreds"; value: number }
  /** English "hundred", which multiplies what came before. */
  | { kind: "hundred" }
  /** thousand, million, billion; `short` forms ("k", "тыс") count only right after a number. */
  | { kind: "scale"; zeros: number; short: boolean }
  /** "grand": a thousand, but of money or of tokens? */
  | { kind: "grand" }
  | { kind: "half" }
  | { kind: "quarter" };

/** Builds a Map (never an object literal: "constructor" must not be a number word). */
export function numberWords(entries: readonly (readonly [string, NumberWord])[]): ReadonlyMap<string, NumberWord> {
  return new Map(entries);
}

/** "a b c" each meaning the same thing. */
export function same(words: string, meaning: NumberWord): [string, NumberWord][] {
  return words.split(" ").map((w) => [w, meaning]);
}

/** Words naming 0.. in order, each as a unit. */
export function units(words: readonly string[], from = 0): [string, NumberWord][] {
  return words.flatMap((group, i) => same(group, { kind: "unit", quarters: (from + i) * 4 }));
}
