import { z } from "zod";

/**
 * The FAQ entries a question can be about. Rules and the LLM only ever pick one of these; the answer's
 * words are the shop owner's (`faq/<language>.ftl`), so no model writes what a customer reads.
 */
export const FaqTopic = z.enum(["what_tokens", "models", "validity", "refunds", "coins", "delivery", "price"]);
export type FaqTopic = z.infer<typeof FaqTopic>;
