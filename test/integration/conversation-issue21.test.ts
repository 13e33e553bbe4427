/** Issue 21: phrasings a new customer used that the shop did not understand, answered through the whole engine. */
import { afterEach, describe, expect, test } from "vitest";
import type { EngineReply } from "../../src/engine/reply.ts";
import type { RenderedMessage } from "../../src/render/messages.ts";
import { payUrlOf, startTestApp } from "../support/app.ts";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function shop() {
  const started = await startTestApp();
  cleanups.push(() => started.app.close());
  const say = async (chatId: string, text: string, language = "en") => {
    const reply = await started.app.engine.handleText(chatId, text);
    const message = started.app.renderer.render(reply, language);
    return { reply, text: message.text, message };
  };
  return { ...started, say };
}

const stateOf = (reply: EngineReply) => ("order" in reply && reply.order ? reply.order.state : null);
const pressable = (message: RenderedMessage) => message.buttons.flat().flatMap((b) => ("press" in b ? [b.press] : []));

describe("issue 21: wanting tokens without an amount is asked how many", () => {
  test("'I need some tokens' asks how many, with the packages, and the next number answers it", async () => {
    const { say } = await shop();
    const asked = await say("c1", "I need some tokens");
    expect(asked.reply.kind).toBe("help");
    expect(asked.text).toBe("How many tokens would you like? (100 tokens to 1,000,000 tokens)");
    expect(pressable(asked.message)).toContainEqual({ action: "package", tokens: 5000 });
    const answered = await say("c1", "3000, is that enough for my project?");
    expect(stateOf(answered.reply)).toBe("quoted");
  });

  test("«хочу купить токены» asks how many, in Russian", async () => {
    const { say } = await shop();
    const asked = await say("c1", "хочу купить токены", "ru");
    expect(asked.text).toMatch(/^Сколько токенов вам нужно\?/);
    expect(asked.text).not.toMatch(/не понял/i);
  });
});

describe("issue 21: other phrasings a new customer used", () => {
  test("'how much would 10k cost?' quotes 10,000 tokens rather than the general price", async () => {
    const { reply, text } = await (await shop()).say("c1", "how much would 10k cost?");
    expect(stateOf(reply)).toBe("quoted");
    expect(text).toContain("10,000 tokens for $200.00");
  });

  test("«а чем платить?» gets the owner's answer on payment methods", async () => {
    const { reply, text } = await (await shop()).say("c1", "а чем платить?", "ru");
    expect(reply).toMatchObject({ kind: "answer", topic: "coins" });
    expect(text).toContain("USDT");
  });

  test("«пришли код» after delivery shows the order and the end of its code", async () => {
    const { say, pay, notifications } = await shop();
    await say("c1", "2000 tokens");
    await pay(payUrlOf((await say("c1", "yes")).reply));
    const delivered = notifications.at(-1)!.reply;
    const secret = delivered.kind === "order" ? (delivered.secret ?? "") : "";
    const { reply, text } = await say("c1", "пришли код", "ru");
    expect(reply.kind).not.toBe("not_understood");
    expect(text).toContain(secret.slice(-4));
  });
});

describe("issue 21: thanks are answered in kind, and move nothing", () => {
  test.each([
    ["thanks!", "en", "Happy to help"],
    ["bye", "en", "Happy to help"],
    ["спасибо!", "ru", "Рад помочь"],
  ])("%s gets one short friendly line", async (text, language, line) => {
    const { say } = await shop();
    const { reply, message } = await say("c1", text, language);
    expect(reply).toEqual({ kind: "thanks" });
    expect(message.text).toContain(line);
    expect(message.text.split("\n")).toHaveLength(1);
  });

  test("thanking mid-purchase leaves the quote exactly as it was", async () => {
    const { app, say } = await shop();
    const quoted = await say("c1", "2000 tokens");
    const orderId = quoted.reply.kind === "order" ? quoted.reply.order.orderId : "";
    const before = await app.stores.orders.get(orderId as never);
    await say("c1", "thank you so much");
    expect(await app.stores.orders.get(orderId as never)).toEqual(before);
    expect(stateOf((await say("c1", "yes")).reply)).toBe("awaiting_payment");
  });
});

describe("issue 21: a yes never confirms an amount the customer was just asked to choose", () => {
  test.each(["sure", "yes", "да", "/confirm"])("after '2000 or 3000?' with a quote open, %s asks again which amount", async (yes) => {
    const { app, say } = await shop();
    await say("c1", "1000 tokens");
    const choice = await say("c1", "hmm, 2000 or 3000?");
    expect(choice.reply.kind).toBe("clarify");
    const again = await say("c1", yes);
    expect(again.reply.kind).toBe("clarify");
    expect(pressable(again.message).slice(0, 2)).toEqual([
      { action: "package", tokens: 2000 },
      { action: "package", tokens: 3000 },
    ]);
    // The old quote was not confirmed: no payment exists and the order is still quoted at 1,000.
    const view = await app.engine.view("c1");
    expect(stateOf(view)).toBe("quoted");
    expect(view.kind === "order" && view.order.tokens).toBe(1000);
  });

  test("once an amount is picked, a yes confirms it", async () => {
    const { say } = await shop();
    await say("c1", "1000 tokens");
    await say("c1", "2000 or 3000?");
    const picked = await say("c1", "3000");
    expect(picked.reply.kind === "order" && picked.reply.order.tokens).toBe(3000);
    expect(stateOf((await say("c1", "yes")).reply)).toBe("awaiting_payment");
  });

  test("with no quote open, a yes to the choice asks the choice again too", async () => {
    const { say } = await shop();
    await say("c1", "2000 or 3000");
    expect((await say("c1", "ok")).reply.kind).toBe("clarify");
  });
});
