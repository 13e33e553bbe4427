/**
 * Promo codes the owner manages in the dashboard, beside the catalog file's: codes added there, and
 * codes (the file's or the dashboard's) switched off and on. Kept as one small table (a shop has a few
 * codes, not thousands); these pure functions say which codes are in force and how the owner's list reads.
 */
import { z } from "zod";
import { Promo } from "./products.ts";
import { normalizePromoCode } from "./promos.ts";

/** What the owner set for one code: a code of their own (`promo`), or only a switch on a file code (`promo` null). */
export const OwnerPromoEntry = z
  .object({
    promo: Promo.nullable(),
    disabled: z.boolean(),
    /** Who changed it last ("web" for the dashboard) and when (epoch ms): shown on the list. */
    by: z.string(),
    at: z.number().int(),
  })
  .strict();
export type OwnerPromoEntry = z.infer<typeof OwnerPromoEntry>;

/** The whole table, by normalized code. */
export const OwnerPromos = z.object({ v: z.literal(1), codes: z.record(z.string(), OwnerPromoEntry) }).strict();
export type OwnerPromos = z.infer<typeof OwnerPromos>;

export const NO_OWNER_PROMOS: OwnerPromos = { v: 1, codes: {} };

/** One line of the owner's list of codes. */
export type PromoRow = { promo: Promo; source: "file" | "dashboard"; disabled: boolean; changedAt: number | null };

/** Every code the owner has, the file's first (in file order), then the dashboard's by code. */
export function promoRows(file: readonly Promo[], owner: OwnerPromos): PromoRow[] {
  const rows: PromoRow[] = [];
  const fromFile = new Set<string>();
  for (const promo of file) {
    const key = normalizePromoCode(promo.code);
    fromFile.add(key);
    const entry = owner.codes[key];
    rows.push({
      promo: entry?.promo ?? promo,
      source: entry?.promo ? "dashboard" : "file",
      disabled: entry?.disabled ?? false,
      changedAt: entry?.at ?? null,
    });
  }
  for (const [key, entry] of Object.entries(owner.codes).sort(([a], [b]) => a.localeCompare(b))) {
    if (fromFile.has(key) || entry.promo === null) continue;
    rows.push({ promo: entry.promo, source: "dashboard", disabled: entry.disabled, changedAt: entry.at });
  }
  return rows;
}

/** The codes customers can use now: every code on the owner's list that is not switched off. */
export function promosInForce(file: readonly Promo[], owner: OwnerPromos): Promo[] {
  return promoRows(file, owner)
    .filter((row) => !row.disabled)
    .map((row) => row.promo);
}

/** The table with `promo` added (or replacing the dashboard's code of the same name), switched on. */
export function withPromo(owner: OwnerPromos, promo: Promo, by: string, at: number): OwnerPromos {
  return { v: 1, codes: { ...owner.codes, [normalizePromoCode(promo.code)]: { promo, disabled: false, by, at } } };
}

/** The table with `code` switched off or on; null when the code is on no list. */
export function withSwitch(
  owner: OwnerPromos,
  file: readonly Promo[],
  code: string,
  disabled: boolean,
  by: string,
  at: number,
): OwnerPromos | null {
  const key = normalizePromoCode(code);
  const entry = owner.codes[key];
  const inFile = file.some((promo) => normalizePromoCode(promo.code) === key);
  if (!entry && !inFile) return null;
  return { v: 1, codes: { ...owner.codes, [key]: { promo: entry?.promo ?? null, disabled, by, at } } };
}
