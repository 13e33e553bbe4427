/**
 * The promo codes in force: the catalog file's, with the owner's dashboard changes (codes added,
 * codes switched off) read from the store each time a code is judged, so every instance applies a
 * change at once. The last table read is kept for what must answer without waiting (a reply saying
 * what a code takes off).
 */
import { NO_OWNER_PROMOS, OwnerPromos, type PromoRow, promoRows, promosInForce, withPromo, withSwitch } from "../domain/owner-promos.ts";
import type { Promo } from "../domain/products.ts";
import { type Collection, collectionOf } from "../store/kv.ts";
import type { ShopStore } from "../store/shop-store.ts";

const TABLE_KEY = "table";

export type PromoBook = {
  /** The codes customers can use, read now (one store read for the dashboard's changes). */
  inForce(): Promise<Promo[]>;
  /** The codes in force as of the last read, without waiting (the file's alone before the first). */
  known(): readonly Promo[];
  /** The owner's list: every code, where it comes from, whether it is switched off. */
  rows(): Promise<PromoRow[]>;
  /** Adds the owner's code (or replaces their code of that name), switched on. */
  add(promo: Promo, by: string, at: number): Promise<void>;
  /** Switches a code off or on; false when no list has it. */
  setDisabled(code: string, disabled: boolean, by: string, at: number): Promise<boolean>;
};

/** The book over the store's `promos` key-value namespace. */
export function createPromoBook(file: readonly Promo[], store: Pick<ShopStore, "kv">): PromoBook {
  return promoBookOver(file, collectionOf(store.kv("promos"), OwnerPromos));
}

/** The file's codes only: nothing the owner changes (tests and tools without a store). */
export function filePromoBook(file: readonly Promo[]): PromoBook {
  let table: OwnerPromos = NO_OWNER_PROMOS;
  return promoBookOver(file, {
    get: async () => table,
    set: async (_key, value) => void (table = value),
    delete: async () => void (table = NO_OWNER_PROMOS),
  });
}

function promoBookOver(file: readonly Promo[], tables: Collection<OwnerPromos>): PromoBook {
  let last: Promo[] = [...file];
  /** The stored table, and what it puts in force (kept as `last`). */
  const read = async () => {
    const table = (await tables.get(TABLE_KEY)) ?? NO_OWNER_PROMOS;
    last = promosInForce(file, table);
    return table;
  };
  // Two owners saving at the same moment on two instances: the later write wins (a shop has one owner).
  const write = async (table: OwnerPromos) => {
    await tables.set(TABLE_KEY, table);
    last = promosInForce(file, table);
  };
  return {
    inForce: async () => {
      await read();
      return last;
    },
    known: () => last,
    rows: async () => promoRows(file, await read()),
    add: async (promo, by, at) => write(withPromo(await read(), promo, by, at)),
    setDisabled: async (code, disabled, by, at) => {
      const next = withSwitch(await read(), file, code, disabled, by, at);
      if (next === null) return false;
      await write(next);
      return true;
    },
  };
}
