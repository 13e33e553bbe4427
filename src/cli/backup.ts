/**
 * `npm run backup -- [--to FILE]`: a copy of the shop's store (`STORE_URL`, read like `npm start`
 * reads it), taken while the bot runs.
 *
 * - SQLite: SQLite's online backup of the file, in one step (so a write meanwhile cannot restart it),
 *   then checked (`quick_check`) and made a single self-contained file. Default FILE:
 *   `backups/<store name>-<UTC time>.sqlite` beside the store file.
 * - Redis / Redis Cluster: every key the shop owns (the store's key prefix, every shard), each shard
 *   as it stood at one moment, as JSON lines. Default FILE: `backups/tokengoblin-<UTC time>.jsonl`
 *   in the current folder.
 *
 * The file appears under its name only once it is complete (it is written as `FILE.partial`). Exit
 * codes: 0 written, 1 failed (nothing left under FILE), 2 wrong usage.
 */
import { chmodSync, existsSync, mkdirSync, renameSync, rmSync, statSync } from "node:fs";
import { basename, dirname, extname, join, resolve } from "node:path";
import Database from "better-sqlite3";
import { STORE_SCHEMA_VERSION } from "../domain/records.ts";
import { type StoreCounts, emptyCounts, formatCounts } from "../store/index.ts";
import { sqliteHoldings } from "../store/sqlite-dump.ts";
import { openBackupWriter } from "./backup-file.ts";
import {
  ToolError,
  elapsed,
  onlyOptions,
  openToolStore,
  option,
  progressLine,
  runTool,
  stamp,
  storeFromEnvironment,
  storeName,
} from "./store-tools.ts";

const USAGE = "usage: npm run backup -- [--to FILE]   (the store is STORE_URL, from the environment or .env)";
const TOOL = "backup";

/** Where the backup goes: `--to`, or the default folder; refuses to overwrite anything. */
function destination(to: string | undefined, fallback: string): string {
  const file = resolve(to ?? fallback);
  if (existsSync(file)) throw new ToolError(`${file} already exists: choose another --to (a backup never overwrites a file)`);
  try {
    mkdirSync(dirname(file), { recursive: true });
  } catch (error) {
    throw new ToolError(`cannot create the folder ${dirname(file)} (${(error as Error).message}): choose a writable place with --to`);
  }
  return file;
}

/** SQLite: the online backup API, then a check of the copy. */
async function backupSqlite(path: string, to: string | undefined): Promise<{ file: string; counts: string }> {
  const source = resolve(path);
  if (!existsSync(source))
    throw new ToolError(`there is no store at ${source}: check STORE_URL (the bot creates the file on its first start)`);
  const file = destination(to, join(dirname(source), "backups", `${basename(source, extname(source))}-${stamp()}.sqlite`));
  const partial = `${file}.partial`;
  const db = new Database(source, { fileMustExist: true, timeout: 5_000 });
  try {
    const version = db.pragma("user_version", { simple: true }) as number;
    const tables = db.prepare("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'").pluck().get() as number;
    if (version > STORE_SCHEMA_VERSION)
      throw new ToolError(`${source} was written by a newer version (store schema ${version}): back it up with that version`);
    if (tables === 0) throw new ToolError(`${source} holds no tables: it is not a TokenGoblin store (check STORE_URL)`);
    // All pages in one step: a write by the bot between two steps would start the copy over.
    await db.backup(partial, { progress: () => 0x7fffffff });
  } catch (error) {
    rmSync(partial, { force: true });
    throw error;
  } finally {
    db.close();
  }
  const copy = new Database(partial);
  try {
    // One file, no -wal beside it: the copy can be moved and opened read-only anywhere.
    copy.pragma("journal_mode = DELETE");
    const check = copy.pragma("quick_check", { simple: true });
    if (check !== "ok")
      throw new ToolError(`the copy of ${source} failed SQLite's check (${String(check)}): check the disk, then run the backup again`);
    // It may hold goods not yet shown to their customers: readable by this user only.
    chmodSync(partial, 0o600);
    const holds =
      (copy.pragma("user_version", { simple: true }) as number) === STORE_SCHEMA_VERSION
        ? (sqliteHoldings(copy, Date.now()) ?? "an empty store")
        : "the previous version's layout";
    copy.close();
    renameSync(partial, file);
    return { file, counts: holds };
  } catch (error) {
    if (copy.open) copy.close();
    rmSync(partial, { force: true });
    throw error;
  }
}

async function main(argv: string[]): Promise<void> {
  onlyOptions(argv, ["to"], USAGE);
  const to = option(argv, "to", USAGE);
  const { store: location, startupTimeoutMs } = storeFromEnvironment();
  const started = Date.now();
  switch (location.kind) {
    case "memory":
      throw new ToolError(
        "STORE_URL is memory://: that store keeps nothing outside the process running it, so there is nothing to back up",
      );
    case "sqlite": {
      const { file, counts } = await backupSqlite(location.path, to);
      process.stdout.write(
        `backup: wrote ${file} (${statSync(file).size.toLocaleString("en-US")} bytes) from ${storeName(location)} in ${elapsed(started)}: ${counts}\n`,
      );
      return;
    }
    case "redis": {
      const file = destination(to, join("backups", `tokengoblin-${stamp()}.jsonl`));
      const store = await openToolStore(location, startupTimeoutMs);
      const partial = `${file}.partial`;
      const counts: StoreCounts = emptyCounts();
      const progress = progressLine(TOOL);
      let writer: Awaited<ReturnType<typeof openBackupWriter>> | undefined;
      try {
        writer = await openBackupWriter(partial, "redis");
        for await (const item of store.exportAll()) {
          await writer.write(item);
          counts[item.kind]++;
          progress(counts);
        }
        await writer.finish(counts);
        renameSync(partial, file);
      } catch (error) {
        writer?.abort();
        rmSync(partial, { force: true });
        throw error;
      } finally {
        await store.close();
      }
      process.stdout.write(
        `backup: wrote ${file} (${statSync(file).size.toLocaleString("en-US")} bytes) from ${storeName(location)} in ${elapsed(started)}: ${formatCounts(counts)}\n`,
      );
      return;
    }
    default: {
      const unhandled: never = location;
      throw new Error(`unknown store ${JSON.stringify(unhandled)}`);
    }
  }
}

runTool(TOOL, () => main(process.argv.slice(2)));
