/**
 * (e) The owner's dashboard at 100,000 orders on SQLite (and Redis when REDIS_URL is set), issue 20:
 * the first page after a restart — the saved read model loaded, then only the log entries written
 * after it read — must come in under a second.
 *
 * Seeding: a few real purchases are made once through the whole engine (rules, buttons, a stand-in
 * model, abandoned quotes, cancellations, a failed delivery, a text not understood); each is copied
 * 100,000 times with fresh chat and order ids and shifted times, and written through the store the
 * way the engine commits (order record + its audit entries, one commit per order). So the log holds
 * exactly what the engine writes, without running the machine 100,000 times.
 *
 * Then: the read model's first build from the whole log (no saved model), its save, 1,000 more orders
 * written while the dashboard is down, and a fresh app's first page (the goal), then warm pages.
 *
 * Run alone with `tsx bench/dashboard.ts` (BENCH_SCALE scales the order count; with REDIS_URL set it
 * also runs on Redis database 6, flushed), or as part of `npm run bench`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { createClient } from "@keyv/redis";
import { type App, createApp } from "../src/app.ts";
import { loadConfig } from "../src/config.ts";
import type { DeliveryProvider } from "../src/delivery/provider.ts";
import { createSandboxDelivery } from "../src/delivery/index.ts";
import type { Understander } from "../src/domain/commands.ts";
import { ChatId, OrderId } from "../src/domain/ids.ts";
import type { AuditEntry, OrderRecord } from "../src/domain/records.ts";
import { silentLogger } from "../src/log.ts";
import type { ShopStore } from "../src/store/shop-store.ts";
import { medianOf, now } from "./timing.ts";

export type DashboardRow = { part: string; what: string; value: string; goal?: string; ok?: boolean };

const TOKEN = "bench-admin-token-0123456789";
const DAY = 86_400_000;
/** The templates' clock starts here: any number in the following days is a time, shifted per copy. */
const T0 = Date.UTC(2020, 0, 1);

/** One purchase as the engine left it: its chat's log entries (in log order) and its order record. */
type Template = { weight: number; chatId: string; orderId: string; entries: AuditEntry[]; record: OrderRecord };

/** Makes each kind of purchase once through the real engine (memory store, sandbox providers). */
export async function makeTemplates(): Promise<Template[]> {
  let at = T0;
  const clock = () => at;
  const real = createSandboxDelivery();
  const failing = { on: false };
  const delivery: DeliveryProvider = {
    ...real,
    issue: (request) => (failing.on ? Promise.resolve({ ok: false, reason: "unavailable", detail: "down" } as const) : real.issue(request)),
  };
  const model: Understander = async (text, context) => {
    const command =
      text === "zorp beta" ? { type: "SET_AMOUNT" as const, tokens: 2000 } : text === "zorp confirm" ? { type: "CONFIRM" as const } : null;
    if (!command) return null;
    context.onLlmCall?.({ model: "bench", promptTokens: 410, completionTokens: 24, ok: true, at: clock() });
    return { command, source: "llm" };
  };
  const app = await createApp(loadConfig({ STORE_URL: "memory://", DELIVERY_MAX_ATTEMPTS: "1" }), {
    listen: false,
    log: silentLogger,
    clock,
    delivery,
    llm: model,
    sweepIntervalMs: 3_600_000,
  });
  app.engine.setNotifier(async () => {});
  const pay = async (reply: Awaited<ReturnType<App["engine"]["handleText"]>>) => {
    if (reply.kind !== "order" || !reply.order.payUrl) throw new Error(`no invoice: ${reply.kind}`);
    await app.http.dispatch({ method: "POST", path: new URL(reply.order.payUrl).pathname, headers: {}, rawBody: Buffer.alloc(0) });
    await app.flushSandboxWebhooks();
  };
  const orderOf = async (chatId: string) => {
    const chat = await app.engine.chat(chatId);
    return chat.chat && chat.chat !== "invalid" ? chat.chat.currentOrderId! : "";
  };
  const scenarios: [number, string, () => Promise<void>][] = [
    [
      20,
      "t-rules",
      async () => {
        await app.engine.handleText("t-rules", "hi", { profile: { username: "rules_buyer", firstName: "Ann" } });
        await app.engine.handleText("t-rules", "I need 2000 tokens");
        at += 40_000;
        await pay(await app.engine.handleText("t-rules", "yes"));
      },
    ],
    [
      15,
      "t-button",
      async () => {
        const quote = await app.engine.handleButton("t-button", { action: "package", tokens: 5000 });
        if (quote.kind !== "order") throw new Error("no quote");
        at += 20_000;
        await pay(await app.engine.handleButton("t-button", { action: "confirm", orderId: quote.order.orderId, shown: 5000 }));
      },
    ],
    [
      15,
      "t-llm",
      async () => {
        await app.engine.handleText("t-llm", "zorp beta");
        at += 60_000;
        await pay(await app.engine.handleText("t-llm", "zorp confirm"));
      },
    ],
    [
      25,
      "t-expired",
      async () => {
        await app.engine.handleText("t-expired", "what about 1000 tokens?");
        at += 20 * 60_000;
        await app.engine.runDue();
      },
    ],
    [
      10,
      "t-cancelled",
      async () => {
        await app.engine.handleText("t-cancelled", "I need 10000 tokens");
        await app.engine.handleText("t-cancelled", "yes");
        at += 120_000;
        await app.engine.handleText("t-cancelled", "cancel");
      },
    ],
    [
      10,
      "t-waiting",
      async () => {
        await app.engine.handleText("t-waiting", "can you walk my dog");
        await app.engine.handleText("t-waiting", "ok then 3000 tokens");
        await app.engine.handleText("t-waiting", "yes");
      },
    ],
    [
      0.1,
      "t-failed",
      async () => {
        failing.on = true;
        await app.engine.handleText("t-failed", "I need 2000 tokens");
        await pay(await app.engine.handleText("t-failed", "yes"));
        failing.on = false;
      },
    ],
  ];
  const made: { weight: number; chatId: string; orderId: string }[] = [];
  for (const [weight, chatId, run] of scenarios) {
    await run();
    made.push({ weight, chatId, orderId: await orderOf(chatId) });
    at += 60_000;
  }
  const byChat = new Map<string, AuditEntry[]>();
  for await (const entry of app.audit.all()) byChat.set(entry.chatId, [...(byChat.get(entry.chatId) ?? []), entry]);
  const templates: Template[] = [];
  for (const { weight, chatId, orderId } of made) {
    const record = await app.engine.order(orderId);
    if (!record) throw new Error(`template ${chatId} has no order`);
    templates.push({ weight, chatId, orderId, entries: byChat.get(chatId) ?? [], record });
  }
  await app.close();
  return templates;
}

/** Shifts every time in a template (a number within 30 days after T0) by `offset`. */
function shifted<T>(value: T, offset: number): T {
  if (typeof value === "number") return (value >= T0 && value < T0 + 30 * DAY ? value + offset : value) as T;
  if (Array.isArray(value)) return value.map((item) => shifted(item, offset)) as T;
  if (value && typeof value === "object")
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, shifted(item, offset)])) as T;
  return value;
}

/** The `i`th seeded order's id, as long as the engine's own (`ord_` and 8 characters). */
const benchOrderId = (i: number) => `ord_b${i.toString(36).padStart(7, "0")}`;

/** A deterministic pseudo-random sequence (the same orders on every run). */
function random(seed: number) {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

/**
 * Writes orders `from` to `to` (exclusive) made from the templates straight into the store, one commit
 * per order as the engine would, `parallel` chats at a time. Orders spread over the 60 days before `at`.
 */
export async function seedOrders(
  store: ShopStore,
  templates: Template[],
  from: number,
  to: number,
  at: number,
  parallel = 200,
): Promise<void> {
  const next = random(42 + from);
  const total = templates.reduce((sum, t) => sum + t.weight, 0);
  const pick = () => {
    let r = next() * total;
    for (const t of templates) if ((r -= t.weight) < 0) return t;
    return templates[0]!;
  };
  const texts = templates.map((t) => JSON.stringify({ entries: t.entries, record: t.record }));
  const writeOne = async (i: number) => {
    const template = pick();
    const chatId = String(1_000_000 + (i % 40_000));
    const orderId = benchOrderId(i);
    const created = i >= 100_000 ? at - 60_000 + (i % 1000) : at - Math.floor(next() * 60 * DAY);
    const text = texts[templates.indexOf(template)]!.replaceAll(template.orderId, orderId).replaceAll(
      `"${template.chatId}"`,
      `"${chatId}"`,
    );
    const copy = shifted(JSON.parse(text) as { entries: AuditEntry[]; record: OrderRecord }, created - T0);
    const id = OrderId.parse(orderId);
    const chat = ChatId.parse(chatId);
    await store.indexOrder(id, chat);
    const lease = { owner: "bench", ttlMs: 30_000 };
    const opened = await store.openChat(chat, lease);
    if (!opened.held) throw new Error(`chat ${chatId} is held`);
    const result = await store.commit({ chatId: chat, owner: "bench", orders: [copy.record], audit: copy.entries, release: true });
    if (!result.ok) throw new Error(`commit of ${orderId} refused: ${result.reason}`);
  };
  for (let start = from; start < to; start += parallel) {
    const batch: Promise<void>[] = [];
    for (let i = start; i < Math.min(to, start + parallel); i++) batch.push(writeOne(i));
    await Promise.all(batch);
  }
}

const ms = (value: number) => `${value.toFixed(value < 10 ? 1 : 0)} ms`;
const both = (t: { wall: number; cpu: number }) => `${ms(t.wall)} (CPU ${ms(t.cpu)})`;

/** Median wall-clock and CPU time of a GET, in ms (CPU time is what other load on the machine inflates least). */
async function timeGet(app: App, path: string, query = "", runs = 15): Promise<{ wall: number; cpu: number; behind: boolean }> {
  const walls: number[] = [];
  const cpus: number[] = [];
  let behind = false;
  for (let i = 0; i < runs; i++) {
    const start = now();
    const cpu = process.cpuUsage();
    const response = await app.http.dispatch({
      method: "GET",
      path,
      query: new URLSearchParams(query),
      headers: { authorization: `Bearer ${TOKEN}` },
      rawBody: Buffer.alloc(0),
    });
    const used = process.cpuUsage(cpu);
    walls.push(now() - start);
    cpus.push((used.user + used.system) / 1000);
    if (response.status !== 200) throw new Error(`${path} answered ${response.status}`);
    // A page drawn before the read model had caught up says so: it does not count as the page.
    behind ||= String(response.body).includes("still catching up");
  }
  return { wall: medianOf(walls), cpu: medianOf(cpus), behind };
}

/** Measures the dashboard on one store with `count` orders; `shown` hears each row as it is measured. */
async function onStore(
  label: string,
  storeUrl: string,
  count: number,
  templates: Template[],
  shown: (row: DashboardRow) => void,
): Promise<DashboardRow[]> {
  const open = () =>
    createApp(loadConfig({ STORE_URL: storeUrl, ADMIN_TOKEN: TOKEN }), {
      listen: false,
      log: silentLogger,
      sweepIntervalMs: 3_600_000,
      instanceId: "bench",
    });
  const at = Date.now();
  const k = `${Math.round(count / 1000)}k`;
  const rows: DashboardRow[] = [];
  const record = (...measured: DashboardRow[]) => {
    rows.push(...measured);
    measured.forEach(shown);
  };
  let first = await open();
  try {
    const seedStart = now();
    await seedOrders(first.store, templates, 0, count, at);
    record({ part: "e", what: `dashboard+${label}: seed ${k} orders, one commit each (setup)`, value: ms(now() - seedStart) });
    const buildStart = now();
    const applied = await first.projection.refresh();
    record({
      part: "e",
      what: `dashboard+${label}: read model's first build, ${applied.toLocaleString("en-US")} log entries (no saved model)`,
      value: ms(now() - buildStart),
    });
    const saveStart = now();
    await first.projection.save();
    const size = (await first.store.loadProjection("shop"))?.state.length ?? 0;
    record({ part: "e", what: `dashboard+${label}: save the read model (${(size / 1e6).toFixed(1)} MB)`, value: ms(now() - saveStart) });
  } finally {
    await first.close();
  }
  // Another instance sells on while the dashboard's process is down: 100 orders at 100,000 (this shop
  // sells about one a minute, and the model is saved every minute and at shutdown).
  const newer = Math.max(1, Math.round(count / 1000));
  await seedOrders((first = await open()).store, templates, 100_000, 100_000 + newer, at);
  await first.close();

  // Of which: loading the saved model and reading what came after it (measured on a second restart).
  const probe = await open();
  const loadStart = now();
  const loadCpu = process.cpuUsage();
  const news = await probe.projection.refresh();
  const loadUsed = process.cpuUsage(loadCpu);
  const loading = { wall: now() - loadStart, cpu: (loadUsed.user + loadUsed.system) / 1000 };
  await probe.close();

  const app = await open();
  try {
    // After the restart: the saved read model is loaded, only the newer entries are read.
    const cold = await timeGet(app, "/admin", "", 1);
    record(
      {
        part: "e",
        what: `dashboard+${label}: FIRST PAGE after a restart, ${k} orders (+${newer} since the save)`,
        value: `${both(cold)}${cold.behind ? ", drawn before the model caught up" : ""}`,
        goal: "< 1 s, complete",
        ok: cold.wall < 1_000 && !cold.behind,
      },
      {
        part: "e",
        what: `dashboard+${label}:   of which loading the saved model and reading ${news.toLocaleString("en-US")} newer entries`,
        value: both(loading),
      },
    );
    const front = await timeGet(app, "/admin");
    const funnel = await timeGet(app, "/admin/funnel", "period=30d");
    const funnelAll = await timeGet(app, "/admin/funnel", "period=all", 5);
    const list = await timeGet(app, "/admin/orders");
    const filtered = await timeGet(app, "/admin/orders", "stage=delivery_failed");
    const middle = Math.floor(count / 2);
    const deep = await timeGet(app, "/admin/orders", `after=${encodeURIComponent(`${at - 30 * DAY}.${benchOrderId(middle)}`)}`);
    const order = await timeGet(app, `/admin/orders/${benchOrderId(middle)}`);
    const chat = await timeGet(app, `/admin/chats/${1_000_000 + (middle % 40_000)}`);
    record(
      { part: "e", what: `dashboard+${label}: front page, warm`, value: both(front), goal: "≤ 250 ms", ok: front.wall <= 250 },
      {
        part: "e",
        what: `dashboard+${label}: funnel with the machine, 30 days / all time`,
        value: `${ms(funnel.wall)} / ${ms(funnelAll.wall)}`,
      },
      {
        part: "e",
        what: `dashboard+${label}: orders table, first page / one stage / middle page`,
        value: `${ms(list.wall)} / ${ms(filtered.wall)} / ${ms(deep.wall)}`,
      },
      { part: "e", what: `dashboard+${label}: one order's page / one customer's page`, value: `${ms(order.wall)} / ${ms(chat.wall)}` },
    );
  } finally {
    await app.close();
  }
  return rows;
}

/** (e) for `npm run bench`: SQLite always, Redis when `redisUrl` is given. */
export async function dashboardBench(
  dir: string,
  count: number,
  redisUrl: string | null,
  shown: (row: DashboardRow) => void = () => {},
): Promise<DashboardRow[]> {
  const templates = await makeTemplates();
  const rows = await onStore("sqlite", `sqlite://${join(dir, "dashboard.sqlite")}`, count, templates, shown);
  if (redisUrl) {
    try {
      rows.push(...(await onStore("redis", redisUrl, count, templates, shown)));
    } finally {
      // A gigabyte of benchmark orders is not left behind in the Redis database.
      const client = createClient({ url: redisUrl });
      await client.connect();
      await client.flushDb();
      await client.quit();
    }
  }
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
    await dashboardBench(dir, count, redis, (row) =>
      console.log(`${row.what.padEnd(92)} ${row.value}${row.goal ? `  (goal ${row.goal}: ${row.ok ? "ok" : "MISSED"})` : ""}`),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
