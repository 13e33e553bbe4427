/**
 * Deterministic understanding of customer text, tried before the LLM: free, instant, offline, and
 * pinned by tests, so common messages ("5000", "yes", "/status", «да», «2 тыс») never wait on or pay
 * for a model call. `readMessage` (read.ts) gives the full {@link Reading}; this module narrows it to the
 * commands the engine knows today. Anything the rules are not sure of is `unknown` and goes to the LLM.
 */
import { type Catalog, DEFAULT_CATALOG } from "../domain/catalog.ts";
import { type Command, type CommandType, TokenAmount } from "../domain/commands.ts";
import { findAmount } from "./amounts.ts";
import { tokensForBudget } from "./budget.ts";
import type { Reading } from "./reading.ts";
import { MAX_LENGTH, readText } from "./text.ts";

/** Where the conversation is, as far as understanding text needs to know. */
export type RulesContext = {
  phase: "browsing" | "quoted" | "awaiting_payment" | "other";
  /** The bot just asked "how many tokens?". */
  askedHowMany?: boolean;
  /** Prices budgets ("$25 worth"); the seed catalog when absent. */
  catalog?: Catalog;
  /**
   * The commands the conversation takes now (`allowedCommands`): asking for the goods again is a
   * REISSUE only where one is allowed (a delivered order), a status question elsewhere and when absent.
   */
  allowed?: readonly CommandType[];
};

/** A command the rules are sure of, or `unknown` so the caller can ask the LLM. */
export type RulesResult = { kind: "command"; command: Command } | { kind: "unknown" };

const UNKNOWN: RulesResult = { kind: "unknown" };

function command(c: Command): RulesResult {
  return { kind: "command", command: c };
}

/** An amount: a price for it, or (with a quote on the table) a new amount instead; the machine decides which. */
function amountCommand(tokens: number): RulesResult {
  if (!TokenAmount.safeParse(tokens).success) return UNKNOWN;
  return command({ type: "SET_AMOUNT", tokens });
}

/**
 * The command for a reading: a budget is quoted as the tokens it buys (rounded down); a question asks
 * its FAQ topic; greetings, language requests and wanting to buy without an amount get help; thanks
 * and goodbyes are answered in kind; a payment claim is a status check (the
 * provider is asked, nothing is believed); asking for the goods again is a REISSUE once the order is
 * delivered, else a status check; a promo code is applied as typed; `clarify` and `none` are left to
 * the caller (the LLM, or a choice of amounts: see `createUnderstander`).
 */
export function commandFor(reading: Reading, context: RulesContext): RulesResult {
  switch (reading.kind) {
    case "amount":
      return amountCommand(reading.tokens);
    case "budget":
      return amountCommand(tokensForBudget(context.catalog ?? DEFAULT_CATALOG, reading.usdCents));
    case "confirm":
      return command({ type: "CONFIRM" });
    case "cancel":
      return command({ type: "CANCEL" });
    case "status":
    case "paid_claim":
      return command({ type: "STATUS" });
    case "orders":
      return command({ type: "ORDERS" });
    case "question":
      return command({ type: "ASK", topic: reading.topic });
    case "help":
    case "greeting":
    case "language":
      return command({ type: "HELP" });
    case "restart":
      // "Start over": the order on the table is cancelled (a new amount then starts the next one).
      return command({ type: "CANCEL" });
    case "thanks":
      return command({ type: "THANKS" });
    case "reissue":
      return command(context.allowed?.includes("REISSUE") ? { type: "REISSUE" } : { type: "STATUS" });
    case "promo":
      return command({ type: "APPLY_PROMO", code: reading.code });
    case "wants_to_buy": // the help, noted as asking how many (see `createUnderstander`)
      return command({ type: "HELP" });
    case "clarify":
    case "none":
      return UNKNOWN;
    default: {
      const unhandled: never = reading;
      return unhandled;
    }
  }
}

/**
 * Parses a token amount written in any supported way ("2,000", "2.5k", "1.5 million", "twenty five
 * thousand", «две тысячи»), as the answer to "how many tokens?"; null when there is none, it is money
 * ("$40", "40 USDT"), it is not a positive whole safe integer, or two different amounts are named.
 */
export function parseTokenAmount(text: string): number | null {
  if (typeof text !== "string" || text.length > MAX_LENGTH) return null;
  const reading = findAmount(readText(text).tokens, true).reading;
  return reading?.kind === "amount" ? reading.tokens : null;
}
