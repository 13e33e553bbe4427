import { type Catalog, productOf } from "../domain/catalog.ts";
import { unitsForBudget } from "../domain/pricing.ts";

/**
 * How many tokens a budget of `usdCents` buys from the catalog's product, its volume tiers included,
 * rounding down so the quote never costs more than the customer said. Integer arithmetic only.
 */
export function tokensForBudget(catalog: Catalog, usdCents: number): number {
  return unitsForBudget(productOf(catalog), usdCents);
}
