import { describe, expect, it } from "vitest";
import { normalizeAnyText, normalizeText, tokenize } from "../../../src/understand/text.ts";
import { promoInText } from "../../../src/understand/promo.ts";
import { seededRandom } from "../../support/seeded-random.ts";

/** Random strings of printable ASCII, weighted towards letters, digits and the signs the rules read. */
function randomAscii(seed: number, count: number): string[] {
  const random = seededRandom(seed);
  // Letters repeat often, so drawn-out letters and case folds are exercised.
  const alphabet = " aAbBeEsSyY' `.!?-,$0123456789 zZ";
  return Array.from({ length: count }, () => {
    const length = Math.floor(random() * 24);
    let text = "";
    for (let i = 0; i < length; i++) {
      text += random() < 0.7 ? alphabet[Math.floor(random() * alphabet.length)] : String.fromCharCode(0x20 + Math.floor(random() * 95));
    }
    return text;
  });
}

describe("plain ASCII messages are normalized as any text would be", () => {
  it.each([
    "I need 1000 tokens",
    "  Make   it  3000!!  ",
    "Yesss, go aheaddd",
    "don't cancel",
    "it`s `fine`",
    "AAAA bbb CcC 111",
    "",
    "   ",
    "$20 worth, pls",
  ])("%j", (text) => {
    expect(normalizeText(text)).toBe(normalizeAnyText(text));
  });

  it("holds for 20,000 random printable ASCII strings", () => {
    for (const text of randomAscii(20, 20_000)) expect(normalizeText(text), JSON.stringify(text)).toBe(normalizeAnyText(text));
  });

  it("text with anything beyond printable ASCII takes the full path (tabs, Cyrillic, emoji)", () => {
    expect(normalizeText("yes\tplease")).toBe("yes please");
    expect(normalizeText("Ещё 👍")).toBe("еще yes");
    expect(normalizeText("ＡＢＣ")).toBe("abc");
  });
});

describe("plain ASCII messages are cut into the tokens any text would be", () => {
  it.each(["i need 1 000 tokens for $20", "12 000, 2.5k or 1,000,000?", "gpt-4 x2 #1 @me 100%", "yesss... ok!"])("%j", (text) => {
    expect(tokenize(text, true)).toEqual(tokenize(text, false));
  });

  it("holds for 20,000 random normalized ASCII strings", () => {
    for (const raw of randomAscii(21, 20_000)) {
      const text = normalizeText(raw);
      expect(tokenize(text, true), JSON.stringify(text)).toEqual(tokenize(text, false));
    }
  });
});

describe("a message without a promo word names no promo code", () => {
  it.each([
    ["promo SPRING10", "SPRING10"],
    ["my COUPON is SAVE5", "SAVE5"],
    ["Discount code: WELCOME", "WELCOME"],
    ["ПРОМОКОД SPRING10", "SPRING10"],
    ["купон SAVE-5", "SAVE-5"],
  ])("%j gives %j", (text, code) => {
    expect(promoInText(text)).toBe(code);
  });

  it.each(["SPRING10", "make it 3000", "code SPRING10 please"])("%j gives none", (text) => {
    expect(promoInText(text)).toBeNull();
  });
});
