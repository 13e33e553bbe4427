/**
 * The chat lock is a lease renewed while work runs, and every chat write is compare-and-set on the
 * revision it read and refused to a writer that lost its lease. Two app instances on one store (a
 * shared SQLite file, a Redis server, a three-node Redis Cluster): an LLM slower than the lease, and the
 * same chat's messages sent to both instances → no lost update, answers in order; a stale writer's
 * commit is refused. In CI an unreachable Redis or cluster FAILS these tests; locally they skip loudly.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type App, createApp } from "../../src/app.ts";
import { loadConfig } from "../../src/config.ts";
import type { Understander } from "../../src/domain/commands.ts";
import { ChatId } from "../../src/domain/ids.ts";
import { silentLogger } from "../../src/log.ts";
import { countStoreCalls } from "../support/counting-store.ts";
import { sharedStores } from "../support/shared-stores.ts";

// Real time is what these tests are about: the lease runs out on the store's own clock (the Redis
// server's, or the SQLite writers' wall clocks) and is renewed by the holder's real timer, so the
// waits below let real milliseconds pass rather than advance a test clock.
const LEASE_MS = 300;
const SLOW_LLM_MS = 1_200;

const backends = await sharedStores(8);

for (const backend of backends) {
  (backend.skip ? describe.skip : describe)(`chat lease on ${backend.name}`, () => {
    const apps: App[] = [];
    let storeUrl = "";
    /** The LLM stand-in: "the usual, please" means 3,000 tokens, and takes longer than the lease. */
    const slowLlm: Understander = async (text) => {
      if (!/usual/.test(text)) return null;
      await new Promise((resolve) => setTimeout(resolve, SLOW_LLM_MS)); // real time: outlasts the lease unless renewed
      return { command: { type: "SET_AMOUNT", tokens: 3000 }, source: "llm" };
    };
    const start = async (instanceId: string) => {
      const app = await createApp(loadConfig({ STORE_URL: storeUrl }), {
        listen: false,
        log: silentLogger,
        instanceId,
        llm: slowLlm,
        sweepIntervalMs: 3_600_000,
        chatLock: { leaseMs: LEASE_MS, waitMs: 10_000 },
      });
      apps.push(app);
      return app;
    };
    beforeEach(async () => {
      await backend.clear();
      storeUrl = backend.url();
    });
    afterEach(async () => {
      await Promise.all(apps.splice(0).map((app) => app.close()));
      await backend.clear();
    });

    it("a slow message on one instance holds the chat past the lease; the next message on another waits, and both count, in order", async () => {
      const a = await start("instance-a");
      const b = await start("instance-b");
      const answered: string[] = [];
      const first = a.engine.handleText("c1", "the usual, please").then((reply) => {
        answered.push("first");
        return reply;
      });
      // Sent while the first is still with the LLM, well after the lease would have run out unrenewed.
      await new Promise((resolve) => setTimeout(resolve, LEASE_MS * 2)); // real time on the store's clock
      const second = b.engine.handleText("c1", "make it 5000 tokens").then((reply) => {
        answered.push("second");
        return reply;
      });
      const [one, two] = await Promise.all([first, second]);
      expect(answered, "answers in the order the messages came").toEqual(["first", "second"]);
      expect(one.kind === "order" && one.order.tokens).toBe(3000);
      expect(two.kind === "order" && two.order.tokens).toBe(5000);
      // No lost update: the stored order holds the later amount, written after the earlier one.
      const stored = await b.store.readChat(ChatId.parse("c1"));
      expect(stored.order !== "invalid" && stored.order?.summary.tokens).toBe(5000);
      expect(stored.rev).toBeGreaterThanOrEqual(2);
    });

    it("a chat kept warm by one instance is read again after the other moved it: messages alternating between them all count", async () => {
      const a = await start("instance-a");
      const b = await start("instance-b");
      const calls = { a: countStoreCalls(a.store), b: countStoreCalls(b.store) };
      // Each instance keeps the chat as it last wrote it; every other message comes through the other one.
      const amounts = [1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000];
      for (const [i, tokens] of amounts.entries()) {
        const name = i % 2 === 0 ? "a" : "b";
        calls[name].reset();
        const reply = await (name === "a" ? a : b).engine.handleText("c1", `make it ${tokens}`);
        expect(reply.kind === "order" && reply.order.tokens, `message ${i + 1} on instance ${name}`).toBe(tokens);
        // Read again, not redone: a stale warm copy would be refused at the commit and the work done twice.
        expect(
          calls[name].count((call) => call === "commit"),
          `commits for message ${i + 1}`,
        ).toBe(1);
      }
      // The other instance's payment-side view: confirm on a, through the order b quoted last.
      const confirmed = await a.engine.handleText("c1", "yes");
      expect(confirmed.kind === "order" && confirmed.order.tokens).toBe(8000);
      const stored = await b.store.readChat(ChatId.parse("c1"));
      const chat = stored.chat !== "invalid" ? stored.chat : undefined;
      expect(chat?.turns.slice(-3)).toEqual(["make it 7000", "make it 8000", "yes"]);
      expect(stored.order !== "invalid" && stored.order?.summary.tokens).toBe(8000);
    });

    it("a writer that lost its lease cannot overwrite the chat: its commit is refused, whatever it holds", async () => {
      const a = await start("instance-a");
      const b = await start("instance-b");
      await a.engine.handleText("c1", "2000 tokens");
      const chatId = ChatId.parse("c1");
      const stale = await a.store.openChat(chatId, { owner: "stale-writer", ttlMs: LEASE_MS });
      if (!stale.held || !stale.state.chat || stale.state.chat === "invalid") throw new Error("no chat stored");
      // Its lease runs out while it is paused; another instance takes the chat and moves it on.
      await new Promise((resolve) => setTimeout(resolve, LEASE_MS + 200)); // real time on the store's clock
      await b.engine.handleText("c1", "make it 3000");
      const refused = await a.store.commit({
        chatId,
        owner: "stale-writer",
        chat: { record: { ...stale.state.chat, turns: ["stale"] }, expectedRev: stale.state.rev },
      });
      expect(refused.ok).toBe(false);
      const after = await b.store.readChat(chatId);
      expect(after.chat !== "invalid" && after.chat?.turns.includes("stale")).toBe(false);
      expect(after.order !== "invalid" && after.order?.summary.tokens).toBe(3000);
    });
  });
}
