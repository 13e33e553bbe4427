/**
 * The commands a customer can give, whatever the channel. The schema is declared once, beside the
 * machine (`machines/purchase.commands.ts`): the machine's customer events, the rules, the LLM's reply
 * schema and the engine all use it. This module adds how a command reached the engine and what
 * understanding is told and answers.
 */
import { z } from "zod";
import { CUSTOMER_COMMAND_TYPES, CustomerCommand, type CustomerCommandType, TokenAmount } from "../../machines/purchase.commands.ts";

export { TokenAmount };
/** Everything a customer can ask for (see `machines/purchase.commands.ts`). */
export const Command = CustomerCommand;
export type Command = CustomerCommand;
export type CommandType = CustomerCommandType;
/**
 * The command types offered to people and to the LLM, in that order. `THANKS` is read by the rules
 * alone: a thank-you needs no model call, and leaving it out keeps the model's prompt short.
 */
export const COMMAND_TYPES: readonly CommandType[] = CUSTOMER_COMMAND_TYPES.filter((type) => type !== "THANKS");

/** Commands answered beside the order without moving it: the machine never hears of them. */
export const CONVERSATION_COMMANDS = ["HELP", "ASK", "ORDERS", "THANKS"] as const satisfies readonly CommandType[];
export type ConversationCommand = Extract<Command, { type: (typeof CONVERSATION_COMMANDS)[number] }>;

/** True for a command answered without the purchase machine. */
export function isConversationCommand(command: Command): command is ConversationCommand {
  return (CONVERSATION_COMMANDS as readonly string[]).includes(command.type);
}

/** How a command reached the engine; recorded for analytics (AI vs buttons funnel). */
export const CommandSource = z.enum(["rules", "llm", "button", "command"]);
export type CommandSource = z.infer<typeof CommandSource>;

/**
 * Where a conversation stands, as understanding needs it: `browsing` (no amount under way), `quoted`
 * (a price on the table: "yes" confirms it, a number changes it), `awaiting_payment` (an invoice is
 * open), `other` (work under way). Derived from the machine (`snapshot.can`, tags), never a state name.
 */
export const ConversationPhase = z.enum(["browsing", "quoted", "awaiting_payment", "other"]);
export type ConversationPhase = z.infer<typeof ConversationPhase>;

/**
 * What understanding is told about the conversation: where it stands, which commands the machine
 * accepts right now (derived from the machine, never a second list), and a little history.
 */
export type UnderstandContext = {
  phase: ConversationPhase;
  /** The current order's state path, for the LLM's context only. */
  state: string;
  order: { orderId: string; tokens: number | null };
  /** The commands the purchase machine accepts now (from `snapshot.can`). */
  allowed: readonly CommandType[];
  turns: readonly string[];
  chatId: string;
  /** The bot's last message asked "how many tokens?": a bare number then answers it. */
  askedHowMany?: boolean;
  /**
   * Called right before the model is asked (the answer may take a while: a channel may show that it is
   * coming); the function it returns is called once the model answered or failed.
   */
  onModelAsked?: () => () => void;
  /** Called for every LLM call made for this message, so it is audited with the step. */
  onLlmCall?: (call: { model: string; promptTokens: number; completionTokens: number; ok: boolean; at: number }) => void;
};

/**
 * What the customer said beyond the command itself: the budget an amount was worked out from (the
 * reply says what it buys), a greeting (answered with a welcome), or that they want to buy without
 * saying how much (answered "how many?").
 */
export type UnderstoodNote = { kind: "budget"; usdCents: number } | { kind: "greeting" } | { kind: "ask_amount" };

/** One way to read an ambiguous amount, as the tokens it means (and the budget it came from, if any). */
export type AmountChoice = { tokens: number; usdCents?: number };

/**
 * A command read from text, and who read it; or two or more amounts the text could mean, for the
 * customer to pick from (`choices`). `null`: nothing usable.
 */
export type Understood =
  | { command: Command; source: Extract<CommandSource, "rules" | "llm">; note?: UnderstoodNote }
  | { choices: readonly AmountChoice[]; source: "rules" }
  | null;

/** From a customer's text to a command; the engine injects rules and, when configured, the LLM. */
export type Understander = (text: string, context: UnderstandContext) => Promise<Understood>;
