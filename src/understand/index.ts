/**
 * Understanding: from a customer's text to a {@link Command}. Rules first (free, instant, offline);
 * a model-backed understander, when configured, is asked only when the rules have nothing.
 */
import { type Catalog, DEFAULT_CATALOG } from "../domain/catalog.ts";
import { type AmountChoice, TokenAmount, type Understander, type UnderstandContext, type Understood, type UnderstoodNote } from "../domain/commands.ts";
import { tokensForBudget } from "./budget.ts";
import type { LlmOptions } from "./llm.ts";
import { readMessage } from "./read.ts";
import type { AmountOption, Reading } from "./reading.ts";
import { type RulesContext, commandFor } from "./rules.ts";

export { understandByRules, parseTokenAmount, commandFor } from "./rules.ts";
export type { RulesContext, RulesResult } from "./rules.ts";
export { readMessage } from "./read.ts";
export { AmountOption, FaqTopic, LanguageCode, Reading, UsdCents } from "./reading.ts";
export type { ReadingContext, ReadingKind } from "./reading.ts";
export { tokensForBudget } from "./budget.ts";
export { readProduct } from "./products.ts";
export type { ProductReading } from "./products.ts";

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

/** The distinct token amounts of a `clarify` reading, budgets priced; null when fewer than two remain. */
function choicesFor(options: readonly AmountOption[], catalog: Catalog): AmountChoice[] | null {
  const choices: AmountChoice[] = [];
  for (const option of options) {
    const choice = option.kind === "amount" ? { tokens: option.tokens } : { tokens: tokensForBudget(catalog, option.usdCents), usdCents: option.usdCents };
    if (TokenAmount.safeParse(choice.tokens).success && !choices.some((c) => c.tokens === choice.tokens)) choices.push(choice);
  }
  return choices.length >= 2 ? choices : null;
}

/** What the rules add to a command: the budget it was priced from, a greeting, or "how many?" to ask. */
function noteFor(reading: Reading): UnderstoodNote | undefined {
  if (reading.kind === "budget") return { kind: "budget", usdCents: reading.usdCents };
  if (reading.kind === "greeting") return { kind: "greeting" };
  if (reading.kind === "wants_to_buy") return { kind: "ask_amount" };
  return undefined;
}

/**
 * The choice of amounts the bot's last reply offered, if it was one: the customer's last message (the
 * one that reply answered) read again. Null when it was not a choice, or the turns were forgotten.
 */
function choicesOffered(context: UnderstandContext, phase: RulesContext["phase"], catalog: Catalog): AmountChoice[] | null {
  const last = context.turns.at(-1);
  if (!context.askedHowMany || last === undefined) return null;
  for (const askedHowMany of [false, true]) {
    const reading = readMessage(last, { phase, askedHowMany });
    if (reading.kind === "clarify") return choicesFor(reading.candidates, catalog);
  }
  return null;
}

/**
 * A confirmation right after "which amount?" (issue 21): a yes picks none of the amounts offered, so
 * the same choice is offered again. After "how many?" with a quote open (only a choice of amounts asks
 * that there), a yes is never taken as accepting the old quote, even when the choice was forgotten.
 */
function confirmWhileChoosing(understood: Understood, context: UnderstandContext, phase: RulesContext["phase"], catalog: Catalog): Understood {
  if (!understood || !("command" in understood) || understood.command.type !== "CONFIRM" || !context.askedHowMany) return understood;
  const choices = choicesOffered(context, phase, catalog);
  if (choices) return { choices, source: "rules" };
  return phase === "quoted" ? null : understood;
}

/**
 * Rules, then `fallback` (the LLM) only when the rules found nothing. Two possible amounts
 * (`clarify`) that the model did not settle, or with no model, come back as `choices` for the
 * customer; a yes to such a choice asks it again. `catalog` prices budgets ("$25 worth"); the seed
 * catalog when absent.
 */
export function createUnderstander(fallback?: Understander, options: { catalog?: Catalog } = {}): Understander {
  const catalog = options.catalog ?? DEFAULT_CATALOG;
  return async (text, context): Promise<Understood> => {
    const phase = rulesPhase(context.state);
    const reading = readMessage(text, { phase, askedHowMany: context.askedHowMany ?? false });
    const ruled = commandFor(reading, { phase, catalog });
    if (ruled.kind === "command") {
      const note = noteFor(reading);
      const understood: Understood = note ? { command: ruled.command, source: "rules", note } : { command: ruled.command, source: "rules" };
      return confirmWhileChoosing(understood, context, phase, catalog);
    }
    const read = fallback ? await fallback(text, context) : null;
    if (read) return confirmWhileChoosing(read, context, phase, catalog);
    // Without a model (or when it could not tell either), two possible amounts become one question.
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
