/**
 * Issue 13, 1, over the model: in every state the engine rests in (reached by the shortest path of
 * `purchaseMachine`, for both LATE_PAYMENT policies), a Confirm button showing another amount than the
 * order's is out of date: it changes nothing and surprises no door.
 */
import { describe, expect, it } from "vitest";
import type { LatePaymentPolicy, PurchaseSnapshot } from "../../machines/purchase.machine.ts";
import { statePath } from "../../machines/purchase.reading.ts";
import { createWorld } from "./driver.ts";
import { CHAT_ID, type ModelStep, ORDER_ID, isCompletion, nextEvents, replayOnMachine, shortestPaths } from "./purchase-model.ts";
import { groupsOf, replay } from "./replay.ts";

const start = (policy: LatePaymentPolicy) => shortestPaths(policy).find((path) => path.steps.length === 1)!.state;

describe("a Confirm button showing another amount does nothing, in every state the engine rests in (issue 13, 1)", () => {
  const targets = new Map<string, { policy: LatePaymentPolicy; steps: ModelStep[] }>();
  for (const policy of ["deliver", "refund"] as const) {
    for (const path of shortestPaths(policy)) {
      if (nextEvents(path.state).some(isCompletion) || targets.has(statePath(path.state))) continue;
      targets.set(statePath(path.state), { policy, steps: replayOnMachine(path.steps.slice(1), policy) });
    }
  }

  it.each([...targets].map(([path, target]) => [path, target] as const))("in %s", async (_path, target) => {
    const world = await createWorld(target.policy);
    try {
      await replay(world, groupsOf(target.steps, start(target.policy)));
      const before = await world.order();
      const shown = (before?.snapshot.context as PurchaseSnapshot["context"] | undefined)?.quote?.tokens ?? 2_000;
      const reply = await world.engine.handleButton(CHAT_ID, { action: "confirm", orderId: ORDER_ID, shown: shown + 1 });
      expect(reply.kind).toBe("stale_button");
      expect((await world.order())?.snapshot).toEqual(before?.snapshot);
      expect(world.surprises).toEqual([]);
    } finally {
      await world.close();
    }
  });
});
