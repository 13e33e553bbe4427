/**
 * Backup files. An SQLite store is backed up as an SQLite file (the online backup API's copy); any
 * other store as JSON lines: a header naming the format, one store item per line (src/store/dump.ts),
 * and an end line with the counts, so a file cut short is never taken for a whole backup.
 */
import { createReadStream, createWriteStream, openSync, readSync, closeSync } from "node:fs";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { z } from "zod";
import { STORE_SCHEMA_VERSION } from "../domain/records.ts";
import { type StoreCounts, StoreItem, emptyCounts } from "../store/index.ts";

/** What kind of backup a file holds, judged by its first bytes. */
export type BackupKind = "sqlite" | "jsonl";

const FORMAT = "tokengoblin-backup";

const Header = z.object({
  format: z.literal(FORMAT),
  version: z.literal(1),
  storeSchema: z.number().int(),
  source: z.string(),
  createdAt: z.string(),
});
const Trailer = z.object({ end: z.literal(true), counts: z.record(z.string(), z.number().int()) });

/** The kind of backup in `file`; throws a message for the operator when it is neither. */
export function backupKind(file: string): BackupKind {
  const head = Buffer.alloc(64);
  let read = 0;
  const fd = openSync(file, "r");
  try {
    read = readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  if (read >= 16 && head.subarray(0, 16).toString("latin1") === "SQLite format 3\u0000") return "sqlite";
  if (head.subarray(0, read).toString("utf8").startsWith(`{"format":"${FORMAT}"`)) return "jsonl";
  throw new Error(`${file} is not a TokenGoblin backup (neither an SQLite file nor a backup written by npm run backup)`);
}

/** Writes a JSON-lines backup: `write` each item, then `finish` with the counts (or `abort`). */
export async function openBackupWriter(file: string, source: string) {
  const out = createWriteStream(file, { flags: "wx", mode: 0o600 });
  await once(out, "open");
  const line = async (value: unknown) => {
    if (!out.write(`${JSON.stringify(value)}\n`)) await once(out, "drain");
  };
  await line({ format: FORMAT, version: 1, storeSchema: STORE_SCHEMA_VERSION, source, createdAt: new Date().toISOString() });
  return {
    write: (item: StoreItem) => line(item),
    async finish(counts: StoreCounts) {
      await line({ end: true, counts });
      out.end();
      await once(out, "finish");
      await new Promise<void>((resolve, reject) => out.close((error) => (error ? reject(error) : resolve())));
    },
    abort() {
      out.destroy();
    },
  };
}

/**
 * The items of a JSON-lines backup, checked line by line. Throws, naming the line, for a line that is
 * not an item, a file written by a newer store schema, or a file without its end line (cut short).
 */
export async function* readBackupItems(file: string): AsyncGenerator<StoreItem> {
  const lines = createInterface({ input: createReadStream(file, { encoding: "utf8" }), crlfDelay: Infinity });
  let number = 0;
  let ended: StoreCounts | null = null;
  const counts = emptyCounts();
  for await (const text of lines) {
    number++;
    if (text.trim() === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new Error(`${file}, line ${number}: not JSON; the file is damaged`);
    }
    if (number === 1) {
      const header = Header.safeParse(value);
      if (!header.success) throw new Error(`${file} is not a backup written by npm run backup (line 1)`);
      if (header.data.storeSchema > STORE_SCHEMA_VERSION)
        throw new Error(`${file} was written by a newer version (store schema ${header.data.storeSchema}): restore it with that version`);
      continue;
    }
    if (ended) throw new Error(`${file}, line ${number}: something after the end line; the file is damaged`);
    const trailer = Trailer.safeParse(value);
    if (trailer.success) {
      ended = { ...emptyCounts(), ...trailer.data.counts };
      continue;
    }
    const item = StoreItem.safeParse(value);
    if (!item.success)
      throw new Error(`${file}, line ${number}: not a store item (${item.error.issues[0]?.message ?? "invalid"}); the file is damaged`);
    counts[item.data.kind]++;
    yield item.data;
  }
  if (!ended) throw new Error(`${file} ends before its end line: the backup was cut short (take a new one)`);
  for (const kind of Object.keys(counts) as (keyof StoreCounts)[]) {
    if (counts[kind] !== ended[kind])
      throw new Error(`${file} holds ${counts[kind]} ${kind} items but its end line says ${ended[kind]}: the file is damaged`);
  }
}

/** Reads the whole file once, so a damaged backup is refused before anything is written. */
export async function checkBackupFile(file: string): Promise<StoreCounts> {
  const counts = emptyCounts();
  for await (const item of readBackupItems(file)) counts[item.kind]++;
  return counts;
}
