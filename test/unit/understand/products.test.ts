/** Issue 21: a product read by its name or alias, in English or Russian, with the amount said with it. */
import { describe, expect, test } from "vitest";
import type { Product } from "../../../src/domain/products.ts";
import { readProduct } from "../../../src/understand/products.ts";

const base = {
  pricePer: 1000,
  priceUsdCents: 2000,
  tiers: [],
  min: 100,
  max: 1_000_000,
  packages: [1000],
  delivery: "voucher" as const,
  creditUsdCents: null,
};
const SHOP: { products: Product[] } = {
  products: [
    { ...base, id: "tokens", name: { en: "tokens", ru: "токены" }, aliases: {} },
    { ...base, id: "gpt-tokens", name: { en: "GPT tokens", ru: "GPT-токены" }, aliases: { en: ["gpt", "openai", "chatgpt"], ru: ["гпт"] } },
    {
      ...base,
      id: "claude-credit",
      name: { en: "Claude credit", ru: "кредит Claude" },
      aliases: { en: ["claude", "anthropic"], ru: ["клод*"] },
    },
    { ...base, id: "mistral", name: { en: "Mistral tokens" }, aliases: { en: ["pro"] } },
    { ...base, id: "le-pro", name: { ru: "Ле Про" }, aliases: { ru: ["pro"] } },
  ],
};

describe("readProduct", () => {
  test.each([
    ["1000 gpt tokens", "en", "gpt-tokens", { kind: "amount", tokens: 1000 }],
    ["токены для claude", "ru", "claude-credit", null],
    ["$25 of claude credit", "en", "claude-credit", { kind: "budget", usdCents: 2500 }],
    ["5000 гпт токенов", "ru", "gpt-tokens", { kind: "amount", tokens: 5000 }],
    ["хочу клода на 20 баксов", "ru", "claude-credit", { kind: "budget", usdCents: 2000 }],
    ["I need 2000 GPT-токены", "en", "gpt-tokens", { kind: "amount", tokens: 2000 }],
    ["chatgpt tokens please", "en", "gpt-tokens", null],
    ["1000 mistral tokens", "en", "mistral", { kind: "amount", tokens: 1000 }],
    ["I need 2000 tokens", "en", "tokens", { kind: "amount", tokens: 2000 }],
    ["can I use it with claude 3 opus?", "en", "claude-credit", null],
    ["gpt-4 for 5000 tokens", "en", "gpt-tokens", { kind: "amount", tokens: 5000 }],
    [
      "2k or 3k of anthropic",
      "en",
      "claude-credit",
      {
        kind: "clarify",
        candidates: [
          { kind: "amount", tokens: 2000 },
          { kind: "amount", tokens: 3000 },
        ],
      },
    ],
    ["/buy gpt-tokens 3000", "en", "gpt-tokens", { kind: "amount", tokens: 3000 }],
  ])("%s → %s", (text, language, productId, amount) => {
    expect(readProduct(text, SHOP, language)).toEqual({ productId, amount });
  });

  test.each(["hello", "5000", "I'd like a refund", ""])("%j names no product", (text) => {
    expect(readProduct(text, SHOP, "en")).toBeNull();
  });

  test("names of two products at once are no answer: the caller asks or keeps its default", () => {
    expect(readProduct("gpt or claude?", SHOP, "en")).toBeNull();
  });

  test("a specific name wins over a word every product shares", () => {
    expect(readProduct("tokens for claude", SHOP, "en")?.productId).toBe("claude-credit");
  });

  test("an alias two products share goes to the one written in the customer's language", () => {
    expect(readProduct("pro", SHOP, "en")?.productId).toBe("mistral");
    expect(readProduct("pro", SHOP, "ru")?.productId).toBe("le-pro");
    expect(readProduct("pro", SHOP, "de")).toBeNull();
  });

  test("never throws, and gives up on messages too long to be a command", () => {
    expect(readProduct("gpt ".repeat(200), SHOP, "en")).toBeNull();
    expect(readProduct(undefined as unknown as string, SHOP, "en")).toBeNull();
  });
});
