/**
 * Issue 18, point 2: two instances on one Redis (and on a three-node cluster), a slow LLM, and one
 * chat's updates split between the instances, posted the way Telegram does (redelivered until answered
 * 200). Every update must be answered, in update order, exactly once: none is dropped because the chat
 * was busy in the other instance, and a message that needs the slow model is not overtaken by the one
 * after it.
 */
import { afterEach, describe, expect, test } from "vitest";
import type { App } from "../../src/app.ts";
import { createApp } from "../../src/app.ts";
import { loadConfig } from "../../src/config.ts";
import { silentLogger } from "../../src/log.ts";
import { type TelegramHandle, startTelegram } from "../../src/telegram/index.ts";
import { type BotApiStub, startBotApiStub } from "../support/bot-api-stub.ts";
import { sleep, until } from "../support/crash-shop.ts";
import { type LlmStub, json, startLlmStub } from "../support/llm-stub.ts";
import { flushRedis, probeRedis, redisDbUrl } from "../support/redis.ts";
import { isolatedRedisUrl } from "../support/redis-store.ts";

const SECRET = "webhook-secret-for-the-test";
/** The chat lease, and how long an instance waits for another's lease before leaving an update in the inbox. */
const CHAT_LOCK = { leaseMs: 1_000, waitMs: 500 };
/**
 * The model takes 2–2.6 s: longer than the lease and than any instance would wait for another's (a
 * version that waited, then answered "something went wrong" and acknowledged the update, lost it).
 */
const LLM_DELAYS_MS = [2_000, 2_600, 2_300];
const CHATS = 4;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

type Instance = { app: App; telegram: TelegramHandle; url: string };

async function startInstance(storeUrl: string, api: BotApiStub, llm: LlmStub, name: string): Promise<Instance> {
  const config = loadConfig({
    STORE_URL: storeUrl,
    TELEGRAM_BOT_TOKEN: api.token,
    TELEGRAM_API_ROOT: api.url,
    TELEGRAM_WEBHOOK_URL: "https://shop.example/telegram/webhook",
    TELEGRAM_WEBHOOK_SECRET: SECRET,
    LLM_API_KEY: "test-key",
    LLM_BASE_URL: llm.url,
    LLM_TIMEOUT_MS: "30000",
    HTTP_PORT: "0",
    INSTANCE_ID: name,
  });
  const app = await createApp(config, { log: silentLogger, instanceId: name, chatLock: CHAT_LOCK });
  await app.start();
  const telegram = await startTelegram(app, { bot: { rateLimit: false }, leaseMs: CHAT_LOCK.leaseMs });
  cleanups.push(async () => {
    await telegram.stop();
    await app.close();
  });
  return { app, telegram, url: `http://127.0.0.1:${app.port}/telegram/webhook` };
}

/** Posts an update like Telegram: again and again until an instance answers 200. */
async function deliver(instance: Instance, update: unknown): Promise<number> {
  for (let tries = 1; ; tries++) {
    const response = await fetch(instance.url, {
      method: "POST",
      headers: { "content-type": "application/json", "x-telegram-bot-api-secret-token": SECRET },
      body: JSON.stringify(update),
    }).catch(() => null);
    if (response?.status === 200) return tries;
    await sleep(300); // Telegram's own pace of redelivery to a real HTTP server
  }
}

async function twoInstancesOneChatSplit(storeUrl: string) {
  const api = await startBotApiStub();
  cleanups.push(() => api.close());
  // The model reads "a few thousand…" as 5,000, slowly; everything else the rules read at once.
  let call = 0;
  const llm = await startLlmStub(() => ({
    ...json({ intent: "SET_AMOUNT", tokens: 5000 }),
    delayMs: LLM_DELAYS_MS[call++ % LLM_DELAYS_MS.length],
  }));
  cleanups.push(() => llm.close());
  const a = await startInstance(storeUrl, api, llm, "instance-a");
  const b = await startInstance(storeUrl, api, llm, "instance-b");

  await Promise.all(
    Array.from({ length: CHATS }, async (_, i) => {
      const chatId = 8_100 + i;
      // Two messages in a row, split across the instances: the first needs the slow model.
      const first = api.textUpdate(chatId, "hmm, let's say a good few thousand of those things");
      const second = api.textUpdate(chatId, "actually make it 3000 tokens");
      // The second is sent once Telegram had the first acknowledged, as it orders a chat's updates.
      await deliver(i % 2 === 0 ? a : b, first);
      await deliver(i % 2 === 0 ? b : a, second);
      // Both answered (a real wait on the stand-in's socket).
      expect(await until(() => api.messages(chatId).length >= 2, 45_000)).toBe(true);
    }),
  );
  // Stopped, neither instance can send more: every update was answered in order, the 5,000 quote then the 3,000 one, each once.
  await Promise.all([a.telegram.stop(), b.telegram.stop()]);
  for (let i = 0; i < CHATS; i++) {
    const chatId = 8_100 + i;
    const shown = api.calls
      .filter((c) => c.ok && c.method === "sendMessage" && String(c.payload.chat_id) === String(chatId))
      .map((c) => String(c.payload.text));
    const quotes = shown.map((text) => /<b>([\d,]+) tokens<\/b> for/.exec(text)?.[1]).filter((q): q is string => q !== undefined);
    expect({ chatId, quotes }).toEqual({ chatId, quotes: ["5,000", "3,000"] });
    expect(shown.some((text) => text.includes("something went wrong"))).toBe(false);
  }
}

const redisUrl = redisDbUrl(10);
const redisProblem = await probeRedis(redisUrl);
const clusterUrl = process.env.REDIS_CLUSTER_URL;

describe("two instances, one chat's updates split between them, a slow model (issue 18)", () => {
  test.skipIf(redisProblem !== null && !process.env.CI)(
    "on Redis every update is answered once, in order",
    { timeout: 90_000 },
    async () => {
      if (redisProblem !== null) throw new Error(`Redis at ${redisUrl} is unreachable in CI (${redisProblem})`);
      await flushRedis(redisUrl);
      cleanups.push(() => flushRedis(redisUrl));
      await twoInstancesOneChatSplit(redisUrl);
    },
  );

  test.skipIf(!clusterUrl && !process.env.CI)(
    "on a three-node Redis Cluster every update is answered once, in order",
    { timeout: 90_000 },
    async () => {
      if (!clusterUrl) throw new Error("REDIS_CLUSTER_URL is not set in CI");
      // A cluster has no database numbers: this test's keys have a prefix of their own.
      const store = await isolatedRedisUrl(clusterUrl);
      cleanups.push(() => store.clear());
      await twoInstancesOneChatSplit(store.url);
    },
  );
});
