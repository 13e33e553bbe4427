import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { z } from "zod";
import { type Backend, openBackend } from "../../src/store/index.ts";

const dir = mkdtempSync(join(tmpdir(), "tokengoblin-store-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const backends: [string, () => Promise<Backend>][] = [
  ["memory", () => openBackend({ kind: "memory" })],
  ["sqlite", () => openBackend({ kind: "sqlite", path: join(dir, "claims.sqlite") })],
];

describe.each(backends)("%s store", (_name, open) => {
  test("a claim belongs to one owner, is re-entrant for it, and frees itself when its lease runs out", async () => {
    const backend = await open();
    try {
      // A lease long enough that a busy machine cannot let it run out between two of these lines.
      expect(await backend.claims.tryClaim("chat:1", "a", 600)).toBe(true);
      expect(await backend.claims.tryClaim("chat:1", "b", 600)).toBe(false);
      expect(await backend.claims.tryClaim("chat:1", "a", 600)).toBe(true);
      expect(await backend.claims.holder("chat:1")).toBe("a");
      await new Promise((resolve) => setTimeout(resolve, 700));
      expect(await backend.claims.tryClaim("chat:1", "b", 600)).toBe(true);
      await backend.claims.release("chat:1", "a"); // not a's any more: nothing happens
      expect(await backend.claims.holder("chat:1")).toBe("b");
      await backend.claims.release("chat:1", "b");
      expect(await backend.claims.holder("chat:1")).toBeUndefined();
    } finally {
      await backend.close();
    }
  });

  test("a claim without a lease never expires", async () => {
    const backend = await open();
    try {
      expect(await backend.claims.tryClaim("late-payment:o1", "pay_1", null)).toBe(true);
      expect(await backend.claims.tryClaim("late-payment:o1", "pay_2", null)).toBe(false);
      expect(await backend.claims.holder("late-payment:o1")).toBe("pay_1");
    } finally {
      await backend.close();
    }
  });

  test("collections keep records apart by name, and deleting tells nothing was there", async () => {
    const backend = await open();
    try {
      const a = backend.collection("alpha", z.object({ n: z.number() }));
      const b = backend.collection("beta", z.object({ n: z.number() }));
      await a.set("k", { n: 1 });
      expect(await b.get("k")).toBeUndefined();
      expect(await backend.collection("alpha", z.object({ n: z.number() })).get("k")).toEqual({ n: 1 });
      await a.delete("k");
      await a.delete("k");
      expect(await a.get("k")).toBeUndefined();
    } finally {
      await backend.close();
    }
  });
});
