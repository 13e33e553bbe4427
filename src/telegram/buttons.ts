/**
 * The button codec: a {@link ButtonAction} packed into Telegram's 64-byte `callback_data` and back.
 * What a press means lives in `src/domain/buttons.ts`; only Telegram needs it as a string. Language
 * buttons (`lang|…`, `language.ts`) and admin buttons (`adm|…`, `admin.ts`) are Telegram's own and
 * decode here as `null`.
 */
import { ButtonAction } from "../domain/buttons.ts";

const ORDER_ID = /^[A-Za-z0-9_-]{1,40}$/;
const PRODUCT_ID = /^[a-z0-9][a-z0-9-]{0,31}$/;

/** Telegram refuses a button whose `callback_data` is longer than this many bytes. */
const MAX_CALLBACK_BYTES = 64;

/** Packs an action into callback data, e.g. `c|ord_abc|2000`, `a|ord_abc|3000|2000`, `p|1000`, `p|1000|gpt-tokens`, `g|gpt-tokens`, `k|ord_abc`. */
export function encodeButton(button: ButtonAction): string {
  const data = pack(button);
  // Only a bug gets here (ids and amounts are bounded): fail loudly rather than send a button Telegram refuses.
  if (Buffer.byteLength(data) > MAX_CALLBACK_BYTES) throw new Error(`button data too long: ${data}`);
  return data;
}

/** The amount a quote button was shown with, as its last field (none on a button from before amounts were carried). */
const shown = (value: number | null) => (value === null ? "" : `|${value}`);

function pack(button: ButtonAction): string {
  switch (button.action) {
    case "package":
      return button.product === undefined ? `p|${button.tokens}` : `p|${button.tokens}|${button.product}`;
    case "product":
      return `g|${button.product}`;
    case "reissue":
      return `k|${button.orderId}`;
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
  const product = (text: string | undefined) => (text && PRODUCT_ID.test(text) ? text : null);
  const candidate = (() => {
    switch (code) {
      case "p":
        if (third !== undefined) return null;
        return second === undefined
          ? { action: "package", tokens: tokens(first) }
          : { action: "package", tokens: tokens(first), product: product(second) };
      case "g":
        return second === undefined ? { action: "product", product: product(first) } : null;
      case "k":
        return second === undefined ? { action: "reissue", orderId: order(first) } : null;
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
