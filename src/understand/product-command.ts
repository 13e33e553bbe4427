/**
 * A product named in a message (issue 21), as the command it asks for, in a shop that sells several:
 * "1000 gpt tokens" and "$25 of claude credit" set an amount of that product, "claude" or «токены для
 * claude» choose it (its packages are offered next). With one product nothing here applies, so a
 * single-product shop reads every message exactly as before.
 */
import { type Catalog, singleProductView } from "../domain/catalog.ts";
import { type Command, type CommandType, TokenAmount, type Understood } from "../domain/commands.ts";
import type { ShopCatalog } from "../domain/products.ts";
import { choicesFor, tokensForBudget } from "./budget.ts";
import { asksPrice, isQuestion, mentionsThanks } from "./intents.ts";
import { readProduct } from "./products.ts";
import type { Reading } from "./reading.ts";
import { readText } from "./text.ts";

/** Readings a product name can complete: an amount, wanting to buy, or words the rules could not place. */
const COMPLETES: ReadonlySet<Reading["kind"]> = new Set(["amount", "budget", "clarify", "wants_to_buy", "none"]);

/** The shop behind a catalog view, when it sells more than one product. */
export function severalProducts(catalog: Catalog): ShopCatalog | null {
  const shop = catalog.shop;
  return shop !== undefined && shop.products.length > 1 ? shop : null;
}

/** The language a message is written in, as far as telling aliases apart needs: Cyrillic is Russian. */
function languageOf(text: string): string {
  return /\p{Script=Cyrillic}/u.test(text) ? "ru" : "en";
}

/**
 * Whether a product name completes this reading. A price question ("how much is claude?") is answered
 * with the product's prices; a question about models ("does it work with claude?") stays a question.
 */
function completes(reading: Reading, text: string): boolean {
  if (COMPLETES.has(reading.kind)) return true;
  if (reading.kind !== "question") return false;
  if (reading.topic === "price") return true;
  if (reading.topic !== "models") return false;
  // "claude", «токены для claude»: a name said on its own is a choice, not a question about models;
  // "how much is claude?" asks its price
  const { words } = readText(text);
  return !isQuestion(words, text) || asksPrice(words);
}

/**
 * The command a message naming one of the shop's products gives, or null when it names none (or the
 * shop sells one product, or the reading is about something else: a cancel, a status question...), so
 * the caller reads it as usual. A budget buys that product's tokens; two amounts become a choice
 * (priced for that product), which the caller offers only when no model settles them.
 * Nothing is returned that `allowed` does not take: the rules' own reading then answers.
 */
export function productCommand(text: string, reading: Reading, catalog: Catalog, allowed: readonly CommandType[]): Understood {
  const shop = severalProducts(catalog);
  if (shop === null || !completes(reading, text)) return null;
  const named = readProduct(text, shop, languageOf(text));
  if (named === null) return null;
  // "thanks for the gpt key": the name is part of a thank-you
  if (reading.kind === "none" && named.amount === null && mentionsThanks(readText(text).words))
    return { command: { type: "THANKS" }, source: "rules" };
  const product = named.productId;
  const amount = named.amount ?? (reading.kind === "amount" || reading.kind === "budget" || reading.kind === "clarify" ? reading : null);
  const take = (command: Command, note?: { kind: "budget"; usdCents: number }): Understood =>
    allowed.includes(command.type) ? { command, source: "rules", ...(note ? { note } : {}) } : null;
  if (amount === null) return take({ type: "SET_PRODUCT", product });
  const view = singleProductView(shop, product);
  switch (amount.kind) {
    case "amount":
      return take({ type: "SET_AMOUNT", tokens: amount.tokens, product });
    case "budget": {
      const tokens = tokensForBudget(view, amount.usdCents);
      return TokenAmount.safeParse(tokens).success
        ? take({ type: "SET_AMOUNT", tokens, product }, { kind: "budget", usdCents: amount.usdCents })
        : null;
    }
    case "clarify": {
      const choices = choicesFor(amount.candidates, view);
      return choices ? { choices, source: "rules" } : null;
    }
    default: {
      const unhandled: never = amount;
      return unhandled;
    }
  }
}
