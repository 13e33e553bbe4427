/**
 * Understanding: from a customer's text to a {@link Command}. Rules first (free, instant, offline);
 * a model-backed understander, when configured, is asked only when the rules have nothing.
 */
import type { Catalog } from "../domain/catalog.ts";
import type { Understander, UnderstandContext, Understood } from "../domain/commands.ts";
import type { LlmOptions } from "./llm.ts";
import { type RulesContext, understandByRules } from "./rules.ts";

export { understandByRules, parseTokenAmount, commandFor } from "./rules.ts";
export type { RulesContext, RulesResult } from "./rules.ts";
export { readMessage } from "./read.ts";
export { AmountOption, FaqTopic, LanguageCode, Reading, UsdCents } from "./reading.ts";
export type { ReadingContext, ReadingKind } from "./reading.ts";
export { tokensForBudget } from "./budget.ts";

/** The rules' view of where a conversation is. */
export function rulesPhase(state: UnderstandContext["state"]): RulesContext["phase"] {
  switch (state) {
    case "initial":
      return "browsing";
    case "quoted":
      return "quoted";
    case "awaiting_payment":
      return "awaiting_payment";
    default:
      return "other";
  }
}

/**
 * Rules, then `fallback` (the LLM) only when the rules found nothing. `catalog` prices budgets
 * ("$25 worth"); the seed catalog when absent.
 */
export function createUnderstander(fallback?: Understander, options: { catalog?: Catalog } = {}): Understander {
  return async (text, context): Promise<Understood> => {
    const ruled = understandByRules(text, { phase: rulesPhase(context.state), ...options });
    if (ruled.kind === "command") return { command: ruled.command, source: "rules" };
    return fallback ? fallback(text, context) : null;
  };
}

/**
 * The model-backed understander of `./llm.ts`, loaded (with the openai SDK) only when called, so a
 * rules-only configuration never loads them.
 */
export async function loadLlmUnderstander(options: LlmOptions): Promise<Understander> {
  const { createLlmUnderstander } = await import("./llm.ts");
  return createLlmUnderstander(options);
}
