/** Builds a real app for tests: in-process HTTP, a controllable clock, and captured notifications. */
import { type AppOverrides, createApp } from "../../src/app.ts";
import { loadConfig } from "../../src/config.ts";
import type { EngineReply } from "../../src/engine/reply.ts";
import { silentLogger } from "../../src/log.ts";
import { ChatId, OrderId } from "../../src/domain/ids.ts";
import type { ChatRecord, OrderRecord } from "../../src/domain/records.ts";
import { type TestClock, testClock } from "./clock.ts";

export { type TestClock, testClock } from "./clock.ts";

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
  const pay = async (payUrl: string) => {
    const page = await app.http.dispatch({ method: "POST", path: new URL(payUrl).pathname, headers: {}, rawBody: Buffer.alloc(0) });
    // The page answers at once; the payment's webhook follows, like a real provider's.
    await app.flushSandboxWebhooks();
    return page;
  };
  /** A customer types `text`; the engine's reply and how it reads in `language` (the shop's default unless given). */
  const say = async (chatId: string, text: string, language?: string) => {
    const reply = await app.engine.handleText(chatId, text);
    const message = app.renderer.render(reply, language);
    return { reply, text: message.text, message };
  };
  return { app, clock, notifications, pay, say };
}

/** The pay link of an order reply, or a failure that says what the reply was. */
export function payUrlOf(reply: EngineReply): string {
  if (reply.kind !== "order" || !reply.order.payUrl) throw new Error(`expected an awaiting-payment reply, got ${JSON.stringify(reply)}`);
  return reply.order.payUrl;
}

type TestApp = Awaited<ReturnType<typeof startTestApp>>["app"];

/** Rewrites a chat's stored record behind the engine's back (a corrupt or old record), as another writer would. */
export async function rewriteChat(app: TestApp, chatId: string, change: (record: ChatRecord) => ChatRecord): Promise<void> {
  const id = ChatId.parse(chatId);
  const opened = await app.store.openChat(id, { owner: "test-writer", ttlMs: 5_000 });
  if (!opened.held || !opened.state.chat || opened.state.chat === "invalid") throw new Error(`chat ${chatId} has no readable record`);
  const written = await app.store.commit({
    chatId: id,
    owner: "test-writer",
    chat: { record: change(opened.state.chat), expectedRev: opened.state.rev },
    release: true,
  });
  if (!written.ok) throw new Error(`could not rewrite chat ${chatId}: ${written.reason}`);
}

/** Rewrites one of a chat's stored orders behind the engine's back. */
export async function rewriteOrder(
  app: TestApp,
  chatId: string,
  orderId: string,
  change: (record: OrderRecord) => OrderRecord,
): Promise<void> {
  const id = ChatId.parse(chatId);
  const [record] = await app.store.readOrders(id, [OrderId.parse(orderId)]);
  if (!record) throw new Error(`chat ${chatId} has no order ${orderId}`);
  const opened = await app.store.openChat(id, { owner: "test-writer", ttlMs: 5_000 });
  if (!opened.held) throw new Error(`chat ${chatId} is busy`);
  const written = await app.store.commit({ chatId: id, owner: "test-writer", orders: [change(record)], release: true });
  if (!written.ok) throw new Error(`could not rewrite order ${orderId}: ${written.reason}`);
}
