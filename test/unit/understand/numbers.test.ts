import { describe, expect, test } from "vitest";
import { digitValue, wholeOf } from "../../../src/understand/numbers.ts";
import { parseTokenAmount } from "../../../src/understand/rules.ts";

describe("digitValue", () => {
  test.each([
    ["2000", false, 2000n, 0],
    ["12 000", false, 12_000n, 0],
    ["1,000,000", false, 1_000_000n, 0],
    ["1.000.000", false, 1_000_000n, 0],
    ["3.500", false, 3500n, 0],
    ["1.500", true, 1500n, 3], // "1.500 млн" is one and a half million
    ["2.5", false, 25n, 1],
    ["15,50", false, 1550n, 2],
    ["1,000.50", false, 100_050n, 2],
    ["1.000,50", false, 100_050n, 2],
  ] as const)("reads %s (scale after: %s) exactly", (raw, scaleFollows, whole, zeros) => {
    const value = digitValue(raw, scaleFollows);
    expect(value).not.toBeNull();
    expect(wholeOf(value!, zeros)).toBe(whole);
  });

  test.each(["1,000.000,5", "1.2.3", "12,34,567"])("refuses the mixed-up %s", (raw) => {
    expect(digitValue(raw, false)).toBeNull();
  });
});

describe("number grammar", () => {
  test.each([
    ["three quarters of a million", 750_000],
    ["one and a half thousand", 1500],
    ["twelve hundred", 1200],
    ["5 thousand 200", 5200],
    ["two hundred fifty thousand", 250_000],
    ["a quarter million", 250_000],
    ["half a million", 500_000],
    ["twenty-five k", 25_000],
    ["five thousand five hundred fifty five", 5555],
    ["две тысячи", 2000],
    ["две с половиной тысячи", 2500],
    ["полторы тысячи", 1500],
    ["полмиллиона", 500_000],
    ["полляма", 500_000],
    ["тысяч пять", 5000],
    ["двадцать пять тысяч пятьсот", 25_500],
    ["четверть миллиона", 250_000],
    ["2,5к", 2500],
    ["5кк", 5_000_000],
  ] as const)("reads %s as %i", (text, tokens) => {
    expect(parseTokenAmount(text)).toBe(tokens);
  });

  test.each(["half", "a quarter", "k", "two five", "twenty eleven", "1.2345k", "2.5", "0.5"])("finds no whole amount in %s", (text) => {
    expect(parseTokenAmount(text)).toBeNull();
  });
});
