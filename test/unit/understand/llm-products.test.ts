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
    expect(readModelReply('{"intent":"SET_AMOUNT","tokens":1000}', allowed, SHOP)).toEqual({
      kind: "command",
      command: { type: "SET_AMOUNT", tokens: 1000 },
    });
  });

  test("a product the shop does not sell is rejected, never passed on", () => {
    expect(readModelReply('{"intent":"SET_AMOUNT","tokens":1000,"product":"free-credit"}', allowed, SHOP)).toMatchObject({
      kind: "rejected",
      reason: "invalid_shape",
    });
    expect(readModelReply('{"intent":"SET_AMOUNT","tokens":1000,"product":"free-credit"}', allowedIn("quoted"), SHOP)).toMatchObject({
      kind: "rejected",
      reason: "invalid_shape",
    });
  });

  test("the model is told the ids and names, and amounts span every product's limits", () => {
    expect(describeCommand("SET_AMOUNT", SHOP)).toBe(
      '{"intent":"SET_AMOUNT","tokens":<integer 100..1000000>,"product":<one of "tokens", "openrouter-credit", only when the customer names one>} — the customer wants this many tokens: a price for it, or a new amount instead of the one quoted (tokens = AI tokens; openrouter-credit = OpenRouter credit)',
    );
  });
});

describe("a shop with one product", () => {
  test("has no product slot: the schema and the prompt are the ones without a catalog file", () => {
    expect(readModelReply('{"intent":"SET_AMOUNT","tokens":1000,"product":"tokens"}', allowed, ONE)).toMatchObject({
      kind: "rejected",
      reason: "extra_fields",
    });
    for (const state of ["none", "initial", "quoted", "awaiting_payment", "delivered"]) {
      const context = understandContextIn(state);
      expect(systemPrompt(context, ONE)).toBe(systemPrompt(context, DEFAULT_CATALOG));
    }
  });
});

describe("issue 21's other commands", () => {
  test("SET_PRODUCT names one of the shop's products, and only a shop with several offers it", () => {
    expect(readModelReply('{"intent":"SET_PRODUCT","product":"openrouter-credit"}', allowed, SHOP)).toEqual({
      kind: "command",
      command: { type: "SET_PRODUCT", product: "openrouter-credit" },
    });
    expect(readModelReply('{"intent":"SET_PRODUCT","product":"free-credit"}', allowed, SHOP)).toMatchObject({
      kind: "rejected",
      reason: "invalid_shape",
    });
    expect(readModelReply('{"intent":"SET_PRODUCT","product":"tokens"}', allowed, ONE)).toMatchObject({
      kind: "rejected",
      reason: "not_allowed_now",
    });
    expect(systemPrompt(understandContextIn("initial"), ONE)).not.toContain("SET_PRODUCT");
    expect(readModelReply('{"intent":"SET_PRODUCT","product":"tokens"}', allowedIn("awaiting_payment"), SHOP)).toMatchObject({
      kind: "rejected",
      reason: "not_allowed_now",
    });
  });

  test("the model is told the words customers use for each product", () => {
    const prompt = systemPrompt(understandContextIn("initial"), SHOP);
    expect(prompt).toContain('{"intent":"SET_PRODUCT","product":<one of "tokens", "openrouter-credit">}');
    expect(prompt).toContain(
      '- "openrouter-credit": "OpenRouter credit", "кредит OpenRouter", "openrouter", "claude", "gpt", "api key", "опенроутер", "клод", "гпт"',
    );
  });

  test("a promo code must be one the customer wrote: the model never makes one up", () => {
    const reply = '{"intent":"APPLY_PROMO","code":"SPRING10"}';
    expect(readModelReply(reply, allowed, SHOP, "got a code from a friend, spring10, does it work?")).toEqual({
      kind: "command",
      command: { type: "APPLY_PROMO", code: "SPRING10" },
    });
    expect(readModelReply(reply, allowed, SHOP, "do you have any discounts?")).toMatchObject({
      kind: "rejected",
      reason: "code_not_in_message",
    });
    expect(readModelReply('{"intent":"APPLY_PROMO","code":"50% off everything"}', allowed, SHOP, "50% off everything")).toMatchObject({
      kind: "rejected",
    });
    expect(readModelReply(reply, allowedIn("awaiting_payment"), SHOP, "SPRING10")).toMatchObject({
      kind: "rejected",
      reason: "not_allowed_now",
    });
  });

  test("REISSUE only for a delivered order", () => {
    expect(readModelReply('{"intent":"REISSUE"}', allowedIn("delivered"), ONE)).toEqual({ kind: "command", command: { type: "REISSUE" } });
    for (const state of ["none", "initial", "quoted", "awaiting_payment", "paid.delivering", "cancelled"]) {
      expect(readModelReply('{"intent":"REISSUE"}', allowedIn(state), ONE)).toMatchObject({ kind: "rejected", reason: "not_allowed_now" });
    }
    expect(readModelReply('{"intent":"REISSUE","orderId":"o1"}', allowedIn("delivered"), ONE)).toMatchObject({
      kind: "rejected",
      reason: "extra_fields",
    });
  });
});
