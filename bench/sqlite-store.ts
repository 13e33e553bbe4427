/**
 * `npx tsx bench/sqlite-store.ts [iterations]` — the SQLite store's hot path against its floor, in one run:
 *
 *  - the engine's step: openChat + commit (the chat, one order, three audit entries, lease released),
 *    on a temp file, with the connection settings the store uses (`configure`);
 *  - the raw floor: one `INSERT OR REPLACE` + one `SELECT` of the same chat JSON through better-sqlite3
 *    (prepared once, autocommit), on a temp file with the same settings.
 *
 * Both are timed over the same number of sequential iterations after a warm-up, alternating; the ratio
 * is what the store's transactions, indexes and validation cost over the cheapest possible round trip.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import Database from "better-sqlite3";
import { configure } from "../src/store/sqlite-schema.ts";
import { ChatId, OrderId } from "../src/domain/ids.ts";
import type { AuditEntry, ChatRecord, OrderRecord } from "../src/domain/records.ts";
import { sqliteStore } from "../src/store/sqlite-store.ts";

const ITERATIONS = Number(process.argv[2] ?? "10000");
const WARMUP = Math.min(1_000, ITERATIONS);
const ROUNDS = 10;

const chatId = ChatId.parse("bench-chat");
const orderId = OrderId.parse("ord_bench001");
const chat = (i: number): ChatRecord => ({
  v: 3,
  chatId,
  currentOrderId: orderId,
  recentOrderIds: [],
  turns: ["I want 2000 tokens", "yes", `status ${i}`],
  askedFor: null,
  choices: [],
  profile: { username: "someone", firstName: "Some" },
  lastActivityAt: 1_700_000_000_000 + i,
  updatedAt: 1_700_000_000_000 + i,
});
// About the size of a real order in `awaiting_payment`: the machine's context with its quote and payment.
const order = (i: number): OrderRecord => ({
  v: 2,
  orderId,
  chatId,
  snapshot: {
    status: "active",
    value: "awaiting_payment",
    historyValue: {},
    children: {},
    context: {
      orderId,
      chatId,
      limits: { minTokens: 100, maxTokens: 1_000_000 },
      maxDeliveryAttempts: 5,
      retryBackoffMs: 30_000,
      tokens: 2000,
      quote: {
        tokens: 2000,
        usd: { minor: 4000, currency: "USD" },
        charge: { minor: 4000, currency: "USDT" },
        expiresAt: 1_700_000_900_000,
      },
      payment: {
        provider: "sandbox",
        paymentId: "sbx_0123456789",
        payUrl: "https://example.test/pay/sandbox/sbx_0123456789",
        expiresAt: 1_700_003_600_000,
      },
      paidAt: null,
      delivery: { attempts: 0, nextAttemptAt: null, lastError: null, ref: null, hint: null, deliveredAt: null },
      problem: null,
      createdAt: 1_700_000_000_000,
      lastActivityAt: 1_700_000_000_000 + i,
    },
  } as never,
  summary: {
    state: "awaiting_payment",
    tags: ["open", "awaiting_payment"],
    productId: "tokens",
    tokens: 2000,
    usd: { minor: 4000, currency: "USD" },
    charge: { minor: 4000, currency: "USDT" },
    provider: "sandbox",
    paymentId: "sbx_0123456789" as never,
    payUrl: "https://example.test/pay/sandbox/sbx_0123456789",
    late: false,
    paidAt: null,
    deliveredAt: null,
    deliveryHint: null,
    refunded: null,
    dueAt: 1_700_003_600_000 + i,
  },
  createdAt: 1_700_000_000_000,
  updatedAt: 1_700_000_000_000 + i,
});
const audit = (i: number): AuditEntry[] => [
  { v: 2, type: "command", chatId, orderId, at: i, instance: "bench", detail: { intent: "STATUS", source: "rules" } },
  { v: 2, type: "transition", chatId, orderId, at: i, instance: "bench", detail: { from: "awaiting_payment", to: "awaiting_payment" } },
  { v: 2, type: "order", chatId, orderId, at: i, instance: "bench", detail: { state: "awaiting_payment", tokens: 2000 } },
];

type Timing = { wallUs: number; cpuUs: number };
type Op = (i: number) => void | Promise<void>;

/**
 * Times two operations over `count` iterations each, alternating in rounds of `count / ROUNDS`, so a
 * change in the machine's load (other processes on a shared box) falls on both alike. Wall-clock and
 * process CPU (less sensitive to load; includes SQLite's own work, which runs on this thread).
 */
async function timePair(count: number, a: Op, b: Op): Promise<[Timing, Timing]> {
  for (let i = 0; i < WARMUP; i++) {
    await a(i);
    await b(i);
  }
  const totals = [
    { wallUs: 0, cpuUs: 0 },
    { wallUs: 0, cpuUs: 0 },
  ];
  const perRound = Math.ceil(count / ROUNDS);
  for (let round = 0, i = WARMUP; round < ROUNDS; round++, i += perRound) {
    for (const [k, op] of [a, b].entries()) {
      const cpu = process.cpuUsage();
      const start = performance.now();
      for (let j = 0; j < perRound; j++) await op(i + j);
      const used = process.cpuUsage(cpu);
      totals[k]!.wallUs += (performance.now() - start) * 1000;
      totals[k]!.cpuUs += used.user + used.system;
    }
  }
  const per = (t: Timing): Timing => ({ wallUs: t.wallUs / (perRound * ROUNDS), cpuUs: t.cpuUs / (perRound * ROUNDS) });
  return [per(totals[0]!), per(totals[1]!)];
}

const dir = mkdtempSync(join(tmpdir(), "tg-bench-sqlite-"));
try {
  const store = await sqliteStore(join(dir, "store.sqlite"));
  const lease = { owner: "bench", ttlMs: 30_000 };
  const step = async (i: number) => {
    const opened = await store.openChat(chatId, lease);
    if (!opened.held) throw new Error("the bench chat's lease was not held");
    const result = await store.commit({
      chatId,
      owner: "bench",
      chat: { record: chat(i), expectedRev: opened.state.rev },
      orders: [order(i)],
      audit: audit(i),
      release: true,
    });
    if (!result.ok) throw new Error(`commit refused: ${result.reason}`);
  };

  const raw = new Database(join(dir, "raw.sqlite"));
  configure(raw);
  raw.exec("CREATE TABLE t (k TEXT PRIMARY KEY, v TEXT NOT NULL)");
  const put = raw.prepare<[string, string]>("INSERT OR REPLACE INTO t (k, v) VALUES (?, ?)");
  const get = raw.prepare<[string], { v: string }>("SELECT v FROM t WHERE k = ?");
  const floor = (i: number) => {
    put.run(chatId, JSON.stringify(chat(i)));
    if (!get.get(chatId)) throw new Error("the raw row is missing");
  };

  const [stepTime, floorTime] = await timePair(ITERATIONS, step, floor);
  await store.close();
  raw.close();
  const line = (what: string, t: Timing) => console.log(`${what}: ${t.wallUs.toFixed(1)} µs wall, ${t.cpuUs.toFixed(1)} µs CPU`);
  console.log(`iterations: ${ITERATIONS} each (after ${WARMUP} warm-up), alternating in ${ROUNDS} rounds`);
  line("openChat + commit (chat, 1 order, 3 audit entries)", stepTime);
  line("raw floor (INSERT OR REPLACE + SELECT, better-sqlite3)", floorTime);
  console.log(`ratio: ${(stepTime.wallUs / floorTime.wallUs).toFixed(2)}× wall, ${(stepTime.cpuUs / floorTime.cpuUs).toFixed(2)}× CPU`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
