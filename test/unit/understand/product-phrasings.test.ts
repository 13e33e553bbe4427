/**
 * Issue 21: product names and aliases in both languages, read by the rules in a shop with several
 * products (the shipped catalog.example.yaml: "tokens", sold as vouchers, and "openrouter-credit").
 * A name completes an amount ("1000 gpt tokens"), or on its own chooses the product ("claude").
 */
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { readCatalogFile } from "../../../src/domain/catalog-file.ts";
import { DEFAULT_CATALOG, singleProductView } from "../../../src/domain/catalog.ts";
import type { Command, Understood } from "../../../src/domain/commands.ts";
import { createUnderstander } from "../../../src/understand/index.ts";
import { understandContextIn } from "../../support/order-snapshots.ts";

const read = readCatalogFile(join(import.meta.dirname, "..", "..", "..", "catalog.example.yaml"), { starsPerUsd: 50 });
if (!read.ok) throw new Error(read.error);
const understand = createUnderstander(undefined, { catalog: singleProductView(read.shop) });

const amount = (tokens: number, product: string): Command => ({ type: "SET_AMOUNT", tokens, product });
const choose = (product: string): Command => ({ type: "SET_PRODUCT", product });
const ask = (topic: "models" | "price"): Command => ({ type: "ASK", topic });
const OR = "openrouter-credit";

/** [text, what a person means] — in English and Russian, by the product's name, an alias, or its id. */
const ROWS: readonly (readonly [string, Command])[] = [
  ["1000 gpt tokens", amount(1000, OR)],
  ["I need 2000 claude tokens", amount(2000, OR)],
  ["5000 AI tokens please", amount(5000, "tokens")],
  ["2000 tokens", amount(2000, "tokens")], // the owner's alias: "tokens" is that product
  ["1000 openrouter credit", amount(1000, OR)],
  ["gpt-4 for 5000 tokens", amount(5000, OR)],
  ["/buy openrouter-credit 2500", amount(2500, OR)],
  ["claude", choose(OR)],
  ["openrouter please", choose(OR)],
  ["I want an api key", choose(OR)],
  ["how much is claude?", choose(OR)],
  ["I need some tokens", choose("tokens")],
  ["1000 гпт токенов", amount(1000, OR)],
  ["5000 AI-токенов", amount(5000, "tokens")],
  ["хочу 2000 кредита OpenRouter", amount(2000, OR)],
  ["токены для claude", choose(OR)],
  ["опенроутер", choose(OR)],
  ["хочу клода", choose(OR)],
  ["сколько стоит клод?", choose(OR)],
  ["хочу купить токены", choose("tokens")],
  // A question about models stays one; so does anything that is not about buying.
  ["does it work with claude?", ask("models")],
  ["можно ли с claude 3 opus?", ask("models")],
];

async function commandOf(text: string, state = "none"): Promise<Understood> {
  return understand(text, understandContextIn(state));
}

describe("product names in a shop with two products", () => {
  test.each(ROWS)("%s", async (text, command) => {
    expect(await commandOf(text)).toMatchObject({ command, source: "rules" });
  });

  test("a budget buys the named product's tokens, at its own price", async () => {
    // $1.25 per 100 units: $25 buys 2,000; the same budget of the first product ($20.00 per 1,000) buys 1,250.
    expect(await commandOf("$25 of claude credit")).toEqual({
      command: amount(2000, OR),
      source: "rules",
      note: { kind: "budget", usdCents: 2500 },
    });
    expect(await commandOf("хочу клода на 20 баксов")).toEqual({
      command: amount(1600, OR),
      source: "rules",
      note: { kind: "budget", usdCents: 2000 },
    });
    expect(await commandOf("$25 of AI tokens")).toMatchObject({ command: amount(1250, "tokens") });
  });

  test("two amounts of one product are a choice priced for it", async () => {
    expect(await commandOf("$10 or $20 of openrouter")).toEqual({
      choices: [
        { tokens: 800, usdCents: 1000 },
        { tokens: 1600, usdCents: 2000 },
      ],
      source: "rules",
    });
  });

  test("a product is not chosen where the order cannot take one: the rules' own reading answers", async () => {
    expect(await commandOf("claude", "awaiting_payment")).toMatchObject({ command: ask("models") });
    expect(await commandOf("claude", "quoted")).toMatchObject({ command: choose(OR) });
  });

  test("cancels, thanks, promo codes and payment talk are never taken for a product", async () => {
    expect(await commandOf("cancel the claude order", "quoted")).toMatchObject({ command: { type: "CANCEL" } });
    expect(await commandOf("thanks for the gpt key")).toMatchObject({ command: { type: "THANKS" } });
    expect(await commandOf("спасибо за ключ OpenRouter")).toMatchObject({ command: { type: "THANKS" } });
    expect(await commandOf("promo CLAUDE10")).toMatchObject({ command: { type: "APPLY_PROMO", code: "CLAUDE10" } });
    expect(await commandOf("I paid for the claude credit")).toMatchObject({ command: { type: "STATUS" } });
  });
});

describe("a shop with one product", () => {
  test("reads product words exactly as before: no product slot, no product choice", async () => {
    const one = createUnderstander(undefined, { catalog: DEFAULT_CATALOG });
    expect(await one("1000 gpt tokens", understandContextIn("none"))).toEqual({
      command: { type: "SET_AMOUNT", tokens: 1000 },
      source: "rules",
    });
    expect(await one("claude", understandContextIn("none"))).toMatchObject({ command: ask("models") });
    expect(await one("I need some tokens", understandContextIn("none"))).toMatchObject({
      command: { type: "HELP" },
      note: { kind: "ask_amount" },
    });
  });
});
