/**
 * A step whose commit is refused because the chat moved under it (another writer committed first) is
 * redone on the fresh record; when that keeps happening for every attempt, the chat is busy, which
 * passes. The Telegram update must then stay in the chat's inbox and be answered once the chat is
 * free, never be dropped after an "unavailable" reply.
 */
import { expect, it, vi } from "vitest";
import type { ShopStore } from "../../src/store/shop-store.ts";
import { testClock } from "../support/app.ts";
import { telegramShops } from "../support/telegram-shop.ts";

const shops = telegramShops();
const LEASE_MS = 10_000;

/** Makes the store refuse the next `count` commits as "moved" (another writer got there first). */
function refuseCommits(store: ShopStore, count: number): { refused: () => number } {
  const commit = store.commit.bind(store);
  let refused = 0;
  store.commit = async (step) => {
    if (refused < count) {
      refused++;
      return { ok: false, reason: "moved" };
    }
    return commit(step);
  };
  return { refused: () => refused };
}

/** A shop in webhook mode on a test clock, its sweeper run by hand. */
async function webhookShop() {
  const clock = testClock();
  const api = await shops.stub();
  const shop = await shops.open({
    api,
    webhook: true,
    overrides: { clock, sweepIntervalMs: 3_600_000, chatLock: { leaseMs: LEASE_MS, waitMs: 1_000 } },
    run: { bot: { rateLimit: false } },
  });
  return { clock, api, shop };
}

it("a message whose chat moved under every attempt stays in its inbox and is answered once the chat is free", async () => {
  const { clock, api, shop } = await webhookShop();
  const chatId = 6200;
  const contention = refuseCommits(shop.app.store, 3);

  expect((await shop.post(api.textUpdate(chatId, "I need 2000 tokens"))).status).toBe(200);
  await api.waitFor(() => api.callsOf("sendMessage", chatId).length >= 1, 0, 10_000);
  expect(contention.refused()).toBe(3);
  const told = api.callsOf("sendMessage", chatId).map((call) => String(call.payload.text));
  expect(told, "the customer hears the chat is busy, not that something broke").toEqual([
    expect.stringMatching(/no need to send it again/),
  ]);
  expect(told[0]).not.toMatch(/something went wrong/);

  // The chat is free again: the sweeper finds the inbox nobody works off, and the message is answered.
  clock.advance(3 * LEASE_MS);
  await shop.app.engine.runDue();
  await api.waitFor(() => api.callsOf("sendMessage", chatId).length >= 2, 0, 10_000);
  await shop.close();
  const answers = api.callsOf("sendMessage", chatId).map((call) => String(call.payload.text));
  expect(answers).toHaveLength(2);
  expect(answers[1]).toContain("2,000 tokens");
});

it("a message whose chat stays busy is told so once and waits for the sweeper, not retried at once in a loop", async () => {
  const { api, shop } = await webhookShop();
  const chatId = 6300;
  const store = shop.app.store;
  // Other writers keep moving the chat until the test says the contention is over.
  const contention = refuseCommits(store, Number.POSITIVE_INFINITY);
  // The drain's own "later" is the first lease release once the customer was told the chat is busy;
  // any drain that starts after it retried the message at once instead of leaving it for later.
  let toldBusy = false;
  let drainLetGo = () => {};
  const drainEnded = new Promise<void>((resolve) => (drainLetGo = resolve));
  const releaseLease = store.releaseLease.bind(store);
  store.releaseLease = async (...args) => {
    const released = await releaseLease(...args);
    if (toldBusy) drainLetGo();
    return released;
  };
  let opensAfter = 0;
  const openChat = store.openChat.bind(store);
  store.openChat = async (...args) => {
    if (toldBusy) opensAfter++;
    return openChat(...args);
  };

  expect((await shop.post(api.textUpdate(chatId, "I need 2000 tokens"))).status).toBe(200);
  await api.waitFor(() => api.callsOf("sendMessage", chatId).length >= 1, 0, 10_000);
  toldBusy = true;
  await drainEnded;
  await new Promise((resolve) => setImmediate(resolve));
  expect(contention.refused(), "one round of attempts, not a retry loop").toBe(3);
  expect(opensAfter, "no drain picks the message up again before the sweeper").toBe(0);
  expect(api.callsOf("sendMessage", chatId)).toHaveLength(1);
});

it("a message whose chat stays busy across sweeps is told it is busy once, then answered when the chat is free", async () => {
  const { clock, api, shop } = await webhookShop();
  const chatId = 6400;
  // Three rounds of attempts: the first delivery and two sweeps find the chat busy.
  const contention = refuseCommits(shop.app.store, 9);
  expect((await shop.post(api.textUpdate(chatId, "I need 2000 tokens"))).status).toBe(200);
  for (const rounds of [1, 2, 3]) {
    await vi.waitFor(() => expect(contention.refused()).toBe(3 * rounds), { timeout: 10_000 });
    // The sweep after the lease ran out hands the waiting message to a drain again (at once, or when
    // the round's drain ends).
    clock.advance(3 * LEASE_MS);
    await shop.app.engine.runDue();
  }
  await api.waitFor(() => api.callsOf("sendMessage", chatId).some((call) => String(call.payload.text).includes("2,000 tokens")), 0, 10_000);
  await shop.close();
  const told = api.callsOf("sendMessage", chatId).map((call) => String(call.payload.text));
  expect(
    told.filter((text) => /no need to send it again/.test(text)),
    "told once that the chat is busy",
  ).toHaveLength(1);
  expect(told).toHaveLength(2);
});
