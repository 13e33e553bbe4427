/**
 * Branded ids. The brands are declared once by the purchase machine; these schemas produce them at
 * the boundaries (stores, webhooks, Telegram updates), so inside the product an order id can never be
 * passed where a chat id or a provider's payment id is meant.
 */
import { randomBytes } from "node:crypto";
import { z } from "zod";
import type { ChatId as ChatIdType, OrderId as OrderIdType, PaymentId as PaymentIdType } from "../../machines/purchase.machine.ts";

export type OrderId = OrderIdType;
export type ChatId = ChatIdType;
export type PaymentId = PaymentIdType;

/** `ord_` and 8 url-safe characters; older ids were any short url-safe string, so the schema allows those. */
export const OrderId = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/)
  .brand<"OrderId">();
/** A Telegram chat id (or "console"), as text. */
export const ChatId = z.string().min(1).max(64).brand<"ChatId">();
/** A payment provider's invoice or payment id. */
export const PaymentId = z.string().min(1).max(200).brand<"PaymentId">();

/** A fresh, unguessable order id. */
export function newOrderId(): OrderId {
  return OrderId.parse(`ord_${randomBytes(6).toString("base64url")}`);
}

// The schemas produce exactly the machine's branded types (a compile-time check, no runtime cost).
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const idsMatchTheMachine: [
  Same<z.infer<typeof OrderId>, OrderIdType>,
  Same<z.infer<typeof ChatId>, ChatIdType>,
  Same<z.infer<typeof PaymentId>, PaymentIdType>,
] = [true, true, true];
void idsMatchTheMachine;
