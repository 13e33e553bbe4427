/** Issue 21: phrasings a new customer used that the shop did not understand, answered through the whole engine. */
import { afterEach, describe, expect, test } from "vitest";
import type { Understander } from "../../src/domain/commands.ts";
import type { EngineReply } from "../../src/engine/reply.ts";
import type { RenderedMessage } from "../../src/render/messages.ts";
import { payUrlOf, rewriteChat, startTestApp } from "../support/app.ts";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function shop(llm?: Understander) {
  const started = await startTestApp({}, llm ? { llm } : {});
  cleanups.push(() => started.app.close());
  const say = async (chatId: string, text: string, language = "en") => {
    const reply = await started.app.engine.handleText(chatId, text);
    const message = started.app.renderer.render(reply, language);
    return { reply, text: message.text, message };
  };
  return { ...started, say };
}

const stateOf = (reply: EngineReply) => ("order" in reply && reply.order ? reply.order.stage : null);
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
    const before = await app.engine.order(orderId);
    expect(before?.summary.tokens).toBe(2000);
    await say("c1", "thank you so much");
    expect(await app.engine.order(orderId)).toEqual(before);
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

  test("a yes to a choice that came from a budget offers the budget again, not just its tokens", async () => {
    const { say } = await shop();
    await say("c1", "hi");
    const choice = await say("c1", "give me 2 grand");
    expect(choice.reply).toMatchObject({ kind: "clarify", choices: [{ tokens: 2000 }, { tokens: 100_000, usdCents: 200_000 }] });
    const again = await say("c1", "yes");
    expect(again.reply).toMatchObject({ kind: "clarify", choices: [{ tokens: 2000 }, { tokens: 100_000, usdCents: 200_000 }] });
    expect(again.message.buttons.flat().map((b) => b.label)).toContain("$2,000.00 → 100,000 tokens");
  });

  test("with a quote open but the choice forgotten, a yes is still not a confirmation", async () => {
    const { app, say } = await shop();
    await say("c1", "1000 tokens");
    await say("c1", "2000 or 3000?");
    // A chat record that kept "a choice was asked" but lost its amounts (an older writer, a cut record).
    await rewriteChat(app, "c1", (chat) => ({ ...chat, choices: [] }));
    const reply = (await say("c1", "yes")).reply;
    expect(reply.kind).not.toBe("order");
    const view = await app.engine.view("c1");
    expect(stateOf(view)).toBe("quoted");
    expect(view.kind === "order" && view.order.payUrl).toBeNull();
  });

  test("a chat stored when choices were bare amounts still asks its choice again", async () => {
    const { app, say } = await shop();
    await say("c1", "1000 tokens");
    await say("c1", "2000 or 3000?");
    // How the first records of this store schema kept the amounts offered.
    await rewriteChat(app, "c1", (chat) => ({ ...chat, choices: [2000, 3000] as unknown as typeof chat.choices }));
    expect((await say("c1", "yes")).reply).toMatchObject({ kind: "clarify", choices: [{ tokens: 2000 }, { tokens: 3000 }] });
  });

  test("a model's CONFIRM is held to the same rule", async () => {
    const model: Understander = async (text) => (text.includes("I'm in") ? { command: { type: "CONFIRM" }, source: "llm" } : null);
    const { say } = await shop(model);
    await say("c1", "1000 tokens");
    expect((await say("c1", "2000 or 3000?")).reply.kind).toBe("clarify");
    expect((await say("c1", "alright I'm in")).reply).toMatchObject({ kind: "clarify", choices: [{ tokens: 2000 }, { tokens: 3000 }] });
    // Once nobody is asked to choose, the model's CONFIRM confirms as always.
    await say("c1", "2000");
    expect(stateOf((await say("c1", "alright I'm in")).reply)).toBe("awaiting_payment");
  });

  test("after a welcome (which asks how many), a yes is left to the machine: there is nothing to confirm", async () => {
    const { say } = await shop();
    expect((await say("c1", "hi")).reply.kind).toBe("help");
    expect((await say("c1", "yes")).reply).toMatchObject({ kind: "refused", reason: "nothing_to_confirm" });
  });
});
