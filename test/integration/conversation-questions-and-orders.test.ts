/** Issue 13, points 5–7: richer readings reach the customer, questions get the owner's answers, orders are listed. */
import { afterEach, describe, expect, test } from "vitest";
import { ChatId } from "../../src/domain/ids.ts";
import type { EngineReply } from "../../src/engine/reply.ts";
import type { SandboxProvider } from "../../src/payments/sandbox.ts";
import { payUrlOf, startTestApp } from "../support/app.ts";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function shop(env: Record<string, string> = {}) {
  const started = await startTestApp(env);
  cleanups.push(() => started.app.close());
  const say = async (chatId: string, text: string) => {
    const reply = await started.app.engine.handleText(chatId, text);
    return { reply, text: started.app.renderer.render(reply).text, message: started.app.renderer.render(reply) };
  };
  return { ...started, say };
}

/** The order a reply shows: the one it is about, or the chat's last one once that ended. */
const shownOrder = (reply: EngineReply) => ("order" in reply ? reply.order : "lastOrder" in reply ? reply.lastOrder : null);
const stateOf = (reply: EngineReply) => shownOrder(reply)?.stage ?? null;

describe("issue 13: budgets, choices, greetings, paid claims", () => {
  test("a budget is quoted as the tokens it buys, and the reply says so", async () => {
    const { say } = await shop();
    const { reply, text } = await say("c1", "$25.01 worth please");
    expect(stateOf(reply)).toBe("quoted");
    expect(text).toContain("$25.01 buys 1,250 tokens (rounded down)");
    expect(text).toContain("1,250 tokens for $25.00");
  });

  test("two possible amounts get one short question with both as buttons, not 'didn't get that'", async () => {
    const { app, say } = await shop();
    const { reply, message } = await say("c1", "2000 or 3000");
    expect(reply.kind).not.toBe("not_understood");
    expect(message.text).not.toContain("didn't get that");
    const choices = message.buttons.flat().flatMap((b) => ("press" in b ? [b.press] : []));
    expect(choices).toEqual([
      { action: "package", tokens: 2000 },
      { action: "package", tokens: 3000 },
    ]);
    const pressed = await app.engine.handleButton("c1", choices[1]!);
    expect(pressed.kind === "order" && pressed.order.tokens).toBe(3000);
  });

  test("'2 grand' asks: two thousand tokens, or two thousand dollars' worth (labelled with what it buys)", async () => {
    const { message } = await (await shop()).say("c1", "give me 2 grand");
    expect(message.text).toBe("Which amount did you mean?");
    expect(message.buttons.flat().map((b) => b.label)).toEqual(["2,000 tokens", "$2,000.00 → 100,000 tokens"]);
  });

  test("a greeting gets a welcome, and a number then answers its 'how many tokens?'", async () => {
    const { say } = await shop();
    const hello = await say("c1", "hi there");
    expect(hello.text).toContain("Welcome");
    // Without the question, "3000, is that enough…" could be 3000 of anything.
    const amount = await say("c1", "3000, is that enough for my project?");
    expect(stateOf(amount.reply)).toBe("quoted");
    expect(amount.reply.kind === "order" && amount.reply.order.tokens).toBe(3000);
  });

  test("looking at an order that ended meanwhile asks how many, so the next number answers it", async () => {
    const { app, clock, say } = await shop();
    await say("c1", "2000 tokens");
    clock.advance(16 * 60_000); // the quote expires while the customer is away
    await app.engine.runDue();
    const seen = await app.engine.view("c1");
    expect(stateOf(seen)).toBe("expired");
    const { reply } = await say("c1", "3000, is that enough for my project?");
    expect(reply.kind === "order" && reply.order.tokens).toBe(3000);
  });

  test("a bare number is not an amount when nobody asked how many", async () => {
    const { say } = await shop();
    await say("c1", "2000 tokens");
    const { reply } = await say("c1", "3000, is that enough for my project?");
    expect(reply.kind).not.toBe("order");
    expect("order" in reply && reply.order?.tokens).toBe(2000);
  });

  test("'I have paid' asks the provider, like status: a payment whose webhook was lost is found and delivered", async () => {
    const { app, say } = await shop();
    await say("c1", "2000 tokens");
    const awaiting = (await say("c1", "yes")).reply;
    const paymentId = payUrlOf(awaiting).split("/").pop()!;
    // Paid at the provider, but its webhook never arrives.
    expect((await (app.payments as SandboxProvider).pay(paymentId)).ok).toBe(true);
    expect(stateOf(await app.engine.view("c1"))).toBe("awaiting_payment");
    const claimed = await say("c1", "I have paid");
    expect(stateOf(claimed.reply)).toBe("delivered");
    expect(claimed.reply.kind === "order" && claimed.reply.secret).toMatch(/^TG-/);
  });

  test("'I have paid' with nothing paid changes nothing", async () => {
    const { say } = await shop();
    await say("c1", "2000 tokens");
    await say("c1", "yes");
    const claimed = await say("c1", "I have paid, deliver now");
    expect(stateOf(claimed.reply)).toBe("awaiting_payment");
  });
});

describe("issue 13: questions get the owner's answers", () => {
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
});

describe("issue 13: questions and the order list never move an order", () => {
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

describe("issue 13: customers see their orders", () => {
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
    const again = message.buttons.flat().flatMap((b) => ("press" in b ? [b.press] : [])).find((b) => b.action === "package" && b.tokens === 2000);
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
