/**
 * The audit log as the owner reads it: every step of a purchase, both sides of the conversation (what
 * the customer wrote, what the bot answered, as codes), who the customer is, and never the goods. The
 * entries are committed with the state they describe, so they survive a restart and several instances
 * writing one store.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { type App, createApp } from "../../../src/app.ts";
import { formatAuditEntry } from "../../../src/audit/index.ts";
import { loadConfig } from "../../../src/config.ts";
import { ChatId, OrderId } from "../../../src/domain/ids.ts";
import type { EngineReply } from "../../../src/engine/reply.ts";
import { silentLogger } from "../../../src/log.ts";
import { payUrlOf, startTestApp } from "../../support/app.ts";

const apps: App[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});
const dir = mkdtempSync(join(tmpdir(), "tg-audit-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function shop(instanceId = "test-a") {
  const opened = await startTestApp({}, { instanceId });
  apps.push(opened.app);
  return opened;
}

const orderOf = (reply: EngineReply) => {
  if (reply.kind !== "order") throw new Error(`expected an order reply, got ${reply.kind}`);
  return reply.order;
};

describe("audit trail", () => {
  it("records a typed purchase from quote to delivery, queryable by order id", async () => {
    const { app, pay } = await shop();
    const quoted = orderOf(await app.engine.handleText("c1", "I need 2000 tokens"));
    const invoice = await app.engine.handleText("c1", "yes");
    await pay(payUrlOf(invoice));

    const trail = await app.audit.forOrder(quoted.orderId);
    const commands = trail.filter((e) => e.type === "command").map((e) => [e.detail.command, e.detail.source, e.detail.accepted]);
    expect(commands).toEqual([
      ["SET_AMOUNT", "rules", true],
      ["CONFIRM", "rules", true],
    ]);
    const steps = trail.filter((e) => e.type === "transition").map((e) => `${String(e.detail.from)} → ${String(e.detail.to)}`);
    expect(steps[0]).toBe("initial → quoted");
    expect(steps[1]).toBe("quoted → awaiting_payment.waiting");
    expect(steps.at(-1)).toMatch(/→ delivered/);
    expect(trail.find((e) => e.type === "payment")?.detail).toMatchObject({ outcome: "delivered" });
    // The order's summary after every commit that changed it: the read model is built from these.
    const summaries = trail.filter((e) => e.type === "order").map((e) => (e.detail.summary as { tags: string[] }).tags);
    expect(summaries.at(-1)).toContain("delivered");
    for (const entry of trail) {
      expect(entry.chatId).toBe("c1");
      expect(entry.orderId).toBe(quoted.orderId);
      expect(entry.instance).toBe("test-a");
    }
    expect(trail.map((e) => e.at)).toEqual([...trail.map((e) => e.at)].sort((a, b) => a - b));
  });

  it("keeps both sides of the conversation: the customer's words, and the bot's answers as codes", async () => {
    const { app } = await shop();
    await app.engine.handleText("c2", "what is the weather on mars");
    const quoted = orderOf(await app.engine.handleText("c2", "I need 2000 tokens please"));
    await app.engine.handleButton("c2", { action: "confirm", orderId: quoted.orderId, shown: 2000 });
    const trail = await app.audit.forOrder(quoted.orderId);
    const typed = trail.find((e) => e.type === "command" && e.detail.command === "SET_AMOUNT");
    expect(typed?.detail.text).toBe("I need 2000 tokens please");
    // A button has no words: its command is logged without text.
    expect(trail.find((e) => e.type === "command" && e.detail.command === "CONFIRM")?.detail.text).toBeUndefined();
    const replies = trail.filter((e) => e.type === "reply").map((e) => e.detail);
    expect(replies).toHaveLength(2);
    expect(replies[0]).toMatchObject({ kind: "order", order: { orderId: quoted.orderId, stage: "quoted", words: "order-quoted" } });
    expect(replies[1]).toMatchObject({
      kind: "order",
      order: { stage: "awaiting_payment", words: "order-awaiting-payment", buttons: ["pay", "status", "cancel"] },
    });
    // The reply keeps no money or links of its own: those are the order's, in its summary entries.
    expect(JSON.stringify(replies)).not.toContain("/pay/sandbox/");
    // Before any order, the text the bot did not understand and its answer belong to the chat alone.
    let early = 0;
    for await (const entry of app.audit.all())
      if (entry.orderId === null && (entry.type === "not_understood" || entry.type === "reply")) early++;
    expect(early).toBe(2);
  });

  it("never stores the delivered goods, only that they were shown", async () => {
    const { app, pay } = await shop();
    const quoted = orderOf(await app.engine.handleText("c3", "I need 2000 tokens"));
    await pay(payUrlOf(await app.engine.handleText("c3", "yes")));
    const goods = await app.store.goods(OrderId.parse(quoted.orderId), ChatId.parse("c3"));
    expect(goods?.ref).toBeTruthy();
    // The goods are shown again on a status question until the channel confirms they were sent.
    await app.store.putGoods({ ...goods!, secret: "sk-goods-never-logged", sentAt: null }, "test");
    const status = await app.engine.handleCommand("c3", { type: "STATUS" });
    expect(status.kind === "order" && status.secret).toBe("sk-goods-never-logged");
    const trail = await app.audit.forOrder(quoted.orderId);
    expect(JSON.stringify(trail)).not.toContain("sk-goods-never-logged");
    expect(trail.filter((e) => e.type === "reply").at(-1)?.detail).toMatchObject({ kind: "order", secret: true });
  });

  it("keeps who the customer is on the chat and logs it only when it changes", async () => {
    const { app } = await shop();
    const ada = { username: "ada", firstName: "Ada" };
    await app.engine.handleText("c4", "hello", { profile: ada });
    await app.engine.handleText("c4", "I need 2000 tokens", { profile: ada });
    await app.engine.handleCommand("c4", { type: "STATUS" }, "command", { profile: { username: null, firstName: "Ada L." } });
    const chat = await app.engine.chat("c4");
    expect(chat.chat !== "invalid" && chat.chat?.profile).toEqual({ username: null, firstName: "Ada L." });
    const profiles: unknown[] = [];
    for await (const entry of app.audit.all()) if (entry.type === "profile") profiles.push(entry.detail);
    expect(profiles).toEqual([ada, { username: null, firstName: "Ada L." }]);
  });

  it("merges the trail of one order worked on by two instances sharing a SQLite file, in log order", async () => {
    const config = loadConfig({ STORE_URL: `sqlite://${join(dir, "two.sqlite")}` });
    const open = async (instanceId: string) => {
      const app = await createApp(config, { listen: false, log: silentLogger, sweepIntervalMs: 3_600_000, instanceId });
      apps.push(app);
      return app;
    };
    const a = await open("a");
    const b = await open("b");
    const quoted = orderOf(await a.engine.handleText("c5", "I need 2000 tokens"));
    await b.engine.handleText("c5", "yes");
    await a.engine.handleCommand("c5", { type: "CANCEL" });
    const trail = await b.audit.forOrder(quoted.orderId);
    expect(trail.filter((e) => e.type === "transition").map((e) => e.instance)).toEqual(["a", "b", "a"]);
    expect(formatAuditEntry(trail.at(-1)!, { verbose: true })).toContain("[a]");
  });

  it("the trail is still there, whole, after a restart on SQLite", async () => {
    const config = loadConfig({ STORE_URL: `sqlite://${join(dir, "restart.sqlite")}` });
    const first = await createApp(config, { listen: false, log: silentLogger, instanceId: "one" });
    const quoted = orderOf(await first.engine.handleText("c6", "I need 1000 tokens"));
    for (let i = 1; i <= 40; i++) await first.engine.handleText("c6", `make it ${1000 + i * 100}`);
    const before = await first.audit.forOrder(quoted.orderId);
    await first.close();
    const second = await createApp(config, { listen: false, log: silentLogger, instanceId: "two" });
    apps.push(second);
    const after = await second.audit.forOrder(quoted.orderId);
    expect(after).toEqual(before);
    expect(after.filter((e) => e.type === "command")).toHaveLength(41);
  });
});
