/**
 * Accounting for LLM use: every understanding attempt becomes one {@link LlmCall}, which feeds totals,
 * per-chat and per-order usage (for cost per purchase) and the Prometheus counters.
 */
import { type BoundedMap, createBoundedMap } from "../bounded.ts";
import type { Metrics } from "../metrics.ts";

/**
 * How one attempt ended: `ok` a command was read; `unknown` the model said it could not tell;
 * `rejected` the reply broke the contract; `timeout`/`error` no usable answer; `circuit_open` the
 * endpoint was not called because it has been failing.
 */
export type LlmOutcome = "ok" | "unknown" | "rejected" | "timeout" | "error" | "circuit_open";
export const LLM_OUTCOMES = ["ok", "unknown", "rejected", "timeout", "error", "circuit_open"] as const satisfies readonly LlmOutcome[];

/** One message's trip to the LLM. Carries no customer text. */
export type LlmCall = {
  chatId: string;
  orderId: string;
  /** The order's state path when the call was made. */
  state: string;
  outcome: LlmOutcome;
  /** A short code: the rejection reason, or the error kind (`http_429`, `network`, ...). */
  reason: string | null;
  promptTokens: number;
  completionTokens: number;
  latencyMs: number;
  /** HTTP requests made for this message: 0 when the breaker was open, 2 after a transport retry. */
  attempts: number;
  at: number;
};

/** Summed usage; `calls` counts messages that reached the endpoint (not breaker skips). */
export type LlmUsage = {
  calls: number;
  promptTokens: number;
  completionTokens: number;
  latencyMs: number;
  byOutcome: Record<LlmOutcome, number>;
};

export type LlmStats = {
  record(call: LlmCall): void;
  total(): LlmUsage;
  /** Usage of one chat, or zeros; the most recent 10,000 chats are kept. */
  forChat(chatId: string): LlmUsage;
  /** Usage of one order (one purchase attempt), or zeros; the most recent 10,000 orders are kept. */
  forOrder(orderId: string): LlmUsage;
};

const MAX_KEYS = 10_000;

function emptyUsage(): LlmUsage {
  const byOutcome = Object.fromEntries(LLM_OUTCOMES.map((o) => [o, 0])) as Record<LlmOutcome, number>;
  return { calls: 0, promptTokens: 0, completionTokens: 0, latencyMs: 0, byOutcome };
}

function add(usage: LlmUsage, call: LlmCall): void {
  if (call.attempts > 0) usage.calls += 1;
  usage.promptTokens += call.promptTokens;
  usage.completionTokens += call.completionTokens;
  usage.latencyMs += call.latencyMs;
  usage.byOutcome[call.outcome] += 1;
}

function copy(usage: LlmUsage | undefined): LlmUsage {
  const source = usage ?? emptyUsage();
  return { ...source, byOutcome: { ...source.byOutcome } };
}

/** In-memory LLM accounting for this process. */
export function createLlmStats(): LlmStats {
  const total = emptyUsage();
  const chats = createBoundedMap<string, LlmUsage>({ maxEntries: MAX_KEYS });
  const orders = createBoundedMap<string, LlmUsage>({ maxEntries: MAX_KEYS });
  const bump = (map: BoundedMap<string, LlmUsage>, key: string, call: LlmCall) => {
    const usage = map.get(key) ?? emptyUsage();
    map.set(key, usage);
    add(usage, call);
  };
  return {
    record(call) {
      add(total, call);
      bump(chats, call.chatId, call);
      bump(orders, call.orderId, call);
    },
    total: () => copy(total),
    forChat: (chatId) => copy(chats.get(chatId)),
    forOrder: (orderId) => copy(orders.get(orderId)),
  };
}

/** Declares the LLM metrics so /metrics explains them. */
export function describeLlmMetrics(metrics: Metrics): void {
  metrics.describe("tokengoblin_llm_calls_total", "counter", "Messages sent to the LLM by outcome (circuit_open: not sent).");
  metrics.describe("tokengoblin_llm_tokens_total", "counter", "LLM tokens used, by kind (prompt or completion).");
  metrics.describe("tokengoblin_llm_latency_ms_total", "counter", "Milliseconds spent waiting for the LLM.");
}

/** Adds one call to the Prometheus counters. */
export function countLlmCall(metrics: Metrics, call: LlmCall): void {
  metrics.inc("tokengoblin_llm_calls_total", { outcome: call.outcome });
  if (call.promptTokens > 0) metrics.inc("tokengoblin_llm_tokens_total", { kind: "prompt" }, call.promptTokens);
  if (call.completionTokens > 0) metrics.inc("tokengoblin_llm_tokens_total", { kind: "completion" }, call.completionTokens);
  if (call.attempts > 0) metrics.inc("tokengoblin_llm_latency_ms_total", {}, call.latencyMs);
}
