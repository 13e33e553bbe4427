/**
 * Which customer commands an order accepts and where the conversation stands, asked of the machine
 * itself (`snapshot.can`, tags) rather than written down a second time. Rules, the LLM's reply schema
 * and the engine's refusals all use this one answer.
 */
import type { PurchaseSnapshot } from "../../machines/purchase.machine.ts";
import { COMMAND_TYPES, type CommandType, CONVERSATION_COMMANDS, type ConversationPhase } from "./commands.ts";

const ALWAYS: ReadonlySet<CommandType> = new Set<CommandType>([...CONVERSATION_COMMANDS, "STATUS"]);

/** The commands that start the chat's next order when there is none under way. */
const STARTS_ORDERS: ReadonlySet<CommandType> = new Set<CommandType>(["SET_AMOUNT", "SET_PRODUCT", "APPLY_PROMO"]);

/** True when `type` starts a new order for a chat whose order has ended (or that has none). */
export function startsOrders(type: CommandType): boolean {
  return STARTS_ORDERS.has(type);
}

/**
 * True when a new amount starts a new order: there is none yet, or the current one has ended (its
 * next question is "how many tokens?").
 */
export function startsNewOrder(snapshot: PurchaseSnapshot | null): boolean {
  return snapshot === null || snapshot.hasTag("ended");
}

/**
 * The commands the conversation takes now, in the order they are offered to people and the LLM.
 * Questions, help, the order list and status are answered in every state.
 */
export function allowedCommands(snapshot: PurchaseSnapshot | null, at: number): CommandType[] {
  return COMMAND_TYPES.filter((type) => {
    if (ALWAYS.has(type)) return true;
    if (type === "SET_AMOUNT") return startsNewOrder(snapshot) || snapshot!.can({ type, tokens: snapshot!.context.limits.minTokens, at });
    // SET_PRODUCT, APPLY_PROMO and REISSUE are offered to understanding with the rules and the LLM schema
    // that read them (the understanding side of issue 21); the engine takes them from buttons and commands.
    if (type === "CONFIRM" || type === "CANCEL") return snapshot !== null && !snapshot.hasTag("ended") && snapshot.can({ type, at });
    return false;
  });
}

/** Where the conversation stands, for understanding (see {@link ConversationPhase}). */
export function conversationPhase(snapshot: PurchaseSnapshot | null, at: number): ConversationPhase {
  if (startsNewOrder(snapshot) || snapshot!.hasTag("at_rest")) return "browsing";
  if (snapshot!.can({ type: "CONFIRM", at })) return "quoted";
  if (snapshot!.hasTag("accepts_payment")) return "awaiting_payment";
  return "other";
}
