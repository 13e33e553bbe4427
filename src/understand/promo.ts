/**
 * A promo code in a customer's message (issue 21): "/promo SPRING10", "promo SPRING10", «промокод
 * SPRING10», "my coupon is SAVE5", and the deep link `/start promo_SPRING10`. The code is kept as typed
 * (the catalog compares codes in any case); whether it exists is the catalog's business, not the rules'.
 */
import { PromoCodeText } from "../../machines/purchase.commands.ts";

// The word before a code. A code must follow it as its own word: "promotions" names no code "tions".
const SAID =
  /(?<![\p{L}\p{N}_])(promo[\s-]*codes?|promocodes?|promos?|coupon(?:[\s-]*codes?)?|discount[\s-]*codes?|промо-?код[а-я]*|промо|купон[а-я]*)(?:\s*[:=#]\s*|\s+(?:is|=|это|:)?\s*)([A-Za-z0-9_-]{2,32})(?![\p{L}\p{N}_-])/giu;
// English words that follow "promo" or "coupon" without being a code ("promo code please", "coupon for me").
const NOT_CODES = new Set(
  (
    "code codes please pls plz for here is it the a an and or any some yes no ok okay available work works valid " +
    "exist exists apply applied discount now today me my you your this that there have has do does"
  ).split(" "),
);

/**
 * A code said as such: with a digit, `_` or `-`, or typed in capitals ("SPRING10", "WELCOME"), or as the
 * whole message after the word ("promo spring"); never a common word ("promo code please").
 */
function looksLikeCode(code: string, wholeMessage: boolean): boolean {
  // All digits is an amount more often than a code ("promo 5000 tokens?").
  if (NOT_CODES.has(code.toLowerCase()) || /^\d+$/.test(code) || !PromoCodeText.safeParse(code).success) return false;
  return /[\d_-]/.test(code) || (code.length >= 3 && code === code.toUpperCase()) || wholeMessage;
}

/** The code a `/promo` argument or `/start promo_<code>` deep link carries; null when it is not one. */
export function promoArgument(argument: string): string | null {
  const code = argument.trim();
  return PromoCodeText.safeParse(code).success ? code : null;
}

/** The start payload `promo_<code>` of a deep link (`t.me/<bot>?start=promo_SPRING10`); null for any other. */
export function promoDeepLink(payload: string): string | null {
  const match = /^promo[_-](.+)$/i.exec(payload.trim());
  return match ? promoArgument(match[1] ?? "") : null;
}

// Every word SAID accepts before a code contains one of these (under the same flags): a message
// without any of them cannot name a code, and most messages are answered without running SAID.
const CUE = /promo|coupon|discount|промо|купон/iu;

/** The promo code a typed message gives, as typed; null when it gives none. */
export function promoInText(text: string): string | null {
  if (!CUE.test(text)) return null;
  const trimmed = text.trim().replace(/[.!?)\s]+$/u, "");
  for (const match of trimmed.matchAll(SAID)) {
    const code = match[2] ?? "";
    const wholeMessage = match.index === 0 && match[0].length === trimmed.length;
    if (looksLikeCode(code, wholeMessage)) return code;
  }
  return null;
}
