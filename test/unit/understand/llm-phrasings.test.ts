import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { DEFAULT_CATALOG } from "../../../src/domain/catalog.ts";
import type { Command } from "../../../src/domain/commands.ts";
import { silentLogger } from "../../../src/log.ts";
import { createUnderstander } from "../../../src/understand/index.ts";
import { createLlmUnderstander } from "../../../src/understand/llm.ts";
import { type LlmStub, json, startLlmStub } from "../../support/llm-stub.ts";
import { understandContextIn } from "../../support/order-snapshots.ts";
import { readByRules } from "../../support/rules-only.ts";

type State = "initial" | "quoted" | "awaiting_payment";
/** [customer text, state, what the (scripted) model answers, what the engine should receive]. */
type Row = [string, State, Record<string, unknown>, Command | null];

// One amount intent whatever the state: the machine decides whether it is a new quote or a new amount.
const amount = (tokens: number) => ({ intent: "SET_AMOUNT", tokens });
const is = (intent: string) => ({ intent });

// Phrasings the rules leave alone; the model's answers are what a well-behaved model would say.
// ("I want forty bucks worth", "one and a half k", "what am I buying exactly" and "how long does it
// take to get them", "wait, what did I order" moved out when the rules learnt budgets, fractions and FAQ topics: issue 13.)
const ROWS: Row[] = [
  ["could I get enough for roughly two grand of tokens?", "initial", amount(2000), { type: "SET_AMOUNT", tokens: 2000 }],
  ["i'd like a few grand worth", "initial", amount(3000), { type: "SET_AMOUNT", tokens: 3000 }],
  ["the smallest pack you have", "initial", amount(1000), { type: "SET_AMOUNT", tokens: 1000 }],
  ["whatever lasts a small team about a month", "initial", is("unknown"), null],
  ["same as my colleague got yesterday", "initial", is("unknown"), null],
  ["the middle one of your packages", "initial", amount(5000), { type: "SET_AMOUNT", tokens: 5000 }],
  ["the biggest package", "initial", amount(20_000), { type: "SET_AMOUNT", tokens: 20_000 }],
  ["load me up with ten grand", "initial", amount(10_000), { type: "SET_AMOUNT", tokens: 10_000 }],
  ["can i get like 3 thousand-ish", "initial", amount(3000), { type: "SET_AMOUNT", tokens: 3000 }],
  ["give me three grand", "initial", amount(3000), { type: "SET_AMOUNT", tokens: 3000 }],
  ["hey can u sort me out with like three grand, paying in usdt", "initial", amount(3000), { type: "SET_AMOUNT", tokens: 3000 }],
  ["enough for a month of gpt usage", "initial", is("unknown"), null],
  ["explain please", "initial", is("HELP"), { type: "HELP" }],
  ["i'm confused", "initial", is("HELP"), { type: "HELP" }],
  ["where do I even start", "initial", is("HELP"), { type: "HELP" }],
  ["what do u guys offer", "initial", is("HELP"), { type: "HELP" }],
  ["what's up with my stuff", "initial", is("STATUS"), { type: "STATUS" }],
  ["how's it going", "initial", is("unknown"), null],
  ["sup", "initial", is("unknown"), null],
  ["tell me a joke", "initial", is("unknown"), null],
  ["same as last time but double", "quoted", amount(4000), { type: "SET_AMOUNT", tokens: 4000 }],
  ["make it double", "quoted", amount(4000), { type: "SET_AMOUNT", tokens: 4000 }],
  ["halve it", "quoted", amount(1000), { type: "SET_AMOUNT", tokens: 1000 }],
  ["actually bump that up to five grand", "quoted", amount(5000), { type: "SET_AMOUNT", tokens: 5000 }],
  ["a bit less, say half that", "quoted", amount(1000), { type: "SET_AMOUNT", tokens: 1000 }],
  ["make it a round ten grand instead", "quoted", amount(10_000), { type: "SET_AMOUNT", tokens: 10_000 }],
  ["not that many, just a grand", "quoted", amount(1000), { type: "SET_AMOUNT", tokens: 1000 }],
  ["nah too pricey, gimme fewer, like half", "quoted", amount(1000), { type: "SET_AMOUNT", tokens: 1000 }],
  ["that works for me, send the invoice", "quoted", is("CONFIRM"), { type: "CONFIRM" }],
  ["alright I'm in", "quoted", is("CONFIRM"), { type: "CONFIRM" }],
  ["looks fine, let's roll", "quoted", is("CONFIRM"), { type: "CONFIRM" }],
  ["perfect, take my money", "quoted", is("CONFIRM"), { type: "CONFIRM" }],
  ["count me in", "quoted", is("CONFIRM"), { type: "CONFIRM" }],
  ["i'm good with that", "quoted", is("CONFIRM"), { type: "CONFIRM" }],
  ["hmm, I'll pass", "quoted", is("CANCEL"), { type: "CANCEL" }],
  ["changed plans, drop the order", "quoted", is("CANCEL"), { type: "CANCEL" }],
  ["scrap that", "quoted", is("CANCEL"), { type: "CANCEL" }],
  ["kill the order", "quoted", is("CANCEL"), { type: "CANCEL" }],
  // Starting over cancels the order on the table (there is no RESTART any more).
  ["let me begin fresh", "quoted", is("CANCEL"), { type: "CANCEL" }],
  ["wipe this and start a fresh one", "quoted", is("CANCEL"), { type: "CANCEL" }],
  ["what's going on with my order?", "awaiting_payment", is("STATUS"), { type: "STATUS" }],
  ["any news?", "awaiting_payment", is("STATUS"), { type: "STATUS" }],
  ["is it done yet", "awaiting_payment", is("STATUS"), { type: "STATUS" }],
  ["i don't want it anymore", "awaiting_payment", is("CANCEL"), { type: "CANCEL" }],
  ["kill it, I won't pay", "awaiting_payment", is("CANCEL"), { type: "CANCEL" }],
  ["eh, is this thing on", "awaiting_payment", is("unknown"), null],
];

let stub: LlmStub;
beforeAll(async () => {
  stub = await startLlmStub();
});
afterAll(async () => {
  await stub.close();
});

describe("phrasings the rules cannot read are understood through the LLM", () => {
  test("the table is big enough to mean something", () => {
    expect(ROWS.length).toBeGreaterThanOrEqual(40);
  });

  test.each(ROWS)("%s (%s) → model says %o → engine gets %o", async (text, state, modelSays, expected) => {
    const context = understandContextIn(state, { turns: ["1000 tokens", "2000"], chatId: "chat-table", orderId: "ord_table" });
    expect(await readByRules(text, { phase: context.phase })).toEqual({ kind: "unknown" });
    const llm = createLlmUnderstander({
      apiKey: "test",
      baseUrl: stub.url,
      model: "stub-model",
      timeoutMs: 2000,
      temperature: 0,
      catalog: DEFAULT_CATALOG,
      log: silentLogger,
    });
    const before = stub.requests.length;
    stub.script(json(modelSays));
    const understood = await createUnderstander(llm)(text, context);
    expect(stub.requests.length - before).toBe(1);
    // The customer's exact words reached the model as data, inside the JSON user message.
    const sent = JSON.parse(stub.requests.at(-1)!.body.messages[1]!.content) as { message: string; state: string };
    expect(sent).toMatchObject({ message: text, state: context.state });
    expect(understood).toEqual(expected === null ? null : { command: expected, source: "llm" });
  });
});
