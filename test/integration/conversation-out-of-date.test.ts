/**
 * What the customer holds may be out of date, through the engine with the real app (issue 13, 1–3):
 * a button from an older message does what that message said or nothing, a closed order's pay link
 * takes no money, and a status answer counts the time left down from the order's own deadline.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { decodeButton, encodeButton } from "../../src/telegram/buttons.ts";
import type { EngineReply } from "../../src/engine/reply.ts";
import { paymentKey } from "../../src/payments/provider.ts";
import { payUrlOf, startTestApp, testClock } from "../support/app.ts";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function sandboxApp(env: Record<string, string> = {}, clock = testClock()) {
  const started = await startTestApp(env, { clock });
  cleanups.push(() => started.app.close());
  return started;
}

type Started = Awaited<ReturnType<typeof sandboxApp>>;

/** The button labelled like `label` on the rendered reply, packed and unpacked as the bot would. */
function buttonOn(started: Started, reply: EngineReply, label: RegExp) {
  const rendered = started.app.renderer.render(reply);
  const found = rendered.buttons.flat().find((b) => label.test(b.label) && "press" in b);
  if (!found || !("press" in found)) throw new Error(`no button ${label} in ${JSON.stringify(rendered.buttons)}`);
  const data = encodeButton(found.press);
  const action = decodeButton(data);
  if (!action) throw new Error(`button ${data} does not decode`);
  return action;
}

const text = (started: Started, reply: EngineReply) => started.app.renderer.render(reply).text;

describe("a button does what its message says (issue 13, 1)", () => {
  test("Confirm on the old $40.00 quote after 'actually make it 5000' creates no invoice and shows the current quote", async () => {
    const started = await sandboxApp();
    const { app } = started;
    const oldQuote = await app.engine.handleText("c1", "I need 2000 tokens");
    expect(text(started, oldQuote)).toContain("$40.00");
    const confirmOld = buttonOn(started, oldQuote, /Confirm/);
    const changed = await app.engine.handleText("c1", "actually make it 5000");
    expect(text(started, changed)).toContain("$100.00");

    const pressed = await app.engine.handleButton("c1", confirmOld);
    expect(pressed.kind).toBe("stale_button");
    const shown = text(started, pressed);
    expect(shown).toContain("out of date");
    expect(shown).toContain("$100.00");
    const now = await app.engine.view("c1");
    expect(now.kind === "order" && now.order.stage).toBe("quoted");
    expect(now.kind === "order" && now.order.payUrl).toBeNull();
    expect(await app.store.findPayment(paymentKey("sandbox", `sbx_${now.kind === "order" ? now.order.orderId : ""}`))).toBeUndefined();

    // The current message's Confirm still works.
    const confirmNew = buttonOn(started, pressed, /Confirm/);
    const invoice = await app.engine.handleButton("c1", confirmNew);
    expect(invoice.kind === "order" && invoice.order.stage).toBe("awaiting_payment");
    expect(invoice.kind === "order" && invoice.order.charge?.minor).toBe(10_000);
    // The invoice the old button did not make is the one the current button made.
    expect(
      await app.store.findPayment(paymentKey("sandbox", `sbx_${invoice.kind === "order" ? invoice.order.orderId : ""}`)),
    ).toBeDefined();
  });

  test("'+ 1k' on an old message does not change the current amount", async () => {
    const started = await sandboxApp();
    const { app } = started;
    const oldQuote = await app.engine.handleText("c1", "I need 2000 tokens");
    const more = buttonOn(started, oldQuote, /\+/);
    await app.engine.handleText("c1", "make it 5000");
    const pressed = await app.engine.handleButton("c1", more);
    expect(pressed.kind).toBe("stale_button");
    const now = await app.engine.view("c1");
    expect(now.kind === "order" && now.order.tokens).toBe(5000);
  });

  test("a Confirm button from before buttons carried amounts is treated as out of date", async () => {
    const started = await sandboxApp();
    const { app } = started;
    const quote = await app.engine.handleText("c1", "I need 2000 tokens");
    const orderId = quote.kind === "order" ? quote.order.orderId : "";
    const legacy = decodeButton(`c|${orderId}`);
    expect(legacy).not.toBeNull();
    const pressed = await app.engine.handleButton("c1", legacy!);
    expect(pressed.kind).toBe("stale_button");
    const now = await app.engine.view("c1");
    expect(now.kind === "order" && now.order.stage).toBe("quoted");
  });
});

describe("money is never silent: the sandbox (issue 13, 2)", () => {
  test("after cancelling, the pay page says the order is closed and takes no money", async () => {
    const started = await sandboxApp();
    const { app, notifications, pay } = started;
    await app.engine.handleText("c1", "I need 2000 tokens");
    const payUrl = payUrlOf(await app.engine.handleText("c1", "yes"));
    await app.engine.handleText("c1", "cancel");

    const path = new URL(payUrl).pathname;
    const page = await app.http.dispatch({ method: "GET", path, headers: {}, rawBody: Buffer.alloc(0) });
    expect(String(page.body)).not.toContain("<form");
    expect(String(page.body)).toMatch(/closed/);
    const paid = await pay(payUrl);
    expect(String(paid.body)).toMatch(/cancelled/);
    expect(notifications).toHaveLength(0);
    expect((await app.engine.handleText("c1", "did my payment go through?")).kind).not.toBe("payment_notice");
  });
});

describe("status answers say the status in words (issue 13, 3)", () => {
  test("a status question while unpaid says 'not paid yet' and counts the link's time down from its deadline", async () => {
    const clock = testClock();
    const started = await sandboxApp({}, clock);
    const { app } = started;
    await app.engine.handleText("c1", "I need 2000 tokens");
    await app.engine.handleText("c1", "yes");
    clock.advance(8 * 60_000);
    const reply = await app.engine.handleText("c1", "Is my payment confirmed?");
    expect(reply.check).toEqual({ provider: "sandbox", result: "not_paid" });
    const shown = text(started, reply);
    expect(shown).toMatch(/^⏳ Not paid yet/);
    expect(shown).toContain("52 minutes");
  });

  test("a quote's time counts down from its deadline", async () => {
    const clock = testClock();
    const started = await sandboxApp({}, clock);
    await started.app.engine.handleText("c1", "I need 2000 tokens");
    clock.advance(10 * 60_000);
    expect(text(started, await started.app.engine.handleText("c1", "status"))).toContain("5 minutes");
  });

  test("after a restart the quote's time still counts down from its deadline, not from 15 minutes", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tokengoblin-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const env = { STORE_URL: `sqlite://${join(dir, "store.sqlite")}` };
    const clock = testClock();
    const first = await startTestApp(env, { clock });
    await first.app.engine.handleText("c1", "I need 2000 tokens");
    await first.app.close();
    clock.advance(10 * 60_000);
    const second = await sandboxApp(env, clock);
    const shown = text(second, await second.app.engine.handleText("c1", "status"));
    expect(shown).toContain("5 minutes");
    expect(shown).not.toContain("15 minutes");
  });

  test("a quote never confirmed expires without speaking of payment", async () => {
    const clock = testClock();
    const started = await sandboxApp({}, clock);
    await started.app.engine.handleText("c1", "I need 2000 tokens");
    clock.advance(16 * 60_000);
    await started.app.engine.runDue();
    const expired = started.notifications.at(-1)!.reply;
    expect(expired.kind === "order" && expired.order.stage).toBe("expired");
    expect(text(started, expired)).not.toMatch(/pa(id|y)/i);
  });
});
