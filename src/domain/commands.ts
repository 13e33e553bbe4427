import { z } from "zod";
import { FaqTopic } from "./faq.ts";
import { ProductId } from "./products.ts";
import type { OrderState } from "./records.ts";

/**
 * A token amount the customer asked for: a positive safe integer. Whether it is within the catalog's
 * limits is decided by the machine's `amountWithinLimits` guard, so the customer can be told the limits.
 */
export const TokenAmount = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);

/**
 * Everything a customer can ask for, whatever the channel (typed text, a button, a slash command, or the
 * LLM's reading of free text). This is the whole vocabulary of user input: there is deliberately no
 * command for "payment confirmed" or "deliver", so nothing a user or the LLM types can produce one.
 */
export const Command = z.discriminatedUnion("type", [
  /**
   * `product`: the product the customer named, when the shop sells several (issue 21). Read by the LLM
   * schema today; the purchase machine does not use it yet and sells the default product.
   */
  z.object({ type: z.literal("QUOTE"), tokens: TokenAmount, product: ProductId.optional() }).strict(),
  z.object({ type: z.literal("CHANGE_AMOUNT"), tokens: TokenAmount }).strict(),
  z.object({ type: z.literal("CONFIRM") }).strict(),
  z.object({ type: z.literal("CANCEL") }).strict(),
  z.object({ type: z.literal("STATUS") }).strict(),
  z.object({ type: z.literal("HELP") }).strict(),
  z.object({ type: z.literal("RESTART") }).strict(),
  /** A question on an FAQ topic: answered in the owner's words beside the order, which stays as it was. */
  z.object({ type: z.literal("ASK"), topic: FaqTopic }).strict(),
  /** The chat's last orders, with a button to buy a paid one again; the order in progress stays as it was. */
  z.object({ type: z.literal("ORDERS") }).strict(),
  /** Thanks or a goodbye: answered in kind, beside nothing; the order stays as it was (issue 21). */
  z.object({ type: z.literal("THANKS") }).strict(),
]);
export type Command = z.infer<typeof Command>;
export type CommandType = Command["type"];

/**
 * The command types offered to people and to the LLM, in that order. `THANKS` is read by the rules
 * alone: a thank-you needs no model call, and leaving it out keeps the model's prompt and reply schema
 * as they were (add it here to offer it; `llm-schema.ts` already describes it).
 */
export const COMMAND_TYPES = [
  "QUOTE",
  "CHANGE_AMOUNT",
  "CONFIRM",
  "CANCEL",
  "STATUS",
  "HELP",
  "RESTART",
  "ASK",
  "ORDERS",
] as const satisfies readonly CommandType[];

/** Commands answered without the purchase machine: allowed in every state, they never move an order. */
export const CONVERSATION_COMMANDS = ["ASK", "ORDERS", "THANKS"] as const satisfies readonly CommandType[];
export type ConversationCommand = Extract<Command, { type: (typeof CONVERSATION_COMMANDS)[number] }>;
/** A command the purchase machine decides on (it is sent to it as an event). */
export type MachineCommand = Exclude<Command, ConversationCommand>;
export type MachineCommandType = MachineCommand["type"];

/** True for a command the purchase machine decides on; false for {@link CONVERSATION_COMMANDS}. */
export function isMachineCommand(command: Command): command is MachineCommand {
  return !(CONVERSATION_COMMANDS as readonly string[]).includes(command.type);
}

/** How a command reached the engine; recorded for analytics (AI vs buttons funnel). */
export const CommandSource = z.enum(["rules", "llm", "button", "command"]);
export type CommandSource = z.infer<typeof CommandSource>;

/**
 * What understanding is told about the conversation: where the order stands, which commands the
 * machine accepts right now (derived from the machine, never a second list), and a little history.
 */
export type UnderstandContext = {
  state: OrderState;
  order: { orderId: string; tokens: number | null };
  /** The commands the purchase machine accepts in this state (from `snapshot.can`). */
  allowed: readonly CommandType[];
  turns: readonly string[];
  chatId: string;
  /** The bot's last message asked "how many tokens?": a bare number then answers it. */
  askedHowMany?: boolean;
};

/**
 * What the customer said beyond the command itself: the budget an amount was worked out from (the
 * reply says what it buys), a greeting (answered with a welcome), or wanting to buy without an
 * amount (`ask_amount`: the help is the question "how many?").
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
