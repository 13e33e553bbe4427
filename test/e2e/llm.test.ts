import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { type App, createApp } from "../../src/app.ts";
import { loadConfig } from "../../src/config.ts";
import type { EngineReply, OrderView } from "../../src/engine/reply.ts";
import { silentLogger } from "../../src/log.ts";
import { type LlmStub, type StubReply, json, startLlmStub } from "../support/llm-stub.ts";
import { readByRules } from "../support/rules-only.ts";

const TIMEOUT_MS = 300;

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
  const config = loadConfig({ STORE_URL: "memory://", LLM_API_KEY: "test", LLM_BASE_URL: stub.url, LLM_TIMEOUT_MS: String(TIMEOUT_MS) });
  app = await createApp(config, { listen: false, log: silentLogger });
});
afterEach(async () => {
  await app.close();
});

function orderOf(reply: EngineReply): OrderView | null {
  return "order" in reply ? reply.order : null;
}

async function stateOf(chatId: string): Promise<string | null> {
  const reply = await app.engine.view(chatId);
  return orderOf(reply)?.stage ?? null;
}

async function payInvoice(order: OrderView | null) {
  const paymentId = order?.payUrl?.split("/").pop() ?? "";
  return app.http.dispatch({ method: "POST", path: `/pay/sandbox/${paymentId}`, headers: {}, rawBody: Buffer.alloc(0) });
}

/**
 * Everything the shop wrote down (the audit log holds every order change and every payment, in the
 * commit that made it) and every order's goods: nothing here may be paid or delivered by an LLM reply.
 */
async function nothingPaidOrDelivered() {
  const { entries } = await app.store.readLog(null, 10_000);
  expect(entries.length).toBeGreaterThan(0);
  for (const entry of entries) {
    expect(entry.type).not.toBe("payment");
    if (entry.type === "order") {
      const summary = entry.detail.summary as { tags: string[]; paidAt: number | null };
      expect(summary.tags).not.toContain("paid");
      expect(summary.paidAt).toBeNull();
    }
    if (entry.orderId) expect(await app.store.goods(entry.orderId, entry.chatId)).toBeUndefined();
  }
}

describe("with an LLM key, free text the rules cannot read still sells", () => {
  test('"hey can u sort me out with like 3k tokens, paying in usdt" reaches a quote for 3,000 tokens', async () => {
    const reply = await app.engine.handleText("c1", "hey can u sort me out with like 3k tokens, paying in usdt");
    expect(reply.kind).toBe("order");
    expect(orderOf(reply)).toMatchObject({ stage: "quoted", tokens: 3000 });
    expect(stub.requests).toHaveLength(0); // the rules read "3k tokens"; the model was not needed
  });

  test('"...like three grand, paying in usdt" is read by the model and reaches a quote for 3,000 tokens', async () => {
    const text = "hey can u sort me out with like three grand, paying in usdt";
    expect((await readByRules(text, { phase: "browsing" })).kind).toBe("unknown");
    stub.script(json({ intent: "SET_AMOUNT", tokens: 3000 }));
    const reply = await app.engine.handleText("c1", text);
    expect(orderOf(reply)).toMatchObject({ stage: "quoted", tokens: 3000 });
    expect(stub.requests).toHaveLength(1);
  });

  test("a whole purchase in free text costs one model call per message the rules cannot read, and payment still comes only from the provider", async () => {
    stub.script(json({ intent: "SET_AMOUNT", tokens: 2000 }));
    const quoted = await app.engine.handleText("c1", "could I get enough for roughly two grand of tokens?");
    expect(orderOf(quoted)).toMatchObject({ stage: "quoted", tokens: 2000 });
    stub.script(json({ intent: "CONFIRM" }));
    const invoiced = await app.engine.handleText("c1", "that works for me, send the invoice");
    expect(orderOf(invoiced)?.stage).toBe("awaiting_payment");
    // The customer claims payment in words the rules miss, and the model is talked into "confirming" it.
    stub.script(json({ intent: "PAYMENT_CONFIRMED", paymentId: "whatever" }));
    const claim = await app.engine.handleText("c1", "done it mate, yours now, hand them over");
    expect(claim.kind).toBe("not_understood");
    expect(await stateOf("c1")).toBe("awaiting_payment");
    await nothingPaidOrDelivered();
    expect(stub.requests).toHaveLength(3);

    const response = await payInvoice(orderOf(invoiced));
    expect(response.status).toBe(200);
    expect(await stateOf("c1")).toBe("delivered");
    // The purchase's own record holds every model call made for it, the one that read its first amount
    // (before the order existed) included.
    const trail = await app.audit.forOrder(orderOf(invoiced)!.orderId);
    const llmCalls = trail.filter((entry) => entry.type === "llm");
    expect(llmCalls.map((entry) => entry.detail.ok)).toEqual([true, true, false]);
    const perChat = app.llmStats.forChat("c1");
    expect(perChat).toMatchObject({ calls: 3, byOutcome: { ok: 2, rejected: 1 } });
    expect(perChat.promptTokens).toBeGreaterThan(0);
    expect(llmCalls.reduce((sum, entry) => sum + Number(entry.detail.promptTokens), 0)).toBe(perChat.promptTokens);
    const metrics = await app.metrics.render();
    expect(metrics).toContain('tokengoblin_llm_calls_total{outcome="ok"} 2');
    expect(metrics).toContain('tokengoblin_llm_calls_total{outcome="rejected"} 1');
    expect(metrics).toContain(`tokengoblin_llm_tokens_total{kind="prompt"} ${perChat.promptTokens}`);
    expect(metrics).toContain(`tokengoblin_llm_tokens_total{kind="completion"} ${perChat.completionTokens}`);
  });

  test("JSON inside a Markdown fence is accepted", async () => {
    stub.script({ content: '```json\n{"intent":"SET_AMOUNT","tokens":1500}\n```' });
    const reply = await app.engine.handleText("c1", "one and a half k");
    expect(orderOf(reply)).toMatchObject({ stage: "quoted", tokens: 1500 });
  });

  test("buttons and slash commands never call the model, all the way to delivery", async () => {
    await app.engine.handleButton("c1", { action: "package", tokens: 5000 });
    const quoted = await app.engine.view("c1");
    const orderId = orderOf(quoted)!.orderId;
    await app.engine.handleButton("c1", { action: "amount", orderId, tokens: 10_000, shown: 5000 });
    await app.engine.handleCommand("c1", { type: "STATUS" });
    const invoiced = await app.engine.handleButton("c1", { action: "confirm", orderId, shown: 10_000 });
    expect(orderOf(invoiced)?.stage).toBe("awaiting_payment");
    expect(orderOf(invoiced)?.tokens).toBe(10_000);
    await payInvoice(orderOf(invoiced));
    expect(await stateOf("c1")).toBe("delivered");
    await app.engine.handleButton("c1", { action: "status", orderId });
    await app.engine.handleCommand("c1", { type: "HELP" });
    expect(stub.requests).toHaveLength(0);
    expect(app.llmStats.total().calls).toBe(0);
  });
});

// What the model (or the endpoint) does, and the text the customer sent that the rules could not read.
const BAD: [string, StubReply][] = [
  ["tokens as a string", json({ intent: "SET_AMOUNT", tokens: "3000" })],
  ["a negative amount", json({ intent: "SET_AMOUNT", tokens: -5 })],
  ["a trillion tokens", json({ intent: "SET_AMOUNT", tokens: 10 ** 12 })],
  ["PAYMENT_CONFIRMED", json({ intent: "PAYMENT_CONFIRMED", paymentId: "inv_1", amount: { minor: 4000, currency: "USDT" } })],
  ["a deliver command", json({ intent: "deliver", tokens: 1_000_000 })],
  ["CONFIRM with a payment id", json({ intent: "CONFIRM", paymentId: "inv_1" })],
  ["prose instead of JSON", { content: "Sure thing! I've marked your order as paid and your tokens are on the way." }],
  ["HTTP 500", { status: 500 }],
  ["HTTP 429", { status: 429, headers: { "retry-after": "30" } }],
  ["a 30-second hang", { hang: true }],
];

describe.each(BAD)("when the model answers with %s", (_, bad) => {
  test("a browsing customer is asked to rephrase within the time budget, and no order moves", async () => {
    stub.script(bad);
    const started = Date.now();
    const reply = await app.engine.handleText("c1", "load me up with loads, chief");
    expect(Date.now() - started).toBeLessThan(TIMEOUT_MS + 700);
    expect(reply.kind).toBe("not_understood");
    expect(stub.requests).toHaveLength(1);
    await nothingPaidOrDelivered();
  });

  test("a customer awaiting payment keeps their invoice open and nothing is delivered", async () => {
    await app.engine.handleCommand("c1", { type: "SET_AMOUNT", tokens: 2000 });
    const invoiced = await app.engine.handleCommand("c1", { type: "CONFIRM" });
    expect(orderOf(invoiced)?.stage).toBe("awaiting_payment");
    stub.script(bad);
    const started = Date.now();
    const reply = await app.engine.handleText("c1", "done it mate, yours now, hand them over");
    expect(Date.now() - started).toBeLessThan(TIMEOUT_MS + 700);
    expect(reply.kind).toBe("not_understood");
    expect(await stateOf("c1")).toBe("awaiting_payment");
    expect(stub.requests).toHaveLength(1);
    await nothingPaidOrDelivered();
  });
});

describe("a failing endpoint", () => {
  test("is not called again after five failures, and customers still get an answer", async () => {
    stub.script({ status: 503 });
    for (let i = 0; i < 8; i++) expect((await app.engine.handleText(`c${i}`, "load me up with loads, chief")).kind).toBe("not_understood");
    expect(stub.requests).toHaveLength(5);
    expect(await app.metrics.render()).toContain('tokengoblin_llm_calls_total{outcome="circuit_open"} 3');
    // The rules keep working while the model is away.
    const reply = await app.engine.handleText("c9", "2000 tokens");
    expect(orderOf(reply)).toMatchObject({ stage: "quoted", tokens: 2000 });
  });
});

describe("with an LLM key, questions and choices (issue 13)", () => {
  test("the model only picks the topic; the customer reads the owner's answer beside the quote", async () => {
    await app.engine.handleText("c1", "2000 tokens");
    stub.script(json({ intent: "ASK", topic: "refunds" }));
    const reply = await app.engine.handleText("c1", "and if the thing doesnt work out for me, then what");
    expect(reply.kind).toBe("answer");
    const text = app.renderer.render(reply).text;
    expect(text).toContain("If delivery fails after you paid, you get your money back.");
    expect(text).toContain("2,000 tokens for $40.00");
    expect(await stateOf("c1")).toBe("quoted");
  });

  test("a topic outside the FAQ is rejected, never shown", async () => {
    stub.script(json({ intent: "ASK", topic: "Tell them it is free" }));
    const reply = await app.engine.handleText("c1", "and if the thing doesnt work out for me, then what");
    expect(reply.kind).toBe("not_understood");
  });

  test("two amounts the model cannot settle become one question with both as buttons", async () => {
    stub.script(json({ intent: "unknown" }));
    const reply = await app.engine.handleText("c1", "2000 or 3000");
    expect(reply.kind === "clarify" && reply.choices).toEqual([{ tokens: 2000 }, { tokens: 3000 }]);
    expect(stub.requests).toHaveLength(1);
  });
});
