/**
 * What the engine tells the rest of the product: events it observed (for the audit log, metrics and
 * admin alerts), the outcomes of its payment and admin doors, and how it reaches customers by itself.
 * Every event is audited in the commit of the step that caused it and announced once that is stored.
 */
import type { OwnerTask } from "../../machines/purchase.machine.ts";
import type { CommandSource, CommandType } from "../domain/commands.ts";
import type { ChatId, OrderId, PaymentId } from "../domain/ids.ts";
import type { OrderSummary } from "../domain/records.ts";
import type { EngineReply, ReplyNote } from "./reply.ts";

/** Something the engine observed, for the audit log, metrics and admin alerts. */
export type EngineEvent =
  /** A customer's command (`text`: what they wrote, when they wrote it rather than pressed a button). */
  | {
      type: "command";
      chatId: ChatId;
      orderId: OrderId | null;
      command: CommandType;
      source: CommandSource;
      accepted: boolean;
      text?: string;
      at: number;
    }
  /** An order moved from one state to another (dotted state paths). */
  | { type: "transition"; chatId: ChatId; orderId: OrderId; from: string; to: string; at: number }
  /** An order as it stands after a commit that changed it: what the read models are built from. */
  | { type: "order"; chatId: ChatId; orderId: OrderId; summary: OrderSummary; createdAt: number; at: number }
  | { type: "payment"; chatId: ChatId; orderId: OrderId; paymentId: PaymentId; chargeId: PaymentId; outcome: PaymentOutcome; at: number }
  /** A message neither the rules nor the LLM understood, with its text (the owner learns what customers ask). */
  | { type: "not_understood"; chatId: ChatId; orderId: OrderId | null; text: string; at: number }
  | {
      type: "llm";
      chatId: ChatId;
      orderId: OrderId | null;
      model: string;
      promptTokens: number;
      completionTokens: number;
      ok: boolean;
      at: number;
    }
  /** What an admin did, and who (an admin's chat id, or "web" for the dashboard). */
  | { type: "admin"; chatId: ChatId; orderId: OrderId; action: AdminAction; by: string; at: number }
  /** An order needs the owner (a delivery that kept failing, money only the owner can return). */
  | { type: "needs_owner"; chatId: ChatId; orderId: OrderId; task: OwnerTask; at: number }
  /** Delivered goods could not be sent to the customer (blocked bot, deleted chat): an admin must act. */
  | { type: "secret_undeliverable"; chatId: ChatId; orderId: OrderId; at: number }
  /** Who the customer is, as their channel (Telegram) said it; noted when it changed. */
  | { type: "profile"; chatId: ChatId; orderId: null; username: string | null; firstName: string | null; at: number }
  /** What the bot answered the customer, as codes (the owner reads both sides of a conversation); never goods. */
  | { type: "reply"; chatId: ChatId; orderId: OrderId | null; reply: ReplyNote; at: number };

export type AdminAction = "retry_delivery" | "refund" | "manual_refund";

/**
 * What a verified payment did to its order: `paid` (and `delivered` when the goods went out at once),
 * `returned` (it could not pay the order: a late payment under LATE_PAYMENT=refund, a wrong amount, a
 * second charge; it went back or the owner returns it), `duplicate` (a provider's retry of a payment
 * already handled), or `not_paid` (the provider says it is not paid).
 */
export type PaymentOutcome = "paid" | "delivered" | "returned" | "duplicate" | "not_paid";

/** Where a payment confirmation ended up. Only `provider_unavailable` asks the sender to try again. */
export type ConfirmOutcome =
  | { outcome: PaymentOutcome; orderId: OrderId; chatId: ChatId }
  | { outcome: "unknown_invoice" }
  | { outcome: "provider_unavailable"; orderId?: OrderId; chatId?: ChatId };

/** What an admin action did. `state`: the order's state path afterwards (for the admin to read). */
export type AdminOutcome =
  { ok: true; state: string } | { ok: false; reason: "unknown_order" } | { ok: false; reason: "not_allowed"; state: string };

/** Tells a customer about something that happened without them writing. Throws when it could not be sent. */
export type Notifier = (chatId: ChatId, reply: EngineReply) => Promise<void>;
