/**
 * What an inline button means, whatever carries it (a Telegram `callback_data`, a number typed in the
 * console): the action, and the command it stands for. Buttons that act on an order carry its id, so a
 * button from an old message cannot touch a newer order, and buttons that act on a quote carry the
 * amount their message showed (`shown`), so a button from an out-of-date message of the same order
 * never acts on a different amount (issue 13). How a button is packed for Telegram is
 * `src/telegram/buttons.ts`.
 */
import { z } from "zod";
import type { Command } from "./commands.ts";

/** A button press: the action and what it acts on. */
export const ButtonAction = z.discriminatedUnion("action", [
  /** `product`: the package's product, in a shop of several (a button under an ended order, or the start menu). */
  z.object({ action: z.literal("package"), tokens: z.number().int().positive(), product: z.string().optional() }),
  /** Choose a product (a shop of several): its packages follow, or the amount already asked for is quoted. */
  z.object({ action: z.literal("product"), product: z.string() }),
  /** Replace a delivered order's lost key or code (`/orders`). */
  z.object({ action: z.literal("reissue"), orderId: z.string() }),
  /** `shown`: the amount of the quote the button was shown with; null on buttons made before it was carried. */
  z.object({
    action: z.literal("amount"),
    orderId: z.string(),
    tokens: z.number().int().positive(),
    shown: z.number().int().positive().nullable(),
  }),
  z.object({ action: z.literal("confirm"), orderId: z.string(), shown: z.number().int().positive().nullable() }),
  z.object({ action: z.literal("cancel"), orderId: z.string() }),
  z.object({ action: z.literal("status"), orderId: z.string() }),
  z.object({ action: z.literal("restart") }),
  z.object({ action: z.literal("help") }),
]);
export type ButtonAction = z.infer<typeof ButtonAction>;

/** The command a button stands for. */
export function buttonCommand(button: ButtonAction): Command {
  switch (button.action) {
    case "package":
      return button.product === undefined
        ? { type: "SET_AMOUNT", tokens: button.tokens }
        : { type: "SET_AMOUNT", tokens: button.tokens, product: button.product };
    case "amount":
      return { type: "SET_AMOUNT", tokens: button.tokens };
    case "product":
      return { type: "SET_PRODUCT", product: button.product };
    case "reissue":
      return { type: "REISSUE" };
    case "confirm":
      return { type: "CONFIRM" };
    case "cancel":
      return { type: "CANCEL" };
    case "status":
      return { type: "STATUS" };
    case "restart":
      // "Start over" (a button of earlier versions): the order on the table is cancelled.
      return { type: "CANCEL" };
    case "help":
      return { type: "HELP" };
    default: {
      const unhandled: never = button;
      throw new Error(`unknown button ${JSON.stringify(unhandled)}`);
    }
  }
}

/**
 * The quote amount a button was shown with, when it acts on a quote (confirm, change amount): `null`
 * for an old button that did not carry it, `undefined` for buttons that do not act on a quote.
 */
export function buttonShownAmount(button: ButtonAction): number | null | undefined {
  return button.action === "confirm" || button.action === "amount" ? button.shown : undefined;
}

/** The order a button is bound to, if any. */
export function buttonOrderId(button: ButtonAction): string | null {
  return "orderId" in button ? button.orderId : null;
}
