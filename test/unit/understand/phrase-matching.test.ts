/**
 * The phrase index (phrases looked up by first word, exact ones in a map, prefix ones like "оплатил*"
 * in a list) must answer exactly as reading the list from the top would: consistsOf takes the first
 * phrase of the list that fits, wherever its group, and that decides how many words it consumes.
 */
import { describe, expect, it } from "vitest";
import { type Phrase, consistsOf, mentions, phrases, startsAny, startsAt } from "../../../src/understand/text.ts";
import { seededRandom } from "../../support/seeded-random.ts";

/** The definitions the index stands in for: the list read in order. */
const reference = {
  consistsOf(words: readonly string[], list: readonly Phrase[], fillers: ReadonlySet<string>): boolean {
    let matched = false;
    for (let i = 0; i < words.length;) {
      const phrase = list.find((p) => startsAt(words, i, p));
      if (phrase !== undefined) {
        matched = true;
        i += phrase.length;
      } else if (fillers.has(words[i] ?? "")) i += 1;
      else return false;
    }
    return matched;
  },
  mentions: (words: readonly string[], list: readonly Phrase[]) => words.some((_, i) => list.some((p) => startsAt(words, i, p))),
};

describe("a phrase list is read from the top, whether a phrase starts with an exact word or a prefix", () => {
  it("a prefix phrase listed first wins over an exact one that would consume fewer words", () => {
    const list = phrases("a* b c, ab");
    expect(consistsOf(["ab", "b", "c"], list, new Set())).toBe(true);
  });

  it("an exact phrase listed first wins over a prefix one that would consume fewer words", () => {
    const list = phrases("ab b, a*");
    expect(consistsOf(["ab", "b"], list, new Set())).toBe(true);
  });

  it("of two phrases with the same first word, the one listed first is taken", () => {
    const list: Phrase[] = [["ab"], ["ab", "b"]];
    expect(consistsOf(["ab", "b"], list, new Set())).toBe(false);
    expect(consistsOf(["ab", "b"], list, new Set(["b"]))).toBe(true);
  });

  it("holds for 20,000 random lists and messages, duplicates and prefixes of prefixes included", () => {
    const random = seededRandom(7);
    const pick = <T>(from: readonly T[]): T => from[Math.floor(random() * from.length)] as T;
    const patterns = ["a", "b", "ab", "abc", "a*", "ab*", "b*", "*", "x"];
    const vocabulary = ["a", "b", "ab", "abc", "abd", "ba", "x", "c"];
    for (let n = 0; n < 20_000; n++) {
      const list: Phrase[] = Array.from({ length: Math.floor(random() * 6) }, () =>
        Array.from({ length: 1 + Math.floor(random() * 3) }, () => pick(patterns)),
      );
      const words = Array.from({ length: Math.floor(random() * 7) }, () => pick(vocabulary));
      const fillers = new Set(["x", "c"].filter(() => random() < 0.5));
      const got = [consistsOf(words, list, fillers), mentions(words, list), ...words.map((_, i) => startsAny(words, i, list))];
      const want = [
        reference.consistsOf(words, list, fillers),
        reference.mentions(words, list),
        ...words.map((_, i) => list.some((p) => startsAt(words, i, p))),
      ];
      // Compared cheaply first; the case is spelled out only when it fails.
      if (got.some((answer, k) => answer !== want[k])) expect(got, JSON.stringify({ list, words, fillers: [...fillers] })).toEqual(want);
    }
  });
});
