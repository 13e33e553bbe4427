/**
 * The sandbox provider owes the shop a webhook for every payment until the shop takes it, like a real
 * provider. Payments and re-send rounds that overlap on a slow store must not write an owed webhook
 * away (seen in the Redis outage test: a paid invoice whose webhook was never sent again).
 */
import { describe, expect, test } from "vitest";
import { SandboxInvoice, type SandboxOutbox, createSandboxPayments } from "../../../src/payments/sandbox.ts";
import type { Collection } from "../../../src/store/index.ts";
import type { z } from "zod";

/**
 * A collection whose every read and write takes a few milliseconds, in an uneven order. Real
 * scheduling, not a deadline: the waits only interleave payments and re-send rounds as a slow store
 * would; the outcome asserted holds for every interleaving.
 */
function slowCollection<T>(delays: () => number): Collection<T> {
  const values = new Map<string, T>();
  const pause = () => new Promise((resolve) => setTimeout(resolve, delays()));
  return {
    async get(key) {
      await pause();
      const value = values.get(key);
      return value === undefined ? undefined : structuredClone(value);
    },
    async set(key, value) {
      await pause();
      values.set(key, structuredClone(value));
    },
    async delete(key) {
      await pause();
      values.delete(key);
    },
  };
}

describe("the sandbox's owed webhooks", () => {
  test.each([1, 2, 3])("twenty payments racing re-send rounds on a slow store all reach the shop (schedule %i)", async (seed) => {
    let state = seed;
    const delays = () => {
      state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
      return state % 7;
    };
    const sandbox = createSandboxPayments({
      invoices: slowCollection<SandboxInvoice>(delays),
      outbox: slowCollection<z.infer<typeof SandboxOutbox>>(delays),
      publicUrl: () => "http://localhost:1",
      clock: () => 0,
      secret: "s".repeat(64),
    });
    const ids: string[] = [];
    for (let n = 0; n < 20; n++) {
      const created = await sandbox.createInvoice({
        orderId: `ord_${n}`,
        charge: { minor: 100, currency: "USDT" },
        description: "x",
        expiresAt: 1_000,
      } as never);
      if (!created.ok) throw new Error("no invoice");
      ids.push(created.value.paymentId);
    }
    const received = new Set<string>();
    const deliver = async (webhook: { rawBody: Buffer }) => {
      received.add((JSON.parse(webhook.rawBody.toString()) as { paymentId: string }).paymentId);
      return true;
    };
    // Payments arrive while rounds of re-sending run; then rounds run until nothing is owed.
    // Real scheduling again (see slowCollection): staggered starts, whatever order they then finish in.
    const rounds = Promise.all(
      [0, 1, 2, 3, 4].map(async (n) => {
        await new Promise((resolve) => setTimeout(resolve, n * 9));
        await sandbox.sendOwedWebhooks(deliver);
      }),
    );
    await Promise.all(
      ids.map(async (id, n) => {
        await new Promise((resolve) => setTimeout(resolve, (n * 3) % 17)); // real scheduling: staggered payments
        expect(await sandbox.pay(id)).toEqual({ ok: true });
      }),
    );
    await rounds;
    for (let round = 0; round < 5 && (await sandbox.sendOwedWebhooks(deliver)) > 0; round++);
    expect([...ids].filter((id) => !received.has(id))).toEqual([]);
    expect(await sandbox.sendOwedWebhooks(deliver)).toBe(0);
    expect(SandboxInvoice.safeParse(await sandbox.invoice(ids[0]!)).success).toBe(true);
  });
});
