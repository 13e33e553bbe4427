/**
 * Group commit on SQLite (src/store/sqlite-group-commit.ts): writes of different chats asked for at
 * the same moment share one COMMIT, yet each stays all-or-nothing, and nobody hears "stored" before
 * the transaction holding their write committed.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { configure } from "../../src/store/sqlite-schema.ts";
import { type GroupCommit, groupCommit } from "../../src/store/sqlite-group-commit.ts";

class Unavailable extends Error {}

let dir: string;
let db: Database.Database;
let observer: Database.Database;
let group: GroupCommit;
/** Writes `value` into chat `chat`'s row (a step's record), and a line of its log; returns the value. */
let put: (chat: string, value: string) => Promise<string>;

const stored = (chat: string) =>
  (observer.prepare("SELECT value FROM chats WHERE chat = ?").get(chat) as { value: string } | undefined)?.value;
const logOf = (chat: string) =>
  (observer.prepare("SELECT value FROM log WHERE chat = ? ORDER BY pos").all(chat) as { value: string }[]).map((row) => row.value);
/** Frames in the write-ahead log: every COMMIT appends the pages it changed. */
const walFrames = () => (db.pragma("wal_checkpoint(PASSIVE)") as { log: number }[])[0]!.log;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "tg-group-commit-"));
  const file = join(dir, "shop.sqlite");
  db = new Database(file);
  configure(db);
  db.pragma("busy_timeout = 0");
  db.pragma("wal_autocheckpoint = 0");
  db.exec("CREATE TABLE chats (chat TEXT PRIMARY KEY, value TEXT NOT NULL)");
  db.exec("CREATE TABLE log (pos INTEGER PRIMARY KEY, chat TEXT NOT NULL, value TEXT NOT NULL)");
  observer = new Database(file, { readonly: true });
  group = groupCommit(db, (error) => ((error as { code?: string }).code === "SQLITE_BUSY" ? new Unavailable("busy") : error));
  const upsert = db.prepare("INSERT INTO chats (chat, value) VALUES (?, ?) ON CONFLICT(chat) DO UPDATE SET value = excluded.value");
  const append = db.prepare("INSERT INTO log (chat, value) VALUES (?, ?)");
  put = group.write(
    (chat: string, value: string) => {
      upsert.run(chat, value);
      append.run(chat, value);
      // A write that fails after it changed rows (a bug, a constraint): all of it must go back.
      if (value === "bad") throw new Error("this write cannot be kept");
      // SQLite failing under a write (an I/O error, a full disk) may have rolled back the whole transaction.
      if (value === "disk") throw Object.assign(new Error("disk I/O error"), { code: "SQLITE_IOERR" });
      return value;
    },
    (chat) => chat,
  );
});

afterEach(() => {
  group.flush();
  observer.close();
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("SQLite group commit", () => {
  it("stores a chat's write at once when no other chat's write came first in this turn", async () => {
    const first = put("a", "1");
    const again = put("a", "2");
    // Stored before the callers even wait: a quiet shop's step pays nothing for grouping.
    expect(stored("a")).toBe("2");
    expect(await first).toBe("1");
    expect(await again).toBe("2");
  });

  it("stores the writes of many chats at one moment together, each answered with its own result", async () => {
    const chats = Array.from({ length: 20 }, (_, i) => `chat-${i}`);
    const writes = chats.map((chat) => put(chat, `value of ${chat}`));
    // The first ran at once; the others wait for the end of this turn of the event loop.
    expect(stored("chat-0")).toBe("value of chat-0");
    expect(stored("chat-1")).toBeUndefined();
    expect(await Promise.all(writes)).toEqual(chats.map((chat) => `value of ${chat}`));
    for (const chat of chats) expect(stored(chat)).toBe(`value of ${chat}`);
  });

  it("writes far fewer pages for twenty chats at once than for the same writes one turn apart", async () => {
    const before = walFrames();
    await Promise.all(Array.from({ length: 20 }, (_, i) => put(`together-${i}`, "x")));
    const together = walFrames() - before;
    for (let i = 0; i < 20; i++) {
      await put(`apart-${i}`, "x");
      await new Promise((next) => setImmediate(next));
    }
    const apart = walFrames() - before - together;
    expect(together).toBeLessThan(apart / 4);
  });

  it("fails a write that throws alone and whole: nothing of it is stored, the others of its group are", async () => {
    const first = put("a", "1");
    const bad = put("b", "bad");
    const after = put("c", "3");
    expect(await first).toBe("1");
    await expect(bad).rejects.toThrow(/cannot be kept/);
    expect(await after).toBe("3");
    // The bad write's record went back with its log line.
    expect(stored("b")).toBeUndefined();
    expect(logOf("b")).toEqual([]);
    expect([stored("a"), stored("c")]).toEqual(["1", "3"]);
  });

  it("fails the whole group when SQLite itself fails under one of its writes: none is said to be stored, and none is", async () => {
    void put("other", "first in this turn");
    const writes = [put("a", "1"), put("b", "disk"), put("c", "3")];
    const outcomes = await Promise.allSettled(writes);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(["rejected", "rejected", "rejected"]);
    expect([stored("a"), stored("b"), stored("c")]).toEqual([undefined, undefined, undefined]);
    expect(await put("a", "again")).toBe("again");
  });

  it("keeps the order of one chat's writes inside a group", async () => {
    void put("other", "first in this turn");
    const writes = [put("a", "1"), put("b", "x"), put("a", "2"), put("a", "3")];
    await Promise.all(writes);
    expect(logOf("a")).toEqual(["1", "2", "3"]);
    expect(stored("a")).toBe("3");
  });

  it("fails every write of a group whose transaction cannot begin, stores none of them, and goes on once the file is free", async () => {
    const other = new Database(join(dir, "shop.sqlite"));
    other.exec("BEGIN IMMEDIATE"); // another process is writing
    const writes = [put("a", "1"), put("b", "2"), put("c", "3")];
    const outcomes = await Promise.allSettled(writes);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(["rejected", "rejected", "rejected"]);
    for (const outcome of outcomes) expect((outcome as PromiseRejectedResult).reason).toBeInstanceOf(Unavailable);
    other.exec("ROLLBACK");
    other.close();
    expect([stored("a"), stored("b"), stored("c")]).toEqual([undefined, undefined, undefined]);
    expect(await Promise.all([put("a", "1"), put("b", "2")])).toEqual(["1", "2"]);
    expect([stored("a"), stored("b")]).toEqual(["1", "2"]);
  });
});
