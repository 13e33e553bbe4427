/**
 * `npm run bench` — performance ratios measured in one run (each against a floor measured in the same
 * run, so the machine's speed cancels out). Prints a table; docs/performance.md explains the numbers.
 *
 *  (a) engine + store, messages/s, vs the bare XState step and the raw keyv round trip;
 *  (b) grammY + engine per Telegram update (bot.handleUpdate, no network) vs bare grammY + bare XState;
 *  (c) cost of a conversation's 100th message vs its 1st: this engine vs @grammyjs/conversations;
 *  (d) SQLite vs Redis, each vs its raw keyv floor; SQLite default journal vs WAL + synchronous=NORMAL;
 *  (e) the web dashboard with 100,000 orders (bench/dashboard.ts).
 *
 * Redis parts run when REDIS_URL (default redis://127.0.0.1:6379) answers; they use database 6 and
 * flush it. BENCH_SCALE=0.2 makes everything shorter (smoke run).
 *
 * Part (s), start-up as users feel it, is wall-clock, not a ratio: `npm start` until /healthz answers,
 * and idle RSS (bench/startup.ts). Part (m), memory kept per chat: heap and RSS after GC before and
 * after 10,000 new chats through the Telegram path (bench/memory.ts). Both run last, in child processes.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@keyv/redis";
import { type App, createApp } from "../src/app.ts";
import { loadConfig } from "../src/config.ts";
import { silentLogger } from "../src/log.ts";
import { bareXStateStep, rawKeyvRoundTrip, rawKeyvWrite, redisKeyv, sqliteKeyv } from "./floors.ts";
import { dashboardBench } from "./dashboard.ts";
import { MEMORY_CHATS, MEMORY_GOAL_MB, measureMemoryInChild } from "./memory.ts";
import { createConversationsBot } from "./grammy-conversations.ts";
import { STARTUP_GOALS, measureStartup } from "./startup.ts";
import { bareGrammyReply, telegramEngine } from "./telegram.ts";
import { medianOf, now, throughput, usPerOp } from "./timing.ts";

const SCALE = Number(process.env.BENCH_SCALE ?? "1");
const n = (count: number) => Math.max(20, Math.round(count * SCALE));

type Row = { part: string; what: string; value: string; floor?: string; ratio?: number; goal?: string; ok?: boolean };
const rows: Row[] = [];
const us = (value: number) => `${value.toFixed(0)} µs`;
const perSecond = (usPerMessage: number) => `${Math.round(1e6 / usPerMessage).toLocaleString("en-US")} msg/s`;

async function redisUrl(): Promise<string | null> {
  const url = new URL(process.env.REDIS_URL ?? "redis://127.0.0.1:6379");
  url.pathname = "/6";
  const client = createClient({ url: url.toString(), socket: { connectTimeout: 1000, reconnectStrategy: false } });
  client.on("error", () => {});
  try {
    await client.connect();
    await client.flushDb();
    await client.quit();
    return url.toString();
  } catch {
    return null;
  }
}

async function openApp(storeUrl: string): Promise<App> {
  return createApp(loadConfig({ STORE_URL: storeUrl }), { listen: false, log: silentLogger, sweepIntervalMs: 3_600_000, instanceId: "bench" });
}

const AMOUNTS = ["change it to 2000", "make it 3000"];

/** (a) engine messages on one store: sequential on one chat, and 16 chats at once (throughput). */
async function engineOnStore(label: string, storeUrl: string, floorUs: number) {
  const app = await openApp(storeUrl);
  try {
    await app.engine.handleText("seq", "I need 1000 tokens");
    // A long warm-up: V8 needs a few thousand messages before the hot path is optimised.
    const sequential = await usPerOp(
      n(1500),
      async (i) => {
        const reply = await app.engine.handleText("seq", AMOUNTS[i % 2] as string);
        if (reply.kind !== "order") throw new Error(`unexpected reply ${reply.kind}`);
      },
      n(2500),
    );
    const lanes = 16;
    for (let lane = 0; lane < lanes; lane++) await app.engine.handleText(`lane-${lane}`, "I need 1000 tokens");
    const concurrent = await throughput(lanes, n(150), (lane, i) => app.engine.handleText(`lane-${lane}`, AMOUNTS[i % 2] as string));
    rows.push({
      part: "a",
      what: `engine+${label}, 1 chat sequential`,
      value: `${us(sequential)} (${perSecond(sequential)})`,
      floor: us(floorUs),
      ratio: sequential / floorUs,
      goal: "≤ 2×",
      ok: sequential / floorUs <= 2,
    });
    // On a dedicated 2-core machine throughput is capped by the main thread and by total CPU.
    const capacity = Math.min(1e6 / concurrent.jsUs, 2e6 / concurrent.cpuUs);
    const sqliteGoal = label === "sqlite";
    rows.push({
      part: "a",
      what: `engine+${label}, 16 chats concurrent`,
      value: `${us(concurrent.wallUs)} (${perSecond(concurrent.wallUs)})`,
      // Issue 12 retired the "≥ 3,000 msg/s on SQLite" goal: shown for reference, never a failure.
      ...(sqliteGoal ? { goal: "(3,000 msg/s, retired)" } : {}),
    });
    rows.push({
      part: "a",
      what: `  same, CPU per message (main thread / all threads)`,
      value: `${us(concurrent.jsUs)} / ${us(concurrent.cpuUs)} → ${Math.round(capacity).toLocaleString("en-US")} msg/s on 2 idle cores`,
      ...(sqliteGoal ? { goal: "(3,000 msg/s, retired)" } : {}),
    });
    return { sequential, concurrent };
  } finally {
    await app.close();
  }
}

/**
 * (b) grammY + engine per Telegram update through `bot.handleUpdate` (API transformer, no network),
 * against the sum of two floors from the same run: a bare grammY bot that replies, and the bare XState
 * step. Goal: ≤ 2× that sum, and the 100th message of a chat costing what the 1st does.
 */
async function partB(xstateStep: number) {
  const grammy = await bareGrammyReply(n(3000));
  rows.push({ part: "b", what: "floor: bare grammY bot that replies", value: us(grammy) });
  const app = await openApp("memory://");
  try {
    const telegram = await telegramEngine(app, n(2000));
    const floor = grammy + xstateStep;
    rows.push({ part: "b", what: "grammY + engine per update (memory)", value: us(telegram.perUpdate), floor: us(floor), ratio: telegram.perUpdate / floor, ok: telegram.perUpdate / floor <= 2 });
    rows.push({ part: "b", what: "grammY + engine: 100th vs 1st message of a chat", value: `${us(telegram.hundredth)} vs ${us(telegram.first)}`, ratio: telegram.hundredth / telegram.first, ok: telegram.hundredth / telegram.first <= 1.5 });
  } finally {
    await app.close();
  }
}

/** (c) time of message k for k = 1..100 over several chats; medians of the 1st and the 100th. */
async function lengthCost() {
  const chats = n(25);
  const length = 100;
  const engineTimes: number[][] = Array.from({ length }, () => []);
  const app = await openApp("memory://");
  try {
    for (let chat = 0; chat < chats; chat++) {
      for (let k = 0; k < length; k++) {
        const start = now();
        await app.engine.handleText(`len-${chat}`, k === 0 ? "I need 1000 tokens" : (AMOUNTS[k % 2] as string));
        engineTimes[k]?.push(now() - start);
      }
    }
  } finally {
    await app.close();
  }
  const grammyTimes: number[][] = Array.from({ length }, () => []);
  const bot = createConversationsBot();
  for (let chat = 0; chat < chats; chat++) {
    for (let k = 0; k < length; k++) {
      const start = now();
      await bot.send(1000 + chat, k === 0 ? "I need 1000 tokens" : (AMOUNTS[k % 2] as string));
      grammyTimes[k]?.push(now() - start);
    }
  }
  // The 1st message of the first chat includes warm-up (module JIT); later chats' 1st messages do not.
  const at = (times: number[][], k: number) => medianOf((times[k] ?? []).slice(1)) * 1000;
  for (const [label, times] of [["engine (memory)", engineTimes], ["@grammyjs/conversations", grammyTimes]] as const) {
    const first = at(times, 0);
    const second = at(times, 1);
    const hundredth = at(times, length - 1);
    rows.push({
      part: "c",
      what: `${label}: 100th vs 1st message`,
      value: `1st ${us(first)}, 2nd ${us(second)}, 100th ${us(hundredth)}`,
      ratio: hundredth / first,
      goal: label.startsWith("engine") ? "flat (≈1×)" : undefined,
      ok: label.startsWith("engine") ? hundredth / Math.min(first, second) <= 1.5 : undefined,
    });
  }
}

/** (s) `npm start` on the console/SQLite default: time to /healthz and idle RSS, medians of a few starts. */
async function startup() {
  const before = "~1.0 s idle (1.9–2.5 s with a cold tsx cache, 3–4.5 s at load 14), CPU 1,220–1,330 ms; 125–131 MB";
  const summary = await measureStartup(Math.max(3, Math.round(5 * SCALE)));
  const tree = summary.runs[0]?.tree ?? "";
  rows.push({
    part: "s",
    what: "npm start → /healthz answers (console, SQLite)",
    value: `${summary.readyMs.toFixed(0)} ms (CPU ${summary.cpuMs.toFixed(0)} ms)`,
    goal: `≤ ${STARTUP_GOALS.readyMs} ms`,
    ok: summary.readyMs <= STARTUP_GOALS.readyMs,
  });
  rows.push({
    part: "s",
    what: "idle RSS of the app's node process",
    value: `${summary.rssMb.toFixed(0)} MB`,
    goal: `≤ ${STARTUP_GOALS.rssMb} MB`,
    ok: summary.rssMb <= STARTUP_GOALS.rssMb,
  });
  rows.push({ part: "s", what: "  whole npm start tree (npm included)", value: `${summary.treeRssMb.toFixed(0)} MB: ${tree}` });
  rows.push({ part: "s", what: "  before issue 12 (tsx, everything loaded)", value: before });
}

/**
 * (m) Memory kept per chat (issue 18, point 7), in a child process with the GC exposed. The goal is on
 * SQLite, where the data is on disk: heap used after GC grows by at most 20 MB over 10,000 chats. On
 * memory:// the store is the data and grows by design; shown for reference.
 */
async function memory() {
  const chats = Math.max(1_000, Math.round(MEMORY_CHATS * SCALE));
  const mb = (value: number) => `${value.toFixed(1)} MB`;
  const signed = (value: number) => `${value >= 0 ? "+" : "−"}${mb(Math.abs(value))}`;
  for (const f of await measureMemoryInChild(chats)) {
    const heapGrowth = f.heapAfterMb - f.heapBeforeMb;
    const rssGrowth = f.rssAfterMb - f.rssBeforeMb;
    const onSqlite = f.store === "sqlite";
    rows.push({
      part: "m",
      what: `memory after ${chats.toLocaleString("en-US")} chats, ${onSqlite ? "SQLite" : "memory:// (= the data)"}: heap after GC`,
      value: `${mb(f.heapBeforeMb)} → ${mb(f.heapAfterMb)} (${signed(heapGrowth)}, ${f.heapPerChatKb.toFixed(2)} KB/chat)`,
      ...(onSqlite ? { goal: `growth ≤ ${MEMORY_GOAL_MB} MB`, ok: heapGrowth <= MEMORY_GOAL_MB } : {}),
    });
    rows.push({ part: "m", what: "  same, RSS", value: `${mb(f.rssBeforeMb)} → ${mb(f.rssAfterMb)} (${signed(rssGrowth)}, ${((rssGrowth * 1024) / f.chats).toFixed(2)} KB/chat)` });
  }
}

async function main() {
  const started = now();
  const dir = mkdtempSync(join(tmpdir(), "tokengoblin-bench-"));
  const redis = await redisUrl();
  try {
    // Floors.
    const xstate = await bareXStateStep(n(3000));
    rows.push({ part: "a", what: "floor: bare XState step (restore, send, settle, persist)", value: us(xstate) });
    const memoryFloor = xstate;
    const sqliteFloorStore = await sqliteKeyv(join(dir, "floor.sqlite"), "wal-normal");
    const sqliteKv = await rawKeyvRoundTrip(sqliteFloorStore.keyv, n(1500));
    await sqliteFloorStore.close();
    rows.push({ part: "d", what: "floor: raw keyv get+set, SQLite (WAL, NORMAL)", value: us(sqliteKv) });
    let redisKv: number | null = null;
    if (redis) {
      const store = await redisKeyv(redis);
      redisKv = await rawKeyvRoundTrip(store.keyv, n(1500));
      await store.close();
      rows.push({ part: "d", what: "floor: raw keyv get+set, Redis", value: us(redisKv) });
    }

    // (a) engine on each store; floor = XState step + the store's raw round trip.
    await engineOnStore("memory", "memory://", memoryFloor);
    const sqlite = await engineOnStore("sqlite", `sqlite://${join(dir, "engine.sqlite")}`, xstate + sqliteKv);
    rows.push({ part: "d", what: "SQLite: engine message vs raw keyv get+set", value: us(sqlite.sequential), floor: us(sqliteKv), ratio: sqlite.sequential / sqliteKv });
    if (redis && redisKv !== null) {
      const onRedis = await engineOnStore("redis", redis, xstate + redisKv);
      rows.push({ part: "d", what: "Redis: engine message vs raw keyv get+set", value: us(onRedis.sequential), floor: us(redisKv), ratio: onRedis.sequential / redisKv });
    } else {
      rows.push({ part: "a", what: "engine+redis", value: "skipped: no Redis at REDIS_URL" });
    }

    await partB(xstate);

    // (c) conversation length.
    await lengthCost();

    // (d) SQLite journal settings, writes only, on a temp file.
    const plain = await sqliteKeyv(join(dir, "default.sqlite"), "default");
    const plainWrite = await rawKeyvWrite(plain.keyv, n(400));
    await plain.close();
    const wal = await sqliteKeyv(join(dir, "wal.sqlite"), "wal-normal");
    const walWrite = await rawKeyvWrite(wal.keyv, n(400));
    await wal.close();
    rows.push({ part: "d", what: "SQLite write, default (rollback journal, FULL)", value: us(plainWrite) });
    rows.push({ part: "d", what: "SQLite write, WAL + synchronous=NORMAL", value: us(walWrite), floor: us(plainWrite), ratio: walWrite / plainWrite });

    rows.push(...(await dashboardBench(dir, Math.round(100_000 * SCALE), redis)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // (s) and (m) last, in child processes: nothing of this process's warm-up helps or hurts them.
  await startup();
  await memory();
  print();
  console.log(
    `\ntotal bench time ${((now() - started) / 1000).toFixed(1)} s — node ${process.version}, ${cpus().length} cores, ` +
      `load average ${loadavg()[0]?.toFixed(1)} (numbers are wall-clock; other load on the machine inflates them), BENCH_SCALE=${SCALE}`,
  );
  if (rows.some((row) => row.ok === false)) process.exitCode = 1;
}

function print() {
  const header = ["part", "measurement", "value", "floor", "ratio", "goal", ""];
  const body = rows.map((r) => [
    r.part,
    r.what,
    r.value,
    r.floor ?? "",
    r.ratio === undefined ? "" : `${r.ratio.toFixed(2)}×`,
    r.goal ?? "",
    r.ok === undefined ? "" : r.ok ? "ok" : "MISSED",
  ]);
  const widths = header.map((_, i) => Math.max(...[header, ...body].map((line) => (line[i] ?? "").length)));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join("  ").trimEnd();
  console.log(line(header));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const cells of body) console.log(line(cells));
}

await main();
