/**
 * What the engine tells the rest of the product: events it observed (for the audit trail, metrics and
 * admin alerts), the outcomes of its payment and admin doors, and how it reaches customers by itself.
 */
import type { CommandSource, CommandType } from "../domain/commands.ts";
import type { ChatId, OrderId, PaymentId } from "../domain/ids.ts";
import type { OrderState } from "../domain/records.ts";
import type { EngineReply } from "./reply.ts";

/** Something the engine observed, for the audit log, metrics and admin alerts. */
export type EngineEvent =
  | { type: "command"; chatId: ChatId; orderId: OrderId; command: CommandType; source: CommandSource; accepted: boolean; at: number }
  | { type: "transition"; chatId: ChatId; orderId: OrderId; from: string; to: string; at: number }
  | { type: "payment"; chatId: ChatId; orderId: OrderId; paymentId: PaymentId; outcome: ConfirmOutcome["outcome"]; at: number }
  | { type: "not_understood"; chatId: ChatId; orderId: OrderId; at: number }
  /** Delivered goods could not be sent to the customer (blocked bot, deleted chat): an admin must act. */
  | { type: "secret_undeliverable"; chatId: ChatId; orderId: OrderId; at: number };

/** Where a payment confirmation ended up. Only `delivered`/`paid` move an order. */
export type ConfirmOutcome =
  | { outcome: "delivered" | "paid"; orderId: OrderId; chatId: ChatId }
  | { outcome: "duplicate"; orderId: OrderId; chatId: ChatId }
  | { outcome: "unknown_invoice" }
  | { outcome: "not_paid"; orderId: OrderId; chatId: ChatId; status: "pending" | "expired" | "failed" }
  | { outcome: "mismatch"; orderId: OrderId; chatId: ChatId }
  /** Money for a closed order, kept for an admin to refund (they are alerted). */
  | { outcome: "late"; orderId: OrderId; chatId: ChatId }
  /** Money for a closed order that the LATE_PAYMENT policy settled: goods issued, or refunded by the provider. */
  | { outcome: "late_delivered" | "late_refunded"; orderId: OrderId; chatId: ChatId }
  /** Money for a closed order whose goods could not be issued yet: retried by the sweeper. */
  | { outcome: "late_pending"; orderId: OrderId; chatId: ChatId }
  | { outcome: "provider_unavailable"; orderId: OrderId; chatId: ChatId };

/** What an admin action did. */
export type AdminOutcome =
  | { ok: true; state: OrderState }
  | { ok: false; reason: "unknown_order" }
  | { ok: false; reason: "not_current" | "not_allowed"; state: OrderState };

/** Tells a customer about something that happened without them writing. Throws when it could not be sent. */
export type Notifier = (chatId: ChatId, reply: EngineReply) => Promise<void>;
