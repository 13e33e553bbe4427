/**
 * `npx tsx bench/redis-store.ts [url]` — the Redis store's hot path: one openChat + commit pair (a chat
 * record, one order, three audit entries, lease released), sequential, against the raw floor of one
 * GET + one SET of the same bytes through the same client. Also counts, with INFO commandstats, the
 * commands a pair costs the server (point it at a Redis nothing else uses for exact counts).
 *
 * url: REDIS_URL, default redis://127.0.0.1:6379 (or a redis-cluster:// URL). Keys go under a fresh
 * prefix that is deleted afterwards. BENCH_ITERATIONS (default 5000) sets the count.
 */
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { ChatId, OrderId } from "../src/domain/ids.ts";
import type { AuditEntry, ChatRecord, OrderRecord } from "../src/domain/records.ts";
import { connectRedis } from "../src/store/redis-connect.ts";
import { redisKeys } from "../src/store/redis-keys.ts";
import { redisStore } from "../src/store/redis-store.ts";

const url = process.argv[2] ?? process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const iterations = Number(process.env.BENCH_ITERATIONS ?? 5_000);
const CHATS = 500;
const prefix = `bench-${randomBytes(3).toString("hex")}:`;

const chatId = (i: number) => ChatId.parse(`bench-${i % CHATS}`);
const orderId = (i: number) => OrderId.parse(`ord_bench${i % CHATS}`);

function chatRecord(chat: ChatId, order: OrderId, i: number): ChatRecord {
  return {
    v: 3,
    chatId: chat,
    currentOrderId: order,
    recentOrderIds: [],
    turns: ["I want 2000 tokens", "yes", `message ${i}`],
    askedFor: null,
    choices: [],
    profile: { username: "customer", firstName: "Ann" },
    lastActivityAt: Date.now(),
    updatedAt: Date.now(),
  };
}

function orderRecord(chat: ChatId, order: OrderId, i: number): OrderRecord {
  return {
    v: 2,
    orderId: order,
    chatId: chat,
    snapshot: {
      status: "active",
      value: { awaitingPayment: "waiting" },
      context: {
        orderId: order,
        chatId: chat,
        tokens: 2000,
        usd: { minor: 4000, currency: "USD" },
        quoteExpiresAt: Date.now() + 600_000,
        step: i,
      },
      children: {},
      historyValue: {},
    } as never,
    summary: {
      state: "awaitingPayment.waiting",
      tags: ["open", "awaiting_payment"],
      productId: "tokens",
      tokens: 2000,
      usd: { minor: 4000, currency: "USD" },
      charge: { minor: 4000, currency: "USDT" },
      provider: "sandbox",
      paymentId: null,
      payUrl: "https://pay.example/invoice/123",
      late: false,
      paidAt: null,
      deliveredAt: null,
      deliveryHint: null,
      refunded: null,
      dueAt: Date.now() + 600_000,
    },
    createdAt: 1,
    updatedAt: Date.now(),
  };
}

const audit = (chat: ChatId, order: OrderId, type: AuditEntry["type"], n: number): AuditEntry => ({
  v: 2,
  type,
  chatId: chat,
  orderId: order,
  at: Date.now(),
  instance: "bench",
  detail: { n, from: "quoted", to: "awaitingPayment.waiting" },
});

async function main() {
  const store = await redisStore(url, { keyPrefix: prefix });
  const admin = await connectRedis(url);
  const revs = new Map<string, number>();
  const pair = async (i: number) => {
    const chat = chatId(i);
    const order = orderId(i);
    const opened = await store.openChat(chat, { owner: "bench", ttlMs: 30_000 });
    if (!opened.held) throw new Error("lease not held");
    const result = await store.commit({
      chatId: chat,
      owner: "bench",
      chat: { record: chatRecord(chat, order, i), expectedRev: opened.state.rev },
      orders: [orderRecord(chat, order, i)],
      audit: [audit(chat, order, "command", i), audit(chat, order, "transition", i), audit(chat, order, "order", i)],
      release: true,
    });
    if (!result.ok) throw new Error(`commit refused: ${result.reason}`);
    revs.set(chat, result.rev);
  };
  const bytes = JSON.stringify(chatRecord(chatId(0), orderId(0), 0)) + JSON.stringify(orderRecord(chatId(0), orderId(0), 0));
  const floorKey = `${prefix}floor`;
  const floor = async () => {
    await admin.client.get(floorKey);
    await admin.client.set(floorKey, bytes);
  };

  const commandCalls = async () => {
    const calls = new Map<string, number>();
    for (const node of await admin.masters()) {
      for (const match of (await node.info("commandstats")).matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
        calls.set(match[1] ?? "", (calls.get(match[1] ?? "") ?? 0) + Number(match[2]));
      }
    }
    return calls;
  };
  /** µs per op of `a` and of `b`, run in alternating blocks so that load from elsewhere hits both alike. */
  const interleaved = async (count: number, a: (i: number) => Promise<unknown>, b: (i: number) => Promise<unknown>) => {
    for (let i = 0; i < Math.min(500, count); i++) {
      await a(i);
      await b(i);
    }
    const block = 250;
    let aMs = 0;
    let bMs = 0;
    for (let done = 0; done < count; done += block) {
      let start = performance.now();
      for (let i = done; i < Math.min(count, done + block); i++) await a(i);
      aMs += performance.now() - start;
      start = performance.now();
      for (let i = done; i < Math.min(count, done + block); i++) await b(i);
      bMs += performance.now() - start;
    }
    return [(aMs * 1000) / count, (bMs * 1000) / count] as const;
  };

  try {
    const [pairUs, floorUs] = await interleaved(iterations, pair, floor);

    const count = 200;
    const opens: number[] = [];
    for (let i = 0; i < count; i++) {
      const chat = chatId(i);
      const at = await commandCalls();
      await store.openChat(chat, { owner: "bench", ttlMs: 30_000 });
      const after = await commandCalls();
      opens.push((after.get("evalsha") ?? 0) - (at.get("evalsha") ?? 0));
      await store.releaseLease(chat, "bench");
    }
    const between = await commandCalls();
    for (let i = 0; i < count; i++) await pair(i);
    const after = await commandCalls();
    const perPair = (name: string, from: Map<string, number>, to: Map<string, number>) =>
      ((to.get(name) ?? 0) - (from.get(name) ?? 0)) / count;
    const inside = [...after.keys()].filter((name) => !["evalsha", "eval", "info"].includes(name) && perPair(name, between, after) > 0);

    console.log(`Redis store at ${admin.target}, ${iterations} iterations, ${CHATS} chats, ${bytes.length} bytes of chat + order`);
    console.log(`  openChat + commit (chat, order, 3 audit entries): ${pairUs.toFixed(1)} µs per pair`);
    console.log(`  raw floor, GET + SET of the same bytes:           ${floorUs.toFixed(1)} µs`);
    console.log(`  ratio: ${(pairUs / floorUs).toFixed(2)}×`);
    console.log(
      `  EVALSHA per openChat: ${opens.reduce((a, b) => a + b, 0) / count} (each measured alone), per openChat + commit pair: ${perPair("evalsha", between, after)}`,
    );
    console.log(`  EVAL per pair (script sent in full): ${perPair("eval", between, after)}`);
    console.log(
      `  commands run inside the scripts per pair: ${inside.map((name) => `${name} ${perPair(name, between, after)}`).join(", ")}`,
    );
  } finally {
    await store.close();
    for (const node of await admin.masters()) {
      for (const pattern of redisKeys(prefix).patterns) {
        for await (const keys of node.scanIterator({ MATCH: pattern, COUNT: 1_000 }))
          await Promise.all(keys.map((key) => node.unlink(key)));
      }
    }
    await admin.close();
  }
}

await main();
