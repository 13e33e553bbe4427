/**
 * Understanding: from a customer's text to a {@link Command}. Rules first (free, instant, offline);
 * a model-backed understander, when configured, is asked only when the rules have nothing.
 */
import { type Catalog, DEFAULT_CATALOG } from "../domain/catalog.ts";
import type { Understander, Understood, UnderstoodNote } from "../domain/commands.ts";
import { choicesFor } from "./budget.ts";
import type { LlmOptions } from "./llm.ts";
import { productCommand } from "./product-command.ts";
import { readMessage } from "./read.ts";
import type { Reading } from "./reading.ts";
import { commandFor } from "./rules.ts";

export { parseTokenAmount, commandFor } from "./rules.ts";
export type { RulesContext, RulesResult } from "./rules.ts";
export { readMessage } from "./read.ts";
export { AmountOption, FaqTopic, LanguageCode, Reading, UsdCents } from "./reading.ts";
export type { ReadingContext, ReadingKind } from "./reading.ts";
export { choicesFor, tokensForBudget } from "./budget.ts";
export { pickedChoice } from "./choices.ts";
export { productCommand, severalProducts } from "./product-command.ts";
export { promoArgument, promoDeepLink, promoInText } from "./promo.ts";
export { readProduct } from "./products.ts";
export type { ProductReading } from "./products.ts";

/** What the rules add to a command: the budget it was priced from, a greeting, or "how many?" to ask. */
function noteFor(reading: Reading): UnderstoodNote | undefined {
  if (reading.kind === "budget") return { kind: "budget", usdCents: reading.usdCents };
  if (reading.kind === "greeting") return { kind: "greeting" };
  if (reading.kind === "wants_to_buy") return { kind: "ask_amount" };
  return undefined;
}

/**
 * Rules, then `fallback` (the LLM) only when the rules found nothing. In a shop with several products a
 * product's name completes the reading first ("1000 gpt tokens", "claude": see `product-command.ts`).
 * Two possible amounts (`clarify`) that the model did not settle, or with no model, come back as
 * `choices` for the customer (the engine asks it again when a yes answers it). `catalog` prices
 * budgets ("$25 worth"); the seed catalog when absent.
 */
export function createUnderstander(fallback?: Understander, options: { catalog?: Catalog } = {}): Understander {
  const catalog = options.catalog ?? DEFAULT_CATALOG;
  return async (text, context): Promise<Understood> => {
    const phase = context.phase;
    const reading = readMessage(text, { phase, askedHowMany: context.askedHowMany ?? false });
    const named = productCommand(text, reading, catalog, context.allowed);
    if (named !== null && "command" in named) return named;
    const ruled = commandFor(reading, { phase, catalog, allowed: context.allowed });
    if (ruled.kind === "command") {
      const note = noteFor(reading);
      const understood: Understood = note ? { command: ruled.command, source: "rules", note } : { command: ruled.command, source: "rules" };
      return understood;
    }
    let read: Understood = null;
    if (fallback) {
      const answered = context.onModelAsked?.();
      try {
        read = await fallback(text, context);
      } finally {
        answered?.();
      }
    }
    if (read) return read;
    // Without a model (or when it could not tell either), two possible amounts become one question.
    if (named !== null) return named;
    const choices = reading.kind === "clarify" ? choicesFor(reading.candidates, catalog) : null;
    return choices ? { choices, source: "rules" } : null;
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
