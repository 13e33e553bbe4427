/**
 * Telegram does not deliver a chat's updates in `update_id` order: it sends several at once, sends a
 * refused one again after newer ones went through, and behind a load balancer two instances race for
 * them. Two shops in webhook mode share a store (a SQLite file, Redis, a three-node Redis Cluster);
 * one customer's messages reach them in seeded random orders, some at once, some twice and to both,
 * some long after newer ones were answered. Every message is answered exactly once, and the chat ends
 * having applied every one. And after a week without updates, when Telegram numbers the next ones
 * from a random (here lower) id, a returning customer is still answered. In CI an unreachable Redis
 * or cluster FAILS these tests; locally they skip loudly.
 */
import { describe, expect, it } from "vitest";
import { ChatId } from "../../src/domain/ids.ts";
import { RECENT_UPDATES, wasApplied } from "../../src/store/applied-updates.ts";
import { testClock } from "../support/app.ts";
import { sharedStores } from "../support/shared-stores.ts";
import { type BotApiStub, type TelegramShop, telegramShops } from "../support/telegram-shop.ts";
import { seededRandom } from "../support/seeded-random.ts";

const shops = telegramShops();
const backends = await sharedStores(15);

/** A seeded generator: the same seed, the same schedule. */
function random(seed: number) {
  const next = seededRandom(seed);
  return { next, below: (n: number) => Math.floor(next() * n) };
}

/** Resolves once the bot has sent `count` messages to the chat. */
const answered = (api: BotApiStub, chatId: number, count: number) =>
  api.waitFor(() => api.callsOf("sendMessage", chatId).length >= count, 0, 10_000);

const MESSAGES = 8;
const SCHEDULES = 4;

for (const backend of backends) {
  (backend.skip ? describe.skip : describe)(`a chat's updates out of order, on ${backend.name}`, () => {
    it("answers a returning customer after a quiet week, when Telegram numbers updates afresh from a lower id", async () => {
      await backend.clear();
      shops.onCleanup(() => backend.clear());
      const api = await shops.stub();
      const clock = testClock();
      const shop = await shops.open({
        api,
        webhook: true,
        env: { STORE_URL: backend.url() },
        overrides: { clock, sweepIntervalMs: 3_600_000 },
        // A regular, not a flood: the per-user limit is not what this is about.
        run: { bot: { rateLimit: false } },
      });
      const chatId = 4200;
      // A regular: more messages than the chat remembers one by one, numbered from 900,000.
      const regular = RECENT_UPDATES + 5;
      for (let i = 0; i < regular; i++) {
        const update = { ...api.textUpdate(chatId, i % 2 === 0 ? "hello" : "/help"), update_id: 900_000 + i };
        expect((await shop.post(update)).status).toBe(200);
        await answered(api, chatId, i + 1);
      }
      // A week without a single update to the bot: Telegram picks the next id at random, here far below.
      clock.advance(8 * 24 * 3_600_000);
      const since = api.mark();
      expect((await shop.post({ ...api.textUpdate(chatId, "I need 2000 tokens"), update_id: 1_234 })).status).toBe(200);
      expect(await api.nextShown(chatId, since)).toContain("$40.00");
      await shop.close();
      expect(api.callsOf("sendMessage", chatId)).toHaveLength(regular + 1);
    });

    for (let seed = 1; seed <= SCHEDULES; seed++) {
      it(`two instances sharing it answer every message exactly once (schedule ${seed})`, async () => {
        await backend.clear();
        shops.onCleanup(() => backend.clear());
        const api = await shops.stub();
        const env = { STORE_URL: backend.url() };
        const instances: TelegramShop[] = [
          await shops.open({ api, webhook: true, env, overrides: { instanceId: "first", sweepIntervalMs: 3_600_000 } }),
          await shops.open({ api, webhook: true, env, overrides: { instanceId: "second", sweepIntervalMs: 3_600_000 } }),
        ];
        const chatId = 4100 + seed;
        const rng = random(seed);
        const updates = Array.from({ length: MESSAGES }, (_, i) => api.textUpdate(chatId, `I need ${1000 + 100 * i} tokens`));
        // Each update to one instance, a third of them again to the other (Telegram did not see the answer).
        const deliveries = updates.flatMap((update) => {
          const to = rng.below(2);
          return rng.next() < 1 / 3
            ? [
                { update, to },
                { update, to: 1 - to },
              ]
            : [{ update, to }];
        });
        for (let i = deliveries.length - 1; i > 0; i--) {
          const j = rng.below(i + 1);
          [deliveries[i], deliveries[j]] = [deliveries[j]!, deliveries[i]!];
        }
        const posted = new Set<number>();
        while (deliveries.length > 0) {
          // One to three deliveries at once; then, half the time, wait until everything sent so far is
          // answered, so the next ones (often older ids) arrive after newer ones were applied.
          const batch = deliveries.splice(0, 1 + rng.below(3));
          const statuses = await Promise.all(batch.map(({ update, to }) => instances[to]!.post(update)));
          expect(statuses.map((s) => s.status)).toEqual(batch.map(() => 200));
          for (const { update } of batch) posted.add(update.update_id as number);
          if (rng.next() < 0.5) await answered(api, chatId, posted.size);
        }
        await answered(api, chatId, MESSAGES);
        for (const instance of instances) await instance.close();
        expect(api.callsOf("sendMessage", chatId)).toHaveLength(MESSAGES);
        const reader = await shops.open({ api, env, overrides: { instanceId: "reader", sweepIntervalMs: 3_600_000 } });
        const { applied } = await reader.app.store.readChat(ChatId.parse(String(chatId)));
        expect(updates.filter((update) => !wasApplied(applied, update.update_id as number, Date.now()))).toEqual([]);
        expect(await reader.app.store.queuedUpdates(ChatId.parse(String(chatId)), 10)).toEqual([]);
      });
    }
  });
}
