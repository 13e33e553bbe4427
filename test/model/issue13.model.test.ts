/**
 * Issue 13 over the model: every simple path of `purchaseMachine` that ends with an invoiced order
 * cancelled or expired is replayed on the real engine, then money arrives for it anyway. And in every
 * state the engine rests in, a Confirm button showing another amount than the current quote does nothing.
 */
import { describe, expect, it } from "vitest";
import { encodeButton, decodeButton } from "../../src/telegram/buttons.ts";
import { CHAT, actorOutcome, createWorld, perform, type World } from "./driver.ts";
import { type ModelEvent, type ModelPath, shortestPaths, simplePaths } from "./purchase-model.ts";

const topState = (value: unknown) => (typeof value === "string" ? value : Object.keys(value as object)[0]!);
const BUSY = new Set(["pricing", "creating_payment"]);
const resting = (value: unknown) => !BUSY.has(topState(value)) && !["{\"paid\":\"delivering\"}", "{\"paid\":\"recorded\"}"].includes(JSON.stringify(value));

/** Replays a path's trigger events, arranging the actor outcomes the model predicts for each. */
async function replay(world: World, path: ModelPath): Promise<void> {
  const steps = path.steps.slice(1);
  for (let i = 0; i < steps.length; i++) {
    const trigger = steps[i]!.event;
    if (actorOutcome(trigger) || trigger.type === "START_DELIVERY") continue;
    for (let j = i + 1; j < steps.length; j++) {
      const outcome = actorOutcome(steps[j]!.event);
      if (outcome) world.expect(outcome.actor, outcome.label);
      else if (steps[j]!.event.type !== "START_DELIVERY") break;
    }
    await perform(world, trigger as ModelEvent);
  }
}

const invoicedThenClosed = simplePaths().filter(
  (path) => ["cancelled", "expired"].includes(topState(path.state.value)) && path.steps.some((s) => topState(s.state.value) === "awaiting_payment"),
);
const describePath = (path: ModelPath) => path.steps.slice(1).map((s) => s.event.type).filter((t) => !t.startsWith("xstate.")).join(" → ");

describe("late money on every path that closes an invoiced order (issue 13, 2)", () => {
  it("the machine has such paths", () => {
    expect(invoicedThenClosed.length).toBeGreaterThan(0);
  });

  it.each(invoicedThenClosed.map((p) => [describePath(p), p] as const))("%s: the voided invoice takes no money", async (_name, path) => {
    const world = await createWorld();
    try {
      await replay(world, path);
      const record = await world.app.stores.conversations.get(CHAT);
      const paymentId = String((record?.snapshot.context as { payment: { paymentId: string } }).payment.paymentId);
      const invoice = await (world.app.payments as unknown as { invoice(id: string): Promise<{ status: string } | undefined> }).invoice(paymentId);
      expect(["cancelled", "expired"]).toContain(invoice?.status);
      await world.app.http.dispatch({ method: "POST", path: `/pay/sandbox/${paymentId}`, headers: {}, rawBody: Buffer.alloc(0) });
      expect(world.issued).toBe(0);
      expect(world.notified.filter((r) => r.kind === "payment_notice")).toEqual([]);
    } finally {
      await world.close();
    }
  });

  it.each(invoicedThenClosed.map((p) => [describePath(p), p] as const))("%s: money that arrives anyway is delivered once and told", async (_name, path) => {
    const world = await createWorld();
    try {
      // A provider whose links cannot be revoked: the invoice stays payable after the order closed.
      delete (world.app.payments as { cancelInvoice?: unknown }).cancelInvoice;
      await replay(world, path);
      const record = await world.app.stores.conversations.get(CHAT);
      const orderId = String(record?.snapshot.context.orderId);
      const paymentId = String((record?.snapshot.context as { payment: { paymentId: string } }).payment.paymentId);
      const invoice = await (world.app.payments as unknown as { invoice(id: string): Promise<{ status: string } | undefined> }).invoice(paymentId);
      // The sandbox expires its own invoices at their deadline: after an expiry nothing more can be paid.
      if (topState(path.state.value) === "expired") return expect(invoice?.status).toBe("expired");
      expect(invoice?.status).toBe("pending");
      world.expect("deliverGoods", "issued");
      for (let i = 0; i < 2; i++) await world.app.http.dispatch({ method: "POST", path: `/pay/sandbox/${paymentId}`, headers: {}, rawBody: Buffer.alloc(0) });
      world.pending().splice(0);
      expect(world.issued).toBe(1);
      const told = world.notified.filter((r) => r.kind === "payment_notice");
      expect(told).toHaveLength(1);
      expect(told[0]?.kind === "payment_notice" && told[0].secret).toBe(`SECRET-${orderId}`);
      const status = await world.app.engine.handleCommand(CHAT, { type: "STATUS" });
      expect(world.app.renderer.render(status).text).not.toMatch(/nothing was charged/i);
      expect((await world.app.engine.order(orderId))?.state).toBe(topState(path.state.value));
    } finally {
      await world.close();
    }
  });
});

describe("a Confirm button showing another amount does nothing, in every state the engine rests in (issue 13, 1)", () => {
  const targets = shortestPaths().filter((t) => resting(t.state.value) && t.steps.every((s) => !["ADMIN_RETRY_DELIVERY", "REFUND_RECORDED"].includes(s.event.type)));
  it.each(targets.map((t) => [JSON.stringify(t.state.value), t] as const))("in %s", async (_name, target) => {
    const world = await createWorld();
    try {
      await replay(world, target);
      const before = await world.app.stores.conversations.get(CHAT);
      const context = before?.snapshot.context as { orderId: string; quote: { tokens: number } | null } | undefined;
      if (!context) return;
      const shown = (context.quote?.tokens ?? 2000) + 1;
      const button = decodeButton(encodeButton({ action: "confirm", orderId: context.orderId, shown }))!;
      const reply = await world.app.engine.handleButton(CHAT, button);
      expect(reply.kind).toBe("stale_button");
      const after = await world.app.stores.conversations.get(CHAT);
      expect(after?.snapshot.value).toEqual(before?.snapshot.value);
      expect(world.surprises).toEqual([]);
    } finally {
      await world.close();
    }
  });
});
