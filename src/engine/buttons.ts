/**
 * Button codes: what an inline button means, packed into Telegram's 64-byte `callback_data`. Buttons
 * that act on an order carry its id, so a button from an old message cannot touch a newer order, and
 * buttons that act on a quote carry the amount their message showed (`shown`), so a button from an
 * out-of-date message of the same order never acts on a different amount (issue 13).
 */
import { z } from "zod";
import type { Command } from "../domain/commands.ts";

export const ButtonAction = z.discriminatedUnion("action", [
  z.object({ action: z.literal("package"), tokens: z.number().int().positive() }),
  /** `shown`: the amount of the quote the button was shown with; null on buttons made before it was carried. */
  z.object({ action: z.literal("amount"), orderId: z.string(), tokens: z.number().int().positive(), shown: z.number().int().positive().nullable() }),
  z.object({ action: z.literal("confirm"), orderId: z.string(), shown: z.number().int().positive().nullable() }),
  z.object({ action: z.literal("cancel"), orderId: z.string() }),
  z.object({ action: z.literal("status"), orderId: z.string() }),
  z.object({ action: z.literal("restart") }),
  z.object({ action: z.literal("help") }),
]);
export type ButtonAction = z.infer<typeof ButtonAction>;

const ORDER_ID = /^[A-Za-z0-9_-]{1,40}$/;

/** Telegram refuses a button whose `callback_data` is longer than this many bytes. */
const MAX_CALLBACK_BYTES = 64;

/** Packs an action into callback data, e.g. `c|ord_abc|2000`, `a|ord_abc|3000|2000`, `p|1000`. */
export function encodeButton(button: ButtonAction): string {
  const data = pack(button);
  // Only a bug gets here (ids and amounts are bounded): fail loudly rather than send a button Telegram refuses.
  if (Buffer.byteLength(data) > MAX_CALLBACK_BYTES) throw new Error(`button data too long: ${data}`);
  return data;
}

function pack(button: ButtonAction): string {
  const shown = (value: number | null) => (value === null ? "" : `|${value}`);
  switch (button.action) {
    case "package":
      return `p|${button.tokens}`;
    case "amount":
      return `a|${button.orderId}|${button.tokens}${shown(button.shown)}`;
    case "confirm":
      return `c|${button.orderId}${shown(button.shown)}`;
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

/**
 * Unpacks callback data; `null` for anything malformed or forged. Confirm and amount buttons from
 * before amounts were carried decode with `shown: null`: the engine answers them as out of date.
 */
export function decodeButton(data: string): ButtonAction | null {
  if (Buffer.byteLength(data) > MAX_CALLBACK_BYTES) return null;
  const [code, first, second, third, ...rest] = data.split("|");
  if (rest.length > 0) return null;
  // An absent amount is an old button (null); a present but malformed one is refused (undefined fails the schema).
  const shownAmount = (text: string | undefined) => (text === undefined ? null : (tokens(text) ?? undefined));
  const tokens = (text: string | undefined) => (text && /^\d{1,15}$/.test(text) ? Number(text) : null);
  const order = (text: string | undefined) => (text && ORDER_ID.test(text) ? text : null);
  const candidate = (() => {
    switch (code) {
      case "p":
        return second === undefined ? { action: "package", tokens: tokens(first) } : null;
      case "a":
        return { action: "amount", orderId: order(first), tokens: tokens(second), shown: shownAmount(third) };
      case "c":
        return third === undefined ? { action: "confirm", orderId: order(first), shown: shownAmount(second) } : null;
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
