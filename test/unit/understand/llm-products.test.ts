/** Issue 21: the model may name a product in SET_AMOUNT when the shop sells several; one product changes nothing. */
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { readCatalogFile } from "../../../src/domain/catalog-file.ts";
import { DEFAULT_CATALOG, builtInShop, singleProductView } from "../../../src/domain/catalog.ts";
import { describeCommand, readModelReply } from "../../../src/understand/llm-schema.ts";
import { systemPrompt } from "../../../src/understand/llm.ts";
import { allowedIn, understandContextIn } from "../../support/order-snapshots.ts";

const read = readCatalogFile(join(import.meta.dirname, "..", "..", "..", "catalog.example.yaml"), { starsPerUsd: 50 });
if (!read.ok) throw new Error(read.error);
const SHOP = singleProductView(read.shop);
const ONE = singleProductView(builtInShop(DEFAULT_CATALOG, "voucher"));
const allowed = allowedIn("initial");

describe("a shop with several products", () => {
  test("SET_AMOUNT may carry one of its product ids", () => {
    expect(readModelReply('{"intent":"SET_AMOUNT","tokens":1000,"product":"openrouter-credit"}', allowed, SHOP)).toEqual({
      kind: "command",
      command: { type: "SET_AMOUNT", tokens: 1000, product: "openrouter-credit" },
    });
    expect(readModelReply('{"intent":"SET_AMOUNT","tokens":1000}', allowed, SHOP)).toEqual({ kind: "command", command: { type: "SET_AMOUNT", tokens: 1000 } });
  });

  test("a product the shop does not sell is rejected, never passed on", () => {
    expect(readModelReply('{"intent":"SET_AMOUNT","tokens":1000,"product":"free-credit"}', allowed, SHOP)).toMatchObject({ kind: "rejected", reason: "invalid_shape" });
    expect(readModelReply('{"intent":"SET_AMOUNT","tokens":1000,"product":"free-credit"}', allowedIn("quoted"), SHOP)).toMatchObject({ kind: "rejected", reason: "invalid_shape" });
  });

  test("the model is told the ids and names, and amounts span every product's limits", () => {
    expect(describeCommand("SET_AMOUNT", SHOP)).toBe(
      '{"intent":"SET_AMOUNT","tokens":<integer 100..1000000>,"product":<one of "tokens", "openrouter-credit", only when the customer names one>} — the customer wants this many tokens: a price for it, or a new amount instead of the one quoted (tokens = AI tokens; openrouter-credit = OpenRouter credit)',
    );
  });
});

describe("a shop with one product", () => {
  test("has no product slot: the schema and the prompt are the ones without a catalog file", () => {
    expect(readModelReply('{"intent":"SET_AMOUNT","tokens":1000,"product":"tokens"}', allowed, ONE)).toMatchObject({ kind: "rejected", reason: "extra_fields" });
    for (const state of ["none", "initial", "quoted", "awaiting_payment", "delivered"]) {
      const context = understandContextIn(state);
      expect(systemPrompt(context, ONE)).toBe(systemPrompt(context, DEFAULT_CATALOG));
    }
  });
});
