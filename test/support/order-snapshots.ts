/**
 * Snapshots of one order standing in a given state, without running it: for unit tests of code that
 * reads an order (what it allows, how it is shown) and must not depend on the engine or a store. The
 * context is what the order would hold there: a quote from `quoted` on, an invoice from
 * `awaiting_payment` on, goods once delivered.
 */
import { createActor } from "xstate";
import { type PurchaseContext, type PurchaseSnapshot, purchaseMachine } from "../../machines/purchase.machine.ts";
import { STATE_PATHS, snapshotOf, statePath } from "../../machines/purchase.reading.ts";
import { allowedCommands, conversationPhase } from "../../src/domain/allowed.ts";
import type { CommandType, UnderstandContext } from "../../src/domain/commands.ts";
import { ChatId, OrderId, PaymentId } from "../../src/domain/ids.ts";

export const T0 = 1_700_000_000_000;

/** Turns "awaiting_payment.waiting" into XState's `{ awaiting_payment: "waiting" }`. */
function valueOf(path: string): unknown {
  const parts = path.split(".");
  let value: unknown = parts.pop();
  while (parts.length > 0) value = { [parts.pop() as string]: value };
  return value;
}

/** The leaf to stand in when a test names a state with children ("delivered" → its rest state). */
const LEAVES: Record<string, string> = {
  awaiting_payment: "awaiting_payment.waiting",
  paid: "paid.recorded",
  delivered: "delivered.settled",
  cancelled: "cancelled.invoice_closed",
  expired: "expired.invoice_closed",
};

const STAGES_WITH_QUOTE = new Set([
  "quoted",
  "creating_payment",
  "awaiting_payment",
  "paid",
  "delivered",
  "delivery_failed",
  "cancelled",
  "expired",
  "payment_failed",
  "refunding",
  "awaiting_owner_refund",
  "refunded",
]);
const STAGES_WITH_INVOICE = new Set([
  "awaiting_payment",
  "paid",
  "delivered",
  "delivery_failed",
  "payment_failed",
  "refunding",
  "awaiting_owner_refund",
  "refunded",
]);
const STAGES_PAID = new Set(["paid", "delivered", "delivery_failed", "refunding", "awaiting_owner_refund", "refunded"]);

/**
 * An order of `tokens` (2,000 unless said) standing in `path` (a state path or a top-level state),
 * priced at $20.00 per 1,000 tokens with a 15-minute quote and a one-hour invoice from {@link T0}.
 * `context` overrides any field.
 */
export function orderIn(
  path: string,
  options: { tokens?: number; orderId?: string; context?: Partial<PurchaseContext> } = {},
): PurchaseSnapshot {
  const leaf = LEAVES[path] ?? path;
  if (!STATE_PATHS.includes(leaf)) throw new Error(`no state "${leaf}" in the purchase machine: use one of ${STATE_PATHS.join(", ")}`);
  const stage = leaf.split(".")[0] ?? "";
  const tokens = options.tokens ?? 2000;
  const orderId = OrderId.parse(options.orderId ?? "ord_test");
  const fresh = createActor(purchaseMachine, {
    input: {
      orderId,
      chatId: ChatId.parse("c1"),
      productId: "tokens",
      latePayment: "deliver",
      minTokens: 100,
      maxTokens: 1_000_000,
      maxDeliveryAttempts: 3,
      retryBackoffMs: 60_000,
      at: T0,
    },
  }).getSnapshot().context;
  const usd = { minor: tokens * 2, currency: "USD" as const };
  const charge = { minor: tokens * 2, currency: "USDT" as const };
  const paymentId = PaymentId.parse(`pay_${orderId}`);
  const context: PurchaseContext = {
    ...fresh,
    tokens: stage === "initial" ? null : tokens,
    quote: STAGES_WITH_QUOTE.has(stage) ? { tokens, usd, charge, quotedAt: T0, expiresAt: T0 + 15 * 60_000 } : null,
    payment: STAGES_WITH_INVOICE.has(stage)
      ? {
          provider: "sandbox",
          paymentId,
          payUrl: `http://127.0.0.1/pay/sandbox/${paymentId}`,
          charge,
          createdAt: T0,
          expiresAt: T0 + 60 * 60_000,
        }
      : null,
    paidAt: STAGES_PAID.has(stage) ? T0 + 1000 : null,
    paidCharge: STAGES_PAID.has(stage) ? paymentId : null,
    delivery:
      stage === "delivered" ? { ...fresh.delivery, attempts: 1, ref: "voucher:1", hint: "…ABCD", deliveredAt: T0 + 2000 } : fresh.delivery,
    ...options.context,
  };
  return snapshotOf({ value: valueOf(leaf), context });
}

/** A chat's current order in `state`; `"none"`: the chat has no order yet. */
export function chatOrderIn(state: string): PurchaseSnapshot | null {
  return state === "none" ? null : orderIn(state);
}

/** What the machine lets a customer ask for with the chat's order in `state` (see {@link chatOrderIn}). */
export function allowedIn(state: string): CommandType[] {
  return allowedCommands(chatOrderIn(state), T0);
}

/** What the engine tells understanding about a chat whose order is in `state`, as `handleText` builds it. */
export function understandContextIn(
  state: string,
  options: { turns?: readonly string[]; chatId?: string; orderId?: string } = {},
): UnderstandContext {
  const snapshot = chatOrderIn(state);
  const chatId = options.chatId ?? "c1";
  return {
    phase: conversationPhase(snapshot, T0),
    state: snapshot ? statePath(snapshot) : "none",
    chatId,
    turns: options.turns ?? [],
    allowed: allowedCommands(snapshot, T0),
    order: { orderId: options.orderId ?? `ord_${chatId}`, tokens: snapshot?.context.tokens ?? null },
  };
}
