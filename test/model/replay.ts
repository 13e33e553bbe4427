/**
 * Replays model steps on the real engine (through `driver.ts`) and checks, after every trigger, that
 * the engine did what the model did: the same states passed through, the same stored state and
 * context, the doors' answers (the customer's reply, a payment's outcome and notice, the owner's
 * outcome, the customer told when the order moved by itself), and goods issued exactly once, only for
 * a delivered order, kept until shown.
 */
import { expect } from "vitest";
import type { PurchaseSnapshot } from "../../machines/purchase.machine.ts";
import { deadlineKind, deadlineOf, statePath } from "../../machines/purchase.reading.ts";
import type { PaymentOutcome } from "../../src/engine/index.ts";
import { type Performed, type World, pathOf, perform } from "./driver.ts";
import { CHAT_ID, type ModelEvent, type ModelStep, ORDER_ID, isCompletion } from "./purchase-model.ts";

/** One trigger from the world and what follows it inside the engine (actor answers, START_DELIVERY, a stray's return). */
export type Group = {
  trigger: ModelEvent;
  completions: ModelStep[];
  before: PurchaseSnapshot;
  after: PurchaseSnapshot;
  paths: string[];
  /** Where the order stood when the engine told the customer, when its goods were then shown by that very message. */
  toldAt?: string;
};

/** Triggers the engine's notification follows up on: a channel that takes goods shows them at once. */
const NOTIFIED = new Set(["PAYMENT_RECEIVED", "DEADLINE", "ADMIN_RETRY_DELIVERY"]);

/** True when the engine's own message after this group carries the goods (the order moved to them, or announces them again). */
export const sendsGoods = (group: Group) =>
  NOTIFIED.has(group.trigger.type) &&
  group.after.hasTag("announce") &&
  (group.trigger.type === "DEADLINE" || statePath(group.before) !== statePath(group.after));

/**
 * The steps as triggers, each with what follows inside the engine. With `channelTakesGoods`, goods shown
 * right after a step whose message carries them are shown by that message (part of the step).
 */
export function groupsOf(steps: readonly ModelStep[], start: PurchaseSnapshot, options: { channelTakesGoods?: boolean } = {}): Group[] {
  const groups: Group[] = [];
  let before = start;
  for (const step of steps) {
    const last = groups.at(-1);
    const shownByNotice =
      options.channelTakesGoods && step.event.type === "GOODS_SHOWN" && last !== undefined && last.toldAt === undefined && sendsGoods(last);
    if ((isCompletion(step.event) || shownByNotice) && last) {
      if (shownByNotice) last.toldAt = statePath(last.after);
      last.completions.push(step);
      last.after = step.state;
      last.paths.push(statePath(step.state));
    } else {
      groups.push({ trigger: step.event, completions: [], before, after: step.state, paths: [statePath(step.state)] });
    }
    before = step.state;
  }
  return groups;
}

export const describeEvent = (event: ModelEvent) => (event.label ? `${event.type}:${event.label}` : event.type);
export const describeSteps = (steps: readonly ModelStep[]) =>
  steps
    .map((s) => (isCompletion(s.event) ? (s.event.actor ? `(${s.event.label})` : null) : describeEvent(s.event)))
    .filter(Boolean)
    .join(" → ") || "(start)";
const dedupe = (values: string[]) => values.filter((v, i) => i === 0 || v !== values[i - 1]);

/** What the payment door must answer for a payment the model applied (the door's `outcomeOf`, from the model's side). */
function expectedOutcome(event: ModelEvent, before: PurchaseSnapshot, after: PurchaseSnapshot): PaymentOutcome {
  if (event.type !== "PAYMENT_RECEIVED") return "not_paid";
  if (after.hasTag("delivered") && !before.hasTag("delivered")) return "delivered";
  if (after.hasTag("paid") && !before.hasTag("paid")) return "paid";
  if ((after.context.refund !== null && before.context.refund === null) || after.context.strays.length > before.context.strays.length)
    return "returned";
  return "duplicate";
}

/** The notice the customer must get about money that did not pay the order as invoiced. */
function expectedNotice(event: ModelEvent, before: PurchaseSnapshot, after: PurchaseSnapshot): string | null {
  if (event.type !== "PAYMENT_RECEIVED") return null;
  // Money for an order that closed unpaid came late; only a paid order is paid a second time.
  if (after.context.strays.length > before.context.strays.length) return before.hasTag("closed") ? "late" : "extra";
  if (after.context.refund && !before.context.refund)
    return after.context.refund.reason === "late" ? "late" : event.amount === null ? "foreign_currency" : "wrong_amount";
  if (after.context.late && !before.context.late) return "late";
  return null;
}

/** The secret of the goods the order holds now: the first delivery's, or its latest replacement's. */
const currentSecret = (after: PurchaseSnapshot) =>
  (after.context.reissues ?? 0) > 0 ? `SECRET-${ORDER_ID}-R${after.context.reissues}` : `SECRET-${ORDER_ID}`;

/** What a replayed group did on the engine: the state paths its order passed through (the one it started in first). */
export type Replayed = { group: Group; passed: string[]; done: Performed };

/** Replays groups on the engine, checking each against the model; `onGroup` sees each once checked. */
export async function replay(world: World, groups: Group[], onGroup: (replayed: Replayed) => void = () => {}): Promise<void> {
  for (const group of groups) {
    const { trigger, before, after } = group;
    const label = `${describeEvent(trigger)} in ${statePath(before)} → ${statePath(after)}`;
    for (const step of group.completions) if (step.event.actor) world.expect(step.event.actor, step.event.label);
    const start = world.observed.length;
    const toldBefore = world.notified.length;
    const done = await perform(world, trigger);
    const told = world.notified.slice(toldBefore);
    expect(world.surprises, `${label}: calls the model did not predict`).toEqual([]);
    expect(world.pending(), `${label}: outcomes the model predicted that the engine never asked for`).toEqual([]);

    // The engine's order went through exactly the model's states, busy ones included.
    const base = world.observed[start - 1] ?? statePath(before);
    const seen = dedupe([base, ...world.observed.slice(start)]).slice(1);
    expect(seen, `${label}: states the engine passed through`).toEqual(dedupe([statePath(before), ...group.paths]).slice(1));

    // The stored order is the model's, context and all (times to the millisecond).
    const record = await world.order();
    expect(record, `${label}: a stored order`).toBeDefined();
    expect(pathOf(record!.snapshot.value), `${label}: stored state`).toBe(statePath(after));
    expect(record!.snapshot.context, `${label}: stored context`).toEqual(JSON.parse(JSON.stringify(after.context)));
    expect(record!.summary.tags, `${label}: stored tags`).toEqual([...after.tags].sort());
    if (deadlineKind(after) !== "now") expect(record!.summary.dueAt, `${label}: stored deadline`).toBe(deadlineOf(after, world.now(), 0));

    // Each door answered as the order moved.
    if (done.reply) {
      const reply = done.reply;
      expect(reply.kind, `${label}: customer reply`).not.toBe("refused");
      const shown = reply.kind === "order" ? reply.order : reply.kind === "no_order" ? reply.lastOrder : null;
      expect(shown?.path, `${label}: the reply shows the order as it stands`).toBe(statePath(after));
      if (after.hasTag("ended") && !(reply.kind === "order" && reply.secret))
        expect(reply.kind, `${label}: an ended order`).toBe("no_order");
    }
    if (done.confirm) {
      expect(done.confirm.outcome, `${label}: payment outcome`).toBe(expectedOutcome(trigger, before, after));
      const notice = expectedNotice(trigger, before, after);
      expect(
        told.filter((r) => r.kind === "payment_notice").map((r) => r.kind === "payment_notice" && r.payment.reason),
        `${label}: payment notice`,
      ).toEqual(notice ? [notice] : []);
    }
    if (done.admin) expect(done.admin, `${label}: the owner's action`).toMatchObject({ ok: true, state: group.toldAt ?? statePath(after) });
    // Whatever moved the order without the customer writing, the customer is told how it stands now.
    if (!done.reply && trigger.type !== "GOODS_SHOWN" && statePath(after) !== statePath(before)) {
      const last = told.at(-1);
      const order = last && (last.kind === "order" || last.kind === "payment_notice") ? last.order : null;
      expect(order?.path, `${label}: the customer is told`).toBe(group.toldAt ?? statePath(after));
    }
    // Goods nobody confirmed were shown are announced again at the deadline.
    if (trigger.type === "DEADLINE" && after.hasTag("announce")) {
      expect(
        told.some((r) => r.kind === "order" && r.secret === currentSecret(after)),
        `${label}: goods announced again`,
      ).toBe(true);
    }

    // Goods: issued once, only for a paid order, replaced once per reissue, and kept until they reached the customer.
    const delivered = after.context.delivery.ref !== null;
    const reissues = after.context.reissues ?? 0;
    expect(world.issued, `${label}: goods issued`).toBe(delivered ? 1 : 0);
    expect(world.reissued, `${label}: goods reissued`).toBe(reissues);
    const goods = await world.store.goods(ORDER_ID, CHAT_ID);
    expect(goods?.secret ?? null, `${label}: goods kept until shown`).toBe(delivered && !world.shown ? currentSecret(after) : null);
    expect(goods?.revoked.length ?? 0, `${label}: the goods replaced`).toBe(reissues);

    onGroup({ group, passed: [statePath(before), ...seen], done });
  }
}
