import { z } from "zod";
import type { Currency as CurrencyCode, Money as MoneyValue } from "../../machines/purchase.machine.ts";

/**
 * Money is an integer count of a currency's minor units (cents for USD, hundredths for USDT, whole
 * stars for XTR). There are no floats anywhere on the money path: amounts are parsed from decimal
 * strings with a regex and formatted with integer division, so "$40.00" and "40.00 USDT" are always
 * the same number of minor units.
 */
export const Currency = z.enum(["USD", "USDT", "XTR"]) satisfies z.ZodType<CurrencyCode>;
export type Currency = CurrencyCode;

/** Number of decimal places of each currency's major unit. */
export const DECIMALS: Readonly<Record<Currency, number>> = { USD: 2, USDT: 2, XTR: 0 };

/** A count of minor units: a non-negative safe integer, never a float. */
export const MinorUnits = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

/** The product's one money shape (declared by the purchase machine), checked wherever it crosses a boundary. */
export const Money = z.object({ minor: MinorUnits, currency: Currency }).strict() satisfies z.ZodType<MoneyValue>;
export type Money = MoneyValue;

/** Builds a Money value, refusing anything that is not a non-negative safe integer. */
export function money(minor: number, currency: Currency): Money {
  return { minor: MinorUnits.parse(minor), currency };
}

/** Why a decimal string could not become money. */
export type ParseMoneyError = "not_a_decimal" | "too_many_decimals" | "too_large";

/**
 * Parses a decimal string such as "20", "20.5" or "20.00" into minor units of `currency`.
 * Returns a tagged result rather than throwing so configuration errors can name their variable.
 */
export function parseMoney(text: string, currency: Currency): { ok: true; value: Money } | { ok: false; reason: ParseMoneyError } {
  const match = /^\s*(\d+)(?:\.(\d+))?\s*$/.exec(text);
  if (!match) return { ok: false, reason: "not_a_decimal" };
  const decimals = DECIMALS[currency];
  const whole = match[1] ?? "0";
  const fraction = match[2] ?? "";
  // Padding zeros beyond the currency's decimals ("40.000000") change nothing; any other digit would.
  if (/[^0]/.test(fraction.slice(decimals))) return { ok: false, reason: "too_many_decimals" };
  const digits = (whole + fraction.slice(0, decimals).padEnd(decimals, "0")).replace(/^0+(?=\d)/, "");
  const minor = Number(digits);
  if (!Number.isSafeInteger(minor)) return { ok: false, reason: "too_large" };
  return { ok: true, value: money(minor, currency) };
}

/** The amount as a plain decimal string in major units: 4000 USD cents → "40.00", 150 XTR → "150". */
export function toDecimalString(value: Money): string {
  const decimals = DECIMALS[value.currency];
  if (decimals === 0) return String(value.minor);
  const scale = 10 ** decimals;
  const whole = Math.floor(value.minor / scale);
  const fraction = String(value.minor % scale).padStart(decimals, "0");
  return `${whole}.${fraction}`;
}

/** Groups thousands with commas: 1234567 → "1,234,567". Integer only. */
export function groupThousands(digits: string): string {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** Human form for replies: "$40.00", "40.00 USDT", "2,000 ⭐". */
export function formatMoney(value: Money): string {
  const [whole = "0", fraction] = toDecimalString(value).split(".");
  const amount = fraction === undefined ? groupThousands(whole) : `${groupThousands(whole)}.${fraction}`;
  switch (value.currency) {
    case "USD":
      return `$${amount}`;
    case "USDT":
      return `${amount} USDT`;
    case "XTR":
      return `${amount} ⭐`;
    default:
      return assertNever(value.currency);
  }
}

/** True when both values are the same currency and the same number of minor units. */
export function sameMoney(a: Money, b: Money): boolean {
  return a.currency === b.currency && a.minor === b.minor;
}

/**
 * Multiplies `price` (for `per` units) by `quantity` units, rounding up to the next minor unit so the
 * shop is never short-changed by rounding. Pure integer arithmetic.
 */
export function priceFor(quantity: number, price: Money, per: number): Money {
  const product = quantity * price.minor;
  if (!Number.isSafeInteger(product)) throw new RangeError("price overflow: quantity too large");
  return money(ceilDiv(product, per), price.currency);
}

/**
 * Converts a dollar amount that arrived as a JSON number (a float) into integer cents, once, at the
 * wire boundary. It is first fixed to whole micro-dollars (absorbing float noise such as
 * 0.1 + 0.2), then rounded to cents in the direction the caller needs: down for credit we may spend,
 * up for amounts already promised. Everything after this is integer arithmetic.
 */
export function centsFromWireDollars(dollars: number, rounding: "down" | "up"): number {
  if (!Number.isFinite(dollars)) throw new RangeError(`not a dollar amount: ${dollars}`);
  const micro = Math.round(dollars * 1_000_000);
  const cents = rounding === "down" ? Math.floor(micro / 10_000) : ceilDiv(Math.max(0, micro), 10_000);
  if (!Number.isSafeInteger(cents)) throw new RangeError(`dollar amount too large: ${dollars}`);
  return cents;
}

/** Integer division rounding towards +∞, for non-negative safe integers. */
export function ceilDiv(numerator: number, denominator: number): number {
  // BigInt keeps the division exact: float division can be off by one near 2^53.
  const n = BigInt(numerator);
  const d = BigInt(denominator);
  return Number((n + d - 1n) / d);
}

/** Exhaustiveness check for `switch` statements over unions. */
export function assertNever(value: never): never {
  throw new Error(`unhandled case: ${JSON.stringify(value)}`);
}
