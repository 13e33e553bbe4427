/**
 * Memory per chat (issue 18, point 7): the real app and bot as `npm start` runs them in webhook mode
 * (`startTelegram`: the chat inboxes, rate limiter, admin alerts, and the web dashboard switched on by
 * ADMIN_TOKEN when its module loads), fed one message and a "status" from each of N new chats through
 * the webhook route (each waits for the bot's reply), with every Bot API call answered by a
 * transformer (no network). Heap used and RSS are read after a
 * forced GC before and after; the difference divided by N is what each chat leaves behind.
 *
 * On `memory://` the store itself is the data and grows with every chat by design; the bound is judged
 * on SQLite, where the data is on disk and whatever stays in the heap is process state.
 *
 * Needs the GC exposed: `npx tsx --expose-gc bench/memory.ts [chats] [--store=sqlite,memory] [--json]`
 * or `node --expose-gc --import tsx bench/memory.ts`. `npm run bench` runs it in a child process with
 * the flag ({@link measureMemoryInChild}), so nothing the other parts left in the heap counts.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as pause } from "node:timers/promises";
import type { Transformer } from "grammy";
import { createApp } from "../src/app.ts";
import { loadConfig } from "../src/config.ts";
import { silentLogger } from "../src/log.ts";
import { startTelegram } from "../src/telegram/run.ts";
import { offline } from "./telegram.ts";
import { BOT_INFO, textUpdate } from "./updates.ts";

/** The goal: heap used after GC grows by at most this much over 10,000 chats on SQLite. */
export const MEMORY_GOAL_MB = 20;
/** Chats the bench walks through. */
export const MEMORY_CHATS = 10_000;

export type MemoryFigures = {
  store: "memory" | "sqlite";
  chats: number;
  /** Whether the web dashboard was on (ADMIN_TOKEN). */
  dashboard: boolean;
  heapBeforeMb: number;
  heapAfterMb: number;
  rssBeforeMb: number;
  rssAfterMb: number;
  /** Heap used per chat, KB (after GC). */
  heapPerChatKb: number;
  seconds: number;
};

const MB = 1024 * 1024;

/** Two full collections with a pause between, so weak references and finalizers settle. */
async function collect(): Promise<NodeJS.MemoryUsage> {
  const gc = globalThis.gc;
  if (!gc) throw new Error("run with the GC exposed: npx tsx --expose-gc bench/memory.ts (or node --expose-gc --import tsx ...)");
  gc();
  await pause(100);
  gc();
  await pause(50);
  return process.memoryUsage();
}

/** Whether the web dashboard's module loads (it is being rewritten for the new core; until then (m) runs without it). */
async function dashboardLoads(): Promise<boolean> {
  try {
    await import("../src/dashboard/index.ts");
    return true;
  } catch {
    return false;
  }
}

/** Walks `chats` new chats through the bot on one store; returns heap and RSS before and after. */
export async function measureMemory(store: "memory" | "sqlite", chats = MEMORY_CHATS): Promise<MemoryFigures> {
  const dir = mkdtempSync(join(tmpdir(), "tokengoblin-memory-"));
  const storeUrl = store === "memory" ? "memory://" : `sqlite://${join(dir, "shop.sqlite")}`;
  const dashboard = await dashboardLoads();
  const env = {
    STORE_URL: storeUrl,
    TELEGRAM_BOT_TOKEN: "1:bench",
    TELEGRAM_WEBHOOK_URL: "https://shop.example/telegram/webhook",
    TELEGRAM_WEBHOOK_SECRET: "bench-secret",
    ...(dashboard ? { ADMIN_TOKEN: "bench-admin-token-0123456789" } : {}),
    ADMIN_CHAT_IDS: "7",
  };
  const app = await createApp(loadConfig(env), {
    listen: false,
    log: silentLogger,
    sweepIntervalMs: 3_600_000,
    instanceId: "bench-memory",
  });
  // Every Bot API call is answered in-process; a reply to a chat wakes whoever waits for it.
  const waiting = new Map<string, () => void>();
  const replies: Transformer = async (prev, method, payload, signal) => {
    if (method === "sendMessage") {
      const chatId = String((payload as { chat_id?: unknown }).chat_id);
      waiting.get(chatId)?.();
      waiting.delete(chatId);
    }
    return offline(prev, method, payload, signal);
  };
  const telegram = await startTelegram(app, { bot: { botInfo: BOT_INFO, transformers: [replies], retry: false } });
  try {
    /** Posts an update to the webhook route, as Telegram does, and waits for the bot's reply to the chat. */
    const say = async (chatId: number, text: string) => {
      const replied = new Promise<void>((resolve) => waiting.set(String(chatId), resolve));
      const update = textUpdate(chatId, text);
      const response = await app.http.dispatch({
        method: "POST",
        path: telegram.webhookPath ?? "",
        headers: { "x-telegram-bot-api-secret-token": "bench-secret" },
        rawBody: Buffer.from(JSON.stringify(update)),
      });
      if (response.status !== 200) throw new Error(`the webhook answered ${response.status} to update ${update.update_id}`);
      await replied;
    };
    const chat = async (chatId: number) => {
      await say(chatId, "I need 2000 tokens");
      await say(chatId, "status");
    };
    // Warm-up chats: lazily loaded modules, JIT code and first-use caches are not per-chat memory.
    for (let i = 0; i < 300; i++) await chat(900_000_000 + i);
    const before = await collect();
    const started = performance.now();
    for (let i = 0; i < chats; i++) await chat(1_000_000_000 + i);
    const seconds = (performance.now() - started) / 1000;
    const after = await collect();
    return {
      store,
      chats,
      dashboard,
      heapBeforeMb: before.heapUsed / MB,
      heapAfterMb: after.heapUsed / MB,
      rssBeforeMb: before.rss / MB,
      rssAfterMb: after.rss / MB,
      heapPerChatKb: (after.heapUsed - before.heapUsed) / 1024 / chats,
      seconds,
    };
  } finally {
    await telegram.stop();
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** Runs this file in a fresh `node --expose-gc` process and returns its figures, one per store. */
export function measureMemoryInChild(
  chats = MEMORY_CHATS,
  stores: readonly MemoryFigures["store"][] = ["sqlite", "memory"],
): Promise<MemoryFigures[]> {
  const args = ["--expose-gc", "--import", "tsx", join(ROOT, "bench", "memory.ts"), String(chats), `--store=${stores.join(",")}`, "--json"];
  return new Promise((done, fail) => {
    execFile(process.execPath, args, { cwd: ROOT, maxBuffer: 1 << 20, timeout: 15 * 60_000 }, (error, stdout, stderr) => {
      if (error) return fail(new Error(`bench/memory.ts failed: ${stderr.trim() || error.message}`));
      done(JSON.parse(stdout.trim().split("\n").pop() ?? "[]") as MemoryFigures[]);
    });
  });
}

/** One line for a person. */
export function describeMemory(f: MemoryFigures): string {
  const mb = (value: number) => `${value.toFixed(1)} MB`;
  return (
    `${f.store.padEnd(6)} ${f.chats.toLocaleString("en-US")} chats in ${f.seconds.toFixed(1)} s${f.dashboard ? "" : " (dashboard off: its module does not load)"}: ` +
    `heap ${mb(f.heapBeforeMb)} → ${mb(f.heapAfterMb)} (${(f.heapAfterMb - f.heapBeforeMb).toFixed(1)} MB, ${f.heapPerChatKb.toFixed(2)} KB/chat), ` +
    `RSS ${mb(f.rssBeforeMb)} → ${mb(f.rssAfterMb)} (${(((f.rssAfterMb - f.rssBeforeMb) * 1024) / f.chats).toFixed(2)} KB/chat)`
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const chats = Number(args.find((a) => /^\d+$/.test(a)) ?? MEMORY_CHATS);
  const stores = (args
    .find((a) => a.startsWith("--store="))
    ?.slice("--store=".length)
    .split(",") ?? ["sqlite", "memory"]) as ("memory" | "sqlite")[];
  const results: MemoryFigures[] = [];
  for (const store of stores) results.push(await measureMemory(store, chats));
  if (args.includes("--json")) process.stdout.write(`${JSON.stringify(results)}\n`);
  else for (const result of results) console.log(describeMemory(result));
}
