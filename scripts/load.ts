/**
 * Load test against the engine (not Telegram): many simulated customers each make a full sandbox purchase
 * at the same time — ask for an amount, change it, confirm, pay (through the signed-webhook door), and
 * some pay twice (a provider retry). Reports throughput, per-message latency p50/p99, memory before and
 * after, and checks the invariant: every paid order delivered exactly once.
 *
 *   npx tsx scripts/load.ts [customers=500] [concurrency=50]      STORE_URL=… selects the store (default memory://)
 */
import { performance } from "node:perf_hooks";
import { createApp } from "../src/app.ts";
import { loadConfig } from "../src/config.ts";
import { createSandboxDelivery, type DeliveryProvider } from "../src/delivery/index.ts";
import { silentLogger } from "../src/log.ts";

const customers = Number(process.argv[2] ?? 500);
const concurrency = Number(process.argv[3] ?? 50);
const storeUrl = process.env.STORE_URL ?? "memory://";

const issued = new Map<string, number>();
const inner = createSandboxDelivery();
const delivery: DeliveryProvider = {
  name: "sandbox",
  async issue(request) {
    issued.set(request.orderId, (issued.get(request.orderId) ?? 0) + 1);
    return inner.issue(request);
  },
};

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

async function main() {
  const app = await createApp(loadConfig({ STORE_URL: storeUrl }), {
    listen: false,
    log: silentLogger,
    delivery,
    sweepIntervalMs: 3_600_000,
  });
  const latencies: number[] = [];
  const timed = async <T>(work: () => Promise<T>): Promise<T> => {
    const start = performance.now();
    try {
      return await work();
    } finally {
      latencies.push(performance.now() - start);
    }
  };
  const paidOrders = new Set<string>();
  const failures: string[] = [];

  const customer = async (i: number) => {
    const chat = `load-${i}`;
    const quoted = await timed(() => app.engine.handleText(chat, `I need ${1000 + (i % 50) * 100} tokens`));
    if (quoted.kind !== "order") return void failures.push(`${chat}: no quote (${quoted.kind})`);
    await timed(() => app.engine.handleText(chat, "make it 2000"));
    const invoiced = await timed(() => app.engine.handleText(chat, "yes"));
    if (invoiced.kind !== "order" || !invoiced.order.tags.includes("accepts_payment") || !invoiced.order.payUrl)
      return void failures.push(`${chat}: no invoice`);
    const path = new URL(invoiced.order.payUrl).pathname;
    const pay = () => timed(() => app.http.dispatch({ method: "POST", path, headers: {}, rawBody: Buffer.alloc(0) }));
    // Every tenth customer's payment arrives twice at once (a provider retry racing the first delivery).
    const responses = i % 10 === 0 ? await Promise.all([pay(), pay()]) : [await pay()];
    if (responses.some((r) => r.status !== 200)) return void failures.push(`${chat}: payment refused`);
    paidOrders.add(invoiced.order.orderId);
    await timed(() => app.engine.handleText(chat, "status"));
  };

  global.gc?.();
  const before = process.memoryUsage();
  const start = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < customers) await customer(next++);
    }),
  );
  // The sandbox's webhooks follow the pay page (and are sent again until taken): wait until every paid order is delivered.
  const undelivered = async () => {
    for (const orderId of paidOrders) if (!(await app.engine.order(orderId))?.summary.tags.includes("delivered")) return true;
    return false;
  };
  for (let round = 0; round < 20 && (await undelivered()); round++) await app.flushSandboxWebhooks();
  const seconds = (performance.now() - start) / 1000;
  global.gc?.();
  const after = process.memoryUsage();

  // Invariant: every paid order has exactly one goods entry, was issued exactly once, and is delivered.
  const violations: string[] = [];
  for (const orderId of paidOrders) {
    const count = issued.get(orderId) ?? 0;
    const stored = await app.engine.order(orderId);
    const entry = stored ? await app.store.goods(stored.orderId, stored.chatId) : undefined;
    const delivered = stored?.summary.tags.includes("delivered") ?? false;
    if (count !== 1 || !entry || !delivered)
      violations.push(`${orderId}: issued ${count}×, goods ${entry ? "yes" : "no"}, state ${stored?.summary.state}`);
  }
  for (const orderId of issued.keys()) if (!paidOrders.has(orderId)) violations.push(`${orderId}: issued but never paid`);
  await app.close();

  const sorted = [...latencies].sort((a, b) => a - b);
  console.log(`store ${storeUrl}: ${customers} customers, ${concurrency} at a time`);
  console.log(
    `  purchases  ${paidOrders.size} in ${seconds.toFixed(2)} s → ${(paidOrders.size / seconds).toFixed(0)} purchases/s, ${(latencies.length / seconds).toFixed(0)} requests/s`,
  );
  console.log(
    `  latency    p50 ${percentile(sorted, 50).toFixed(2)} ms, p99 ${percentile(sorted, 99).toFixed(2)} ms, max ${(sorted[sorted.length - 1] ?? 0).toFixed(2)} ms`,
  );
  console.log(
    `  memory     heap ${mb(before.heapUsed)} → ${mb(after.heapUsed)}, rss ${mb(before.rss)} → ${mb(after.rss)}${global.gc ? "" : " (run with node --expose-gc for settled numbers)"}`,
  );
  console.log(
    `  invariant  ${violations.length === 0 && failures.length === 0 ? "ok: every paid order delivered exactly once" : "VIOLATED"}`,
  );
  for (const line of [...failures, ...violations].slice(0, 20)) console.log(`    ${line}`);
  if (violations.length > 0 || failures.length > 0) process.exitCode = 1;
}

await main();
