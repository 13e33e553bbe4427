/**
 * Everything a customer can ask for, whatever the channel (typed text, a button, a slash command, or
 * the LLM's reading of free text), declared once: the machine's customer events, the rules, the LLM's
 * reply schema and the engine all use this schema. There is deliberately no command for "payment
 * confirmed" or "deliver", so nothing a customer or the LLM types can produce one.
 */
import { z } from "zod";

/**
 * A token amount the customer asked for: a positive safe integer. Whether it is within the catalog's
 * limits is decided by the machine's `amountWithinLimits` guard, so the customer can be told the limits.
 */
export const TokenAmount = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);

/**
 * The questions a customer can ask. Rules and the LLM only ever pick one of these; the answer's words
 * are the shop owner's (`faq/<language>.ftl`), so no model writes what a customer reads.
 */
export const FaqTopic = z.enum(["what_tokens", "models", "validity", "refunds", "coins", "delivery", "price"]);
export type FaqTopic = z.infer<typeof FaqTopic>;

/** A catalog product's id: lowercase letters, digits and dashes (the catalog file's `id`). */
export const ProductId = z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/);

/** A promo code as a customer gives it: letters, digits, `_` or `-` (the catalog file's code shape). */
export const PromoCodeText = z.string().regex(/^[A-Za-z0-9_-]{2,32}$/);

export const CustomerCommand = z.discriminatedUnion("type", [
  /**
   * Buy this amount: a new quote, or a new amount for the quote on the table. `product`: the product
   * the customer named, when the shop sells several.
   */
  z.object({ type: z.literal("SET_AMOUNT"), tokens: TokenAmount, product: ProductId.optional() }).strict(),
  /** The product the customer wants, before (or instead of) an amount: its packages are offered next. */
  z.object({ type: z.literal("SET_PRODUCT"), product: ProductId }).strict(),
  /** A promo code the customer typed or followed a link with (as typed; the catalog decides if it exists). */
  z.object({ type: z.literal("APPLY_PROMO"), code: PromoCodeText }).strict(),
  /** "I lost my key": a delivered order's goods are replaced (the old ones stop working). */
  z.object({ type: z.literal("REISSUE") }).strict(),
  z.object({ type: z.literal("CONFIRM") }).strict(),
  z.object({ type: z.literal("CANCEL") }).strict(),
  /** Where is my order (and, while an invoice is open, did my payment arrive?). */
  z.object({ type: z.literal("STATUS") }).strict(),
  z.object({ type: z.literal("HELP") }).strict(),
  /** A question on an FAQ topic: answered in the owner's words beside the order, which stays as it was. */
  z.object({ type: z.literal("ASK"), topic: FaqTopic }).strict(),
  /** The chat's last orders, with a button to buy a paid one again; the order in progress stays as it was. */
  z.object({ type: z.literal("ORDERS") }).strict(),
  /** Thanks or a goodbye: answered in kind; the order stays as it was. */
  z.object({ type: z.literal("THANKS") }).strict(),
]);
export type CustomerCommand = z.infer<typeof CustomerCommand>;
export type CustomerCommandType = CustomerCommand["type"];

/** Every command type, in the order they are offered to people and to the LLM. */
export const CUSTOMER_COMMAND_TYPES = CustomerCommand.options.map((option) => option.shape.type.value);
