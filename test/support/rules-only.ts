/**
 * What the shop's own understander makes of a message without a model: the rules alone. A command, or
 * `unknown` when the rules leave it to a model (two possible amounts included: without a model the
 * customer is asked which one).
 */
import type { Catalog } from "../../src/domain/catalog.ts";
import type { Command, CommandType, ConversationPhase } from "../../src/domain/commands.ts";
import { createUnderstander } from "../../src/understand/index.ts";

export type RulesOnlyContext = {
  phase: ConversationPhase;
  /** The commands the order takes now; every command when absent. */
  allowed?: readonly CommandType[];
  /** The bot just asked "how many tokens?". */
  askedHowMany?: boolean;
  /** Prices budgets ("$25 worth"); the seed catalog when absent. */
  catalog?: Catalog;
};

export type RulesOnlyResult = { kind: "command"; command: Command } | { kind: "unknown" };

export async function readByRules(text: string, context: RulesOnlyContext): Promise<RulesOnlyResult> {
  const understand = createUnderstander(undefined, context.catalog ? { catalog: context.catalog } : {});
  const understood = await understand(text, {
    phase: context.phase,
    allowed: context.allowed as readonly CommandType[],
    ...(context.askedHowMany ? { askedHowMany: true } : {}),
    state: "",
    order: { orderId: "", tokens: null },
    turns: [],
    chatId: "rules-only",
  });
  return understood && "command" in understood ? { kind: "command", command: understood.command } : { kind: "unknown" };
}
