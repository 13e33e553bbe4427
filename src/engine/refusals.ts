/**
 * Why the order refused a customer's command, asked of the order itself (its context, its state's
 * meta), never of a state name: an amount outside the product's limits (the product named with it, or
 * the order's), a product the shop does not sell, a step the state does not take.
 */
import { limitsFor } from "../../machines/purchase.logic.ts";
import { orderMeta } from "../../machines/purchase.reading.ts";
import { type PurchaseSnapshot, withinLimits } from "../../machines/purchase.machine.ts";
import type { Command } from "../domain/commands.ts";
import type { Refusal } from "./reply.ts";

/** A refusal, and the amount and product it is about (their limits are what the customer is told). */
export type RefusalOf = { reason: Refusal; tokens?: number; product?: string };

/** Why `snapshot`'s order refused `command` (null: no order). */
export function refusalFor(snapshot: PurchaseSnapshot | null, command: Command): RefusalOf {
  const about = (tokens: number | null, product: string | null): Omit<RefusalOf, "reason"> => ({
    ...(tokens !== null ? { tokens } : {}),
    ...(product !== null ? { product } : {}),
  });
  if (snapshot && (command.type === "SET_AMOUNT" || command.type === "SET_PRODUCT")) {
    const c = snapshot.context;
    const named = command.product ?? null;
    if (named !== null && limitsFor(c, named) === null) return { reason: "unknown_product" };
    const product = named ?? c.productId ?? null;
    const tokens = command.type === "SET_AMOUNT" ? command.tokens : c.tokens;
    const limits = (product !== null ? limitsFor(c, product) : null) ?? c.limits;
    if (tokens !== null && !withinLimits(limits, tokens) && (command.type === "SET_AMOUNT" || !snapshot.hasTag("ended"))) {
      return { reason: "amount_out_of_range", ...about(tokens, product) };
    }
  }
  const extra = command.type === "SET_AMOUNT" ? about(command.tokens, command.product ?? null) : {};
  const stated = snapshot && !snapshot.hasTag("ended") ? orderMeta(snapshot).refusal : undefined;
  if (stated) return { reason: stated, ...extra };
  if (command.type === "CONFIRM") return { reason: "nothing_to_confirm" };
  if (command.type === "CANCEL") return { reason: "nothing_to_cancel" };
  return { reason: "not_now", ...extra };
}
