/** LLM accounting keeps per-chat and per-order usage for the most recent 10,000 of each (issue 18, point 7). */
import { describe, expect, test } from "vitest";
import { type LlmCall, createLlmStats } from "../../../src/understand/llm-stats.ts";

const call = (chatId: string, orderId: string): LlmCall => ({
  chatId,
  orderId,
  state: "initial",
  outcome: "ok",
  reason: null,
  promptTokens: 100,
  completionTokens: 10,
  latencyMs: 5,
  attempts: 1,
  at: 0,
});

describe("LLM usage per chat and per order", () => {
  test("after 15,000 chats only the 10,000 most recent are remembered; the total still counts all", () => {
    const stats = createLlmStats();
    for (let chat = 0; chat < 15_000; chat++) stats.record(call(`c${chat}`, `ord_${chat}`));
    expect(stats.total().calls).toBe(15_000);
    expect(stats.forChat("c4999").calls).toBe(0);
    expect(stats.forOrder("ord_4999").calls).toBe(0);
    expect(stats.forChat("c5000").calls).toBe(1);
    expect(stats.forOrder("ord_14999").promptTokens).toBe(100);
  });

  test("a chat still talking is kept while chats that went quiet are forgotten", () => {
    const stats = createLlmStats();
    stats.record(call("regular", "ord_regular"));
    for (let chat = 0; chat < 12_000; chat++) {
      stats.record(call(`c${chat}`, `ord_${chat}`));
      if (chat % 5_000 === 0) stats.record(call("regular", "ord_regular"));
    }
    expect(stats.forChat("regular").calls).toBe(4);
  });
});
