/**
 * What a customer's message means, in more detail than a {@link Command}: the rules' full reading,
 * before it is narrowed to the commands the engine knows today. Money is integer US cents, never a
 * float; token amounts are {@link TokenAmount}s (their catalog limits are the machine's business).
 */
import { z } from "zod";
import { PromoCodeText } from "../../machines/purchase.commands.ts";
import { TokenAmount } from "../domain/commands.ts";

import { FaqTopic } from "../domain/faq.ts";

export { FaqTopic };

/** A budget in whole US cents ("$25.50" is 2550); USDT and USDC count as dollars. */
export const UsdCents = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);

/** Languages a customer can ask the bot to switch to. */
export const LanguageCode = z.enum(["en", "ru"]);
export type LanguageCode = z.infer<typeof LanguageCode>;

/** One way to read an ambiguous amount, offered back to the customer as a choice. */
export const AmountOption = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("amount"), tokens: TokenAmount }).strict(),
  z.object({ kind: z.literal("budget"), usdCents: UsdCents }).strict(),
]);
export type AmountOption = z.infer<typeof AmountOption>;

/**
 * A message's meaning. `amount` is a number of tokens; `budget` is money the customer wants to spend
 * (quote what it buys, rounding down); `paid_claim` is the customer saying they paid, which only ever
 * triggers a check with the provider; `clarify` means two readings are possible and one short
 * question should pick; `wants_to_buy` is wanting to buy without an amount (ask how many); `thanks`
 * is thanks or a goodbye (answered in kind); `reissue` asks for the goods again ("I lost my key",
 * «пришли код»: a new key once delivered, else a status question); `promo` gives a promo code, as
 * typed; `none` means the rules do not know (ask the LLM, or ask to rephrase).
 */
export const Reading = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("amount"), tokens: TokenAmount }).strict(),
  z.object({ kind: z.literal("budget"), usdCents: UsdCents }).strict(),
  z.object({ kind: z.literal("confirm") }).strict(),
  z.object({ kind: z.literal("cancel") }).strict(),
  z.object({ kind: z.literal("status") }).strict(),
  z.object({ kind: z.literal("paid_claim") }).strict(),
  z.object({ kind: z.literal("help") }).strict(),
  z.object({ kind: z.literal("greeting") }).strict(),
  z.object({ kind: z.literal("restart") }).strict(),
  z.object({ kind: z.literal("question"), topic: FaqTopic }).strict(),
  z.object({ kind: z.literal("orders") }).strict(),
  z.object({ kind: z.literal("language"), code: LanguageCode }).strict(),
  z.object({ kind: z.literal("clarify"), candidates: z.array(AmountOption).min(2) }).strict(),
  z.object({ kind: z.literal("wants_to_buy") }).strict(),
  z.object({ kind: z.literal("thanks") }).strict(),
  z.object({ kind: z.literal("reissue") }).strict(),
  z.object({ kind: z.literal("promo"), code: PromoCodeText }).strict(),
  z.object({ kind: z.literal("none") }).strict(),
]);
export type Reading = z.infer<typeof Reading>;
export type ReadingKind = Reading["kind"];

/** Where the conversation is, as far as reading text needs to know. */
export type ReadingContext = {
  phase: "browsing" | "quoted" | "awaiting_payment" | "other";
  /** The bot's last message asked "how many tokens?": a number on its own is then an amount. */
  askedHowMany?: boolean;
};
