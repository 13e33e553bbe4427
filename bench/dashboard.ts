/**
 * (e) The web dashboard with 100,000 orders in SQLite (and Redis when it answers): the cold build of
 * the read model (one full scan of orders and audit trail), then the overview, the first and a deep
 * page of the orders table, and one order's page, each through the real HTTP handler with a bearer
 * token. Goal: the overview renders in well under a second (≤ 250 ms) once the model is built.
 *
 * Run alone with `tsx bench/dashboard.ts` (BENCH_SCALE scales the order count; with REDIS_URL set it
 * also runs on Redis database 6, flushed), or as part of `npm run bench`.
 */
import { ChatId, OrderId, PaymentId } from "../src/domain/ids.ts";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { createClient } from "@keyv/redis";
import { type App, createApp } from "../src/app.ts";
import type { CommandSource } from "../src/domain/commands.ts";
import type { AuditEntry, OrderProjection, OrderState } from "../src/domain/records.ts";
import { loadConfig } from "../src/config.ts";
import { silentLogger } from "../src/log.ts";
import { medianOf, now } from "./timing.ts";

export type DashboardRow = { part: string; what: string; value: string; goal?: string; ok?: boolean };

const TOKEN = "bench-admin-token-0123456789";
const DAY = 86_400_000;

/** A deterministic pseudo-random sequence (the same orders on every run). */
function random(seed: number) {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

/** Writes `count` orders with their audit trails straight into the stores, as the engine would have. */
export async function seedOrders(app: App, count: number, at: number): Promise<string[]> {
  const next = random(42);
  const sources: CommandSource[] = ["rules", "llm", "button"];
  const ids: string[] = [];
  const batch: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const orderId = `ord_bench${String(i).padStart(7, "0")}`;
    ids.push(orderId);
    const chatId = String(100_000 + (i % 40_000));
    const created = at - Math.floor(next() * 60 * DAY);
    const source = sources[i % 3]!;
    const r = next();
    const state: OrderState = r < 0.25 ? "expired" : r < 0.35 ? "cancelled" : r < 0.45 ? "awaiting_payment" : r < 0.451 ? "delivery_failed" : "delivered";
    const invoiced = state !== "expired" || r > 0.15;
    const paid = state === "delivered" || state === "delivery_failed";
    const tokens = [1000, 2000, 5000, 10_000][i % 4]!;
    const usd = { minor: tokens * 2, currency: "USD" as const };
    const entries: AuditEntry[] = [];
    let seq = 0;
    const entry = (type: AuditEntry["type"], detail: AuditEntry["detail"], offset: number) =>
      entries.push({ v: 1, type, chatId, orderId, at: created + offset, instance: "bench", seq: seq++, detail });
    entry("transition", { from: "initial", to: "quoted" }, 0);
    entry("command", { command: "QUOTE", source, accepted: true }, 0);
    if (invoiced) {
      entry("transition", { from: "quoted", to: "awaiting_payment" }, 30_000);
      entry("command", { command: "CONFIRM", source, accepted: true }, 30_000);
    }
    if (paid) {
      entry("payment", { paymentId: `sbx_${orderId}`, outcome: state === "delivered" ? "delivered" : "paid" }, 90_000);
      entry("transition", { from: "awaiting_payment", to: state }, 90_000);
    } else if (state !== "awaiting_payment") {
      entry("transition", { from: invoiced ? "awaiting_payment" : "quoted", to: state }, 900_000);
    }
    if (source === "llm") entry("llm", { model: "bench", promptTokens: 400, completionTokens: 30, ok: true }, 0);
    const record: OrderProjection = {
      v: 1, orderId: OrderId.parse(orderId), chatId: ChatId.parse(chatId), state, tokens, usd, charge: invoiced ? { minor: usd.minor, currency: "USDT" } : usd,
      provider: invoiced ? "sandbox" : null, paymentId: invoiced ? PaymentId.parse(`sbx_${orderId}`) : null, payUrl: null,
      createdAt: created, updatedAt: created + 90_000, quotedAt: created, paidAt: paid ? created + 90_000 : null,
      deliveredAt: state === "delivered" ? created + 90_000 : null, deliveryRef: state === "delivered" ? `voucher:${i}` : null,
    };
    batch.push(app.stores.orders.set(orderId, record), app.stores.audit.set(`${orderId}/bench/0`, { v: 1, orderId, entries }));
    if (batch.length >= 2_000) await Promise.all(batch.splice(0));
  }
  await Promise.all(batch);
  return ids;
}

const ms = (value: number) => `${value.toFixed(value < 10 ? 1 : 0)} ms`;
const both = (t: { wall: number; cpu: number }) => `${ms(t.wall)} (CPU ${ms(t.cpu)})`;

/** Median wall-clock and CPU time of a GET, in ms (CPU time is what other load on the machine inflates least). */
async function timeGet(app: App, path: string, query = "", runs = 15): Promise<{ wall: number; cpu: number }> {
  const walls: number[] = [];
  const cpus: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = now();
    const cpu = process.cpuUsage();
    const response = await app.http.dispatch({ method: "GET", path, query: new URLSearchParams(query), headers: { authorization: `Bearer ${TOKEN}` }, rawBody: Buffer.alloc(0) });
    const used = process.cpuUsage(cpu);
    walls.push(now() - start);
    cpus.push((used.user + used.system) / 1000);
    if (response.status !== 200) throw new Error(`${path} answered ${response.status}`);
  }
  return { wall: medianOf(walls), cpu: medianOf(cpus) };
}

/** Measures the dashboard on one store with `count` orders. */
async function onStore(label: string, storeUrl: string, count: number): Promise<DashboardRow[]> {
  const app = await createApp(loadConfig({ STORE_URL: storeUrl, ADMIN_TOKEN: TOKEN }), { listen: false, log: silentLogger, sweepIntervalMs: 3_600_000, instanceId: "bench" });
  try {
    const at = Date.now();
    const seedStart = now();
    const ids = await seedOrders(app, count, at);
    const seeded = now() - seedStart;
    // The first page builds the read model from the store: the one full scan.
    const cold = await timeGet(app, "/admin", "period=30d", 1);
    const overview = await timeGet(app, "/admin", "period=30d");
    const overviewAll = await timeGet(app, "/admin", "period=all");
    const firstPage = await timeGet(app, "/admin/orders");
    const filtered = await timeGet(app, "/admin/orders", "state=delivery_failed");
    const middle = ids[Math.floor(count / 2)]!;
    const deep = await timeGet(app, "/admin/orders", `after=${encodeURIComponent(`${Date.now()}.${middle}`)}`);
    const order = await timeGet(app, `/admin/orders/${middle}`);
    const k = `${Math.round(count / 1000)}k`;
    return [
      { part: "e", what: `dashboard+${label}: seed ${k} orders with audit trails (setup)`, value: ms(seeded) },
      { part: "e", what: `dashboard+${label}: first page after start (full scan builds the read model)`, value: both(cold) },
      { part: "e", what: `dashboard+${label}: overview, ${k} orders, 30 days`, value: both(overview), goal: "≤ 250 ms", ok: overview.wall <= 250 },
      { part: "e", what: `dashboard+${label}: overview, ${k} orders, all time`, value: both(overviewAll), goal: "≤ 250 ms", ok: overviewAll.wall <= 250 },
      { part: "e", what: `dashboard+${label}: orders table, first page / one state / middle page`, value: `${ms(firstPage.wall)} / ${ms(filtered.wall)} / ${ms(deep.wall)}` },
      { part: "e", what: `dashboard+${label}: one order's page`, value: ms(order.wall) },
    ];
  } finally {
    await app.close();
  }
}

/** (e) for `npm run bench`: SQLite always, Redis when `redisUrl` is given. */
export async function dashboardBench(dir: string, count: number, redisUrl: string | null): Promise<DashboardRow[]> {
  const rows = await onStore("sqlite", `sqlite://${join(dir, "dashboard.sqlite")}`, count);
  if (redisUrl) rows.push(...(await onStore("redis", redisUrl, count)));
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const dir = mkdtempSync(join(tmpdir(), "tokengoblin-dashboard-"));
  try {
    const count = Math.round(100_000 * Number(process.env.BENCH_SCALE ?? "1"));
    let redis: string | null = null;
    if (process.env.REDIS_URL) {
      const url = new URL(process.env.REDIS_URL);
      url.pathname = "/6";
      const client = createClient({ url: url.toString() });
      await client.connect();
      await client.flushDb();
      await client.quit();
      redis = url.toString();
    }
    for (const row of await dashboardBench(dir, count, redis)) console.log(`${row.what.padEnd(72)} ${row.value}${row.goal ? `  (goal ${row.goal}: ${row.ok ? "ok" : "MISSED"})` : ""}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
