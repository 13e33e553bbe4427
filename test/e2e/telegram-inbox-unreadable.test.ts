/**
 * An update kept in a chat's inbox that can no longer be read (a damaged store: a row edited by hand, a
 * half-restored backup) must not hold up the chat for ever: it is set aside with an error in the log,
 * and the chat's later messages are answered.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { expect, it } from "vitest";
import { testClock } from "../support/app.ts";
import { telegramShops } from "../support/telegram-shop.ts";

const shops = telegramShops();
const LEASE_MS = 10_000;

it("an unreadable update kept in a chat's inbox is set aside and the chat's next message is answered", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tokengoblin-unreadable-"));
  shops.onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, "shop.sqlite");
  const clock = testClock();
  const api = await shops.stub();
  const shop = await shops.open({
    api,
    webhook: true,
    env: { STORE_URL: `sqlite://${file}` },
    overrides: { clock, sweepIntervalMs: 3_600_000, chatLock: { leaseMs: LEASE_MS, waitMs: 1_000 } },
    run: { bot: { rateLimit: false } },
  });
  const chatId = 6300;

  // The first message is kept but not applied: every attempt finds the chat moved (it stays in the inbox).
  const commit = shop.app.store.commit.bind(shop.app.store);
  let refusals = 3;
  shop.app.store.commit = async (step) => (refusals-- > 0 ? { ok: false, reason: "moved" } : commit(step));
  expect((await shop.post(api.textUpdate(chatId, "I need 2000 tokens"))).status).toBe(200);
  await api.waitFor(() => api.callsOf("sendMessage", chatId).length >= 1, 0, 10_000);

  // Then what was kept of it is damaged.
  const db = new Database(file);
  expect(db.prepare("UPDATE inbox SET raw = '{\"update_id\":' WHERE chat_id = ?").run(String(chatId)).changes).toBe(1);
  db.close();

  clock.advance(3 * LEASE_MS);
  expect((await shop.post(api.textUpdate(chatId, "I need 3000 tokens"))).status).toBe(200);
  await api.waitFor(() => api.callsOf("sendMessage", chatId).length >= 2, 0, 10_000);
  await shop.close();
  const answers = api.callsOf("sendMessage", chatId).map((call) => String(call.payload.text));
  expect(answers).toHaveLength(2);
  expect(answers[1]).toContain("3,000 tokens");
});
