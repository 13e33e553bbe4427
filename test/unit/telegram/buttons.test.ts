/** The Telegram button codec (issue 13 (1)): a button carries the amount its message showed, within Telegram's 64 bytes. */
import { describe, expect, test } from "vitest";
import { decodeButton, encodeButton } from "../../../src/telegram/buttons.ts";

describe("button codes", () => {
  test("a confirm button carries the amount its message showed", () => {
    const data = encodeButton({ action: "confirm", orderId: "ord_abcdefgh", shown: 2000 });
    expect(decodeButton(data)).toEqual({ action: "confirm", orderId: "ord_abcdefgh", shown: 2000 });
  });

  test("an amount button carries the amount it changes from", () => {
    const data = encodeButton({ action: "amount", orderId: "ord_abcdefgh", tokens: 3000, shown: 2000 });
    expect(decodeButton(data)).toEqual({ action: "amount", orderId: "ord_abcdefgh", tokens: 3000, shown: 2000 });
  });

  test("the longest button fits Telegram's 64 bytes", () => {
    const orderId = "o".repeat(40);
    const data = encodeButton({ action: "amount", orderId, tokens: 999_999_999, shown: 999_999_999 });
    expect(Buffer.byteLength(data)).toBeLessThanOrEqual(64);
    expect(decodeButton(data)).not.toBeNull();
  });

  test("buttons made before amounts were carried decode as showing no amount (stale), not as errors", () => {
    expect(decodeButton("c|ord_abcdefgh")).toEqual({ action: "confirm", orderId: "ord_abcdefgh", shown: null });
    expect(decodeButton("a|ord_abcdefgh|5000")).toEqual({ action: "amount", orderId: "ord_abcdefgh", tokens: 5000, shown: null });
  });

  test("issue 21: a product, a product's package and a reissue round-trip; a one-product shop's packages stay as they were", () => {
    for (const button of [
      { action: "product", product: "gpt-tokens" },
      { action: "package", tokens: 5000, product: "or-credit" },
      { action: "reissue", orderId: "ord_abcdefgh" },
    ] as const) {
      expect(decodeButton(encodeButton(button))).toEqual(button);
    }
    expect(encodeButton({ action: "package", tokens: 5000 })).toBe("p|5000");
    const longest = encodeButton({ action: "package", tokens: 999_999_999_999_999, product: `a${"b".repeat(31)}` });
    expect(Buffer.byteLength(longest)).toBeLessThanOrEqual(64);
    for (const data of ["g|", "g|Bad Id", "g|x|y", "k|", "k|ord x", "p|5000|Bad", "p|5000|ok|more"])
      expect(decodeButton(data), data).toBeNull();
  });

  test("malformed or forged data is refused", () => {
    for (const data of [
      "c|ord_x|abc",
      "c|ord_x|2000|1",
      "a|ord_x|5000|x",
      "a|ord_x|-5|2000",
      "c|ord x|2000",
      "c",
      "z|1",
      "p|",
      "c|" + "o".repeat(70),
      "a|ord_x|5000|2000|1",
    ]) {
      expect(decodeButton(data), data).toBeNull();
    }
  });
});
