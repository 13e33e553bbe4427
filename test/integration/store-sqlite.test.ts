/**
 * The SQLite store keeps the store contract (test/support/store-contract.ts) with every handle a
 * connection of its own on one file, as two processes sharing it would be; it also reads a file
 * written by the versions before store schema 3 (issue 20).
 */
import { fork } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { ChatId } from "../../src/domain/ids.ts";
import type { ChatRecord } from "../../src/domain/records.ts";
import { type ShopStore, StoreUnavailableError } from "../../src/store/shop-store.ts";
import { sqliteStore } from "../../src/store/sqlite-store.ts";
import { describeStoreContract } from "../support/store-contract.ts";

describeStoreContract("sqlite", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tg-sqlite-contract-"));
  const file = join(dir, "shop.sqlite");
  let now = 1_000_000;
  const handles: ShopStore[] = [];
  return {
    open: async () => {
      const store = await sqliteStore(file, { clock: () => now });
      handles.push(store);
      return store;
    },
    advance: async (ms) => {
      now += ms;
    },
    now: () => now,
    jump: async (ms) => {
      now += ms;
    },
    cleanup: async () => {
      for (const handle of handles) await handle.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

const chatRecord = (id: ChatId, turns: string[]): ChatRecord => ({
  v: 3,
  chatId: id,
  currentOrderId: null,
  recentOrderIds: [],
  turns,
  askedFor: null,
  choices: [],
  profile: { username: null, firstName: null },
  lastActivityAt: 1,
  updatedAt: 1,
});

describe("sqlite store on a shared file", () => {
  let dir: string;
  let file: string;
  let now: number;
  const handles: ShopStore[] = [];
  const open = async () => {
    const store = await sqliteStore(file, { clock: () => now });
    handles.push(store);
    return store;
  };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "tg-sqlite-"));
    file = join(dir, "data", "shop.sqlite");
    now = 1_000_000;
  });
  afterEach(async () => {
    for (const handle of handles.splice(0)) await handle.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("fifty commits racing on one revision across two connections: exactly one wins, the rest see the chat moved", async () => {
    const [a, b] = [await open(), await open()];
    const chat = ChatId.parse("race");
    await a.openChat(chat, { owner: "instance-a", ttlMs: 60_000 });
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        (i % 2 === 0 ? a : b).commit({
          chatId: chat,
          owner: "instance-a",
          chat: { record: chatRecord(chat, [`turn ${i}`]), expectedRev: 0 },
        }),
      ),
    );
    const winners = results.flatMap((result, i) => (result.ok ? [i] : []));
    expect(winners).toHaveLength(1);
    expect(results.filter((result) => !result.ok && result.reason === "moved")).toHaveLength(49);
    const read = await b.readChat(chat);
    expect(read.rev).toBe(1);
    expect(read.chat !== "invalid" && read.chat?.turns).toEqual([`turn ${winners[0]}`]);
  });

  test("processes sharing the file never lose a step: every committed turn is in the chat, and the revision counts them", async () => {
    const setup = await sqliteStore(file);
    const chat = ChatId.parse("raced");
    await setup.openChat(chat, { owner: "racer", ttlMs: 600_000 });
    await setup.commit({ chatId: chat, owner: "racer", chat: { record: chatRecord(chat, []), expectedRev: 0 } });
    const racer = join(import.meta.dirname, "..", "support", "sqlite-racer.ts");
    const racers = ["p1", "p2"].map((name) =>
      fork(racer, [file, name, "400"], { execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] }),
    );
    const readies = racers.map(
      (child) => new Promise<void>((resolve) => child.on("message", (message) => message === "ready" && resolve())),
    );
    const results = racers.map(
      (child) =>
        new Promise<string[]>((resolve, reject) => {
          let turns: string[] = [];
          child.on("message", (message) => Array.isArray(message) && (turns = message as string[]));
          child.on("exit", (code) => (code === 0 ? resolve(turns) : reject(new Error(`a racer exited with ${code}`))));
        }),
    );
    await Promise.all(readies);
    for (const child of racers) child.send("go");
    const won = (await Promise.all(results)).flat();
    const read = await setup.readChat(chat);
    expect(read.chat !== "invalid" && read.chat?.turns.slice().sort()).toEqual(won.slice().sort());
    expect(read.rev).toBe(won.length + 1);
    // Both processes got steps in (a racer exits non-zero on any refusal but "moved").
    expect(new Set(won.map((turn) => turn.split("-")[0]))).toEqual(new Set(["p1", "p2"]));
  }, 60_000);

  test("a chat write is compare-and-set even for the lease holder: a second commit on the revision it read is refused", async () => {
    const [a, b] = [await open(), await open()];
    const chat = ChatId.parse("cas");
    const lease = { owner: "instance-a", ttlMs: 60_000 };
    const opened = await a.openChat(chat, lease);
    expect(opened.held && opened.state.rev).toBe(0);
    expect(
      await a.commit({ chatId: chat, owner: "instance-a", chat: { record: chatRecord(chat, ["first"]), expectedRev: 0 } }),
    ).toMatchObject({ ok: true, rev: 1 });
    expect(
      await b.commit({ chatId: chat, owner: "instance-a", chat: { record: chatRecord(chat, ["lost update"]), expectedRev: 0 } }),
    ).toEqual({
      ok: false,
      reason: "moved",
    });
    expect(
      await b.commit({ chatId: chat, owner: "instance-a", chat: { record: chatRecord(chat, ["second"]), expectedRev: 1 } }),
    ).toMatchObject({ ok: true, rev: 2 });
    const read = await a.readChat(chat);
    expect(read.chat !== "invalid" && read.chat?.turns).toEqual(["second"]);
  });

  test("plain key-value entries run out by the store's clock", async () => {
    const store = await open();
    await store.kv("sandbox_invoices").set("inv-1", { orderId: "ord_1" }, 1_000);
    await store.kv("sandbox_invoices").set("inv-2", { orderId: "ord_2" });
    now += 999;
    expect(await (await open()).kv("sandbox_invoices").get("inv-1")).toEqual({ orderId: "ord_1" });
    now += 1;
    expect(await store.kv("sandbox_invoices").get("inv-1")).toBeUndefined();
    expect(await store.kv("sandbox_invoices").has("inv-1")).toBe(false);
    expect(await store.kv("sandbox_invoices").get("inv-2")).toEqual({ orderId: "ord_2" });
    expect(await store.kv("sandbox_invoices").delete("inv-2")).toBe(true);
    expect(await store.kv("sandbox_invoices").get("inv-2")).toBeUndefined();
  });

  test("clearing one key-value namespace leaves the others", async () => {
    const store = await open();
    await store.kv("preferences").set("42", { language: "ru" });
    await store.kv("stars_invoices").set("42", { payload: "x" });
    await store.kv("stars_invoices").clear();
    expect(await store.kv("preferences").get("42")).toEqual({ language: "ru" });
    expect(await store.kv("stars_invoices").get("42")).toBeUndefined();
  });

  test("a closed handle fails loudly: steps and key-value reject as unavailable, nothing reads as absent", async () => {
    const store = await open();
    await store.kv("preferences").set("42", { language: "ru" });
    await store.close();
    await expect(store.openChat(ChatId.parse("1"), { owner: "a", ttlMs: 1_000 })).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(store.readChat(ChatId.parse("1"))).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(store.kv("preferences").get("42")).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(store.ping()).rejects.toBeInstanceOf(StoreUnavailableError);
  });

  test("a fresh file holds no data of the old layout", async () => {
    const store = await open();
    expect((await store.legacy?.collections()) ?? []).toEqual([]);
    const raw = new Database(file, { readonly: true });
    expect(raw.pragma("user_version", { simple: true })).toBe(3);
    raw.close();
  });

  test("an unopenable path is refused at once, naming the path", async () => {
    const blocker = join(dir, "not-a-directory");
    writeFileSync(blocker, "");
    await expect(sqliteStore(join(blocker, "shop.sqlite"))).rejects.toThrow(join(blocker, "shop.sqlite"));
    const garbage = join(dir, "garbage.sqlite");
    writeFileSync(garbage, "this is not a database, just text long enough to have a header".repeat(20));
    await expect(sqliteStore(garbage)).rejects.toThrow(garbage);
  });

  test("a file of the release before the window of applied updates gains it on open: its newest applied update becomes the floor", async () => {
    const lease = { owner: "a", ttlMs: 60_000 };
    const chat = ChatId.parse("7");
    const before = await open();
    await before.acceptUpdate(chat, 100, "{}", lease);
    await before.commit({ chatId: chat, owner: "a", appliedUpdateId: 100 });
    await before.acceptUpdate(chat, 101, '{"update_id":101}', lease);
    await before.close();
    // As that release left it: no window column, the newest applied id in last_update_id.
    const raw = new Database(file);
    raw.exec("ALTER TABLE chats DROP COLUMN recent_update_ids; ALTER TABLE chats DROP COLUMN updates_applied_at");
    raw.exec("UPDATE chats SET last_update_id = 100");
    raw.close();
    now += 60_000;
    const after = await open();
    // Dated the upgrade: remembered for the whole horizon from now on, then forgotten.
    expect((await after.readChat(chat)).applied).toEqual({ upTo: 100, recent: [], at: now });
    expect(await after.acceptUpdate(chat, 99, "{}", lease)).toMatchObject({ accepted: false });
    expect(await after.queuedUpdates(chat, 5)).toEqual([{ updateId: 101, raw: '{"update_id":101}' }]);
    await after.commit({ chatId: chat, owner: "a", appliedUpdateId: 101 });
    expect((await after.readChat(chat)).applied).toEqual({ upTo: 100, recent: [101], at: now });
  });

  test("a file written by a newer version is refused rather than misread", async () => {
    await (await open()).close();
    const raw = new Database(file);
    raw.pragma("user_version = 4");
    raw.close();
    await expect(sqliteStore(file)).rejects.toThrow(/newer version \(store schema 4/);
  });
});

describe("sqlite store reading a file of the old layout (before store schema 3)", () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "tg-sqlite-legacy-"));
    file = join(dir, "shop.sqlite");
    // Exactly what src/store/sqlite.ts wrote: @keyv/sqlite's "meta" table for the control connection,
    // the claims table, and one keyv table per collection, keys "<collection>:<key>", values keyv's envelope.
    const old = new Database(file);
    old.pragma("journal_mode = WAL");
    old.exec("CREATE TABLE IF NOT EXISTS meta(key VARCHAR(255) PRIMARY KEY, value TEXT )");
    old.exec("CREATE TABLE IF NOT EXISTS claims(key TEXT PRIMARY KEY, owner TEXT NOT NULL, expires_at INTEGER)");
    old.prepare("INSERT INTO claims VALUES (?, ?, ?)").run("update:77", "old-instance", null);
    for (const table of ["conversations", "orders", "payment_index", "audit", "preferences", "sandbox_invoices"]) {
      old.exec(`CREATE TABLE IF NOT EXISTS ${table}(key VARCHAR(255) PRIMARY KEY, value TEXT )`);
    }
    const put = (table: string, key: string, envelope: unknown) =>
      old
        .prepare(`INSERT INTO ${table} (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`)
        .run(`${table}:${key}`, JSON.stringify(envelope));
    put("conversations", "42", { value: { v: 2, rev: 3, chatId: "42", turns: ["hi"] } });
    put("orders", "ord_old1", { value: { v: 1, orderId: "ord_old1", state: "delivered" } });
    put("orders", "ord_old2", { value: { v: 1, orderId: "ord_old2", state: "quoted" } });
    put("payment_index", "sandbox:sbx_1", { value: { orderId: "ord_old1", chatId: "42" } });
    put("preferences", "42", { value: { language: "ru" } });
    put("sandbox_invoices", "sbx_gone", { value: { id: "sbx_gone" }, expires: 1 });
    old.close();
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  test("the old collections are read back, unwrapped, under their own keys; expired ones are left out", async () => {
    const store = await sqliteStore(file, { clock: () => 5_000 });
    const legacy = store.legacy;
    expect(legacy).toBeDefined();
    expect((await legacy!.collections()).sort()).toEqual(["conversations", "orders", "payment_index", "preferences", "sandbox_invoices"]);
    const read = async (collection: string) => {
      const entries: [string, unknown][] = [];
      for await (const entry of legacy!.entries(collection)) entries.push(entry);
      return entries;
    };
    expect(await read("conversations")).toEqual([["42", { v: 2, rev: 3, chatId: "42", turns: ["hi"] }]]);
    expect(await read("orders")).toEqual([
      ["ord_old1", { v: 1, orderId: "ord_old1", state: "delivered" }],
      ["ord_old2", { v: 1, orderId: "ord_old2", state: "quoted" }],
    ]);
    expect(await read("payment_index")).toEqual([["sandbox:sbx_1", { orderId: "ord_old1", chatId: "42" }]]);
    expect(await read("sandbox_invoices")).toEqual([]);
    expect(await read("audit")).toEqual([]);
    await store.close();
  });

  test("the new tables live beside the old ones: the store works at once, and another connection sees the same legacy data", async () => {
    const store = await sqliteStore(file, { clock: () => 5_000 });
    const chat = ChatId.parse("42");
    await store.openChat(chat, { owner: "new", ttlMs: 1_000 });
    expect(await store.commit({ chatId: chat, owner: "new", chat: { record: chatRecord(chat, ["new"]), expectedRev: 0 } })).toMatchObject({
      ok: true,
      rev: 1,
    });
    // The old claims guarded the old version's work only: gone, so nothing is held by a dead instance.
    expect(await store.claims.tryClaim("update:77", "new", null)).toBe(true);
    const other = await sqliteStore(file, { clock: () => 5_000 });
    expect(await other.legacy?.collections()).toContain("orders");
    await store.close();
    await other.close();
  });

  test("paging goes through a collection larger than a page, in key order", async () => {
    const old = new Database(file);
    const insert = old.prepare("INSERT INTO preferences (key, value) VALUES (?, ?)");
    old.transaction(() => {
      for (let i = 0; i < 1_234; i++) insert.run(`preferences:u${String(i).padStart(5, "0")}`, JSON.stringify({ value: { n: i } }));
    })();
    old.close();
    const store = await sqliteStore(file);
    const seen: number[] = [];
    for await (const [key, value] of store.legacy!.entries("preferences")) if (key.startsWith("u")) seen.push((value as { n: number }).n);
    expect(seen).toEqual(Array.from({ length: 1_234 }, (_, i) => i));
    await store.close();
  });

  test("once dropped, the old layout is gone for every connection", async () => {
    const store = await sqliteStore(file);
    await store.legacy!.drop();
    expect(await store.legacy!.collections()).toEqual([]);
    const again = await sqliteStore(file);
    expect(again.legacy).toBeUndefined();
    await store.close();
    await again.close();
  });
});
