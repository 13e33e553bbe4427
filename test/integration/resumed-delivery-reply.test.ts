/**
 * Issue 18, point 1, in process: the reply to the message that resumed an interrupted delivery is
 * computed after the delivery. A first shop instance records the payment and starts a delivery that
 * never finishes (its process "died" mid-call); a restarted instance on the same store is asked
 * "status" first. Its answer must show the goods, and a later status must say "delivered".
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import type { DeliveryProvider } from "../../src/delivery/index.ts";
import { createSandboxDelivery } from "../../src/delivery/index.ts";
import { payUrlOf, startTestApp, testClock } from "../support/app.ts";
import { until } from "../support/crash-shop.ts";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A delivery provider whose calls never answer: the process died while the provider worked. */
const hangingDelivery: DeliveryProvider = { name: "sandbox", issue: () => new Promise(() => {}) };

describe("a delivery resumed by a customer's status question", () => {
  test("the status answer shows the goods, and the next status says delivered", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tokengoblin-resume-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const env = { STORE_URL: `sqlite://${join(dir, "shop.sqlite")}` };
    const clock = testClock();

    const first = await startTestApp(env, { clock, delivery: hangingDelivery, instanceId: "shop-1" });
    cleanups.push(() => first.app.close());
    await first.app.engine.handleText("c1", "I need 2000 tokens");
    const awaiting = await first.app.engine.handleText("c1", "yes");
    const orderId = awaiting.kind === "order" ? awaiting.order.orderId : "";
    void first.pay(payUrlOf(awaiting)); // never answers: the delivery hangs
    expect(await until(async () => (await first.app.engine.order(orderId))?.summary.paidAt != null, 5_000)).toBe(true);

    // The restarted process: same instance id, a delivery provider that works.
    const second = await startTestApp(env, { clock, delivery: createSandboxDelivery(), instanceId: "shop-1" });
    cleanups.push(() => second.app.close());
    const status = await second.app.engine.handleText("c1", "status");
    // The answer itself is computed after the resumed delivery: it carries the goods, not "Delivering now".
    expect(status.kind === "order" && status.order.stage, `status answered ${JSON.stringify(status)}`).toBe("delivered");
    expect(status.kind === "order" && status.secret).toMatch(/^TG-/);
    expect(second.app.renderer.render(status).text).not.toContain("Delivering now");
    await second.app.engine.secretShown(orderId, "c1");
    // Shown once: no notification repeats the goods.
    expect(second.notifications.filter((n) => n.reply.kind === "order" && n.reply.secret)).toHaveLength(0);

    const again = await second.app.engine.handleText("c1", "status");
    const text = second.app.renderer.render(again).text;
    expect(text).not.toContain("Delivering now");
    expect(text).toMatch(/delivered/i);
  });
});
