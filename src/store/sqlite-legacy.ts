/**
 * Reads what a version before store schema 3 wrote to a SQLite file: keyv tables, renamed
 * `legacy_<collection>` by the migration (src/store/sqlite-schema.ts). Each row is keyed
 * `<collection>:<key>` and holds keyv's envelope `{"value": <record>, "expires"?: <ms>}`.
 */
import type Database from "better-sqlite3";
import type { LegacyData } from "./shop-store.ts";
import { LEGACY_COLLECTIONS, type LegacyCollection, legacyTable } from "./sqlite-schema.ts";

/** Rows read per statement: enough to be cheap, few enough that a big collection never sits in memory. */
const PAGE = 500;

const tablesPresent = (db: Database.Database): LegacyCollection[] => {
  const exists = db.prepare<[string], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?");
  return LEGACY_COLLECTIONS.filter((collection) => exists.get(legacyTable(collection)) !== undefined);
};

/** What an envelope holds: the record, or undefined when it had expired (the old code did not see it either). */
function unwrap(text: string, now: number): { value: unknown } | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not keyv's JSON: handed over as it is, for the migration's schema check to report.
    return { value: text };
  }
  if (typeof parsed !== "object" || parsed === null || !("value" in parsed)) return { value: parsed };
  const expires = "expires" in parsed ? parsed.expires : undefined;
  if (typeof expires === "number" && expires < now) return undefined;
  return { value: parsed.value };
}

/** The file's legacy data, or undefined when it has none (a file created by schema 3 or later). */
export function legacyData(db: Database.Database, clock: () => number): LegacyData | undefined {
  if (tablesPresent(db).length === 0) return undefined;
  const known = (collection: string): LegacyCollection => {
    const found = LEGACY_COLLECTIONS.find((name) => name === collection);
    if (!found) throw new Error(`"${collection}" is not a collection of the old SQLite layout (known: ${LEGACY_COLLECTIONS.join(", ")})`);
    return found;
  };
  return {
    async collections() {
      return tablesPresent(db).filter((collection) => db.prepare(`SELECT 1 FROM "${legacyTable(collection)}" LIMIT 1`).get() !== undefined);
    },
    async *entries(collection) {
      const table = legacyTable(known(collection));
      if (!tablesPresent(db).includes(known(collection))) return;
      const page = db.prepare<[string, number], { key: string; value: string }>(
        `SELECT key, value FROM "${table}" WHERE key > ? ORDER BY key LIMIT ?`,
      );
      const prefix = `${collection}:`;
      // Keyset paging: each page starts after the last key seen, one short statement each (no
      // transaction held open across the caller's awaits, so writers are never kept waiting).
      for (let after = ""; ;) {
        const rows = page.all(after, PAGE);
        for (const row of rows) {
          const unwrapped = unwrap(row.value, clock());
          if (unwrapped) yield [row.key.startsWith(prefix) ? row.key.slice(prefix.length) : row.key, unwrapped.value];
        }
        if (rows.length < PAGE) return;
        after = rows[rows.length - 1]!.key;
      }
    },
    async drop() {
      db.transaction(() => {
        for (const collection of LEGACY_COLLECTIONS) db.exec(`DROP TABLE IF EXISTS "${legacyTable(collection)}"`);
      }).immediate();
    },
  };
}
