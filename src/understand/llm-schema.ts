/**
 * The LLM's output contract, built from the commands the purchase machine accepts right now (the
 * engine asks the machine: `allowedCommands`). The model may only name a command the current state allows (or say "unknown"); everything else is rejected with a reason code before it
 * gets anywhere near the engine. There is no intent for payment or delivery in any state, so no model
 * output can produce one.
 */
import { z } from "zod";
import type { Catalog } from "../domain/catalog.ts";
import { PromoCodeText } from "../../machines/purchase.commands.ts";
import { COMMAND_TYPES, type Command, type CommandType } from "../domain/commands.ts";
import { FaqTopic } from "../domain/faq.ts";
import { type Product, productName } from "../domain/products.ts";

/**
 * The products a SET_AMOUNT or SET_PRODUCT may name (issue 21): the shop's, when it sells more than
 * one; otherwise none, and the schema and prompt stay as they were for a single product.
 */
export function quotableProducts(catalog: Catalog): readonly Product[] {
  const products = catalog.shop?.products ?? [];
  return products.length > 1 ? products : [];
}

/** The token amounts a reply may carry: the catalog's limits, or from the smallest to the largest of its products'. */
export function amountRange(catalog: Catalog): { min: number; max: number } {
  const products = quotableProducts(catalog);
  if (products.length === 0) return { min: catalog.minTokens, max: catalog.maxTokens };
  return { min: Math.min(...products.map((p) => p.min)), max: Math.max(...products.map((p) => p.max)) };
}

/**
 * The allowed commands the model is offered: all of them, except SET_PRODUCT in a shop with one
 * product (there is nothing to choose). The prompt, the schema and the "not allowed now" check use it.
 */
export function offeredCommands(allowed: readonly CommandType[], catalog: Catalog): CommandType[] {
  const several = quotableProducts(catalog).length > 0;
  return allowed.filter((type) => type !== "SET_PRODUCT" || several);
}

/** One line per command, as the model is told about it. */
export function describeCommand(type: CommandType, catalog: Catalog): string {
  const { min, max } = amountRange(catalog);
  const range = `integer ${min}..${max}`;
  const products = quotableProducts(catalog);
  switch (type) {
    case "SET_AMOUNT":
      if (products.length > 0) {
        const ids = products.map((p) => `"${p.id}"`).join(", ");
        const names = products.map((p) => `${p.id} = ${productName(p, "en")}`).join("; ");
        return `{"intent":"SET_AMOUNT","tokens":<${range}>,"product":<one of ${ids}, only when the customer names one>} — the customer wants this many tokens: a price for it, or a new amount instead of the one quoted (${names})`;
      }
      return `{"intent":"SET_AMOUNT","tokens":<${range}>} — the customer wants this many tokens: a price for it, or a new amount instead of the one quoted`;
    case "SET_PRODUCT": {
      const ids = products.map((p) => `"${p.id}"`).join(", ");
      return `{"intent":"SET_PRODUCT","product":<one of ${ids}>} — the customer names the product they want, without an amount`;
    }
    case "APPLY_PROMO":
      return `{"intent":"APPLY_PROMO","code":<the code exactly as the customer wrote it>} — the customer gives a promo, coupon or discount code`;
    case "REISSUE":
      return `{"intent":"REISSUE"} — the customer lost the key or code they received, or asks to be sent it again`;
    case "CONFIRM":
      return `{"intent":"CONFIRM"} — the customer accepts the quoted price and wants to pay`;
    case "CANCEL":
      return `{"intent":"CANCEL"} — the customer wants to cancel this order, or to drop it and start over`;
    case "STATUS":
      return `{"intent":"STATUS"} — the customer asks where their order or payment is`;
    case "HELP":
      return `{"intent":"HELP"} — the customer asks how this works in general or greets (a question on one topic is ASK, when allowed)`;
    case "ASK":
      return `{"intent":"ASK","topic":<one of ${FaqTopic.options.map((t) => `"${t}"`).join(", ")}>} — the customer asks a question on this topic (what the tokens are, which models, how long they last, refunds, which coins, how delivery works, the price)`;
    case "ORDERS":
      return `{"intent":"ORDERS"} — the customer wants to see their past orders`;
    case "THANKS":
      return `{"intent":"THANKS"} — the customer says thanks or goodbye, and asks for nothing`;
    default: {
      const unhandled: never = type;
      return unhandled;
    }
  }
}

/** Why a model reply was not used; logged and counted, never shown to the customer. */
export type RejectReason =
  | "empty"
  | "invalid_json"
  | "not_an_object"
  | "forbidden_intent"
  | "unknown_intent"
  | "not_allowed_now"
  | "extra_fields"
  | "wrong_type"
  | "amount_out_of_range"
  | "invalid_shape"
  | "code_not_in_message";

/** The model's reply read as a command, its explicit "unknown", or a rejection with the reason. */
export type ReadResult =
  { kind: "command"; command: Command } | { kind: "unknown" } | { kind: "rejected"; reason: RejectReason; intent?: string };

const COMMAND_NAMES: ReadonlySet<string> = new Set<string>(COMMAND_TYPES);
// Intents that try to move money or goods: named separately so the logs show an attempt, not noise.
const FORBIDDEN_INTENT = /pay|deliver|refund|grant|credit|admin|issue|send/i;

function intentSchema(type: CommandType, tokens: z.ZodNumber, productIds: readonly string[]) {
  switch (type) {
    case "SET_AMOUNT": {
      if (productIds.length === 0) return z.object({ intent: z.literal("SET_AMOUNT"), tokens }).strict();
      const product = z.string().refine((id) => productIds.includes(id), { error: "not a product of this shop" });
      return z.object({ intent: z.literal("SET_AMOUNT"), tokens, product: product.optional() }).strict();
    }
    case "SET_PRODUCT": {
      const product = z.string().refine((id) => productIds.includes(id), { error: "not a product of this shop" });
      return z.object({ intent: z.literal("SET_PRODUCT"), product }).strict();
    }
    case "APPLY_PROMO":
      return z.object({ intent: z.literal("APPLY_PROMO"), code: PromoCodeText }).strict();
    case "REISSUE":
      return z.object({ intent: z.literal("REISSUE") }).strict();
    case "CONFIRM":
      return z.object({ intent: z.literal("CONFIRM") }).strict();
    case "CANCEL":
      return z.object({ intent: z.literal("CANCEL") }).strict();
    case "STATUS":
      return z.object({ intent: z.literal("STATUS") }).strict();
    case "HELP":
      return z.object({ intent: z.literal("HELP") }).strict();
    case "ASK":
      return z.object({ intent: z.literal("ASK"), topic: FaqTopic }).strict();
    case "ORDERS":
      return z.object({ intent: z.literal("ORDERS") }).strict();
    case "THANKS":
      return z.object({ intent: z.literal("THANKS") }).strict();
    default: {
      const unhandled: never = type;
      return unhandled;
    }
  }
}

/**
 * The zod schema of a valid model reply in `state`: a discriminated union on `intent` over the allowed
 * commands plus `{"intent":"unknown"}`, every member strict, token amounts whole and within the catalog.
 * A shop with several products adds an optional `product` (one of their ids) to SET_AMOUNT, and
 * SET_PRODUCT; with one product SET_PRODUCT is not offered.
 */
export function replySchema(allowed: readonly CommandType[], catalog: Catalog) {
  let byAllowed = schemas.get(catalog);
  if (!byAllowed) schemas.set(catalog, (byAllowed = new Map()));
  const key = allowed.join(",");
  let schema = byAllowed.get(key);
  if (!schema) byAllowed.set(key, (schema = buildReplySchema(allowed, catalog)));
  return schema;
}

function buildReplySchema(allowed: readonly CommandType[], catalog: Catalog) {
  const { min, max } = amountRange(catalog);
  const tokens = z.number().int().min(min).max(max);
  const productIds = quotableProducts(catalog).map((p) => p.id);
  const members = offeredCommands(allowed, catalog).map((type) => intentSchema(type, tokens, productIds));
  const unknown = z.object({ intent: z.literal("unknown") }).strict();
  return z.discriminatedUnion("intent", [unknown, ...members]);
}
export type ModelReply = z.infer<ReturnType<typeof buildReplySchema>>;

// Built once per catalog and set of allowed commands: the schema depends on nothing else.
const schemas = new WeakMap<Catalog, Map<string, ReturnType<typeof buildReplySchema>>>();

/** Pulls the JSON object out of a reply: plain JSON, or JSON inside a Markdown code fence. */
export function extractJson(content: string): unknown {
  const trimmed = content.trim();
  const fenced = /^```(?:json)?\s*\n?([\s\S]*?)\n?```$/i.exec(trimmed);
  const body = fenced ? (fenced[1] ?? "") : trimmed;
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return undefined;
  }
}

function toCommand(reply: ModelReply): Command | null {
  switch (reply.intent) {
    case "unknown":
      return null;
    case "SET_AMOUNT": {
      // Only a shop with several products has the slot; the schema has already checked the id.
      const product: unknown = "product" in reply ? reply.product : undefined;
      return typeof product === "string"
        ? { type: "SET_AMOUNT", tokens: reply.tokens, product }
        : { type: "SET_AMOUNT", tokens: reply.tokens };
    }
    case "ASK":
      return { type: "ASK", topic: reply.topic };
    case "SET_PRODUCT":
      return { type: "SET_PRODUCT", product: reply.product };
    case "APPLY_PROMO":
      return { type: "APPLY_PROMO", code: reply.code };
    case "REISSUE":
    case "CONFIRM":
    case "CANCEL":
    case "STATUS":
    case "HELP":
    case "ORDERS":
    case "THANKS":
      return { type: reply.intent };
    default: {
      const unhandled: never = reply;
      return unhandled;
    }
  }
}

function reasonFor(issues: z.ZodError["issues"]): RejectReason {
  const codes = new Set(issues.map((i) => i.code));
  if (codes.has("unrecognized_keys")) return "extra_fields";
  if (codes.has("too_small") || codes.has("too_big")) return "amount_out_of_range";
  if (codes.has("invalid_type")) return "wrong_type";
  return "invalid_shape";
}

/**
 * Reads the model's raw text against what `state` allows. Never throws. `message`: the customer's text,
 * when known: a promo code the model names must appear in it (a model never makes up a code).
 */
export function readModelReply(
  content: string | null | undefined,
  allowed: readonly CommandType[],
  catalog: Catalog,
  message?: string,
): ReadResult {
  if (content === null || content === undefined || content.trim() === "") return { kind: "rejected", reason: "empty" };
  const value = extractJson(content);
  if (value === undefined) return { kind: "rejected", reason: "invalid_json" };
  if (typeof value !== "object" || value === null || Array.isArray(value)) return { kind: "rejected", reason: "not_an_object" };
  const intent: unknown = (value as Record<string, unknown>).intent;
  if (typeof intent !== "string") return { kind: "rejected", reason: "wrong_type" };
  const shown = intent.slice(0, 40);
  if (intent !== "unknown") {
    if (COMMAND_NAMES.has(intent)) {
      if (!(offeredCommands(allowed, catalog) as readonly string[]).includes(intent))
        return { kind: "rejected", reason: "not_allowed_now", intent: shown };
    } else {
      return { kind: "rejected", reason: FORBIDDEN_INTENT.test(intent) ? "forbidden_intent" : "unknown_intent", intent: shown };
    }
  }
  const parsed = replySchema(allowed, catalog).safeParse(value);
  if (!parsed.success) return { kind: "rejected", reason: reasonFor(parsed.error.issues), intent: shown };
  const command = toCommand(parsed.data);
  if (command?.type === "APPLY_PROMO" && message !== undefined && !message.toLowerCase().includes(command.code.toLowerCase())) {
    return { kind: "rejected", reason: "code_not_in_message", intent: shown };
  }
  return command ? { kind: "command", command } : { kind: "unknown" };
}
