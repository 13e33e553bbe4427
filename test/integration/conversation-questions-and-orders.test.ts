/** Questions get the owner's answers, neither they nor the order list move an order, and customers see their orders (issue 13). */
import { afterEach, describe, expect, test } from "vitest";
import { ChatId } from "../../src/domain/ids.ts";
import type { EngineReply } from "../../src/engine/reply.ts";
import { payUrlOf, startTestApp } from "../support/app.ts";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function shop(env: Record<string, string> = {}) {
  const started = await startTestApp(env);
  cleanups.push(() => started.app.close());
  return started;
}

/** The order a reply shows: the one it is about, or the chat's last one once that ended. */
const shownOrder = (reply: EngineReply) => ("order" in reply ? reply.order : "lastOrder" in reply ? reply.lastOrder : null);
const stateOf = (reply: EngineReply) => shownOrder(reply)?.stage ?? null;

describe("questions get the owner's answers", () => {
  test("a question mid-purchase is answered and the quote stays where it was", async () => {
    const { say } = await shop();
    const quoted = await say("c1", "I need 2000 tokens");
    expect(stateOf(quoted.reply)).toBe("quoted");
    const asked = await say("c1", "how long do the tokens last?");
    expect(asked.reply.kind).toBe("answer");
    expect(asked.text).toMatch(/do not expire|don't expire/i);
    expect(asked.text).toContain("2,000 tokens for $40.00");
    expect(stateOf(asked.reply)).toBe("quoted");
    const confirmed = await say("c1", "yes");
    expect(stateOf(confirmed.reply)).toBe("awaiting_payment");
  });

  test("which coins, in Russian, gets the Russian answer", async () => {
    const { app } = await shop();
    const reply = await app.engine.handleText("c1", "какие монеты вы принимаете?");
    expect(reply.kind).toBe("answer");
    expect(app.renderer.render(reply, "ru").text).toContain("USDT");
  });

  test("«а чем платить?» gets the owner's answer on payment methods", async () => {
    const { reply, text } = await (await shop()).say("c1", "а чем платить?", "ru");
    expect(reply).toMatchObject({ kind: "answer", topic: "coins" });
    expect(text).toContain("USDT");
  });
});

describe("questions and the order list never move an order", () => {
  test("in every resting state, ASK and ORDERS leave the order exactly as it was", async () => {
    const { app, say, pay } = await shop();
    const steps: (() => Promise<EngineReply>)[] = [
      async () => (await say("c1", "2000 tokens")).reply, // quoted
      async () => (await say("c1", "yes")).reply, // awaiting payment
      async () => {
        await pay(payUrlOf(await app.engine.view("c1")));
        return app.engine.view("c1"); // delivered
      },
    ];
    for (const step of steps) {
      const shown = await step();
      const orderId = shownOrder(shown)?.orderId ?? "";
      const before = await app.engine.order(orderId);
      expect(before?.orderId).toBe(orderId);
      for (const topic of ["what_tokens", "models", "validity", "refunds", "coins", "delivery", "price"] as const) {
        expect((await app.engine.handleCommand("c1", { type: "ASK", topic })).kind).toBe("answer");
      }
      expect((await app.engine.handleCommand("c1", { type: "ORDERS" })).kind).toBe("orders");
      expect(await app.engine.order(orderId)).toEqual(before);
    }
  });
});

describe("customers see their orders", () => {
  test("'my orders' lists the delivered order with its hint and a buy-again button; never the secret", async () => {
    const { app, say, pay, notifications } = await shop();
    await say("c1", "2000 tokens");
    await pay(payUrlOf((await say("c1", "yes")).reply));
    const delivered = notifications.at(-1)!.reply;
    const secret = delivered.kind === "order" ? delivered.secret! : "";
    await say("c1", "1000 tokens");
    const { reply, message } = await say("c1", "my orders");
    expect(reply.kind).toBe("orders");
    expect(message.text).toContain("2,000 tokens");
    expect(message.text).toContain(secret.slice(-4));
    expect(message.text).not.toContain(secret);
    const again = message.buttons
      .flat()
      .flatMap((b) => ("press" in b ? [b.press] : []))
      .find((b) => b.action === "package" && b.tokens === 2000);
    expect(again).toBeDefined();
    // Still quoted at 1,000: listing orders moves nothing.
    expect(reply.kind === "orders" && reply.order?.tokens).toBe(1000);
    const rebought = await app.engine.handleButton("c1", again!);
    expect(rebought.kind === "order" && rebought.order.tokens).toBe(2000);
  });

  test("a chat remembers its last 20 ended orders; the list shows the newest five", async () => {
    const { app, say } = await shop();
    for (let i = 1; i <= 22; i++) {
      await say("c1", `${i * 100} tokens`);
      await say("c1", "cancel");
    }
    await say("c1", "1000 tokens"); // the next order starts, filing the last cancelled one
    const { chat } = await app.store.readChat(ChatId.parse("c1"));
    expect(chat !== "invalid" && chat?.recentOrderIds).toHaveLength(20);
    const { reply } = await say("c1", "/orders");
    expect(reply.kind === "orders" && reply.orders.map((o) => [o.stage, o.tokens])).toEqual([
      ["quoted", 1000],
      ["cancelled", 2200],
      ["cancelled", 2100],
      ["cancelled", 2000],
      ["cancelled", 1900],
    ]);
  });

  test("/orders with no orders says so", async () => {
    const { say } = await shop();
    const { reply } = await say("c1", "/orders");
    expect(reply.kind).toBe("orders");
  });
});
