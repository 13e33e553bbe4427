/**
 * What a test of the store tools (backup, restore, migrate-store) opens and must undo: scratch
 * folders, opened stores, live apps, isolated Redis prefixes. Each file runs `cleanUpScratch` after each test.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ShopStore, openStore, parseStoreUrl } from "../../src/store/index.ts";

/** Each test runs the tools as processes, several times: about 2 s each on a busy machine. */
export const TOOLS_TIMEOUT_MS = 90_000;

/** Undone in reverse order after each test. */
export const cleanups: (() => Promise<void> | void)[] = [];

export async function cleanUpScratch(): Promise<void> {
  while (cleanups.length > 0) await cleanups.pop()!();
}

/** A temporary folder, removed after the test. */
export function scratchDir(purpose: string): string {
  const dir = mkdtempSync(join(tmpdir(), `tokengoblin-${purpose}-`));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The store a URL names, closed after the test. */
export async function opened(url: string): Promise<ShopStore> {
  const store = await openStore(parseStoreUrl(url)!);
  cleanups.push(() => store.close());
  return store;
}
