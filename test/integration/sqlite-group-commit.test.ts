/**
 * Group commit on SQLite (src/store/sqlite-group-commit.ts): writes of different chats asked for at
 * the same moment share one COMMIT, yet each stays all-or-nothing, and nobody hears "stored" before
 * the transaction holding their write committed; and the store built on it keeps its promises.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ChatId, OrderId } from "../../src/domain/ids.ts";
import type { ShopStore } from "../../src/store/shop-store.ts";
import { type GroupCommit, groupCommit } from "../../src/store/sqlite-group-commit.ts";
import { configure } from "../../src/store/sqlite-schema.ts";
import { sqliteStore } from "../../src/store/sqlite-store.ts";
import { chatRecord, orderRecord } from "../support/store-contract.ts";

/** What a write's caller hears when it failed with its group: try again (the store's StoreUnavailableError). */
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
  db.exec("CREATE TABLE once (value TEXT PRIMARY KEY)");
  observer = new Database(file, { readonly: true });
  group = groupCommit(db, {
    failure: (error) => ((error as { code?: string }).code === "SQLITE_BUSY" ? new Unavailable("busy") : error),
    groupFailure: (error) => new Unavailable(`failed with its group: ${String(error)}`),
  });
  const upsert = db.prepare("INSERT INTO chats (chat, value) VALUES (?, ?) ON CONFLICT(chat) DO UPDATE SET value = excluded.value");
  const append = db.prepare("INSERT INTO log (chat, value) VALUES (?, ?)");
  // A second "once" in one transaction makes SQLite roll the whole transaction back by itself.
  const once = db.prepare("INSERT OR ROLLBACK INTO once (value) VALUES ('once')");
  put = group.write(
    (chat: string, value: string) => {
      // A write the table refuses (NOT NULL): SQLite undoes that statement only.
      upsert.run(chat, value === "null" ? (null as unknown as string) : value);
      append.run(chat, value);
      if (value === "once") once.run();
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
    void put("other", "first in this turn");
    const first = put("a", "1");
    const bad = put("b", "bad");
    const after = put("c", "3");
    expect(stored("a")).toBeUndefined(); // a, b and c wait for one group
    expect(await first).toBe("1");
    await expect(bad).rejects.toThrow(/cannot be kept/);
    expect(await after).toBe("3");
    // The bad write's record went back with its log line.
    expect(stored("b")).toBeUndefined();
    expect(logOf("b")).toEqual([]);
    expect([stored("a"), stored("c")]).toEqual(["1", "3"]);
  });

  it("fails a write the table refuses alone, with the table's own error; the others of its group are stored", async () => {
    void put("other", "first in this turn");
    const writes = [put("a", "1"), put("b", "null"), put("c", "3")];
    const outcomes = await Promise.allSettled(writes);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(((outcomes[1] as PromiseRejectedResult).reason as { code?: string }).code).toBe("SQLITE_CONSTRAINT_NOTNULL");
    expect([stored("a"), stored("b"), stored("c")]).toEqual(["1", undefined, "3"]);
    expect(logOf("b")).toEqual([]);
  });

  it("fails the whole group when SQLite rolls its transaction back under one write: the others are told to try again, none is stored", async () => {
    void put("other", "first in this turn");
    const writes = [put("a", "1"), put("b", "once"), put("c", "once"), put("d", "4")];
    const outcomes = await Promise.allSettled(writes);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(["rejected", "rejected", "rejected", "rejected"]);
    const reasons = outcomes.map((outcome) => (outcome as PromiseRejectedResult).reason as Error);
    // The write that broke it hears its own error; those that did nothing wrong hear "try again".
    expect((reasons[2] as { code?: string }).code).toMatch(/^SQLITE_CONSTRAINT/);
    for (const i of [0, 1, 3]) expect(reasons[i]).toBeInstanceOf(Unavailable);
    expect([stored("a"), stored("b"), stored("c"), stored("d")]).toEqual([undefined, undefined, undefined, undefined]);
    expect(await put("a", "again")).toBe("again");
  });

  it("fails the whole group when SQLite fails under one of its writes (I/O, a full disk): none is said to be stored, and none is", async () => {
    void put("other", "first in this turn");
    const writes = [put("a", "1"), put("b", "disk"), put("c", "3")];
    const outcomes = await Promise.allSettled(writes);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(["rejected", "rejected", "rejected"]);
    for (const i of [0, 2]) expect((outcomes[i] as PromiseRejectedResult).reason).toBeInstanceOf(Unavailable);
    expect([stored("a"), stored("b"), stored("c")]).toEqual([undefined, undefined, undefined]);
    expect(await put("a", "again")).toBe("again");
  });

  it("runs the writes that wait when asked to flush (the store does before closing)", async () => {
    void put("other", "first in this turn");
    const waiting = put("a", "1");
    expect(stored("a")).toBeUndefined();
    group.flush();
    expect(stored("a")).toBe("1");
    expect(await waiting).toBe("1");
  });

  it("makes a write wait for the disk unless it holds nothing a power loss could cost (a lease), also in a group", async () => {
    const level = () => db.pragma("synchronous", { simple: true }) as number; // 1 NORMAL, 2 FULL
    const seen = (kind: { durable: boolean }) =>
      group.write(
        (chat: string) => `${chat}:${level()}`,
        (chat) => chat,
        kind,
      );
    const lease = seen({ durable: false });
    const data = seen({ durable: true });
    expect(await lease("a")).toBe("a:1");
    expect(level()).toBe(2); // the connection is back at FULL for everything else
    expect(await data("a")).toBe("a:2");
    void put("other", "first in this turn");
    // A group waits for the disk as soon as one of its writes must, and not when none must.
    expect(await Promise.all([lease("b"), data("c")])).toEqual(["b:2", "c:2"]);
    void put("other", "first in this turn");
    expect(await Promise.all([lease("d"), lease("e")])).toEqual(["d:1", "e:1"]);
    expect(level()).toBe(2);
  });

  it("keeps a write out of a transaction another call holds open on the connection (an export), and stores it once that ends", async () => {
    db.exec("BEGIN"); // as the SQLite export does while it reads, across awaits
    const write = put("a", "1");
    await new Promise((later) => setTimeout(later, 20));
    expect(db.inTransaction).toBe(true);
    expect(stored("a")).toBeUndefined();
    db.exec("ROLLBACK"); // the export ends (had the write joined it, it would be gone now)
    expect(await write).toBe("1");
    expect(stored("a")).toBe("1");
  });

  it("keeps the order of one chat's writes inside a group", async () => {
    void put("other", "first in this turn");
    const writes = [put("a", "1"), put("b", "x"), put("a", "2"), put("a", "3")];
    await Promise.all(writes);
    expect(logOf("a")).toEqual(["1", "2", "3"]);
    expect(stored("a")).toBe("3");
  });

  it("fails the write run at once and the group behind it when the file is locked, stores none of them, and goes on once it is free", async () => {
    const other = new Database(join(dir, "shop.sqlite"));
    other.exec("BEGIN IMMEDIATE"); // another process is writing
    const writes = [put("a", "1"), put("b", "2"), put("c", "3")]; // a runs at once; b and c are a group
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

describe("the SQLite store's writes in groups", () => {
  let storeDir: string;
  const file = () => join(storeDir, "shop.sqlite");
  const lease = { owner: "instance-a", ttlMs: 30_000 };
  beforeEach(() => {
    storeDir = mkdtempSync(join(tmpdir(), "tg-group-store-"));
  });
  afterEach(() => rmSync(storeDir, { recursive: true, force: true }));

  /** One step of a chat: open under the lease, then its first record and order, committed. */
  const firstStep = async (store: ShopStore, n: number) => {
    const chat = ChatId.parse(`chat-${n}`);
    const order = OrderId.parse(`ord_group${n}`);
    await store.openChat(chat, lease);
    return () =>
      store.commit({
        chatId: chat,
        owner: lease.owner,
        chat: { record: chatRecord(chat, order), expectedRev: 0 },
        orders: [orderRecord(order, chat)],
        release: true,
      });
  };

  it("commits the steps of many chats at one moment, each with its own revision, and refuses a stale one among them", async () => {
    const store = await sqliteStore(file());
    try {
      const commits = await Promise.all(Array.from({ length: 12 }, (_, n) => firstStep(store, n)));
      // chat-5 moved on meanwhile (a step of it committed first): its commit below is stale.
      await store.commit({
        chatId: ChatId.parse("chat-5"),
        owner: lease.owner,
        chat: { record: chatRecord(ChatId.parse("chat-5"), null), expectedRev: 0 },
      });
      const results = await Promise.all(commits.map((commit) => commit()));
      expect(results.map((result) => result.ok)).toEqual(results.map((_, n) => n !== 5));
      expect(results[5]).toEqual({ ok: false, reason: "moved" });
      for (let n = 0; n < 12; n++) {
        const state = await store.readChat(ChatId.parse(`chat-${n}`));
        expect(state.rev, `chat-${n}`).toBe(1);
        if (n !== 5) expect(state.order, `chat-${n}`).toMatchObject({ orderId: `ord_group${n}` });
      }
    } finally {
      await store.close();
    }
  });

  it("keeps a claim released after a renewal asked for earlier in the same moment (no later call overtakes an earlier write)", async () => {
    const store = await sqliteStore(file());
    try {
      void store.indexOrder(OrderId.parse("ord_first"), ChatId.parse("chat-1")); // runs at once: what follows is grouped
      const renewal = store.claims.tryClaim("reissue:ord_x", "instance-a", 30_000);
      await store.claims.release("reissue:ord_x", "instance-a");
      await renewal;
      expect(await store.claims.tryClaim("reissue:ord_x", "instance-b", 30_000)).toBe(true);
    } finally {
      await store.close();
    }
  });

  it("stores the writes still waiting when it is closed", async () => {
    const store = await sqliteStore(file());
    const commits = await Promise.all([firstStep(store, 1), firstStep(store, 2)]);
    const done = commits.map((commit) => commit());
    await store.close();
    expect((await Promise.all(done)).map((result) => result.ok)).toEqual([true, true]);
    const again = await sqliteStore(file());
    try {
      expect((await again.readChat(ChatId.parse("chat-2"))).rev).toBe(1);
    } finally {
      await again.close();
    }
  });
});
