/**
 * Issue 21, the understanding side, through the whole engine: picking one of the amounts offered,
 * thanks after a delivery, a lost key, promo codes (typed, /promo and the deep link), product names,
 * and unknown text still logged as such. What the engine then does with a product, a promo code or a
 * reissue is the machine's (see the machine's own tests); here we check what reached it.
 */
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { answerCommand } from "../../src/customer-commands.ts";
import type { AuditEntry } from "../../src/domain/records.ts";
import type { EngineReply } from "../../src/engine/reply.ts";
import { payUrlOf, startTestApp } from "../support/app.ts";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function shop(env: Record<string, string> = {}) {
  const started = await startTestApp(env);
  cleanups.push(() => started.app.close());
  const say = async (chatId: string, text: string, language = "en") => {
    const reply = await started.app.engine.handleText(chatId, text);
    return { reply, text: started.app.renderer.render(reply, language).text };
  };
  /** The audit's customer commands of a chat, oldest first: what reached the engine, from where. */
  const commands = async (chatId: string) => {
    const { entries } = await started.app.store.readLog(null, 10_000);
    return entries.filter((e: AuditEntry) => e.chatId === chatId && e.type === "command").map((e) => e.detail as { command: string; source: string; text?: string });
  };
  const deliver = async (chatId: string) => {
    await say(chatId, "2000 tokens");
    await started.pay(payUrlOf((await say(chatId, "yes")).reply));
    expect(started.notifications.at(-1)?.reply).toMatchObject({ kind: "order", order: { stage: "delivered" } });
  };
  return { ...started, say, commands, deliver };
}

const tokensOf = (reply: EngineReply) => (reply.kind === "order" ? reply.order.tokens : null);

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
    expect((await say("c1", language === "ru" ? "да" : "yes", language)).reply).toMatchObject({ order: { stage: "awaiting_payment", tokens } });
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

describe("after a delivery", () => {
  test.each([
    ["thanks", "en", "Happy to help"],
    ["bye", "en", "Happy to help"],
    ["спасибо!", "ru", "Рад помочь"],
  ])("%s is answered in kind, never 'didn't understand'", async (text, language, line) => {
    const { say, deliver } = await shop();
    await deliver("c1");
    const thanked = await say("c1", text, language);
    expect(thanked.reply).toEqual({ kind: "thanks" });
    expect(thanked.text).toContain(line);
  });

  test.each(["I lost my key", "потерял ключ", "send me the code", "пришли код"])("%s asks the delivered order for a reissue", async (text) => {
    const { say, deliver, commands } = await shop();
    await deliver("c1");
    const asked = await say("c1", text);
    expect(asked.reply.kind).not.toBe("not_understood");
    expect((await commands("c1")).at(-1)).toMatchObject({ command: "REISSUE", source: "rules", text });
  });

  test("before a delivery, the same words are a status question", async () => {
    const { say, commands } = await shop();
    await say("c1", "2000 tokens");
    await say("c1", "I lost my key");
    expect((await commands("c1")).at(-1)).toMatchObject({ command: "STATUS", source: "rules" });
  });
});

describe("promo codes reach the engine as typed", () => {
  test.each(["promo SPRING10", "промокод SPRING10", "/promo SPRING10"])("typed: %s", async (text) => {
    const { say, commands } = await shop();
    await say("c1", text);
    expect((await commands("c1")).at(-1)).toMatchObject({ command: "APPLY_PROMO", source: "rules" });
  });

  test("the /promo command and the ?start=promo_CODE deep link, as Telegram and the console give them", async () => {
    const { app, commands } = await shop();
    await answerCommand(app.engine, "c1", "promo", "SPRING10");
    await answerCommand(app.engine, "c2", "start", "promo_WELCOME5");
    expect((await commands("c1")).at(-1)).toMatchObject({ command: "APPLY_PROMO", source: "command" });
    expect((await commands("c2")).at(-1)).toMatchObject({ command: "APPLY_PROMO", source: "command" });
    // "/promo" alone is the help; an argument that is no code is not understood.
    expect((await answerCommand(app.engine, "c3", "promo", "")).kind).toBe("help");
    expect((await answerCommand(app.engine, "c3", "promo", "!!")).kind).toBe("not_understood");
  });
});

describe("product names, with a catalog of two products", () => {
  const catalog = { CATALOG_FILE: join(import.meta.dirname, "..", "..", "catalog.example.yaml") };

  test.each([
    ["claude", "SET_PRODUCT"],
    ["токены для claude", "SET_PRODUCT"],
    ["1000 gpt tokens", "SET_AMOUNT"],
    ["$25 of claude credit", "SET_AMOUNT"],
  ])("%s reaches the engine as %s", async (text, command) => {
    const { say, commands } = await shop(catalog);
    await say("c1", text);
    expect((await commands("c1")).at(-1)).toMatchObject({ command, source: "rules" });
  });

  test("with one product, a product's name is still a question about models", async () => {
    const { say } = await shop();
    expect((await say("c1", "claude")).reply).toMatchObject({ kind: "answer", topic: "models" });
  });
});

test("text nobody can read is still 'not understood', and logged with its words", async () => {
  const { app, say } = await shop();
  expect((await say("c1", "purple monkey dishwasher")).reply.kind).toBe("not_understood");
  const { entries } = await app.store.readLog(null, 1000);
  expect(entries.find((e) => e.type === "not_understood")?.detail).toMatchObject({ text: "purple monkey dishwasher" });
});
