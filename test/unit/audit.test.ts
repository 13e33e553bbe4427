import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type App, createApp } from "../../src/app.ts";
import { createAuditLog } from "../../src/audit/index.ts";
import { loadConfig } from "../../src/config.ts";
import type { EngineReply } from "../../src/engine/reply.ts";
import { silentLogger } from "../../src/log.ts";
import { createStores, openBackend } from "../../src/store/index.ts";

const apps: App[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

async function memoryApp(): Promise<App> {
  const app = await createApp(loadConfig({ STORE_URL: "memory://" }), { listen: false, log: silentLogger, instanceId: "test-a" });
  apps.push(app);
  return app;
}

const orderOf = (reply: EngineReply) => {
  if (reply.kind !== "order") throw new Error(`expected an order reply, got ${reply.kind}`);
  return reply.order;
};

async function pay(app: App, orderId: string) {
  const order = await app.engine.order(orderId);
  if (!order?.paymentId) throw new Error("no invoice");
  const response = await app.http.dispatch({ method: "POST", path: `/pay/sandbox/${order.paymentId}`, headers: {}, rawBody: Buffer.alloc(0) });
  expect(response.status).toBe(200);
  return order.paymentId;
}

describe("audit trail", () => {
  it("records a typed purchase from quote to delivery, queryable by order id", async () => {
    const app = await memoryApp();
    const quoted = orderOf(await app.engine.handleText("c1", "I need 2000 tokens"));
    await app.engine.handleText("c1", "yes");
    const paymentId = await pay(app, quoted.orderId);

    const trail = await app.audit.forOrder(quoted.orderId);
    const summary = trail.map((e) => `${e.type}:${Object.values(e.detail).join(",")}`);
    expect(summary).toContain("command:QUOTE,rules,true");
    expect(summary).toContain("command:CONFIRM,rules,true");
    expect(summary).toContain("transition:initial,quoted");
    expect(summary).toContain("transition:quoted,awaiting_payment");
    expect(summary).toContain(`payment:${paymentId},delivered`);
    expect(trail.some((e) => e.type === "transition" && e.detail.to === "delivered")).toBe(true);
    for (const entry of trail) {
      expect(entry.chatId).toBe("c1");
      expect(entry.orderId).toBe(quoted.orderId);
      expect(entry.instance).toBe("test-a");
    }
    // Oldest first.
    expect(trail.map((e) => e.at)).toEqual([...trail.map((e) => e.at)].sort((a, b) => a - b));
  });

  it("never stores what the customer typed or the delivered secret", async () => {
    const app = await memoryApp();
    await app.engine.handleText("c2", "my password is hunter2-4111");
    const quoted = orderOf(await app.engine.handleText("c2", "I need 2000 tokens please"));
    await app.engine.handleText("c2", "yes");
    await pay(app, quoted.orderId);
    const ledger = await app.stores.ledger.get(quoted.orderId);
    const stored = JSON.stringify(await app.audit.forOrder(quoted.orderId));
    expect(stored).not.toContain("hunter2");
    expect(stored).not.toContain("please");
    expect(ledger?.ref).toBeTruthy();
    // The secret was wiped after being shown; whatever it was, the trail has no goods field at all.
    expect(stored).not.toMatch(/secret|hint/);
  });

  it("keeps entries from two instances apart and merges them in time order", async () => {
    const stores = createStores(await openBackend({ kind: "memory" }));
    const a = createAuditLog(stores, { instanceId: "a", log: silentLogger });
    const b = createAuditLog(stores, { instanceId: "b", log: silentLogger });
    a.record({ type: "command", chatId: "c", orderId: "o1", command: "QUOTE", source: "button", accepted: true, at: 10 });
    b.record({ type: "transition", chatId: "c", orderId: "o1", from: "initial", to: "quoted", at: 11 });
    a.record({ type: "llm", chatId: "c", orderId: "o1", model: "m", promptTokens: 100, completionTokens: 7, ok: true, at: 12 });
    await Promise.all([a.flush(), b.flush()]);
    const trail = await a.forOrder("o1");
    expect(trail.map((e) => [e.type, e.instance])).toEqual([
      ["command", "a"],
      ["transition", "b"],
      ["llm", "a"],
    ]);
    expect(await a.forOrder("unknown")).toEqual([]);
  });

  it("a long trail is kept whole across chunks and across a restart under the same instance name", async () => {
    const stores = createStores(await openBackend({ kind: "memory" }));
    const first = createAuditLog(stores, { instanceId: "shop", log: silentLogger });
    for (let i = 0; i < 120; i++) {
      first.record({ type: "command", chatId: "c", orderId: "long", command: "CHANGE_AMOUNT", source: "rules", accepted: true, at: i });
      if (i % 7 === 0) await first.flush();
    }
    await first.close();
    const restarted = createAuditLog(stores, { instanceId: "shop", log: silentLogger });
    restarted.record({ type: "transition", chatId: "c", orderId: "long", from: "quoted", to: "cancelled", at: 500 });
    const trail = await restarted.forOrder("long");
    expect(trail).toHaveLength(121);
    expect(trail.map((e) => e.at)).toEqual([...Array.from({ length: 120 }, (_, i) => i), 500]);
    let stored = 0;
    for await (const [, chunk] of stores.audit.entries()) {
      expect(chunk.entries.length).toBeLessThanOrEqual(16);
      stored++;
    }
    expect(stored).toBe(9);
  });

  it("the trail is still there after the process restarts on SQLite", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tg-audit-"));
    try {
      const location = { kind: "sqlite" as const, path: join(dir, "shop.sqlite") };
      const first = createStores(await openBackend(location));
      const audit = createAuditLog(first, { instanceId: "one", log: silentLogger });
      for (let i = 0; i < 20; i++) audit.record({ type: "transition", chatId: "c", orderId: "o-sql", from: "quoted", to: "quoted", at: i });
      audit.record({ type: "payment", chatId: "c", orderId: "o-sql", paymentId: "p1", outcome: "delivered", at: 99 });
      await audit.close();
      await first.backend.close();

      const second = createStores(await openBackend(location));
      const reopened = createAuditLog(second, { instanceId: "two", log: silentLogger });
      const trail = await reopened.forOrder("o-sql");
      expect(trail).toHaveLength(21);
      expect(trail.at(-1)?.detail).toEqual({ paymentId: "p1", outcome: "delivered" });
      let all = 0;
      for await (const entry of reopened.all()) if (entry.orderId === "o-sql") all++;
      expect(all).toBe(21);
      await second.backend.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a failing store does not break recording or the caller", async () => {
    const stores = createStores(await openBackend({ kind: "memory" }));
    const errors: string[] = [];
    const broken = { ...stores, audit: { ...stores.audit, set: () => Promise.reject(new Error("disk full")) } };
    const audit = createAuditLog(broken, { instanceId: "x", log: { ...silentLogger, error: (message: string) => errors.push(message) } });
    expect(() => audit.record({ type: "not_understood", chatId: "c", orderId: "o", at: 1 })).not.toThrow();
    await audit.flush();
    expect(errors).toEqual(["audit write failed"]);
  });
});
