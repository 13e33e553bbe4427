/**
 * Button codes: what an inline button means, packed into Telegram's 64-byte `callback_data`. Buttons
 * that act on an order carry its id, so a button from an old message cannot touch a newer order.
 */
import { z } from "zod";
import type { Command } from "../domain/commands.ts";

export const ButtonAction = z.discriminatedUnion("action", [
  z.object({ action: z.literal("package"), tokens: z.number().int().positive() }),
  z.object({ action: z.literal("amount"), orderId: z.string(), tokens: z.number().int().positive() }),
  z.object({ action: z.literal("confirm"), orderId: z.string() }),
  z.object({ action: z.literal("cancel"), orderId: z.string() }),
  z.object({ action: z.literal("status"), orderId: z.string() }),
  z.object({ action: z.literal("restart") }),
  z.object({ action: z.literal("help") }),
]);
export type ButtonAction = z.infer<typeof ButtonAction>;

const ORDER_ID = /^[A-Za-z0-9_-]{1,40}$/;

/** Packs an action into callback data, e.g. `c|ord_abc`, `a|ord_abc|5000`, `p|1000`. */
export function encodeButton(button: ButtonAction): string {
  switch (button.action) {
    case "package":
      return `p|${button.tokens}`;
    case "amount":
      return `a|${button.orderId}|${button.tokens}`;
    case "confirm":
      return `c|${button.orderId}`;
    case "cancel":
      return `x|${button.orderId}`;
    case "status":
      return `s|${button.orderId}`;
    case "restart":
      return "r";
    case "help":
      return "h";
    default: {
      const unhandled: never = button;
      throw new Error(`unknown button ${JSON.stringify(unhandled)}`);
    }
  }
}

/** Unpacks callback data; `null` for anything malformed or forged. */
export function decodeButton(data: string): ButtonAction | null {
  if (data.length > 64) return null;
  const [code, first, second, ...rest] = data.split("|");
  if (rest.length > 0) return null;
  const tokens = (text: string | undefined) => (text && /^\d{1,15}$/.test(text) ? Number(text) : null);
  const order = (text: string | undefined) => (text && ORDER_ID.test(text) ? text : null);
  const candidate = (() => {
    switch (code) {
      case "p":
        return second === undefined ? { action: "package", tokens: tokens(first) } : null;
      case "a":
        return { action: "amount", orderId: order(first), tokens: tokens(second) };
      case "c":
        return second === undefined ? { action: "confirm", orderId: order(first) } : null;
      case "x":
        return second === undefined ? { action: "cancel", orderId: order(first) } : null;
      case "s":
        return second === undefined ? { action: "status", orderId: order(first) } : null;
      case "r":
        return first === undefined ? { action: "restart" } : null;
      case "h":
        return first === undefined ? { action: "help" } : null;
      default:
        return null;
    }
  })();
  const parsed = ButtonAction.safeParse(candidate);
  return parsed.success ? parsed.data : null;
}

/** The command a button stands for, in a chat whose current phase is `quoted` or not. */
export function buttonCommand(button: ButtonAction, quoted: boolean): Command {
  switch (button.action) {
    case "package":
      return quoted ? { type: "CHANGE_AMOUNT", tokens: button.tokens } : { type: "QUOTE", tokens: button.tokens };
    case "amount":
      return { type: "CHANGE_AMOUNT", tokens: button.tokens };
    case "confirm":
      return { type: "CONFIRM" };
    case "cancel":
      return { type: "CANCEL" };
    case "status":
      return { type: "STATUS" };
    case "restart":
      return { type: "RESTART" };
    case "help":
      return { type: "HELP" };
    default: {
      const unhandled: never = button;
      throw new Error(`unknown button ${JSON.stringify(unhandled)}`);
    }
  }
}

/** The order a button is bound to, if any. */
export function buttonOrderId(button: ButtonAction): string | null {
  return "orderId" in button ? button.orderId : null;
}
