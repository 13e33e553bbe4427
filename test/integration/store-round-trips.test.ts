/**
 * Store round trips per customer action (issue 20: "one customer message costs many round trips"),
 * counted through a wrapper around every store method on the memory store. Each backend does one
 * round trip per method (one Redis script, one SQLite transaction), so these counts are the trips a
 * shared store is asked for. The payment provider keeps its invoices outside the shop's store, as
 * Crypto Pay keeps them on its servers, so only the shop's own trips count.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { Transformer } from "grammy";
import { ChatId } from "../../src/domain/ids.ts";
import { startTelegram } from "../../src/telegram/index.ts";
import { startTestApp } from "../support/app.ts";
import { countStoreCalls } from "../support/counting-store.ts";
import { sandboxOutsideTheStore } from "../support/sandbox-payments.ts";
import { BOT_INFO } from "../../bench/updates.ts";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function shop(env: Record<string, string> = {}) {
  const clock = Object.assign(() => clock.now, { now: Date.UTC(2026, 10, 26, 12), advance: (ms: number) => void (clock.now += ms) });
  const payments = sandboxOutsideTheStore({ clock });
  const started = await startTestApp(env, { payments, clock });
  cleanups.push(() => started.app.close());
  return { ...started, payments, calls: countStoreCalls(started.app.store) };
}

const TELEGRAM_ENV = {
  TELEGRAM_BOT_TOKEN: "1:test",
  TELEGRAM_WEBHOOK_URL: "https://shop.example/telegram/webhook",
  TELEGRAM_WEBHOOK_SECRET: "webhook-secret",
};

/** The shop's Telegram side with every Bot API call answered locally, and a way to post an update to its webhook. */
async function offlineTelegram(app: Awaited<ReturnType<typeof shop>>["app"]) {
  const offline: Transformer = async (_prev, method, payload) => {
    const chat = { id: Number((payload as { chat_id?: number }).chat_id ?? 1), type: "private", first_name: "C" };
    return { ok: true, result: method === "sendMessage" ? { message_id: 1, date: 0, chat, text: "ok" } : true } as never;
  };
  const telegram = await startTelegram(app, { bot: { botInfo: BOT_INFO, transformers: [offline], retry: false, rateLimit: false } });
  const post = async (update: object) => {
    const response = await app.http.dispatch({
      method: "POST",
      path: telegram.webhookPath ?? "",
      headers: { "x-telegram-bot-api-secret-token": "webhook-secret" },
      rawBody: Buffer.from(JSON.stringify(update)),
    });
    expect(response.status).toBe(200);
  };
  return { telegram, post };
}

/** The first update's drain runs in the background: resolves once it made no store call for 50 ms. */
async function untilQuiet(calls: { readonly log: readonly string[] }) {
  for (let seen = -1; seen !== calls.log.length;) {
    seen = calls.log.length;
    await new Promise((resolve) => setTimeout(resolve, 50)); // real time: the drain's own pace
  }
}

/** Posts a customer's texts in chat `chatId` as Telegram updates numbered on from `lastUpdateId`. */
function textPoster(postUpdate: (update: object) => Promise<void>, chatId: number, lastUpdateId: number) {
  let updateId = lastUpdateId;
  return (text: string) =>
    postUpdate({
      update_id: ++updateId,
      message: {
        message_id: updateId,
        date: 0,
        chat: { id: chatId, type: "private", first_name: "C" },
        from: { id: chatId, is_bot: false, first_name: "C" },
        text,
      },
    });
}

describe("store round trips (issue 20)", () => {
  it("a customer's text message costs two store calls: open the chat, commit the step", async () => {
    const { app, calls } = await shop();
    await app.engine.handleText("42", "I need 1000 tokens");
    calls.reset();
    const reply = await app.engine.handleText("42", "make it 2000");
    expect(reply.kind).toBe("order");
    // The chat is warm in this process (it wrote it last): the open reads only its revision.
    expect(calls.log).toEqual(["openChatSince", "commit"]);
  });

  it("a chat another process wrote last is read whole again, then warm", async () => {
    const { app, calls } = await shop();
    await app.engine.handleText("42", "I need 1000 tokens");
    // Another writer moves the chat: this process's warm copy no longer holds.
    const opened = await app.store.openChat(ChatId.parse("42"), { owner: "other-instance", ttlMs: 5_000 });
    await app.store.releaseLease(ChatId.parse("42"), "other-instance");
    const state = opened.held ? opened.state : null;
    if (!state || !state.chat || state.chat === "invalid") throw new Error("the chat was not stored");
    // Open and commit as that other process would, writing the same chat one revision on.
    await app.store.openChat(ChatId.parse("42"), { owner: "other-instance", ttlMs: 5_000 });
    const moved = await app.store.commit({
      chatId: ChatId.parse("42"),
      owner: "other-instance",
      chat: { record: { ...state.chat, turns: [] }, expectedRev: state.rev },
      release: true,
    });
    expect(moved.ok).toBe(true);
    calls.reset();
    const reply = await app.engine.handleText("42", "make it 2000");
    expect(reply).toMatchObject({ kind: "order", order: { tokens: 2000 } });
    expect(calls.log).toEqual(["openChatSince", "commit"]);
    const read = await app.store.readChat(ChatId.parse("42"));
    expect(read.rev).toBe(state.rev + 2);
  });

  it("a payment webhook reaches delivered goods in six store calls, and shows them in three more", async () => {
    const { app, calls, payments, notifications } = await shop();
    await app.engine.handleText("42", "I need 1000 tokens");
    const invoiced = await app.engine.handleText("42", "yes");
    const paymentId = invoiced.kind === "order" ? (invoiced.order.payUrl?.split("/").pop() ?? "") : "";
    expect((await payments.pay(paymentId)).ok).toBe(true);
    let untilShown: string[] = [];
    app.engine.setNotifier(async (chatId, reply) => {
      untilShown = [...calls.log];
      notifications.push({ chatId, reply });
    });
    calls.reset();
    expect((await app.engine.confirmPayment("sandbox", paymentId)).outcome).toBe("delivered");
    // Find the order, open the chat, store the payment before the goods exist, claim and write the
    // goods, commit the delivered order with its message composed.
    expect(untilShown, untilShown.join(", ")).toHaveLength(6);
    expect(untilShown).toEqual(["findPayment", "openChatSince", "commit", "claimGoods", "putGoods", "commit"]);
    // The message carrying the goods was accepted: the secret is erased and the order told.
    expect(calls.log.slice(untilShown.length)).toEqual(["markGoodsSent", "openChatSince", "commit"]);
    expect(notifications.at(-1)?.reply).toMatchObject({ kind: "order", secret: expect.any(String) });
  });

  it("a Telegram update costs three store calls from the webhook to its step, the lease taken once, the update not read back", async () => {
    const { app, calls } = await shop(TELEGRAM_ENV);
    const { telegram, post: postUpdate } = await offlineTelegram(app);
    const post = textPoster(postUpdate, 42, 100);
    await post("I need 1000 tokens");
    await untilQuiet(calls);
    expect(calls.log).toContain("indexOrder");
    calls.reset();
    await post("make it 2000");
    await telegram.stop(); // waits for the update's drain to end
    // Keep the update (and take the lease; nothing older waits, so the inbox starts with the update at
    // hand; the chat is still at the revision this process wrote, so the step does not open it again),
    // read the chat's language, and commit the step, which marks the update applied and lets go of the lease.
    expect(calls.log, calls.log.join(", ")).toEqual(["acceptUpdate", "kv:preferences.get", "commit"]);
  });

  it("a Telegram update for a chat another process moved meanwhile opens it again and commits on what that process wrote", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tokengoblin-round-trips-"));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const env = { ...TELEGRAM_ENV, STORE_URL: `sqlite://${join(dir, "shop.sqlite")}` };
    const { app, calls } = await shop(env);
    const { telegram, post: postUpdate } = await offlineTelegram(app);
    const post = textPoster(postUpdate, 44, 200);
    await post("I need 1000 tokens");
    await untilQuiet(calls);
    // Another instance on the same file (its own lease, its own warm copy) changes the amount.
    const other = await startTestApp({ STORE_URL: env.STORE_URL }, { instanceId: "other-instance" });
    cleanups.push(() => other.app.close());
    expect(await other.app.engine.handleText("44", "make it 5000")).toMatchObject({ kind: "order", order: { tokens: 5000 } });
    const revOfOther = (await app.store.readChat(ChatId.parse("44"))).rev;
    calls.reset();
    await post("make it 7000");
    await telegram.stop();
    // The revision the store handed over is not the one this process holds: the step opens the chat,
    // reads what the other instance wrote, and its one commit (compare-and-set on that revision) holds.
    expect(calls.log, calls.log.join(", ")).toEqual(["acceptUpdate", "kv:preferences.get", "openChatSince", "commit"]);
    expect((await app.store.readChat(ChatId.parse("44"))).rev).toBe(revOfOther + 1);
    expect(await app.engine.view("44")).toMatchObject({ kind: "order", order: { tokens: 7000 } });
  });

  it("an update no step commits (a sticker) is still marked applied by the inbox, once", async () => {
    const { app, calls } = await shop(TELEGRAM_ENV);
    const { telegram, post } = await offlineTelegram(app);
    const sticker = {
      update_id: 500,
      message: {
        message_id: 500,
        date: 0,
        chat: { id: 43, type: "private", first_name: "C" },
        from: { id: 43, is_bot: false, first_name: "C" },
        sticker: { file_id: "s", file_unique_id: "s", type: "regular", width: 1, height: 1, is_animated: false, is_video: false },
      },
    };
    await post(sticker);
    await telegram.stop(); // waits for the update's drain to end
    expect(calls.count((call) => call === "commit")).toBe(1);
    expect((await app.store.readChat(ChatId.parse("43"))).applied.recent).toEqual([500]);
    expect(await app.store.queuedUpdates(ChatId.parse("43"), 5)).toEqual([]);
  });
});
