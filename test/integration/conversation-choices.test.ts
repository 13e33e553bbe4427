/**
 * When a message could mean two amounts, the shop asks which one with both as buttons; the customer
 * picks one by number, ordinal or button; and a yes never confirms an amount the customer was just
 * asked to choose (issues 13 and 21), through the whole engine.
 */
import { afterEach, describe, expect, test } from "vitest";
import type { Understander } from "../../src/domain/commands.ts";
import type { EngineReply } from "../../src/engine/reply.ts";
import type { RenderedMessage } from "../../src/render/messages.ts";
import { rewriteChat, startTestApp } from "../support/app.ts";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function shop(llm?: Understander) {
  const started = await startTestApp({}, llm ? { llm } : {});
  cleanups.push(() => started.app.close());
  return started;
}

const stateOf = (reply: EngineReply) => ("order" in reply && reply.order ? reply.order.stage : null);
const tokensOf = (reply: EngineReply) => (reply.kind === "order" ? reply.order.tokens : null);
const pressable = (message: RenderedMessage) => message.buttons.flat().flatMap((b) => ("press" in b ? [b.press] : []));

describe("two possible amounts get one short question", () => {
  test("'2000 or 3000' gets both as buttons, not 'didn't get that', and a button picks one", async () => {
    const { app, say } = await shop();
    const { reply, message } = await say("c1", "2000 or 3000");
    expect(reply.kind).not.toBe("not_understood");
    expect(message.text).not.toContain("didn't get that");
    const choices = pressable(message);
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
});

describe("after '2000 or 3000?', the customer picks one", () => {
  test.each([
    ["the first", "en", 2000],
    ["the second one please", "en", 3000],
    ["the bigger one", "en", 3000],
    ["первый", "ru", 2000],
    ["давай второй", "ru", 3000],
    ["3000", "en", 3000],
  ])("'%s' (%s) picks %i, and only then does a yes confirm it", async (text, language, tokens) => {
    const { say } = await shop();
    await say("c1", "1000 tokens", language);
    expect((await say("c1", "2000 or 3000?", language)).reply.kind).toBe("clarify");
    // A yes first: the choice is asked again, the old quote stays unconfirmed.
    expect((await say("c1", language === "ru" ? "да" : "sure", language)).reply.kind).toBe("clarify");
    const picked = await say("c1", text, language);
    expect(tokensOf(picked.reply)).toBe(tokens);
    expect(picked.reply).toMatchObject({ kind: "order", order: { stage: "quoted" } });
    expect((await say("c1", language === "ru" ? "да" : "yes", language)).reply).toMatchObject({
      order: { stage: "awaiting_payment", tokens },
    });
  });

  test("a picked budget is quoted as the budget it was", async () => {
    const { say } = await shop();
    await say("c1", "hi");
    expect((await say("c1", "give me 2 grand")).reply.kind).toBe("clarify");
    const picked = await say("c1", "the second");
    expect(picked.reply).toMatchObject({ kind: "order", order: { tokens: 100_000 }, budget: { usd: { minor: 200_000, currency: "USD" } } });
  });

  test("an ordinal with nothing offered is not a pick", async () => {
    const { say } = await shop();
    expect((await say("c1", "the first")).reply.kind).toBe("not_understood");
  });
});

describe("a yes never confirms an amount the customer was just asked to choose", () => {
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
