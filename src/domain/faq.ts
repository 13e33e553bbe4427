/**
 * The FAQ entries a question can be about (declared with the commands, `machines/purchase.commands.ts`).
 * Rules and the LLM only ever pick one of these; the answer's words are the shop owner's
 * (`faq/<language>.ftl`), so no model writes what a customer reads.
 */
export { FaqTopic } from "../../machines/purchase.commands.ts";
