import { type Catalog, productOf } from "../domain/catalog.ts";
import { type AmountChoice, TokenAmount } from "../domain/commands.ts";
import { unitsForBudget } from "../domain/pricing.ts";
import type { AmountOption } from "./reading.ts";

/**
 * How many tokens a budget of `usdCents` buys from the catalog's product, its volume tiers included,
 * rounding down so the quote never costs more than the customer said. Integer arithmetic only.
 */
export function tokensForBudget(catalog: Catalog, usdCents: number): number {
  return unitsForBudget(productOf(catalog), usdCents);
}

/** The distinct token amounts of a `clarify` reading, budgets priced; null when fewer than two remain. */
export function choicesFor(options: readonly AmountOption[], catalog: Catalog): AmountChoice[] | null {
  const choices: AmountChoice[] = [];
  for (const option of options) {
    const choice =
      option.kind === "amount"
        ? { tokens: option.tokens }
        : { tokens: tokensForBudget(catalog, option.usdCents), usdCents: option.usdCents };
    if (TokenAmount.safeParse(choice.tokens).success && !choices.some((c) => c.tokens === choice.tokens)) choices.push(choice);
  }
  return choices.length >= 2 ? choices : null;
}
