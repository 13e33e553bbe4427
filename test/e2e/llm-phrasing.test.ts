/**
 * Issue 21 with the stand-in LLM (test/support/llm-stub.ts) and a catalog of two products: the model's
 * reply is held to the catalog and to the message, and a reply that is malformed or names a product
 * the shop does not sell is dropped; the rules' own reading then answers (the amounts they found
 * become one question), and nothing moves.
 */
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { type App, createApp } from "../../src/app.ts";
import { loadConfig } from "../../src/config.ts";
import { silentLogger } from "../../src/log.ts";
import { type LlmStub, json, startLlmStub } from "../support/llm-stub.ts";

const CATALOG_FILE = join(import.meta.dirname, "..", "..", "catalog.example.yaml");

let stub: LlmStub;
let app: App;

beforeAll(async () => {
  stub = await startLlmStub();
});
afterAll(async () => {
  await stub.close();
});
beforeEach(async () => {
  stub.requests.length = 0;
  stub.script(json({ intent: "unknown" }));
  const config = loadConfig({ STORE_URL: "memory://", LLM_API_KEY: "test", LLM_BASE_URL: stub.url, LLM_TIMEOUT_MS: "500", CATALOG_FILE });
  app = await createApp(config, { listen: false, log: silentLogger });
});
afterEach(async () => {
  await app.close();
});

/** Every order the chat has, as stored: none may have been priced, invoiced or paid by a dropped reply. */
async function ordersOf(chatId: string) {
  const { entries } = await app.store.readLog(null, 10_000);
  return entries.filter((e) => e.chatId === chatId && e.type === "order");
}

describe("a model reply the shop cannot use falls back to the rules", () => {
  test("a product the shop does not sell: the two amounts the rules read become one question", async () => {
    stub.script(json({ intent: "SET_AMOUNT", tokens: 2000, product: "free-credit" }));
    const reply = await app.engine.handleText("c1", "2k or 3k of openrouter");
    expect(reply.kind === "clarify" && reply.choices).toEqual([{ tokens: 2000 }, { tokens: 3000 }]);
    expect(stub.requests).toHaveLength(1);
    expect(app.llmStats.forChat("c1").byOutcome.rejected).toBe(1);
    expect(await ordersOf("c1")).toEqual([]);
    // The model was told which products exist, by id and by the words customers use.
    expect(stub.requests[0]!.body.messages[0]!.content).toContain('"openrouter-credit": "OpenRouter credit"');
  });

  test("a malformed reply: the same question, from the rules alone", async () => {
    stub.script({ content: "Sure! 2000 tokens of OpenRouter credit coming up" });
    const reply = await app.engine.handleText("c1", "$10 or $20 of openrouter");
    // Budgets priced for the product named: $1.25 per 100 units.
    expect(reply.kind === "clarify" && reply.choices).toEqual([
      { tokens: 800, usdCents: 1000 },
      { tokens: 1600, usdCents: 2000 },
    ]);
    expect(app.llmStats.forChat("c1").byOutcome.rejected).toBe(1);
  });

  test("a made-up promo code is dropped: the customer is asked to rephrase, and nothing moves", async () => {
    stub.script(json({ intent: "APPLY_PROMO", code: "FREE100" }));
    const reply = await app.engine.handleText("c1", "my buddy gave me something off a flyer, can you check it");
    expect(reply.kind).toBe("not_understood");
    expect(app.llmStats.forChat("c1").byOutcome.rejected).toBe(1);
    expect(await ordersOf("c1")).toEqual([]);
  });

  test("a product choice the model read from free text is taken when it is one of the shop's", async () => {
    stub.script(json({ intent: "SET_PRODUCT", product: "openrouter-credit" }));
    await app.engine.handleText("c1", "the one that works for my coding agent");
    const { entries } = await app.store.readLog(null, 10_000);
    expect(entries.filter((e) => e.type === "command").at(-1)?.detail).toMatchObject({ command: "SET_PRODUCT", source: "llm" });
  });
});

describe("product names the rules read never call the model", () => {
  test.each(["1000 gpt tokens", "claude", "токены для claude", "25 dollars of claude credit", "promo SPRING10", "I lost my key"])(
    "%s",
    async (text) => {
      await app.engine.handleText("c1", text);
      expect(stub.requests).toHaveLength(0);
    },
  );
});
