/**
 * An update answered without an engine step (a sticker, a language choice, the rate-limit notice) holds
 * its chat's lease for as long as its answer takes, renewed like a step's: when Telegram makes the
 * reply wait (429 "retry after"), another instance's sweeper must not take the chat and answer the
 * same update a second time. Two shops share a SQLite file; real time, as leases run out on the
 * store's clock and are renewed by the holder's timer (the waits below are that time passing).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { telegramShops } from "../support/telegram-shop.ts";

const shops = telegramShops();
const LEASE_MS = 600;

/** Two shops in webhook mode on one SQLite file, leases of LEASE_MS, sweepers run by hand. */
async function twoShops() {
  const dir = mkdtempSync(join(tmpdir(), "tokengoblin-renewal-"));
  shops.onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  const env = { STORE_URL: `sqlite://${join(dir, "shop.sqlite")}` };
  const api = await shops.stub();
  const common = { sweepIntervalMs: 3_600_000, chatLock: { leaseMs: LEASE_MS, waitMs: 1_000 } };
  const run = { leaseMs: LEASE_MS };
  const first = await shops.open({ api, webhook: true, env, overrides: { ...common, instanceId: "first" }, run });
  const second = await shops.open({ api, webhook: true, env, overrides: { ...common, instanceId: "second" }, run });
  return { api, first, second };
}

/** A sticker as Telegram posts it. */
function stickerUpdate(api: Awaited<ReturnType<typeof shops.stub>>, chatId: number, updateId: number) {
  const { text: _text, ...message } = api.textUpdate(chatId, "sticker").message;
  const sticker = { file_id: "s", file_unique_id: "s", width: 512, height: 512, is_animated: false, is_video: false, type: "regular" };
  return { update_id: updateId, message: { ...message, sticker } };
}

it("a sticker whose reply Telegram makes wait past the lease is answered once, not again by another instance", async () => {
  const { api, first, second } = await twoShops();
  const chatId = 6400;
  const sticker = stickerUpdate(api, chatId, 9_400_001);
  // Telegram makes the first reply wait two seconds: more than three leases.
  api.failNext("sendMessage", { error_code: 429, description: "Too Many Requests: retry after 2", retry_after: 2 });
  expect((await first.post(sticker)).status).toBe(200);

  // Past twice the lease, the other instance's sweeper looks for inboxes nobody works off.
  await new Promise((resolve) => setTimeout(resolve, 3 * LEASE_MS));
  await second.app.engine.runDue();
  await api.waitFor(() => api.callsOf("sendMessage", chatId).some((call) => call.ok), 0, 5_000);
  await new Promise((resolve) => setTimeout(resolve, 4 * LEASE_MS));
  await first.close();
  await second.close();
  expect(api.callsOf("sendMessage", chatId).filter((call) => call.ok)).toHaveLength(1);
});

it("a drain of several updates that outlasts the lease keeps it between them: none is answered again by another instance", async () => {
  const { api, first, second } = await twoShops();
  const chatId = 6500;
  // The drain's commits are slow (a busy disk): three stickers take well over two leases to work off.
  const commit = first.app.store.commit.bind(first.app.store);
  first.app.store.commit = async (step) => {
    await new Promise((resolve) => setTimeout(resolve, LEASE_MS));
    return commit(step);
  };
  const stickers = [0, 1, 2].map((i) => stickerUpdate(api, chatId, 9_500_001 + i));
  expect((await Promise.all(stickers.map((sticker) => first.post(sticker)))).map((answer) => answer.status)).toEqual([200, 200, 200]);

  // Past twice the lease, the other instance's sweeper looks for inboxes nobody works off.
  await new Promise((resolve) => setTimeout(resolve, 2.5 * LEASE_MS));
  await second.app.engine.runDue();
  await api.waitFor(() => api.callsOf("sendMessage", chatId).length >= 3, 0, 10_000);
  await new Promise((resolve) => setTimeout(resolve, 3 * LEASE_MS));
  await first.close();
  await second.close();
  expect(api.callsOf("sendMessage", chatId)).toHaveLength(3);
});
