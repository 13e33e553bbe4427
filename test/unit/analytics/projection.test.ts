/**
 * The shop's one read model (a reducer over the audit log) and the funnel built from it: the table
 * `npm run report`, `/stats` and the dashboard all show. Entries are made as the engine writes them
 * (`toAuditEntry` of engine events, an order's summary after each commit).
 */
import { afterEach, describe, expect, it } from "vitest";
import { buildFunnel, formatFunnel, median } from "../../../src/analytics/funnel.ts";
import { decodeState, encodeState } from "../../../src/analytics/projection-codec.ts";
import {
  EARLY_TALK_CHATS,
  NOT_UNDERSTOOD_KEPT,
  type ProjectionState,
  applyEntry,
  emptyProjection,
  needsOwner,
} from "../../../src/analytics/projection.ts";
import type { CommandSource } from "../../../src/domain/commands.ts";
import { ChatId, OrderId } from "../../../src/domain/ids.ts";
import type { AuditEntry, OrderSummary } from "../../../src/domain/records.ts";
import { toAuditEntry } from "../../../src/engine/audit-entries.ts";
import type { EngineEvent } from "../../../src/engine/events.ts";
import { payUrlOf, startTestApp } from "../../support/app.ts";
import { orderSummary } from "../../support/order-summary.ts";

const entry = (event: EngineEvent): AuditEntry => toAuditEntry(event, "t");
const chat = (orderId: string) => ChatId.parse(`chat-${orderId}`);
const USD = (minor: number) => ({ minor, currency: "USD" as const });

/** An order's summary as the engine logs it in `state` with `tags`. */
function summary(state: string, tags: string[], extra: Partial<OrderSummary> = {}): OrderSummary {
  return orderSummary({ state, tags, charge: USD(4000), ...extra });
}
const order = (orderId: string, at: number, s: OrderSummary, createdAt = at) =>
  entry({ type: "order", chatId: chat(orderId), orderId: OrderId.parse(orderId), summary: s, createdAt, at });
const command = (orderId: string, type: "SET_AMOUNT" | "CONFIRM", source: CommandSource, at: number, chatId = chat(orderId)) =>
  entry({ type: "command", chatId, orderId: OrderId.parse(orderId), command: type, source, accepted: true, at });
const llm = (orderId: string, tokens: number, at: number) =>
  entry({
    type: "llm",
    chatId: chat(orderId),
    orderId: OrderId.parse(orderId),
    model: "m",
    promptTokens: tokens,
    completionTokens: 0,
    ok: true,
    at,
  });

/** A purchase as the engine commits it: the command before the order's summary in each commit. */
function purchase(
  orderId: string,
  source: CommandSource,
  start: number,
  deliverAfterMs: number | null,
  stopAt: "quoted" | "invoiced" | "delivered" = "delivered",
): AuditEntry[] {
  const entries = [command(orderId, "SET_AMOUNT", source, start), order(orderId, start, summary("quoted", ["open"]), start)];
  if (stopAt === "quoted") return entries;
  entries.push(
    command(orderId, "CONFIRM", source, start + 1000),
    order(
      orderId,
      start + 1000,
      summary("awaiting_payment.waiting", ["accepts_payment", "open"], { paymentId: `pay_${orderId}` as never }),
      start,
    ),
  );
  if (stopAt === "invoiced" || deliverAfterMs === null) return entries;
  const at = start + deliverAfterMs;
  entries.push(
    order(orderId, at - 10, summary("paid.recorded", ["paid", "resume"], { paymentId: `pay_${orderId}` as never, paidAt: at - 10 }), start),
    order(
      orderId,
      at,
      summary("delivered.settled", ["at_rest", "delivered", "ended", "paid"], {
        paymentId: `pay_${orderId}` as never,
        paidAt: at - 10,
        deliveredAt: at,
      }),
      start,
    ),
  );
  return entries;
}

function project(entries: readonly AuditEntry[]): ProjectionState {
  const state = emptyProjection();
  for (const e of entries) applyEntry(state, e);
  return state;
}
const funnelOf = (entries: readonly AuditEntry[], options: { since?: number } = {}) =>
  buildFunnel(project(entries).orders.values(), options);

describe("sales funnel", () => {
  it("counts each stage per source and attributes an order to where its amount came from", () => {
    const entries = [
      ...purchase("o1", "rules", 0, 60_000),
      ...purchase("o2", "button", 0, 30_000),
      llm("o3", 500, 0),
      llm("o3", 300, 0),
      ...purchase("o3", "llm", 0, 90_000),
      // Quoted by button, amount changed by typing: mixed.
      ...purchase("o4", "button", 0, null, "quoted"),
      command("o4", "SET_AMOUNT", "rules", 5),
      // An order whose commands were never logged (an older store): not attributed.
      order("o5", 3, summary("quoted", ["open"])),
      // Quoted by rules, abandoned.
      ...purchase("o6", "rules", 0, null, "quoted"),
    ];
    const funnel = funnelOf(entries);
    const by = Object.fromEntries(funnel.rows.map((r) => [r.source, r]));
    expect(funnel.orders).toBe(6);
    expect(by.rules).toMatchObject({ started: 2, quoted: 2, invoiced: 1, paid: 1, delivered: 1, medianQuoteToDeliveryMs: 60_000 });
    expect(by.button).toMatchObject({ started: 1, delivered: 1, medianQuoteToDeliveryMs: 30_000 });
    expect(by.llm).toMatchObject({ started: 1, delivered: 1, llmCalls: 2, llmTokens: 800 });
    expect(by.mixed).toMatchObject({ started: 1, quoted: 1, invoiced: 0, delivered: 0 });
    expect(by.unattributed).toMatchObject({ started: 1, quoted: 1 });
    expect(by.command).toBeUndefined();
    expect(by.total).toMatchObject({
      started: 6,
      quoted: 6,
      invoiced: 3,
      paid: 3,
      delivered: 3,
      llmCalls: 2,
      medianQuoteToDeliveryMs: 60_000,
    });
  });

  it("counts the command and model calls logged before an order's first summary for that order", () => {
    // One commit of a first message the model read: its call, then the command that made the order, then the order.
    const funnel = funnelOf([llm("o7", 434, 0), command("o7", "SET_AMOUNT", "llm", 0), order("o7", 0, summary("quoted", ["open"]))]);
    expect(funnel.rows.map((r) => r.source)).toEqual(["llm", "total"]);
    expect(funnel.rows[0]).toMatchObject({ started: 1, llmCalls: 1, llmTokens: 434 });
  });

  it("counts money that arrived after the order closed as paid, and says how much of it was late", () => {
    const late = [
      ...purchase("o8", "rules", 0, null, "invoiced"),
      order("o8", 5_000, summary("expired.invoice_open", ["at_rest", "closed", "ended"])),
      order(
        "o8",
        9_000,
        summary("delivered.settled", ["at_rest", "delivered", "ended", "paid"], { late: true, paidAt: 9_000, deliveredAt: 9_000 }),
      ),
    ];
    expect(funnelOf(late).rows.at(-1)).toMatchObject({ paid: 1, latePaid: 1, delivered: 1 });
  });

  it("counts only orders started since a given time", () => {
    const funnel = funnelOf([...purchase("old", "rules", 0, 10), ...purchase("new", "button", 5_000, 10)], { since: 1_000 });
    expect(funnel.orders).toBe(1);
    expect(funnel.rows.map((r) => r.source)).toEqual(["button", "total"]);
  });

  it("prints a table with conversion rates and LLM cost per sale", () => {
    const text = formatFunnel(
      funnelOf([llm("o3", 1200, 0), ...purchase("o3", "llm", 0, 90_000), ...purchase("o9", "llm", 2, null, "quoted")]),
    );
    expect(text).toContain("text (LLM)");
    expect(text).toMatch(/text \(LLM\)\s+2\s+2 \(100\.0%\)\s+1 \(50\.0%\)/);
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

describe("the read model", () => {
  it("keeps the last texts not understood, counted together whatever their case and spacing", () => {
    const said = (text: string, at: number, chatId = "c1") =>
      entry({ type: "not_understood", chatId: ChatId.parse(chatId), orderId: null, text, at });
    const state = project([said("walk my dog", 1), said("other", 2), said("Walk  my DOG", 3, "c2")]);
    expect(state.notUnderstood).toEqual([
      { text: "other", count: 1, lastAt: 2, chatId: "c1", orderId: null },
      { text: "Walk  my DOG", count: 2, lastAt: 3, chatId: "c2", orderId: null },
    ]);
    const many = project(Array.from({ length: NOT_UNDERSTOOD_KEPT + 20 }, (_, i) => said(`text ${i}`, i)));
    expect(many.notUnderstood).toHaveLength(NOT_UNDERSTOOD_KEPT);
    expect(many.notUnderstood.at(-1)?.text).toBe(`text ${NOT_UNDERSTOOD_KEPT + 19}`);
  });

  it("knows customers by their Telegram names, what they paid, and when they last did something themselves", () => {
    const ada = ChatId.parse("chat-a1");
    const entries = [
      entry({ type: "profile", chatId: ada, orderId: null, username: "ada", firstName: "Ada", at: 0 }),
      ...purchase("a1", "rules", 10, 100),
      command("a2", "SET_AMOUNT", "button", 1_000, ada),
      entry({
        type: "order",
        chatId: ada,
        orderId: OrderId.parse("a2"),
        summary: summary("delivered.settled", ["delivered", "paid"], { usd: USD(2000), paidAt: 1_100 }),
        createdAt: 1_000,
        at: 1_100,
      }),
      // The sweeper expiring something of hers later is not her being seen.
      entry({ type: "transition", chatId: ada, orderId: OrderId.parse("a2"), from: "x", to: "y", at: 50_000 }),
    ];
    const customer = project(entries).customers.get(ada)!;
    expect(customer).toMatchObject({
      username: "ada",
      firstName: "Ada",
      orders: 2,
      paidOrders: 2,
      revenueUsdCents: 6000,
      lastSeenAt: 1_010,
    });
  });

  it("says since when an order needs the owner, and stops when it does not", () => {
    const failed = summary("delivery_failed", ["needs_owner", "paid"]);
    const owed = summary("delivered.settled", ["delivered", "paid"], { owedStrays: 1 });
    const state = project([order("n1", 100, failed), order("n1", 200, failed), order("n2", 300, owed)]);
    expect(state.orders.get("n1")?.ownerSince).toBe(100);
    expect(needsOwner(state.orders.get("n2")!.summary)).toBe(true);
    applyEntry(state, order("n1", 400, summary("refunded", ["ended", "refunded"], { refunded: USD(4000) })));
    expect(state.orders.get("n1")).toMatchObject({ ownerSince: null, refundedAt: 400 });
  });

  it("keeps the talk before a first order for a bounded number of chats", () => {
    const say = (chatId: string, at: number) =>
      entry({ type: "not_understood", chatId: ChatId.parse(chatId), orderId: null, text: "hm", at });
    const answer = (chatId: string, at: number) =>
      entry({ type: "reply", chatId: ChatId.parse(chatId), orderId: null, reply: { kind: "not_understood", order: null }, at });
    const state = project(Array.from({ length: EARLY_TALK_CHATS + 5 }, (_, i) => [say(`v${i}`, i), answer(`v${i}`, i)]).flat());
    expect(state.earlyTalk).toHaveLength(EARLY_TALK_CHATS);
    expect(state.earlyTalk[0]?.chatId).toBe("v5");
    expect(state.earlyTalk.at(-1)?.lines.map((line) => line.from)).toEqual(["customer", "bot"]);
  });
});

describe("the saved read model", () => {
  it("comes back as it was saved, and keeps growing in place after", async () => {
    const entries = [
      entry({ type: "profile", chatId: chat("s1"), orderId: null, username: "ada", firstName: null, at: 1 }),
      llm("s1", 434, 2),
      ...purchase("s1", "llm", 2, 90_000),
      ...purchase("s2", "button", 5, null, "quoted"),
      // Paid a moment "before" it was made: another instance's clock, a little behind.
      order("s3", 7, summary("delivery_failed", ["needs_owner", "paid"], { owedStrays: 1, paidAt: 6, refunded: USD(100) })),
      entry({ type: "not_understood", chatId: chat("s4"), orderId: null, text: "hm", at: 9 }),
    ];
    const state = project(entries);
    const back = decodeState(await encodeState(state))!;
    expect(back).toEqual(state);
    // Growing the decoded model changes only the row grown.
    applyEntry(back, command("s2", "SET_AMOUNT", "rules", 20));
    expect(back.orders.get("s2")?.quoteSources).toEqual(["button", "rules"]);
    expect(back.orders.get("s1")?.quoteSources).toEqual(["llm"]);
    expect((await encodeState(state)).length).toBeLessThan(JSON.stringify({ ...state, orders: [...state.orders.values()] }).length);
  });

  it("is not read when saved in another format: the log is read again", () => {
    expect(decodeState(JSON.stringify({ v: 1, orders: {} }))).toBeNull();
  });
});

describe("funnel from a running shop", () => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    while (closers.length > 0) await closers.pop()!();
  });

  it("a typed purchase and a button purchase land in their own rows", async () => {
    const { app, pay } = await startTestApp();
    closers.push(() => app.close());
    await app.engine.handleText("typist", "2000 tokens please");
    await pay(payUrlOf(await app.engine.handleText("typist", "yes")));

    const pressed = await app.engine.handleButton("clicker", { action: "package", tokens: 1000 });
    if (pressed.kind !== "order") throw new Error("no quote");
    await pay(payUrlOf(await app.engine.handleButton("clicker", { action: "confirm", orderId: pressed.order.orderId, shown: 1000 })));

    await app.projection.refresh();
    const by = Object.fromEntries(buildFunnel(app.projection.state().orders.values()).rows.map((r) => [r.source, r]));
    expect(by.rules).toMatchObject({ started: 1, quoted: 1, invoiced: 1, paid: 1, delivered: 1 });
    expect(by.button).toMatchObject({ started: 1, quoted: 1, invoiced: 1, paid: 1, delivered: 1 });
    expect(by.total?.delivered).toBe(2);
  });
});
