/** The bounded map behind every per-chat, per-user and per-client structure in the process (issue 18, point 7). */
import { describe, expect, test } from "vitest";
import { createBoundedMap } from "../../src/bounded.ts";
import { testClock } from "../support/app.ts";

describe("a bounded map", () => {
  test("holds no more than maxEntries, forgetting the least recently used first", () => {
    const map = createBoundedMap<string, number>({ maxEntries: 3 });
    for (const [i, key] of ["a", "b", "c", "d"].entries()) map.set(key, i);
    expect(map.size).toBe(3);
    expect(map.get("a")).toBeUndefined();
    expect([map.get("b"), map.get("c"), map.get("d")]).toEqual([1, 2, 3]);
  });

  test("an entry read recently outlives one written earlier but not read since", () => {
    const map = createBoundedMap<string, number>({ maxEntries: 2 });
    map.set("old", 1);
    map.set("other", 2);
    expect(map.get("old")).toBe(1);
    map.set("new", 3);
    expect(map.has("old")).toBe(true);
    expect(map.has("other")).toBe(false);
  });

  test("an entry read with a quarter of the map's writes behind it becomes the newest", () => {
    const map = createBoundedMap<string, number>({ maxEntries: 4 });
    for (const [i, key] of ["a", "b", "c", "d"].entries()) map.set(key, i);
    expect(map.get("a")).toBe(0);
    map.set("e", 4);
    expect(map.has("a")).toBe(true);
    expect(map.has("b")).toBe(false);
  });

  test("entries read between every few writes are never dropped, however many others are written", () => {
    const map = createBoundedMap<string, number>({ maxEntries: 100 });
    const hot = Array.from({ length: 20 }, (_, i) => `hot ${i}`);
    for (const key of hot) map.set(key, 1);
    for (let cold = 0; cold < 10_000; cold++) {
      map.set(`cold ${cold}`, 0);
      // Each hot entry is read once every 20 writes of others.
      const key = hot[cold % hot.length] as string;
      expect(map.get(key), `${key} after ${cold} cold writes`).toBe(1);
    }
    expect(map.size).toBe(100);
  });

  test("of 10,000 keys written once, only the newest maxEntries are kept", () => {
    const map = createBoundedMap<number, string>({ maxEntries: 500 });
    for (let chat = 0; chat < 10_000; chat++) map.set(chat, `chat ${chat}`);
    expect(map.size).toBe(500);
    expect(map.get(9_500)).toBe("chat 9500");
    expect(map.get(9_499)).toBeUndefined();
  });

  test("forgets an entry ttl after its last write, however often it was read meanwhile", () => {
    const clock = testClock();
    const map = createBoundedMap<string, string>({ maxEntries: 10, ttlMs: 1_000, clock });
    map.set("chat", "told");
    clock.advance(600);
    expect(map.get("chat")).toBe("told");
    clock.advance(399);
    expect(map.has("chat")).toBe(true);
    clock.advance(1);
    expect(map.get("chat")).toBeUndefined();
    expect(map.size).toBe(0);
  });

  test("a new write restarts an entry's time to live", () => {
    const clock = testClock();
    const map = createBoundedMap<string, number>({ maxEntries: 10, ttlMs: 1_000, clock });
    map.set("chat", 1);
    clock.advance(900);
    map.set("chat", 2);
    clock.advance(900);
    expect(map.get("chat")).toBe(2);
  });

  test("expired entries nobody reads again are swept out by later writes", () => {
    const clock = testClock();
    const map = createBoundedMap<number, true>({ maxEntries: 100_000, ttlMs: 4_000, clock });
    for (let user = 0; user < 10_000; user++) map.set(user, true);
    expect(map.size).toBe(10_000);
    clock.advance(4_000);
    map.set(-1, true);
    expect(map.size).toBe(1);
  });

  test("a time to live given with a write overrides the map's", () => {
    const clock = testClock();
    const map = createBoundedMap<string, number>({ maxEntries: 10, ttlMs: 1_000, clock });
    map.set("short", 1, 100);
    map.set("long", 2, 5_000);
    clock.advance(1_000);
    expect(map.get("short")).toBeUndefined();
    expect(map.get("long")).toBe(2);
  });

  test("without a ttl entries never expire, only the size bound applies", () => {
    const clock = testClock();
    const map = createBoundedMap<string, number>({ maxEntries: 10, clock });
    map.set("kept", 1);
    clock.advance(365 * 24 * 3_600_000);
    expect(map.get("kept")).toBe(1);
  });

  test("refuses a bound that would not bound anything", () => {
    expect(() => createBoundedMap({ maxEntries: 0 })).toThrow(/maxEntries/);
    expect(() => createBoundedMap({ maxEntries: Infinity })).toThrow(/maxEntries/);
    expect(() => createBoundedMap({ maxEntries: 10, ttlMs: 0 })).toThrow(/ttlMs/);
  });
});
