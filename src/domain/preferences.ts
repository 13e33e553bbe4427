import { z } from "zod";

/**
 * A chat's language, kept apart from the conversation so it survives resets and restarts. `chosen`
 * is true once the customer picked it with /language; until then it is what their Telegram
 * language negotiated to on first contact.
 */
export const LanguagePreference = z.object({
  v: z.literal(1),
  language: z.string().min(2).max(35),
  chosen: z.boolean(),
  updatedAt: z.number().int(),
});
export type LanguagePreference = z.infer<typeof LanguagePreference>;
