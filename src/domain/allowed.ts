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
 * Questions, help, the order list and status are answered in every state. A product or a promo code
 * may be given where an amount may (before a quote, or with one on the table); asking
 * for a lost key or code again, once the order was delivered: whether that order may have one more is
 * the engine's to decide.
 */
export function allowedCommands(snapshot: PurchaseSnapshot | null, at: number): CommandType[] {
  // Asked of the machine once per message, not once per command type that depends on it.
  let takesAmount: boolean | undefined;
  const amountTaken = () =>
    (takesAmount ??= startsNewOrder(snapshot) || snapshot!.can({ type: "SET_AMOUNT", tokens: snapshot!.context.limits.minTokens, at }));
  return COMMAND_TYPES.filter((type) => {
    if (ALWAYS.has(type)) return true;
    // A product or a promo code goes with the amount: where a new amount is taken, they are too.
    if (type === "SET_AMOUNT" || type === "SET_PRODUCT" || type === "APPLY_PROMO") return amountTaken();
    // A lost key or code: the delivered order's machine says whether it may be replaced (again).
    if (type === "REISSUE") return snapshot !== null && snapshot.can({ type, at });
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
