/**
 * A shop with a few days of history for the dashboard tests: orders whose amount was set by rules,
 * buttons and the LLM, some paid and delivered, some abandoned, and one paid order whose delivery
 * failed (so it needs the owner). Delivery can be switched off and on.
 */
import { createSandboxDelivery } from "../../src/delivery/index.ts";
import type { DeliveryProvider } from "../../src/delivery/provider.ts";
import type { CommandSource } from "../../src/domain/commands.ts";
import type { AppOverrides } from "../../src/app.ts";
import { payUrlOf, startTestApp, testClock } from "./app.ts";

export const ADMIN_TOKEN = "owner-token-for-tests-0123456789";

/** A delivery provider that works until `failing.on` is set. */
export function switchableDelivery(): DeliveryProvider & { failing: { on: boolean } } {
  const real = createSandboxDelivery();
  const failing = { on: false };
  return { name: "sandbox", failing, issue: (request) => (failing.on ? Promise.resolve({ ok: false, reason: "unavailable", detail: "provider down" } as const) : real.issue(request)) };
}

export type Shop = Awaited<ReturnType<typeof openShop>>;

/** Opens the shop (in-process HTTP unless `listen`), ADMIN_TOKEN set, one failed delivery max. */
export async function openShop(env: Record<string, string> = {}, overrides: AppOverrides = {}) {
  const delivery = switchableDelivery();
  const clock = testClock(Date.UTC(2026, 10, 20, 9));
  const shop = await startTestApp({ ADMIN_TOKEN, DELIVERY_MAX_ATTEMPTS: "1", ...env }, { delivery, clock, ...overrides });
  const { app, pay } = shop;

  /** One purchase driven from `source`; stops after `until`. Returns the order id. */
  const purchase = async (chatId: string, tokens: number, source: CommandSource, until: "quoted" | "invoiced" | "paid") => {
    const reply =
      source === "rules"
        ? await app.engine.handleText(chatId, `I need ${tokens} tokens`)
        : await app.engine.handleCommand(chatId, { type: "QUOTE", tokens }, source);
    if (reply.kind !== "order") throw new Error(`no quote for ${chatId}: ${JSON.stringify(reply)}`);
    const orderId = reply.order.orderId;
    // What the understanding layer records per LLM call (docs/operations.md), so LLM cost per sale shows.
    if (source === "llm") app.audit.record({ type: "llm", chatId, orderId, model: "stub", promptTokens: 410, completionTokens: 24, ok: true, at: clock() });
    if (until === "quoted") return orderId;
    const invoice = source === "rules" ? await app.engine.handleText(chatId, "yes") : await app.engine.handleCommand(chatId, { type: "CONFIRM" }, source);
    if (until === "paid") await pay(payUrlOf(invoice));
    return orderId;
  };

  /** Six days of mixed history, ending with one order whose delivery failed. */
  const seedHistory = async () => {
    const plan: [CommandSource, "quoted" | "invoiced" | "paid"][] = [
      ["llm", "paid"], ["rules", "paid"], ["button", "quoted"], ["llm", "paid"], ["rules", "invoiced"], ["button", "paid"],
      ["llm", "paid"], ["rules", "quoted"], ["button", "paid"], ["llm", "invoiced"], ["rules", "paid"], ["button", "quoted"],
    ];
    let n = 0;
    for (let day = 0; day < 6; day++) {
      for (let i = 0; i < 3 + (day % 3); i++) {
        const [source, until] = plan[n % plan.length]!;
        await purchase(`${7000 + n}`, [1000, 2000, 5000, 3000][n % 4]!, source, until);
        n++;
        clock.advance(37 * 60_000);
      }
      clock.advance(24 * 3_600_000 - (3 + (day % 3)) * 37 * 60_000);
    }
    await app.audit.flush();
  };

  /** A paid order whose delivery failed; returns its id. */
  const failedDelivery = async (chatId = "8100") => {
    delivery.failing.on = true;
    const orderId = await purchase(chatId, 2000, "rules", "paid");
    delivery.failing.on = false;
    return orderId;
  };

  return { ...shop, clock, delivery, purchase, seedHistory, failedDelivery };
}
