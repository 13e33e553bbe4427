/**
 * A shop with a few days of history for the dashboard tests: orders whose amount was set by rules,
 * buttons and the LLM (a stand-in model that reads a few made-up words and is counted as a real call),
 * some paid and delivered, some abandoned, and paid orders whose delivery failed (so they need the
 * owner). Delivery can be switched off and on.
 */
import { createSandboxDelivery } from "../../src/delivery/index.ts";
import type { DeliveryProvider } from "../../src/delivery/provider.ts";
import type { CommandSource, Understander } from "../../src/domain/commands.ts";
import type { AppOverrides } from "../../src/app.ts";
import { type TestClock, payUrlOf, startTestApp, testClock } from "./app.ts";

export const ADMIN_TOKEN = "owner-token-for-tests-0123456789";

/** A delivery provider that works until `failing.on` is set. */
export function switchableDelivery(): DeliveryProvider & { failing: { on: boolean } } {
  const real = createSandboxDelivery();
  const failing = { on: false };
  return {
    ...real,
    name: "sandbox",
    failing,
    issue: (request) =>
      failing.on ? Promise.resolve({ ok: false, reason: "unavailable", detail: "provider down" } as const) : real.issue(request),
  };
}

/** Words only the stand-in model reads (the rules read none of them), and what it reads them as. */
const MODEL_AMOUNTS: Record<string, number> = { "zorp alpha": 1000, "zorp beta": 2000, "zorp gamma": 3000, "zorp delta": 5000 };
export const MODEL_CONFIRM = "zorp confirm";
export const modelWords = (tokens: number): string => {
  const words = Object.entries(MODEL_AMOUNTS).find(([, amount]) => amount === tokens)?.[0];
  if (!words) throw new Error(`the stand-in model has no words for ${tokens} tokens`);
  return words;
};

/** The stand-in model: each message it reads costs one call of 410 + 24 tokens, audited with the step. */
export function stubModel(clock: TestClock): Understander {
  return async (text, context) => {
    const tokens = MODEL_AMOUNTS[text];
    const command =
      tokens !== undefined ? { type: "SET_AMOUNT" as const, tokens } : text === MODEL_CONFIRM ? { type: "CONFIRM" as const } : null;
    if (!command) return null;
    context.onLlmCall?.({ model: "stub", promptTokens: 410, completionTokens: 24, ok: true, at: clock() });
    return { command, source: "llm" };
  };
}

export type Shop = Awaited<ReturnType<typeof openShop>>;

/** Opens the shop (in-process HTTP unless `listen`), ADMIN_TOKEN set, one delivery attempt only. */
export async function openShop(env: Record<string, string> = {}, overrides: AppOverrides = {}) {
  const delivery = switchableDelivery();
  const clock = (overrides.clock as TestClock | undefined) ?? testClock(Date.UTC(2026, 10, 20, 9));
  const shop = await startTestApp(
    { ADMIN_TOKEN, DELIVERY_MAX_ATTEMPTS: "1", ...env },
    { delivery, llm: stubModel(clock), ...overrides, clock },
  );
  const { app, pay } = shop;

  /** One purchase driven from `source`; stops after `until`. Returns the order id. */
  const purchase = async (chatId: string, tokens: number, source: CommandSource, until: "quoted" | "invoiced" | "paid") => {
    const ask = () => {
      switch (source) {
        case "rules":
          return app.engine.handleText(chatId, `I need ${tokens} tokens`);
        case "llm":
          return app.engine.handleText(chatId, modelWords(tokens));
        case "button":
          return app.engine.handleButton(chatId, { action: "package", tokens });
        case "command":
          return app.engine.handleCommand(chatId, { type: "SET_AMOUNT", tokens }, "command");
        default: {
          const unhandled: never = source;
          throw new Error(`unknown source ${String(unhandled)}`);
        }
      }
    };
    const reply = await ask();
    if (reply.kind !== "order") throw new Error(`no quote for ${chatId}: ${JSON.stringify(reply)}`);
    const orderId = reply.order.orderId;
    if (until === "quoted") return orderId;
    const invoice =
      source === "rules"
        ? await app.engine.handleText(chatId, "yes")
        : source === "llm"
          ? await app.engine.handleText(chatId, MODEL_CONFIRM)
          : source === "button"
            ? await app.engine.handleButton(chatId, { action: "confirm", orderId, shown: tokens })
            : await app.engine.handleCommand(chatId, { type: "CONFIRM" }, "command");
    if (until === "paid") await pay(payUrlOf(invoice));
    return orderId;
  };

  /** Six days of mixed history. */
  const seedHistory = async () => {
    const plan: [CommandSource, "quoted" | "invoiced" | "paid"][] = [
      ["llm", "paid"],
      ["rules", "paid"],
      ["button", "quoted"],
      ["llm", "paid"],
      ["rules", "invoiced"],
      ["button", "paid"],
      ["llm", "paid"],
      ["rules", "quoted"],
      ["button", "paid"],
      ["llm", "invoiced"],
      ["rules", "paid"],
      ["button", "quoted"],
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
  };

  /** A paid order whose delivery failed; returns its id. */
  const failedDelivery = async (chatId = "8100") => {
    delivery.failing.on = true;
    const orderId = await purchase(chatId, 2000, "rules", "paid");
    delivery.failing.on = false;
    return orderId;
  };

  /** Asks the dashboard for a page with the bearer token. */
  const get = (path: string, query = "") =>
    app.http.dispatch({
      method: "GET",
      path,
      query: new URLSearchParams(query),
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      rawBody: Buffer.alloc(0),
    });

  return { ...shop, clock, delivery, purchase, seedHistory, failedDelivery, get };
}
