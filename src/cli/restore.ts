/**
 * `npm run restore -- --from FILE`: loads a backup written by `npm run backup` into the store
 * `STORE_URL` names (read like `npm start` reads it), which must be empty: a new SQLite file, or a
 * Redis prefix or database holding none of a shop's data. Stop the bot first, and start it on the
 * restored store afterwards.
 *
 * Either kind of backup goes into either kind of store: an SQLite backup into a new SQLite file is a
 * copy of the file (an older version's layout included: the bot upgrades it when it starts);
 * anything else goes item by item. A JSON-lines backup is read once whole before anything is written,
 * so a damaged or cut-short file changes nothing. Exit codes: 0 restored, 1 failed, 2 wrong usage.
 */
import { existsSync, mkdirSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import Database from "better-sqlite3";
import { STORE_SCHEMA_VERSION } from "../domain/records.ts";
import { type ImportReport, type StoreLocation, StoreNeedsUpgradeError, formatCounts } from "../store/index.ts";
import { exportSqlite, sqliteHoldings } from "../store/sqlite-dump.ts";
import { backupKind, checkBackupFile, readBackupItems } from "./backup-file.ts";
import {
  ToolError,
  elapsed,
  loadInto,
  onlyOptions,
  openToolStore,
  option,
  runTool,
  storeFromEnvironment,
  storeName,
} from "./store-tools.ts";

const USAGE = "usage: npm run restore -- --from FILE   (into the store STORE_URL names, from the environment or .env; it must be empty)";
const TOOL = "restore";

/** An SQLite backup into a SQLite file that does not exist yet: the file is copied page by page. */
async function copySqliteFile(from: string, to: string): Promise<string> {
  mkdirSync(dirname(to), { recursive: true });
  const source = new Database(from, { readonly: true, fileMustExist: true });
  try {
    await source.backup(to, { progress: () => 0x7fffffff });
  } finally {
    source.close();
  }
  const copy = new Database(to, { fileMustExist: true });
  try {
    // The bot's own settings (WAL); it migrates older layouts itself when it starts.
    copy.pragma("journal_mode = WAL");
    return (copy.pragma("user_version", { simple: true }) as number) === STORE_SCHEMA_VERSION
      ? (sqliteHoldings(copy, Date.now()) ?? "an empty store")
      : "the previous version's layout (the bot upgrades it on start)";
  } finally {
    copy.close();
  }
}

async function restoreItems(
  file: string,
  kind: "sqlite" | "jsonl",
  location: StoreLocation,
  startupTimeoutMs: number,
): Promise<ImportReport> {
  if (kind === "jsonl") await checkBackupFile(file);
  const store = await openToolStore(location, startupTimeoutMs);
  const backup = kind === "sqlite" ? new Database(file, { readonly: true, fileMustExist: true }) : undefined;
  try {
    const items = backup ? exportSqlite(backup, file, Date.now()) : readBackupItems(file);
    return await loadInto(TOOL, store, location, items);
  } catch (error) {
    if (error instanceof StoreNeedsUpgradeError && backup) {
      throw new ToolError(
        `${file} holds the previous version's layout: restore it into a new SQLite file (STORE_URL=sqlite://<new path>), start the bot there once, then move it with npm run migrate-store`,
      );
    }
    throw error;
  } finally {
    backup?.close();
    await store.close();
  }
}

async function main(argv: string[]): Promise<void> {
  onlyOptions(argv, ["from"], USAGE);
  const from = option(argv, "from", USAGE);
  if (!from) throw new ToolError(`--from FILE is required.\n${USAGE}`, 2);
  const file = resolve(from);
  if (!existsSync(file) || !statSync(file).isFile()) throw new ToolError(`there is no backup file at ${file}`);
  let kind;
  try {
    kind = backupKind(file);
  } catch (error) {
    throw new ToolError((error as Error).message);
  }
  const { store: location, startupTimeoutMs } = storeFromEnvironment();
  if (location.kind === "memory")
    throw new ToolError(
      "STORE_URL is memory://: what is restored there vanishes when this command ends; set STORE_URL to the store to restore into",
    );
  const started = Date.now();
  const target = storeName(location);
  if (
    kind === "sqlite" &&
    location.kind === "sqlite" &&
    !existsSync(resolve(location.path)) &&
    !existsSync(`${resolve(location.path)}-wal`)
  ) {
    const holds = await copySqliteFile(file, resolve(location.path));
    process.stdout.write(`restore: copied ${file} into ${target} in ${elapsed(started)}: ${holds}. Start the bot on it.\n`);
    return;
  }
  const report = await restoreItems(file, kind, location, startupTimeoutMs);
  const rebuilt =
    report.projectionsLeftToRebuild > 0
      ? ` (${report.projectionsLeftToRebuild} saved read model(s) will be rebuilt from the log on first use)`
      : "";
  process.stdout.write(
    `restore: loaded ${file} into ${target} in ${elapsed(started)}: ${formatCounts(report.counts)}${rebuilt}. Start the bot on it.\n`,
  );
}

runTool(TOOL, () => main(process.argv.slice(2)));
