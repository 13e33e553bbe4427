/**
 * Russian number words in the case forms customers use ("две тысячи", "на пять тысяч", "около двух
 * тысяч"), with slang: "тыщ", "к", "лям", "полмиллиона", "полторы".
 */
import { type NumberWord, numberWords, same, units } from "./number-words.ts";

const UNITS = [
  "ноль нуль", "один одна одну одно одного", "два две двух", "три трех", "четыре четырех", "пять пяти",
  "шесть шести", "семь семи", "восемь восьми", "девять девяти", "десять десяти",
  "одиннадцать одиннадцати", "двенадцать двенадцати", "тринадцать тринадцати", "четырнадцать четырнадцати",
  "пятнадцать пятнадцати", "шестнадцать шестнадцати", "семнадцать семнадцати", "восемнадцать восемнадцати",
  "девятнадцать девятнадцати",
];
const TENS = [
  "двадцать двадцати", "тридцать тридцати", "сорок сорока", "пятьдесят пятидесяти", "шестьдесят шестидесяти",
  "семьдесят семидесяти", "восемьдесят восьмидесяти", "девяносто девяноста",
];
const HUNDREDS = [
  "сто ста сотню сотня сотка сотку сотки", "двести двухсот", "триста трехсот", "четыреста четырехсот", "пятьсот пятисот",
  "шестьсот шестисот", "семьсот семисот", "восемьсот восьмисот", "девятьсот девятисот",
];

export const RU_NUMBER_WORDS: ReadonlyMap<string, NumberWord> = numberWords([
  ...units(UNITS),
  ...TENS.flatMap((group, i) => same(group, { kind: "ten", value: (i + 2) * 10 })),
  ...HUNDREDS.flatMap((group, i) => same(group, { kind: "hundreds", value: (i + 1) * 100 })),
  ...same("полтора полторы полутора", { kind: "unit", quarters: 6 }),
  ...same("тысяча тысячи тысяч тысячу тысячей тыща тыщи тыщ тыщу тысячах", { kind: "scale", zeros: 3, short: false }),
  ...same("тыс к кило", { kind: "scale", zeros: 3, short: true }),
  ...same("миллион миллиона миллионов лям ляма лямов лимон лимона", { kind: "scale", zeros: 6, short: false }),
  ...same("млн кк", { kind: "scale", zeros: 6, short: true }),
  ...same("миллиард миллиарда миллиардов", { kind: "scale", zeros: 9, short: false }),
  ...same("млрд", { kind: "scale", zeros: 9, short: true }),
  ...same("пол половина половиной половину", { kind: "half" }),
  ...same("четверть четверти", { kind: "quarter" }),
]);

/** "две с половиной тысячи": the joining word. */
export const RU_NUMBER_JOINERS: ReadonlySet<string> = new Set(["с"]);
