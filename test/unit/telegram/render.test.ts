/** The words as Telegram takes them: the render model's presses packed into `callback_data` (issue 12). */
import { describe, expect, test } from "vitest";
import { DEFAULT_CATALOG } from "../../../src/domain/catalog.ts";
import type { OrderId } from "../../../src/domain/ids.ts";
import { money } from "../../../src/domain/money.ts";
import type { OrderView } from "../../../src/engine/reply.ts";
import { createTelegramRenderer } from "../../../src/telegram/render.ts";

const NOW = Date.UTC(2026, 0, 1, 12);
const renderer = createTelegramRenderer(DEFAULT_CATALOG, { now: () => NOW });

const quoted: OrderView = {
  orderId: "ord_1" as OrderId,
  state: "quoted",
  provider: null,
  tokens: 2000,
  usd: money(4000, "USD"),
  charge: money(4000, "USDT"),
  payUrl: null,
  quoteExpiresAt: NOW + 15 * 60_000,
  paymentExpiresAt: null,
  deliveryHint: null,
  nextDeliveryAttemptAt: null,
  problem: null,
};

const callbackData = (message: ReturnType<typeof renderer.welcome>) =>
  (message.options.reply_markup?.inline_keyboard ?? []).map((row) => row.map((button) => ("callback_data" in button ? button.callback_data : "url" in button ? button.url : null)));

describe("Telegram keyboards", () => {
  test("a quote's buttons carry the order and the amount shown, in the callback data Telegram has always been sent", () => {
    expect(callbackData(renderer.reply({ kind: "order", order: quoted }))).toEqual([
      ["c|ord_1|2000", "x|ord_1"],
      ["a|ord_1|1000|2000", "a|ord_1|3000|2000"],
    ]);
  });

  test("package buttons and links keep their form", () => {
    expect(callbackData(renderer.welcome())).toEqual([["p|1000", "p|5000", "p|10000", "p|20000"]]);
    const invoiced: OrderView = { ...quoted, state: "awaiting_payment", provider: "cryptopay", payUrl: "https://pay.example/i/1", paymentExpiresAt: NOW + 60 * 60_000 };
    expect(callbackData(renderer.reply({ kind: "order", order: invoiced }))).toEqual([["https://pay.example/i/1"], ["s|ord_1", "x|ord_1"]]);
  });

  test("a reply without buttons sends no keyboard", () => {
    expect(renderer.reply({ kind: "busy" }).options.reply_markup).toBeUndefined();
  });
});
