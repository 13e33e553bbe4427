/**
 * (r) Store round trips, counted rather than timed: every ShopStore method call (and key-value call)
 * through a counting wrapper (test/support/counting-store.ts), and on Redis the commands the server
 * ran (`INFO commandstats` deltas on a Redis only this bench uses). Three paths:
 *
 *  - a customer's text message through the engine (`engine.handleText`, an amount change in `quoted`);
 *  - a payment webhook through `engine.confirmPayment` up to delivered goods, with the provider's own
 *    invoices kept outside the shop's store (as Crypto Pay keeps them on its servers), so only the
 *    shop's round trips count; the goods message is accepted by the channel, so the secret is erased
 *    and the order told (GOODS_SHOWN), as in production;
 *  - a Telegram update through the webhook route: `acceptUpdate` → the inbox's drain → the engine's step.
 */
import Database from "better-sqlite3";
import type { Transformer } from "grammy";
import { type App, createApp } from "../src/app.ts";
import { loadConfig } from "../src/config.ts";
import { silentLogger } from "../src/log.ts";
import { connectRedis } from "../src/store/redis-connect.ts";
// node-redis's command queue: every command a client of this process writes to a server passes its
// `addCommand` once (a script call is one EVALSHA). Patched below to count what the clients send.
import CommandsQueue from "@redis/client/dist/lib/client/commands-queue.js";
import { startTelegram } from "../src/telegram/run.ts";
import { type StoreCalls, countStoreCalls } from "../test/support/counting-store.ts";
import { sandboxOutsideTheStore } from "../test/support/sandbox-payments.ts";
import { offline } from "./telegram.ts";
import { BOT_INFO, textUpdate } from "./updates.ts";

/** Round trips of one path: store calls per operation, what they were, and (Redis) the commands per operation. */
export type RoundTrips = {
  perOp: number;
  /** The calls of one operation, e.g. "openChat, commit". */
  calls: string;
  /** SQLite only: write transactions per operation (calls after which the file had changed), and which calls wrote. */
  writes?: { perOp: number; calls: string };
  /** Redis only: commands this process's clients sent per operation, by name (a script call is one EVALSHA). */
  redisSent?: Record<string, number>;
  /** Redis only: commands the server ran per operation, by name, including those run inside scripts. */
  redisCommands?: Record<string, number>;
};

type QueuePrototype = { addCommand(this: unknown, args: readonly (string | Buffer)[], ...rest: unknown[]): unknown };
const sent: string[] = [];
let counting = false;
const queue =
  (CommandsQueue as unknown as { default?: { prototype: QueuePrototype }; prototype: QueuePrototype }).default ??
  (CommandsQueue as unknown as { prototype: QueuePrototype });
const addCommand = queue.prototype.addCommand;
queue.prototype.addCommand = function countedCommand(args, ...rest) {
  if (counting) sent.push(String(args[0]).toLowerCase());
  return addCommand.call(this, args, ...rest);
};

/** Runs `work` and returns the Redis commands this process's clients sent meanwhile, by name. */
async function commandsSentDuring(work: () => Promise<void>): Promise<Record<string, number>> {
  sent.length = 0;
  counting = true;
  try {
    await work();
  } finally {
    counting = false;
  }
  const counts: Record<string, number> = {};
  for (const name of sent) if (name !== "info") counts[name] = (counts[name] ?? 0) + 1;
  return counts;
}

/** Counts the commands a Redis server runs (INFO commandstats; point it at a Redis only this process uses). */
export async function redisCommandCounter(url: string) {
  const connection = await connectRedis(url);
  const read = async () => {
    const calls = new Map<string, number>();
    for (const node of await connection.masters()) {
      for (const match of (await node.info("commandstats")).matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
        const name = match[1] ?? "";
        calls.set(name, (calls.get(name) ?? 0) + Number(match[2]));
      }
    }
    return calls;
  };
  return {
    /** Runs `work`; returns the commands this process sent and those the server ran meanwhile (the counter's own INFO left out). */
    async during(work: () => Promise<void>): Promise<{ sent: Record<string, number>; ran: Record<string, number> }> {
      const before = await read();
      const sentNow = await commandsSentDuring(work);
      const after = await read();
      const ran: Record<string, number> = {};
      for (const [name, calls] of after) {
        const delta = calls - (before.get(name) ?? 0);
        if (delta > 0 && name !== "info") ran[name] = delta;
      }
      return { sent: sentNow, ran };
    },
    close: () => connection.close(),
  };
}

const perOp = (counts: Record<string, number>, ops: number) =>
  Object.fromEntries(Object.entries(counts).map(([name, n]) => [name, n / ops]));
const describe = (calls: StoreCalls, ops: number) => summarize(calls.log, ops);
const writesOf = (writes: ReturnType<typeof countSqliteWrites> | null, ops: number) =>
  writes ? { writes: { perOp: writes.log.length / ops, calls: summarize(writes.log, ops) } } : {};

/**
 * Notes which store calls changed a SQLite file: a second, read-only connection's `PRAGMA data_version`
 * moves whenever another connection committed a change, so it is read after every call.
 */
function countSqliteWrites(store: App["store"], file: string) {
  const observer = new Database(file, { readonly: true });
  const version = () => observer.pragma("data_version", { simple: true }) as number;
  let seen = version();
  const log: string[] = [];
  for (const key of Object.keys(store) as (keyof App["store"])[]) {
    const method = store[key];
    if (typeof method !== "function" || key === "kv" || key === "close") continue;
    (store as Record<string, unknown>)[key] = async (...args: unknown[]) => {
      try {
        return await (method as (...a: unknown[]) => Promise<unknown>).apply(store, args);
      } finally {
        const now = version();
        if (now !== seen) log.push(key);
        seen = now;
      }
    };
  }
  return { log, reset: () => void (log.length = 0), close: () => observer.close() };
}

async function openCounted(
  storeUrl: string,
  env: Record<string, string> = {},
  payments = sandboxOutsideTheStore({ publicUrl: "http://localhost" }),
) {
  const app = await createApp(loadConfig({ STORE_URL: storeUrl, ...env }), {
    listen: false,
    log: silentLogger,
    sweepIntervalMs: 3_600_000,
    instanceId: "bench-rt",
    payments,
  });
  const calls = countStoreCalls(app.store);
  const sqliteFile = storeUrl.startsWith("sqlite://") ? storeUrl.slice("sqlite://".length) : null;
  return { app, calls, payments, writes: sqliteFile ? countSqliteWrites(app.store, sqliteFile) : null };
}

/** "openChat, commit ×2": a log of calls, `ops` operations' worth, named once each with how many per operation. */
const summarize = (log: readonly string[], ops: number) => {
  const counts: Record<string, number> = {};
  for (const call of log) counts[call] = (counts[call] ?? 0) + 1;
  return Object.entries(counts)
    .map(([name, n]) => (n === ops ? name : `${name} ×${+(n / ops).toFixed(2)}`))
    .join(", ");
};

type RedisCommands = Awaited<ReturnType<Awaited<ReturnType<typeof redisCommandCounter>>["during"]>>;

/** The Redis rows of a count, per operation, when Redis commands were counted. */
const redisFigures = (commands: RedisCommands | undefined, ops: number) =>
  commands ? { redisSent: perOp(commands.sent, ops), redisCommands: perOp(commands.ran, ops) } : {};

/**
 * Counts `ops` amount changes sent by `send`, per change, after two uncounted messages that quote the
 * order and load every script on the server.
 */
async function countAmountChanges(
  send: (text: string) => Promise<unknown>,
  counters: {
    calls: StoreCalls;
    writes: ReturnType<typeof countSqliteWrites> | null;
    redis: { during(run: () => Promise<void>): Promise<RedisCommands> } | null;
  },
  ops: number,
): Promise<RoundTrips> {
  const { calls, writes, redis } = counters;
  await send("I need 1000 tokens");
  await send("make it 3000");
  calls.reset();
  writes?.reset();
  const run = async () => {
    for (let i = 0; i < ops; i++) await send(i % 2 === 0 ? "make it 2000" : "make it 3000");
  };
  const commands = redis ? await redis.during(run) : (await run(), undefined);
  return { perOp: calls.count() / ops, calls: describe(calls, ops), ...writesOf(writes, ops), ...redisFigures(commands, ops) };
}

/** Round trips of `ops` customer text messages (amount changes on a quoted order), per message. */
export async function textMessageRoundTrips(storeUrl: string, ops: number, redisUrl?: string): Promise<RoundTrips> {
  const { app, calls, writes } = await openCounted(storeUrl);
  const redis = redisUrl ? await redisCommandCounter(redisUrl) : null;
  try {
    return await countAmountChanges((text) => app.engine.handleText("rt-text", text), { calls, writes, redis }, ops);
  } finally {
    writes?.close();
    await redis?.close();
    await app.close();
  }
}

/**
 * Round trips of one paid webhook through `engine.confirmPayment` to delivered goods, per webhook,
 * over `ops` orders (after one untimed, so every script is loaded): `toDelivered` counts until the
 * order's delivered state is committed and its message is handed to the channel, `total` until
 * confirmPayment returns (the goods shown: secret erased, the order told).
 */
export async function webhookRoundTrips(
  storeUrl: string,
  ops: number,
  redisUrl?: string,
): Promise<{ toDelivered: RoundTrips; total: RoundTrips }> {
  const { app, calls, payments, writes } = await openCounted(storeUrl);
  const redis = redisUrl ? await redisCommandCounter(redisUrl) : null;
  let atNotification: string[] | null = null;
  app.engine.setNotifier(async () => {
    atNotification ??= [...calls.log];
  });
  try {
    const invoices: string[] = [];
    for (let i = 0; i <= ops; i++) {
      const chatId = `rt-pay-${i}`;
      await app.engine.handleText(chatId, "I need 1000 tokens");
      const reply = await app.engine.handleText(chatId, "yes");
      if (reply.kind !== "order" || !reply.order.payUrl) throw new Error(`no invoice for ${chatId}: ${reply.kind}`);
      const paymentId = new URL(reply.order.payUrl).pathname.split("/").pop() ?? "";
      const paid = await payments.pay(paymentId);
      if (!paid.ok) throw new Error(`the sandbox refused to mark ${paymentId} paid: ${paid.reason}`);
      invoices.push(paymentId);
    }
    const delivered: string[][] = [];
    const total: string[][] = [];
    const confirm = async (paymentId: string) => {
      calls.reset();
      atNotification = null;
      const outcome = await app.engine.confirmPayment("sandbox", paymentId);
      if (outcome.outcome !== "delivered") throw new Error(`webhook for ${paymentId} ended ${outcome.outcome}, not delivered`);
      return { delivered: atNotification ?? [...calls.log], total: [...calls.log] };
    };
    await confirm(invoices.shift() ?? "");
    writes?.reset();
    const run = async () => {
      for (const paymentId of invoices) {
        const counted = await confirm(paymentId);
        delivered.push(counted.delivered);
        total.push(counted.total);
      }
    };
    const commands = redis ? await redis.during(run) : (await run(), undefined);
    const summary = (lists: string[][]): RoundTrips => ({
      perOp: lists.reduce((sum, list) => sum + list.length, 0) / ops,
      calls: summarize(lists.flat(), ops),
    });
    return {
      toDelivered: summary(delivered),
      total: {
        ...summary(total),
        ...writesOf(writes, ops),
        ...redisFigures(commands, ops),
      },
    };
  } finally {
    writes?.close();
    await redis?.close();
    await app.close();
  }
}

/** Round trips of a Telegram text update posted to the webhook route, until the inbox is worked off; per update. */
export async function telegramRoundTrips(storeUrl: string, ops: number, redisUrl?: string): Promise<RoundTrips> {
  const env = {
    TELEGRAM_BOT_TOKEN: "1:bench",
    TELEGRAM_WEBHOOK_URL: "https://shop.example/telegram/webhook",
    TELEGRAM_WEBHOOK_SECRET: "bench-secret",
  };
  const { app, calls, writes } = await openCounted(storeUrl, env);
  const redis = redisUrl ? await redisCommandCounter(redisUrl) : null;
  let replied: (() => void) | null = null;
  const replies: Transformer = async (prev, method, payload, signal) => {
    if (method === "sendMessage") replied?.();
    return offline(prev, method, payload, signal);
  };
  const telegram = await startTelegram(app, { bot: { botInfo: BOT_INFO, transformers: [replies], retry: false, rateLimit: false } });
  const chatId = 5_000_000 + Math.floor(Math.random() * 1_000_000);
  /** Posts one update and waits for its reply and for the inbox's drain to end (no store call for a while). */
  const post = async (text: string) => {
    const reply = new Promise<void>((resolve) => (replied = resolve));
    const response = await app.http.dispatch({
      method: "POST",
      path: telegram.webhookPath ?? "",
      headers: { "x-telegram-bot-api-secret-token": "bench-secret" },
      rawBody: Buffer.from(JSON.stringify(textUpdate(chatId, text))),
    });
    if (response.status !== 200) throw new Error(`the webhook answered ${response.status}`);
    await reply;
    for (let seen = -1; seen !== calls.count();) {
      seen = calls.count();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  try {
    return await countAmountChanges(post, { calls, writes, redis }, ops);
  } finally {
    await telegram.stop();
    writes?.close();
    await redis?.close();
    await app.close();
  }
}

/** "evalsha 2, get 1" */
export function describeCommands(commands: Record<string, number> | undefined): string {
  if (!commands) return "";
  return Object.entries(commands)
    .sort((a, b) => b[1] - a[1])
    .map(([name, n]) => `${name.toUpperCase()} ${+n.toFixed(2)}`)
    .join(", ");
}

/** Total commands per operation. */
export const commandsPerOp = (commands: Record<string, number> | undefined) => Object.values(commands ?? {}).reduce((a, b) => a + b, 0);

export type { App };
