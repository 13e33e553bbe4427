/** English number words: "twelve hundred", "one and a half thousand", "three quarters of a million". */
import { type NumberWord, numberWords, same, units } from "./number-words.ts";

const UNITS = [
  "zero",
  "one",
  "two",
  "three",
  "four",
  "five",
  "six",
  "seven",
  "eight",
  "nine",
  "ten",
  "eleven",
  "twelve",
  "thirteen",
  "fourteen",
  "fifteen",
  "sixteen",
  "seventeen",
  "eighteen",
  "nineteen",
];
const TENS = ["twenty", "thirty", "forty fourty", "fifty", "sixty", "seventy", "eighty", "ninety"];

export const EN_NUMBER_WORDS: ReadonlyMap<string, NumberWord> = numberWords([
  ...units(UNITS),
  ...TENS.flatMap((group, i) => same(group, { kind: "ten", value: (i + 2) * 10 })),
  ["hundred", { kind: "hundred" }],
  ...same("thousand thousands", { kind: "scale", zeros: 3, short: false }),
  ...same("k", { kind: "scale", zeros: 3, short: true }),
  ...same("million millions", { kind: "scale", zeros: 6, short: false }),
  ...same("m mil mln mill kk", { kind: "scale", zeros: 6, short: true }),
  ...same("billion billions", { kind: "scale", zeros: 9, short: false }),
  ...same("b bn", { kind: "scale", zeros: 9, short: true }),
  ...same("grand grands", { kind: "grand" }),
  ["half", { kind: "half" }],
  ...same("quarter quarters", { kind: "quarter" }),
]);

/** Words that join parts of one number: "one hundred and five", "a half", "quarters of a million". */
export const EN_NUMBER_JOINERS: ReadonlySet<string> = new Set(["and", "a", "an", "of"]);
