import { afterEach, describe, expect, it } from "vitest";
import { type App, createApp } from "../../src/app.ts";
import { buildFunnel, formatFunnel, median } from "../../src/analytics/funnel.ts";
import { toAuditEntry, type AuditEvent } from "../../src/audit/index.ts";
import { loadConfig } from "../../src/config.ts";
import type { AuditEntry } from "../../src/domain/records.ts";
import { encodeButton } from "../../src/telegram/buttons.ts";
import { silentLogger } from "../../src/log.ts";

let seq = 0;
const entry = (event: AuditEvent): AuditEntry => toAuditEntry(event, "t", seq++);
const cmd = (orderId: string, command: "QUOTE" | "CHANGE_AMOUNT" | "CONFIRM", source: "rules" | "llm" | "button" | "command", at: number) =>
  entry({ type: "command", chatId: `chat-${orderId}`, orderId, command, source, accepted: true, at });
const move = (orderId: string, from: string, to: string, at: number) => entry({ type: "transition", chatId: `chat-${orderId}`, orderId, from, to, at });
const llm = (orderId: string, tokens: number, at: number) =>
  entry({ type: "llm", chatId: `chat-${orderId}`, orderId, model: "m", promptTokens: tokens, completionTokens: 0, ok: true, at });

function purchase(orderId: string, source: "rules" | "llm" | "button" | "command", start: number, deliverAfterMs: number): AuditEntry[] {
  return [
    cmd(orderId, "QUOTE", source, start),
    move(orderId, "initial", "quoted", start),
    cmd(orderId, "CONFIRM", source, start + 1000),
    move(orderId, "quoted", "awaiting_payment", start + 1000),
    move(orderId, "awaiting_payment", "delivered", start + deliverAfterMs),
  ];
}

describe("sales funnel", () => {
  it("counts each stage per source and attributes an order to where its amount came from", () => {
    const entries = [
      ...purchase("o1", "rules", 0, 60_000),
      ...purchase("o2", "button", 0, 30_000),
      ...purchase("o3", "llm", 0, 90_000),
      llm("o3", 500, 1),
      llm("o3", 300, 2),
      // Quoted by button, amount changed by typing: mixed.
      cmd("o4", "QUOTE", "button", 0),
      move("o4", "initial", "quoted", 0),
      cmd("o4", "CHANGE_AMOUNT", "rules", 5),
      // Never understood.
      entry({ type: "not_understood", chatId: "c5", orderId: "o5", at: 3 }),
      // Quoted by rules, abandoned.
      cmd("o6", "QUOTE", "rules", 0),
      move("o6", "initial", "quoted", 0),
    ];
    const funnel = buildFunnel(entries.reverse());
    const by = Object.fromEntries(funnel.rows.map((r) => [r.source, r]));
    expect(funnel.orders).toBe(6);
    expect(by.rules).toMatchObject({ started: 2, quoted: 2, paymentCreated: 1, paid: 1, delivered: 1, medianQuoteToDeliveryMs: 60_000 });
    expect(by.button).toMatchObject({ started: 1, delivered: 1, medianQuoteToDeliveryMs: 30_000 });
    expect(by.llm).toMatchObject({ started: 1, delivered: 1, llmCalls: 2, llmTokens: 800 });
    expect(by.mixed).toMatchObject({ started: 1, quoted: 1, paymentCreated: 0, delivered: 0 });
    expect(by.unattributed).toMatchObject({ started: 1, quoted: 0 });
    expect(by.command).toBeUndefined();
    expect(by.total).toMatchObject({ started: 6, quoted: 5, paymentCreated: 3, paid: 3, delivered: 3, llmCalls: 2, medianQuoteToDeliveryMs: 60_000 });
  });

  it("counts only orders started since a given time", () => {
    const funnel = buildFunnel([...purchase("old", "rules", 0, 10), ...purchase("new", "button", 5_000, 10)], { since: 1_000 });
    expect(funnel.orders).toBe(1);
    expect(funnel.rows.map((r) => r.source)).toEqual(["button", "total"]);
  });

  it("prints a table with conversion rates and LLM cost per sale", () => {
    const text = formatFunnel(buildFunnel([...purchase("o3", "llm", 0, 90_000), llm("o3", 1200, 1), cmd("o9", "QUOTE", "llm", 2)]));
    expect(text).toContain("text (LLM)");
    expect(text).toMatch(/text \(LLM\)\s+2\s+1 \(50\.0%\)/);
    expect(text).toContain("1200");
    expect(text).toContain("1m 30s");
    expect(formatFunnel(buildFunnel([]))).toContain("no orders recorded yet");
  });

  it("median handles odd, even and empty inputs", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNull();
  });
});

describe("funnel from a running shop", () => {
  const apps: App[] = [];
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });

  it("a typed purchase and a button purchase land in their own rows", async () => {
    const app = await createApp(loadConfig({ STORE_URL: "memory://" }), { listen: false, log: silentLogger });
    apps.push(app);
    const payFor = async (orderId: string) => {
      const order = await app.engine.order(orderId);
      await app.http.dispatch({ method: "POST", path: `/pay/sandbox/${order?.paymentId ?? ""}`, headers: {}, rawBody: Buffer.alloc(0) });
    };
    const typed = await app.engine.handleText("typist", "2000 tokens please");
    await app.engine.handleText("typist", "yes");
    if (typed.kind !== "order") throw new Error("no quote");
    await payFor(typed.order.orderId);

    const pressed = await app.engine.handleButton("clicker", { action: "package", tokens: 1000 });
    if (pressed.kind !== "order") throw new Error("no quote");
    await app.engine.handleButton("clicker", { action: "confirm", orderId: pressed.order.orderId, shown: 1000 });
    await payFor(pressed.order.orderId);
    expect(encodeButton({ action: "confirm", orderId: pressed.order.orderId, shown: 1000 }).length).toBeLessThanOrEqual(64);

    const entries: AuditEntry[] = [];
    for await (const e of app.audit.all()) entries.push(e);
    const by = Object.fromEntries(buildFunnel(entries).rows.map((r) => [r.source, r]));
    expect(by.rules).toMatchObject({ started: 1, quoted: 1, paymentCreated: 1, paid: 1, delivered: 1 });
    expect(by.button).toMatchObject({ started: 1, quoted: 1, paymentCreated: 1, paid: 1, delivered: 1 });
    expect(by.total?.delivered).toBe(2);
  });
});
