/**
 * Phrasings customers used, through the whole engine (issues 13 and 21): a budget, a greeting, a bare
 * number, "I have paid", wanting tokens without an amount, thanks, a lost key, promo codes (typed,
 * /promo and the deep link), product names, and unknown text still logged as such. What the engine
 * then does with a product, a promo code or a reissue is the machine's (see the machine's own tests);
 * here we check what reached it and what the customer reads.
 */
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { answerCommand } from "../../src/customer-commands.ts";
import type { AuditEntry } from "../../src/domain/records.ts";
import type { EngineReply } from "../../src/engine/reply.ts";
import type { SandboxProvider } from "../../src/payments/sandbox.ts";
import type { RenderedMessage } from "../../src/render/messages.ts";
import { payUrlOf, startTestApp } from "../support/app.ts";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function shop(env: Record<string, string> = {}) {
  const started = await startTestApp(env);
  cleanups.push(() => started.app.close());
  const { say } = started;
  /** The audit's customer commands of a chat, oldest first: what reached the engine, from where. */
  const commands = async (chatId: string) => {
    const { entries } = await started.app.store.readLog(null, 10_000);
    return entries
      .filter((e: AuditEntry) => e.chatId === chatId && e.type === "command")
      .map((e) => e.detail as { command: string; source: string; text?: string });
  };
  /** Buys 2,000 tokens and pays; returns the code delivered. */
  const deliver = async (chatId: string) => {
    await say(chatId, "2000 tokens");
    await started.pay(payUrlOf((await say(chatId, "yes")).reply));
    const delivered = started.notifications.at(-1)?.reply;
    expect(delivered).toMatchObject({ kind: "order", order: { stage: "delivered" } });
    return delivered?.kind === "order" ? (delivered.secret ?? "") : "";
  };
  return { ...started, commands, deliver };
}

/** The order a reply shows: the one it is about, or the chat's last one once that ended. */
const shownOrder = (reply: EngineReply) => ("order" in reply ? reply.order : "lastOrder" in reply ? reply.lastOrder : null);
const stateOf = (reply: EngineReply) => shownOrder(reply)?.stage ?? null;
const pressable = (message: RenderedMessage) => message.buttons.flat().flatMap((b) => ("press" in b ? [b.press] : []));

describe("amounts in the customer's words", () => {
  test("a budget is quoted as the tokens it buys, and the reply says so", async () => {
    const { say } = await shop();
    const { reply, text } = await say("c1", "$25.01 worth please");
    expect(stateOf(reply)).toBe("quoted");
    expect(text).toContain("$25.01 buys 1,250 tokens (rounded down)");
    expect(text).toContain("1,250 tokens for $25.00");
  });

  test("'how much would 10k cost?' quotes 10,000 tokens rather than the general price", async () => {
    const { reply, text } = await (await shop()).say("c1", "how much would 10k cost?");
    expect(stateOf(reply)).toBe("quoted");
    expect(text).toContain("10,000 tokens for $200.00");
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
});

describe("wanting tokens without an amount is asked how many", () => {
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

describe("'I have paid' asks the provider, like status", () => {
  test("a payment whose webhook was lost is found and delivered", async () => {
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

  test("with nothing paid it changes nothing", async () => {
    const { say } = await shop();
    await say("c1", "2000 tokens");
    await say("c1", "yes");
    const claimed = await say("c1", "I have paid, deliver now");
    expect(stateOf(claimed.reply)).toBe("awaiting_payment");
  });
});

describe("thanks are answered in kind, and move nothing", () => {
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

  test.each([
    ["thanks", "en", "Happy to help"],
    ["bye", "en", "Happy to help"],
    ["спасибо!", "ru", "Рад помочь"],
  ])("%s after a delivery is answered in kind, never 'didn't understand'", async (text, language, line) => {
    const { say, deliver } = await shop();
    await deliver("c1");
    const thanked = await say("c1", text, language);
    expect(thanked.reply).toEqual({ kind: "thanks" });
    expect(thanked.text).toContain(line);
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

describe("a lost key", () => {
  test.each(["I lost my key", "потерял ключ", "send me the code", "пришли код"])(
    "%s after a delivery asks the delivered order for a reissue",
    async (text) => {
      const { say, deliver, commands } = await shop();
      await deliver("c1");
      const asked = await say("c1", text);
      expect(asked.reply.kind).not.toBe("not_understood");
      expect((await commands("c1")).at(-1)).toMatchObject({ command: "REISSUE", source: "rules", text });
    },
  );

  test("«пришли код» after delivery replaces the lost code and shows the new one, in Russian", async () => {
    const { say, deliver } = await shop();
    const secret = await deliver("c1");
    const { reply, text } = await say("c1", "пришли код", "ru");
    expect(reply.kind).not.toBe("not_understood");
    const shown = /TG-[A-Z0-9]+/.exec(text)?.[0];
    expect(shown).toBeDefined();
    expect(shown).not.toBe(secret);
    expect(text).toContain("замена прежнего");
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
