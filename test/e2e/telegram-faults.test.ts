/**
 * Issue 11 and 12: hostile and unlucky updates in webhook mode, with the real bot and app against the
 * Bot API stand-in. Whatever fails after Telegram was answered (a chat held by another instance, a
 * Telegram outage, a message without a chat, a blocked customer) must be handled where it happens:
 * nothing may reach the process as an unhandled rejection or uncaught exception, the next customer is
 * served, and the bot token never reaches the logs. A redelivered update is answered once.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { AppOverrides } from "../../src/app.ts";
import { ChatId } from "../../src/domain/ids.ts";
import { ChatBusyError } from "../../src/engine/index.ts";
import type { Logger } from "../../src/log.ts";
import type { TelegramRunOptions } from "../../src/telegram/index.ts";
import { testClock } from "../support/app.ts";
import { type BotApiStub, type TelegramShop, telegramShops } from "../support/telegram-shop.ts";

const shops = telegramShops();
/** Everything that escaped to the process: each one would have ended it without a test runner. */
const escaped: unknown[] = [];
const onEscape = (reason: unknown) => escaped.push(reason);
/** Every log line, with all fields as given (before any logger-side redaction). */
let logged: string[] = [];
const capture =
  (level: string) =>
  (message: string, fields: Record<string, unknown> = {}) => {
    logged.push(JSON.stringify({ level, message, ...fields }));
  };
const captureLog: Logger = { error: capture("error"), warn: capture("warn"), info: capture("info"), debug: capture("debug") };

beforeAll(() => {
  process.on("unhandledRejection", onEscape);
  process.on("uncaughtException", onEscape);
});
afterAll(() => {
  process.off("unhandledRejection", onEscape);
  process.off("uncaughtException", onEscape);
});
beforeEach(() => {
  escaped.length = 0;
  logged = [];
});
function tempStore(): string {
  const dir = mkdtempSync(join(tmpdir(), "tokengoblin-faults-"));
  shops.onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  return `sqlite://${join(dir, "shop.sqlite")}`;
}

/** The bot's own timers (the typing indicator, a slow button's early answer) run on this clock, when a test advances it. */
let botClock = testClock();
beforeEach(() => {
  botClock = testClock();
});

/** A shop taking updates by webhook, every log line captured, its bot's timers on {@link botClock}. */
const openShop = (api: BotApiStub, options: { env?: Record<string, string>; run?: TelegramRunOptions; overrides?: AppOverrides } = {}) =>
  shops.open({
    api,
    webhook: true,
    env: options.env,
    run: { ...options.run, bot: { timer: botClock.timer, ...options.run?.bot } },
    overrides: { log: captureLog, sweepIntervalMs: 3_600_000, ...options.overrides },
  });

/** Finishes the work still running behind answered webhooks, then fires every timer the bot left armed. */
async function closeAndRunTimers(shop: TelegramShop) {
  await shop.close();
  botClock.advance(60_000);
  expect(botClock.armed()).toBe(0);
}

/** The next customer is still served: a fresh chat gets its quote. */
async function nextCustomerIsServed(api: BotApiStub, shop: TelegramShop, chatId: number) {
  const since = api.mark();
  expect((await shop.post(api.textUpdate(chatId, "I need 2000 tokens"))).status).toBe(200);
  expect(await api.nextShown(chatId, since)).toContain("$40.00");
}

function expectNothingEscaped(api: BotApiStub) {
  expect(escaped.map((reason) => String(reason))).toEqual([]);
  expect(logged.join("\n")).not.toContain(api.token);
}

describe("Telegram faults after the webhook answer (issue 11)", () => {
  it("drops a message without a chat, and no timer fires into the process later", async () => {
    const api = await shops.stub();
    const shop = await openShop(api);
    const update = {
      update_id: 90_001,
      message: {
        message_id: 1,
        date: Math.floor(Date.now() / 1000),
        from: { id: 3101, is_bot: false, first_name: "Ghost" },
        text: "hello",
      },
    };
    expect((await shop.post(update)).status).toBe(200);
    // The typing indicator used to be armed here and to throw 300 ms later, ending the process.
    expect(botClock.armed()).toBe(0);
    botClock.advance(60_000);
    await nextCustomerIsServed(api, shop, 3102);
    await closeAndRunTimers(shop);
    expectNothingEscaped(api);
    expect(api.callsOf("sendChatAction")).toHaveLength(0);
  });

  /** A shop on a test clock, and a crashed instance's lease on chat `chatId` that outlives a webhook answer. */
  const chatHeldByACrashedInstance = async (chatId: string) => {
    const api = await shops.stub();
    const clock = testClock(Date.now());
    const shop = await openShop(api, { overrides: { clock } });
    expect((await shop.app.store.openChat(ChatId.parse(chatId), { owner: "crashed-instance", ttlMs: 30_000 })).held).toBe(true);
    return { api, clock, shop };
  };

  it("keeps the message of a chat held by another instance, answers Telegram at once, and answers the customer once the lease runs out", async () => {
    const { api, clock, shop } = await chatHeldByACrashedInstance("3201");
    const since = api.mark();
    const answered = await shop.post(api.textUpdate(3201, "I need 2000 tokens"));
    expect(answered.status).toBe(200);
    expect(answered.ms).toBeLessThan(400);
    await nextCustomerIsServed(api, shop, 3202);
    // Kept in the chat's inbox: not handled under another instance's lease, and not lost.
    expect(api.callsOf("sendMessage", 3201)).toHaveLength(0);
    expect(await shop.app.store.queuedUpdates(ChatId.parse("3201"), 10)).toHaveLength(1);
    // The lease runs out; the sweeper hands the waiting inbox on and the customer is answered, once.
    clock.advance(60_000);
    await shop.app.engine.runDue();
    expect(await api.nextShown(3201, since)).toContain("$40.00");
    await closeAndRunTimers(shop);
    expect(api.callsOf("sendMessage", 3201)).toHaveLength(1);
    expectNothingEscaped(api);
  });

  it("answers a message kept while another instance held the chat before the next one, when the next one finds the chat free", async () => {
    const { api, clock, shop } = await chatHeldByACrashedInstance("3211");
    const since = api.mark();
    expect((await shop.post(api.textUpdate(3211, "I need 2000 tokens"))).status).toBe(200);
    expect(await shop.app.store.queuedUpdates(ChatId.parse("3211"), 10)).toHaveLength(1);
    // The lease runs out, and before the sweeper comes by the customer writes again: this instance takes
    // the chat with the newer message in hand, but the older one, read from the inbox, goes first.
    clock.advance(60_000);
    expect((await shop.post(api.textUpdate(3211, "make it 3000"))).status).toBe(200);
    await api.waitFor((call) => call.method === "sendMessage" && String(call.payload.text).includes("$60.00"), since);
    await closeAndRunTimers(shop);
    const answers = api.callsOf("sendMessage", 3211).map((call) => String(call.payload.text));
    expect(answers).toHaveLength(2);
    expect(answers[0]).toContain("$40.00");
    expect(answers[1]).toContain("$60.00");
    expectNothingEscaped(api);
  });

  it("keeps a message whose chat turned out busy while it was handled, and answers it once when it is tried again", async () => {
    const api = await shops.stub();
    const clock = testClock(Date.now());
    const shop = await openShop(api, { overrides: { clock } });
    // The chat is taken by another instance between the inbox's lease and the engine's step, once.
    const handleText = shop.app.engine.handleText.bind(shop.app.engine);
    let busyOnce = true;
    shop.app.engine.handleText = (async (chatId, ...rest) => {
      if (!busyOnce) return handleText(chatId, ...rest);
      busyOnce = false;
      throw new ChatBusyError(chatId);
    }) as typeof handleText;
    const since = api.mark();
    expect((await shop.post(api.textUpdate(3251, "I need 2000 tokens"))).status).toBe(200);
    expect(await api.nextShown(3251, since)).toContain("still working on your previous message");
    await nextCustomerIsServed(api, shop, 3252);
    // Not applied: the update waits in the chat's inbox, and the failure was reported, as a passing one.
    expect(await shop.app.store.queuedUpdates(ChatId.parse("3251"), 10)).toHaveLength(1);
    expect(logged.filter((line) => line.includes("stays in the chat's inbox"))).toHaveLength(1);
    // The sweeper hands the waiting inbox back to a drain: the customer gets the quote, once.
    const retried = api.mark();
    clock.advance(60_000);
    await shop.app.engine.runDue();
    expect(await api.nextShown(3251, retried)).toContain("$40.00");
    await closeAndRunTimers(shop);
    expect(api.callsOf("sendMessage", 3251).filter((call) => String(call.payload.text).includes("$40.00"))).toHaveLength(1);
    expect(await shop.app.store.queuedUpdates(ChatId.parse("3251"), 10)).toHaveLength(0);
    expectNothingEscaped(api);
  });

  it("survives Telegram answering 5xx until after the webhook answer: the reply is sent again within seconds", async () => {
    const api = await shops.stub();
    const shop = await openShop(api, { run: { bot: { retry: { maxRetryAttempts: 0, maxDelaySeconds: 30 } } } });
    api.failNext("sendMessage", { error_code: 502, description: "Bad Gateway" });
    api.failNext("sendMessage", { error_code: 500, description: "Internal Server Error" });
    const since = api.mark();
    const started = Date.now();
    const answered = await shop.post(api.textUpdate(3301, "I need 2000 tokens"));
    expect(answered.status).toBe(200);
    // Two 5xx, then the quote: retried after 0.5 s and 1 s, not auto-retry's 3 s + 6 s.
    expect(await api.nextShown(3301, since, 8_000)).toContain("$40.00");
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(api.callsOf("sendMessage", 3301).filter((call) => !call.ok)).toHaveLength(2);
    await nextCustomerIsServed(api, shop, 3302);
    await closeAndRunTimers(shop);
    expectNothingEscaped(api);
  });

  it("survives Telegram refusing the delivery message with 403 (customer blocked the bot)", async () => {
    const api = await shops.stub();
    const shop = await openShop(api);
    let since = api.mark();
    await shop.post(api.textUpdate(3401, "I need 2000 tokens"));
    await api.nextShown(3401, since);
    since = api.mark();
    await shop.post(api.textUpdate(3401, "yes"));
    const invoice = await api.nextShown(3401, since);
    const paymentId = /\/pay\/sandbox\/([A-Za-z0-9_-]+)/.exec(invoice)?.[1];
    expect(paymentId, invoice).toBeDefined();

    api.failNext("sendMessage", { error_code: 403, description: "Forbidden: bot was blocked by the user" });
    since = api.mark();
    const paid = await shop.app.http.dispatch({ method: "POST", path: `/pay/sandbox/${paymentId}`, headers: {}, rawBody: Buffer.alloc(0) });
    expect(paid.status).toBe(200);
    await api.waitFor((call) => call.method === "sendMessage" && !call.ok, since);
    await nextCustomerIsServed(api, shop, 3402);
    await closeAndRunTimers(shop);
    expectNothingEscaped(api);
  });

  it("survives Telegram answering 5xx to the delivery message", async () => {
    const api = await shops.stub();
    const shop = await openShop(api, { run: { bot: { retry: { maxRetryAttempts: 0, maxDelaySeconds: 30 } } } });
    let since = api.mark();
    await shop.post(api.textUpdate(3501, "I need 2000 tokens"));
    await api.nextShown(3501, since);
    since = api.mark();
    await shop.post(api.textUpdate(3501, "yes"));
    const paymentId = /\/pay\/sandbox\/([A-Za-z0-9_-]+)/.exec(await api.nextShown(3501, since))?.[1];

    api.failNext("sendMessage", { error_code: 500, description: "Internal Server Error" });
    since = api.mark();
    await shop.app.http.dispatch({ method: "POST", path: `/pay/sandbox/${paymentId}`, headers: {}, rawBody: Buffer.alloc(0) });
    await api.waitFor((call) => call.method === "sendMessage" && !call.ok, since);
    await nextCustomerIsServed(api, shop, 3502);
    // The 5xx is retried (after 0.5 s, see retry.ts): the code then reaches the customer.
    const retried = await api.waitFor((call) => call.ok && call.method === "sendMessage" && String(call.payload.chat_id) === "3501", since);
    expect(String(retried.payload.text)).toContain("Your code");
    await closeAndRunTimers(shop);
    expectNothingEscaped(api);
  });
});

describe("Telegram update delivered twice (issue 12)", () => {
  it("answers an update posted twice to the same instance once", async () => {
    const api = await shops.stub();
    const shop = await openShop(api);
    const update = api.textUpdate(3601, "I need 2000 tokens");
    const since = api.mark();
    expect((await shop.post(update)).status).toBe(200);
    await api.nextShown(3601, since);
    // Telegram re-sends when it did not see our answer; the redelivery is acknowledged, not handled.
    expect((await shop.post(update)).status).toBe(200);
    await closeAndRunTimers(shop);
    expect(api.callsOf("sendMessage", 3601)).toHaveLength(1);
    expectNothingEscaped(api);
  });

  it("answers an update delivered to two instances sharing a store once", async () => {
    const api = await shops.stub();
    const env = { STORE_URL: tempStore() };
    const first = await openShop(api, { env, overrides: { instanceId: "first" } });
    const second = await openShop(api, { env, overrides: { instanceId: "second" } });
    const update = api.textUpdate(3701, "I need 2000 tokens");
    const answers = await Promise.all([first.post(update), second.post(update)]);
    expect(answers.map((a) => a.status)).toEqual([200, 200]);
    await closeAndRunTimers(first);
    await closeAndRunTimers(second);
    expect(api.callsOf("sendMessage", 3701)).toHaveLength(1);
    expect(api.lastMessage(3701)!.text).toContain("$40.00");
    expectNothingEscaped(api);
  });
});

/**
 * Telegram does not promise that a chat's updates reach the shop in `update_id` order: it sends several
 * at once (up to `max_connections`), sends a refused one again after newer ones went through, and
 * behind a load balancer two instances race. An update that arrives after a newer one of its chat was
 * applied is a message the customer sent: it must be answered, not taken for a duplicate.
 */
describe("Telegram update that arrives after a newer one of its chat was applied", () => {
  it("is answered by the instance that applied the newer one", async () => {
    const api = await shops.stub();
    const shop = await openShop(api);
    const older = api.textUpdate(3801, "I need 2000 tokens");
    const newer = api.textUpdate(3801, "hello");
    let since = api.mark();
    expect((await shop.post(newer)).status).toBe(200);
    await api.nextShown(3801, since);
    since = api.mark();
    expect((await shop.post(older)).status).toBe(200);
    expect(await api.nextShown(3801, since)).toContain("$40.00");
    // And it is still answered once: sent again, it is a duplicate now.
    expect((await shop.post(older)).status).toBe(200);
    expect((await shop.post(newer)).status).toBe(200);
    await closeAndRunTimers(shop);
    expect(api.callsOf("sendMessage", 3801)).toHaveLength(2);
    expectNothingEscaped(api);
  });

  for (const [name, lateTo] of [
    ["the same instance", 0],
    ["the other instance", 1],
  ] as const) {
    it(`is answered when it reaches ${name} of two sharing a store after the newer one was applied`, async () => {
      const api = await shops.stub();
      const env = { STORE_URL: tempStore() };
      const instances = [
        await openShop(api, { env, overrides: { instanceId: "first" } }),
        await openShop(api, { env, overrides: { instanceId: "second" } }),
      ];
      const older = api.textUpdate(3901, "I need 2000 tokens");
      const newer = api.textUpdate(3901, "hello");
      let since = api.mark();
      expect((await instances[0]!.post(newer)).status).toBe(200);
      await api.nextShown(3901, since);
      since = api.mark();
      expect((await instances[lateTo]!.post(older)).status).toBe(200);
      expect(await api.nextShown(3901, since)).toContain("$40.00");
      // Telegram sends both again to the other instances: each is a duplicate now.
      expect((await instances[1 - lateTo]!.post(older)).status).toBe(200);
      expect((await instances[1]!.post(newer)).status).toBe(200);
      for (const instance of instances) await closeAndRunTimers(instance);
      expect(api.callsOf("sendMessage", 3901)).toHaveLength(2);
      expectNothingEscaped(api);
    });
  }
});
