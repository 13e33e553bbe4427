/**
 * Issues 13 and 19 over the model: every simple path of `purchaseMachine` that closes an invoiced
 * order (cancelled or expired, its invoice voided or left open) is replayed on the real engine, then
 * money arrives for it anyway. What happens is the machine's (issue 19): with the invoice still open,
 * money in full is delivered late (LATE_PAYMENT=deliver) or returned (refund), money of another amount
 * is returned or left to the owner; on a voided invoice any money goes back beside the order. The
 * customer is told once, goods are issued at most once, and no message says nothing was charged.
 */
import { describe, expect, it } from "vitest";
import type { LatePaymentPolicy, PurchaseSnapshot } from "../../machines/purchase.machine.ts";
import { statePath } from "../../machines/purchase.reading.ts";
import { DEFAULT_CATALOG } from "../../src/domain/catalog.ts";
import { createRenderer, plainMarkup } from "../../src/render/messages.ts";
import { createWorld } from "./driver.ts";
import {
  CHAT_ID,
  type ModelPath,
  type ModelStep,
  ORDER_ID,
  continueOnMachine,
  isCompletion,
  nextEvents,
  replayOnMachine,
  shortestPaths,
  simplePaths,
} from "./purchase-model.ts";
import { describeSteps, groupsOf, replay } from "./replay.ts";

const renderer = createRenderer(DEFAULT_CATALOG, plainMarkup);
const start = (policy: LatePaymentPolicy) => shortestPaths(policy).find((path) => path.steps.length === 1)!.state;

/** Every simple path to a closed order with an invoice, at rest, walking only what a customer and time can do before money comes. */
function closingPaths(policy: LatePaymentPolicy): ModelPath[] {
  const before = new Set(["SET_AMOUNT", "CONFIRM", "CANCEL", "CHECK_PAYMENT", "DEADLINE"]);
  return simplePaths(policy, {
    filterEvents: (snapshot, event) => isCompletion(event) || (before.has(event.type) && !snapshot.hasTag("closed")),
  }).filter((path) => path.state.hasTag("closed") && path.state.context.payment !== null && !nextEvents(path.state).some(isCompletion));
}

type Case = { name: string; policy: LatePaymentPolicy; steps: ModelStep[]; closed: PurchaseSnapshot; money: ModelStep[] };

/** The closing path, then the money: `label` of PAYMENT_RECEIVED, its consequences answered by `prefer`. */
function cases(
  policy: LatePaymentPolicy,
  label: "full" | "wrong_amount",
  prefer: string[],
  only: (closed: PurchaseSnapshot) => boolean,
): Case[] {
  return closingPaths(policy)
    .filter((path) => only(path.state))
    .map((path) => {
      const steps = replayOnMachine(path.steps.slice(1), policy);
      const closed = steps.at(-1)!.state;
      const money = continueOnMachine(closed, { type: "PAYMENT_RECEIVED", label }, prefer);
      return { name: `${describeSteps(steps)} ⇒ ${label} → ${statePath(money.at(-1)!.state)}`, policy, steps, closed, money };
    });
}

const open = (s: PurchaseSnapshot) => !s.context.invoiceClosed;
const voided = (s: PurchaseSnapshot) => s.context.invoiceClosed;
const lateDelivered = cases("deliver", "full", ["issued"], open);
const lateRefunded = cases("refund", "full", ["refunded"], open);
const wrongAmount = cases("deliver", "wrong_amount", ["unsupported"], open);
const onVoided = cases("deliver", "full", ["refunded"], voided);

async function run(c: Case, check: (world: Awaited<ReturnType<typeof createWorld>>, after: PurchaseSnapshot) => Promise<void>) {
  const world = await createWorld(c.policy);
  try {
    await replay(world, groupsOf([...c.steps, ...c.money], start(c.policy)));
    await check(world, c.money.at(-1)!.state);
    // The customer's status never says nothing was charged once money arrived.
    const status = await world.engine.handleCommand(CHAT_ID, { type: "STATUS" });
    expect(renderer.render(status).text).not.toMatch(/nothing was charged/i);
  } finally {
    await world.close();
  }
}

describe("money after an invoiced order closed, on every path that closes one (issues 13 and 19)", () => {
  it("the machine has such paths, ending with the invoice open and voided, cancelled and expired", () => {
    const ends = new Set([...lateDelivered, ...onVoided].map((c) => statePath(c.closed)));
    expect([...ends].sort()).toEqual([
      "cancelled.invoice_closed",
      "cancelled.invoice_open",
      "expired.invoice_closed",
      "expired.invoice_open",
    ]);
  });

  it.each(lateDelivered.map((c) => [c.name, c] as const))("LATE_PAYMENT=deliver, %s: delivered once, late, and told", async (_name, c) =>
    run(c, async (world, after) => {
      expect(statePath(after)).toBe("delivered.announcing");
      expect((await world.order())?.summary.late).toBe(true);
      const told = world.notified.filter((r) => r.kind === "payment_notice");
      expect(told).toHaveLength(1);
      expect(told[0]!.kind === "payment_notice" && [told[0]!.payment.reason, told[0]!.payment.next, told[0]!.secret]).toEqual([
        "late",
        "delivered",
        `SECRET-${ORDER_ID}`,
      ]);
      // The provider's retry of the same payment changes nothing.
      const again = continueOnMachine(after, { type: "PAYMENT_RECEIVED", label: "full" });
      await replay(world, groupsOf(again, after));
      expect(world.issued).toBe(1);
    }),
  );

  it.each(lateRefunded.map((c) => [c.name, c] as const))("LATE_PAYMENT=refund, %s: returned, nothing issued, and told", async (_name, c) =>
    run(c, async (world, after) => {
      expect(statePath(after)).toBe("refunded");
      expect(world.issued).toBe(0);
      const told = world.notified.filter((r) => r.kind === "payment_notice");
      expect(told.map((r) => r.kind === "payment_notice" && [r.payment.reason, r.payment.next])).toEqual([["late", "refunded"]]);
    }),
  );

  it.each(wrongAmount.map((c) => [c.name, c] as const))(
    "%s: another amount goes back; a provider that cannot return it leaves it to the owner",
    async (_name, c) =>
      run(c, async (world, after) => {
        expect(statePath(after)).toBe("awaiting_owner_refund");
        expect(world.issued).toBe(0);
        const told = world.notified.filter((r) => r.kind === "payment_notice");
        expect(told.map((r) => r.kind === "payment_notice" && [r.payment.reason, r.payment.next])).toEqual([
          ["wrong_amount", "owner_refunds"],
        ]);
        const audit = await world.store.auditOf(ORDER_ID);
        expect(audit.filter((entry) => entry.type === "needs_owner")).toHaveLength(1);
      }),
  );

  it.each(onVoided.map((c) => [c.name, c] as const))("%s: the voided invoice's money goes back beside the order", async (_name, c) =>
    run(c, async (world, after) => {
      expect(statePath(after)).toBe(statePath(c.closed));
      expect(after.context.strays).toMatchObject([{ status: "refunded" }]);
      expect(world.issued).toBe(0);
      const told = world.notified.filter((r) => r.kind === "payment_notice");
      expect(told.map((r) => r.kind === "payment_notice" && [r.payment.reason, r.payment.next])).toEqual([["late", "refunded"]]);
    }),
  );
});
