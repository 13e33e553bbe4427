/**
 * The conversation around an order, as plain functions of a reply or a session: whether a reply asks
 * "how many tokens?", what a customer said beyond the command (a budget, a greeting), and the chat's
 * order list. The customer door uses them; none of them moves an order.
 */
import { snapshotOf } from "../../machines/purchase.reading.ts";
import type { AmountChoice, Command, UnderstoodNote } from "../domain/commands.ts";
import { money } from "../domain/money.ts";
import type { ShopStore } from "../store/shop-store.ts";
import { pickedChoice } from "../understand/choices.ts";
import { type EngineReply, type OrderLine, type OrderView, hasTag, orderView } from "./reply.ts";
import type { Session } from "./session.ts";

/** How many orders `/orders` shows. */
const ORDERS_SHOWN = 5;
const MAX_TURNS = 6;
const MAX_TURN_LENGTH = 300;

/** The order a reply shows, if any. */
function shownOrder(reply: EngineReply): OrderView | null {
  if (reply.kind === "no_order") return reply.lastOrder;
  return "order" in reply ? reply.order : null;
}

/**
 * What a reply leaves the customer being asked: "how many tokens?" (a welcome, nothing under way)
 * or "which of these amounts?" (a clarifying question), so the next message is read as its answer.
 */
export function askedBy(reply: EngineReply): "amount" | "choice" | null {
  switch (reply.kind) {
    case "clarify":
      return "choice";
    case "help":
    case "no_order":
    case "not_understood":
    case "refused":
    case "answer":
    case "orders":
    case "order": {
      const order = shownOrder(reply);
      return order === null || hasTag(order, "at_rest") ? "amount" : null;
    }
    case "thanks":
    case "stale_button":
    case "payment_notice":
    case "too_long":
    case "unsupported_message":
    case "rate_limited":
    case "busy":
    case "unavailable":
      return null;
    default: {
      const unhandled: never = reply;
      throw new Error(`unknown reply ${JSON.stringify(unhandled)}`);
    }
  }
}

/** Adds what the customer said beyond the command: the budget a quote came from, a greeting, "how many?" to ask. */
export function withNote(reply: EngineReply, note: UnderstoodNote | undefined): EngineReply {
  if (note?.kind === "greeting" && reply.kind === "help") return { ...reply, greeting: true };
  if (note?.kind === "ask_amount" && reply.kind === "help") return { ...reply, askAmount: true };
  if (
    note?.kind === "budget" &&
    reply.kind === "order" &&
    reply.order.usd &&
    reply.order.tokens !== null &&
    reply.order.quoteExpiresAt !== null &&
    hasTag(reply.order, "open")
  ) {
    const roundedDown = reply.order.usd.currency !== "USD" || reply.order.usd.minor !== note.usdCents;
    return { ...reply, budget: { usd: money(note.usdCents, "USD"), tokens: reply.order.tokens, roundedDown } };
  }
  return reply;
}

/**
 * The amount a message picks from the ones the bot just offered ("the first", «второй», "the bigger
 * one"), with the budget it came from; null when it picks none. A yes picks none: see `customer.ts`.
 */
export function choicePicked(text: string, choices: readonly AmountChoice[]): { command: Command; note?: UnderstoodNote } | null {
  const index = pickedChoice(
    text,
    choices.map((choice) => choice.tokens),
  );
  const choice = index === null ? undefined : choices[index];
  if (choice === undefined) return null;
  const command: Command = { type: "SET_AMOUNT", tokens: choice.tokens };
  return choice.usdCents === undefined ? { command } : { command, note: { kind: "budget", usdCents: choice.usdCents } };
}

/** Keeps the customer's last few messages (bounded) for the LLM's context. */
export function rememberTurn(session: Session, text: string): void {
  session.chat.turns = [...session.chat.turns, text.slice(0, MAX_TURN_LENGTH)].slice(-MAX_TURNS);
}

/** The chat's orders, newest first: the current one (once it has an amount), then earlier ones. Never a secret. */
export async function ordersOf(store: ShopStore, session: Session): Promise<OrderLine[]> {
  const ids = [...(session.chat.currentOrderId ? [session.chat.currentOrderId] : []), ...[...session.chat.recentOrderIds].reverse()].slice(
    0,
    ORDERS_SHOWN * 2,
  );
  const records = await store.readOrders(session.chatId, ids);
  const lines: OrderLine[] = [];
  for (const record of records) {
    if (lines.length >= ORDERS_SHOWN) break;
    if (record.summary.tokens === null) continue;
    const snapshot = snapshotOf(record.snapshot);
    const view = orderView(snapshot);
    lines.push({
      orderId: record.orderId,
      productId: view.productId,
      canReissue: snapshot.can({ type: "REISSUE", at: record.updatedAt }),
      stage: view.stage,
      words: view.words,
      tags: view.tags,
      tokens: view.tokens,
      usd: view.usd,
      charge: view.charge,
      createdAt: record.createdAt,
      deliveryHint: hasTag(view, "delivered") ? view.deliveryHint : null,
    });
  }
  return lines;
}
