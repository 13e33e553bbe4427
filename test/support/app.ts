/** Builds a real app for tests: in-process HTTP, a controllable clock, and captured notifications. */
import { type AppOverrides, createApp } from "../../src/app.ts";
import { loadConfig } from "../../src/config.ts";
import type { EngineReply } from "../../src/engine/reply.ts";
import { silentLogger } from "../../src/log.ts";

export type TestClock = { now: number; advance(ms: number): void; (): number };

export function testClock(start = Date.UTC(2026, 10, 26, 12)): TestClock {
  const clock = (() => clock.now) as TestClock;
  clock.now = start;
  clock.advance = (ms: number) => {
    clock.now += ms;
  };
  return clock;
}

export async function startTestApp(env: Record<string, string> = {}, overrides: AppOverrides = {}) {
  const clock = (overrides.clock as TestClock | undefined) ?? testClock();
  const app = await createApp(loadConfig({ STORE_URL: "memory://", ...env }), {
    listen: false,
    log: silentLogger,
    sweepIntervalMs: 3_600_000,
    ...overrides,
    clock,
  });
  const notifications: { chatId: string; reply: EngineReply }[] = [];
  app.engine.setNotifier(async (chatId, reply) => {
    notifications.push({ chatId, reply });
  });
  /** Presses Pay on the sandbox page for a pay link, as the customer would in a browser. */
  const pay = (payUrl: string) =>
    app.http.dispatch({ method: "POST", path: new URL(payUrl).pathname, headers: {}, rawBody: Buffer.alloc(0) });
  return { app, clock, notifications, pay };
}

/** The pay link of an order reply, or a failure that says what the reply was. */
export function payUrlOf(reply: EngineReply): string {
  if (reply.kind !== "order" || !reply.order.payUrl) throw new Error(`expected an awaiting-payment reply, got ${JSON.stringify(reply)}`);
  return reply.order.payUrl;
}
