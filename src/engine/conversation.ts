/**
 * The conversation around an order (issue 13), as plain functions of a reply or a session: whether a
 * reply asks "how many tokens?", what a customer said beyond the command (a budget, a greeting), and
 * the chat's order list. The customer door uses them; none of them touches the purchase machine.
 */
import type { UnderstoodNote } from "../domain/commands.ts";
import { money } from "../domain/money.ts";
import type { Stores } from "../store/index.ts";
import type { EngineReply, OrderLine, OrderView } from "./reply.ts";
import type { Session } from "./session.ts";

/** How many orders `/orders` shows. */
const ORDERS_SHOWN = 5;

/** The order a reply shows, if any. */
function shownOrder(reply: EngineReply): OrderView | null {
  if (reply.kind === "no_order") return reply.lastOrder;
  return "order" in reply ? reply.order : null;
}

/** Orders that are neither open nor being worked on: after them, the bot's next question is "how many?". */
const AT_REST: ReadonlySet<OrderView["state"]> = new Set(["initial", "delivered", "cancelled", "expired", "payment_failed", "refunded"]);

/**
 * Whether a reply leaves the customer being asked "how many tokens?" (a welcome, no open order, a
 * choice of amounts), so a bare number in the next message answers it.
 */
export function asksHowMany(reply: EngineReply): boolean {
  switch (reply.kind) {
    case "clarify":
      return true;
    case "help":
    case "no_order":
    case "not_understood":
    case "refused":
    case "answer":
    case "orders":
    case "order": {
      const order = shownOrder(reply);
      return order === null || AT_REST.has(order.state);
    }
    case "thanks":
    case "stale_button":
    case "payment_notice":
    case "too_long":
    case "unsupported_message":
    case "rate_limited":
    case "busy":
    case "unavailable":
      return false;
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
  if (note?.kind === "budget" && reply.kind === "order" && reply.order.state === "quoted" && reply.order.tokens !== null && reply.order.usd) {
    const roundedDown = reply.order.usd.currency !== "USD" || reply.order.usd.minor !== note.usdCents;
    return { ...reply, budget: { usd: money(note.usdCents, "USD"), tokens: reply.order.tokens, roundedDown } };
  }
  return reply;
}

/** The chat's orders, newest first: the one in progress (once it has an amount), then ended ones. Never a secret. */
export async function ordersOf(stores: Stores, session: Session): Promise<OrderLine[]> {
  const current = session.actor.getSnapshot().context.orderId;
  const ids = [current, ...[...session.orderIds].reverse()];
  if (session.lastOrderId && !ids.includes(session.lastOrderId)) ids.push(session.lastOrderId);
  const lines: OrderLine[] = [];
  for (const orderId of ids) {
    if (lines.length >= ORDERS_SHOWN) break;
    const order = await stores.orders.get(orderId);
    if (!order || order.tokens === null) continue;
    const delivered = order.state === "delivered" ? await stores.ledger.get(orderId) : undefined;
    lines.push({
      orderId,
      state: order.state,
      tokens: order.tokens,
      usd: order.usd,
      charge: order.charge,
      createdAt: order.createdAt,
      deliveryHint: delivered?.hint ?? null,
    });
  }
  return lines;
}
