/**
 * A message whose step outlives its chat lease (the instance stalled: its renewals did not reach the
 * store) is worked off by another instance, which answers it; the stalled one must not answer it a
 * second time when it comes back. Two shops in webhook mode share a SQLite file and one clock (the
 * store judges leases by it); the first one's model call hangs until the test lets it answer.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { ChatId } from "../../src/domain/ids.ts";
import type { Understander } from "../../src/domain/commands.ts";
import { wasApplied } from "../../src/store/applied-updates.ts";
import { testClock } from "../support/app.ts";
import { telegramShops } from "../support/telegram-shop.ts";

const shops = telegramShops();
const LEASE_MS = 10_000;

it("a message answered by another instance while this one stalled past its lease is not answered again", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tokengoblin-lapse-"));
  shops.onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  const env = { STORE_URL: `sqlite://${join(dir, "shop.sqlite")}` };
  const clock = testClock();
  const api = await shops.stub();

  let asked = () => {};
  const modelAsked = new Promise<void>((resolve) => (asked = resolve));
  let answer = () => {};
  const modelAnswers = new Promise<void>((resolve) => (answer = resolve));
  const usual = { command: { type: "SET_AMOUNT" as const, tokens: 3000 }, source: "llm" as const };
  const stalled: Understander = async (text) => {
    if (!/usual/.test(text)) return null;
    asked();
    await modelAnswers;
    return usual;
  };
  const prompt: Understander = async (text) => (/usual/.test(text) ? usual : null);
  const common = { clock, sweepIntervalMs: 3_600_000, chatLock: { leaseMs: LEASE_MS, waitMs: 1_000 } };
  const first = await shops.open({ api, webhook: true, env, overrides: { ...common, instanceId: "first", llm: stalled } });
  const second = await shops.open({ api, webhook: true, env, overrides: { ...common, instanceId: "second", llm: prompt } });

  const chatId = 5100;
  const update = api.textUpdate(chatId, "the usual, please");
  expect((await first.post(update)).status).toBe(200);
  await modelAsked;

  // The first instance stalls past its lease; the second one's sweeper finds the inbox nobody works off.
  clock.advance(3 * LEASE_MS);
  await second.app.engine.runDue();
  await api.waitFor(() => api.callsOf("sendMessage", chatId).length >= 1, 0, 10_000);
  const { applied } = await second.app.store.readChat(ChatId.parse(String(chatId)));
  expect(wasApplied(applied, update.update_id as number, clock())).toBe(true);

  // The first instance comes back: its step's commit is refused, and it must not answer again.
  answer();
  await first.close();
  await second.close();
  expect(api.callsOf("sendMessage", chatId)).toHaveLength(1);
});
