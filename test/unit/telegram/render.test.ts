/** The words as Telegram takes them: the render model's presses packed into `callback_data` (issue 12). */
import { describe, expect, test } from "vitest";
import { DEFAULT_CATALOG } from "../../../src/domain/catalog.ts";
import { orderView } from "../../../src/engine/reply.ts";
import { createTelegramRenderer } from "../../../src/telegram/render.ts";
import { T0, orderIn } from "../../support/order-snapshots.ts";

const renderer = createTelegramRenderer(DEFAULT_CATALOG, { now: () => T0 });

// An order of 2,000 tokens for $40.00, quoted, as the engine shows it.
const quoted = orderView(orderIn("quoted", { orderId: "ord_1" }));

const callbackData = (message: ReturnType<typeof renderer.welcome>) =>
  (message.options.reply_markup?.inline_keyboard ?? []).map((row) =>
    row.map((button) => ("callback_data" in button ? button.callback_data : "url" in button ? button.url : null)),
  );

describe("Telegram keyboards", () => {
  test("a quote's buttons carry the order and the amount shown, in the callback data Telegram has always been sent", () => {
    expect(callbackData(renderer.reply({ kind: "order", order: quoted }))).toEqual([
      ["c|ord_1|2000", "x|ord_1"],
      ["a|ord_1|1000|2000", "a|ord_1|3000|2000"],
    ]);
  });

  test("package buttons and links keep their form", () => {
    expect(callbackData(renderer.welcome())).toEqual([["p|1000", "p|5000", "p|10000", "p|20000"]]);
    const invoiced = {
      ...orderView(orderIn("awaiting_payment", { orderId: "ord_1" })),
      provider: "cryptopay",
      payUrl: "https://pay.example/i/1",
    };
    expect(callbackData(renderer.reply({ kind: "order", order: invoiced }))).toEqual([["https://pay.example/i/1"], ["s|ord_1", "x|ord_1"]]);
  });

  test("a reply without buttons sends no keyboard", () => {
    expect(renderer.reply({ kind: "busy" }).options.reply_markup).toBeUndefined();
  });
});
