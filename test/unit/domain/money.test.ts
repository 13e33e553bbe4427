import { describe, expect, test } from "vitest";
import {
  centsFromWireDollars,
  ceilDiv,
  formatMoney,
  money,
  parseMoney,
  priceFor,
  sameMoney,
  toDecimalString,
} from "../../../src/domain/money.ts";

describe("money", () => {
  test("formats USD, USDT and Stars from the same integer without drift", () => {
    expect(formatMoney(money(4000, "USD"))).toBe("$40.00");
    expect(formatMoney(money(4000, "USDT"))).toBe("40.00 USDT");
    expect(formatMoney(money(2000, "XTR"))).toBe("2,000 ⭐");
    expect(formatMoney(money(123456789, "USD"))).toBe("$1,234,567.89");
    expect(formatMoney(money(5, "USD"))).toBe("$0.05");
  });

  test.each([
    ["20", 2000],
    ["20.5", 2050],
    ["20.00", 2000],
    ["0.01", 1],
    [" 7 ", 700],
    ["0020.10", 2010],
    ["40.00000000", 4000], // providers pad amounts; zeros beyond the cents change nothing
  ])("parses %j as %i cents", (text, cents) => {
    expect(parseMoney(text, "USD")).toEqual({ ok: true, value: { minor: cents, currency: "USD" } });
  });

  test.each([
    ["20.001", "too_many_decimals"],
    ["20.0000001", "too_many_decimals"],
    ["-5", "not_a_decimal"],
    ["1e3", "not_a_decimal"],
    ["abc", "not_a_decimal"],
    ["", "not_a_decimal"],
    ["99999999999999999999", "too_large"],
  ])("refuses %j (%s)", (text, reason) => {
    expect(parseMoney(text, "USD")).toEqual({ ok: false, reason });
  });

  test("refuses non-integer and negative minor units", () => {
    expect(() => money(0.1 + 0.2, "USD")).toThrow();
    expect(() => money(-1, "USD")).toThrow();
  });

  test("prices round up to the next cent and stay exact where floats would not", () => {
    // 0.1 + 0.2 style drift is impossible: 3 tokens at 2000 cents per 1000 = 6 cents exactly.
    expect(priceFor(3, money(2000, "USD"), 1000)).toEqual(money(6, "USD"));
    expect(priceFor(1, money(2000, "USD"), 1000)).toEqual(money(2, "USD"));
    expect(priceFor(1, money(1999, "USD"), 1000)).toEqual(money(2, "USD"));
    expect(priceFor(2000, money(2000, "USD"), 1000)).toEqual(money(4000, "USD"));
  });

  test("integer ceiling division is exact near the safe-integer limit", () => {
    expect(ceilDiv(Number.MAX_SAFE_INTEGER, 1)).toBe(Number.MAX_SAFE_INTEGER);
    expect(ceilDiv(9007199254740990, 3)).toBe(3002399751580330);
    expect(ceilDiv(10, 3)).toBe(4);
  });

  test("compares currency as well as amount", () => {
    expect(sameMoney(money(4000, "USD"), money(4000, "USDT"))).toBe(false);
    expect(sameMoney(money(4000, "USDT"), money(4000, "USDT"))).toBe(true);
    expect(toDecimalString(money(4000, "USDT"))).toBe("40.00");
    expect(toDecimalString(money(150, "XTR"))).toBe("150");
  });
});

describe("dollars from the wire", () => {
  test("become integer cents once, rounded the safe way for each use", () => {
    expect(centsFromWireDollars(0.1 + 0.2, "down")).toBe(30);
    expect(centsFromWireDollars(0.1 + 0.2, "up")).toBe(30);
    expect(centsFromWireDollars(12.345, "down")).toBe(1234);
    expect(centsFromWireDollars(12.345, "up")).toBe(1235);
    expect(centsFromWireDollars(40, "up")).toBe(4000);
    expect(centsFromWireDollars(-0.5, "down")).toBe(-50);
    expect(() => centsFromWireDollars(Number.NaN, "down")).toThrow(RangeError);
  });
});
