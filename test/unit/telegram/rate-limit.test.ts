/**
 * The rate limiter's memory (issue 18, point 7): counters live in a bounded map driven by a clock,
 * not in @grammyjs/ratelimiter's MemoryStore (cleared by a timer that never stops, unbounded within
 * a time frame, deaf to a test clock).
 */
import type { Transformer } from "grammy";
import type { Update, UserFromGetMe } from "grammy/types";
import { afterEach, describe, expect, test } from "vitest";
import type { App } from "../../../src/app.ts";
import { createBot } from "../../../src/telegram/bot.ts";
import { rateLimitCounters } from "../../../src/telegram/rate-limit.ts";
import { startTestApp, testClock } from "../../support/app.ts";

describe("rate limit counters", () => {
  test("count a user's messages within one time frame, starting at their first message", async () => {
    const clock = testClock();
    const counters = rateLimitCounters({ timeFrameMs: 4_000, clock });
    expect(await counters.incr("42")).toBe(1);
    await counters.pexpire("42", 4_000);
    clock.advance(3_000);
    expect(await counters.incr("42")).toBe(2);
    clock.advance(1_000);
    expect(await counters.incr("42")).toBe(1);
  });

  test("forget 10,000 users one time frame after they last wrote", async () => {
    const clock = testClock();
    const counters = rateLimitCounters({ timeFrameMs: 4_000, clock, maxUsers: 100_000 });
    for (let user = 0; user < 10_000; user++) {
      if ((await counters.incr(`u${user}`)) === 1) await counters.pexpire(`u${user}`, 4_000);
    }
    expect(counters.size).toBe(10_000);
    clock.advance(4_000);
    await counters.incr("latecomer");
    expect(counters.size).toBe(1);
  });

  test("count at most maxUsers at once, however many write within one time frame", async () => {
    const counters = rateLimitCounters({ timeFrameMs: 60_000, clock: testClock(), maxUsers: 1_000 });
    for (let user = 0; user < 10_000; user++) await counters.incr(`u${user}`);
    expect(counters.size).toBe(1_000);
  });
});

const BOT_INFO = { id: 1, is_bot: true, first_name: "Goblin", username: "goblin_bot" } as UserFromGetMe;
let updateId = 0;
const textUpdate = (chatId: number, text: string): Update => {
  updateId += 1;
  const from = { id: chatId, is_bot: false, first_name: "C" };
  return {
    update_id: updateId,
    message: { message_id: updateId, date: 0, chat: { id: chatId, type: "private", first_name: "C" }, from, text },
  };
};

describe("the bot's rate limit", () => {
  const apps: App[] = [];
  afterEach(async () => {
    while (apps.length > 0) await apps.pop()!.close();
  });

  test("a flooding customer is told once to slow down, and is served again one time frame later on the bot's clock", async () => {
    const { app } = await startTestApp({ TELEGRAM_BOT_TOKEN: "1:offline" });
    apps.push(app);
    const clock = testClock();
    const sent: string[] = [];
    const offline: Transformer = async (_prev, method, payload) => {
      if (method === "sendMessage") sent.push(String((payload as { text?: string }).text));
      return { ok: true, result: { message_id: 1, date: 0, chat: { id: 42, type: "private" }, text: "ok" } as never };
    };
    const bot = createBot(app, {
      botInfo: BOT_INFO,
      transformers: [offline],
      retry: false,
      rateLimit: { limit: 2, timeFrameMs: 4_000, clock },
    });
    for (let i = 0; i < 5; i++) await bot.handleUpdate(textUpdate(42, "/help"));
    const slowDown = sent.filter((text) => text.includes("very fast"));
    expect(slowDown).toHaveLength(1);
    expect(sent).toHaveLength(3);

    clock.advance(4_000);
    await bot.handleUpdate(textUpdate(42, "/help"));
    expect(sent).toHaveLength(4);
    expect(sent[3]).not.toContain("very fast");
  });
});
