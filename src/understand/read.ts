/**
 * Reads a customer message into a {@link Reading} without any network call, in English or Russian.
 * Priority, highest first: talk of payment or of the goods (a claim, a status question, asking for
 * the goods again: never anything that could move money), slash commands, a promo code, orders,
 * explicit cancel/restart, an amount or budget, a question on an FAQ topic, help, a whole-message
 * yes/no, a greeting, a language switch.
 */
import { findAmount } from "./amounts.ts";
import {
  asksForHelp,
  asksForLanguage,
  asksForOrders,
  asksStatus,
  asksToCancel,
  asksToRestart,
  claimsPayment,
  faqTopic,
  greets,
  isQuestion,
  mentionsPayment,
  saysNo,
  saysYes,
  thanks,
  wantsToBuy,
} from "./intents.ts";
import { asksForGoodsAgain } from "./goods-again.ts";
import { promoArgument, promoDeepLink, promoInText } from "./promo.ts";
import type { FaqTopic, Reading, ReadingContext } from "./reading.ts";
import { MAX_LENGTH, type Message, readText } from "./text.ts";

const NONE: Reading = { kind: "none" };
// Questions about the shop that mention payment or delivery ("можно ли вернуть оплату?").
const SHOP_TOPICS: ReadonlySet<FaqTopic> = new Set(["delivery", "coins", "refunds", "validity"]);
const SLASH_COMMAND = /^\/([a-z]+)(?:@[\p{L}\p{N}_]+)?(?:\s(.*))?$/u;

const SLASH_READINGS = new Map<string, Reading>([
  ["start", { kind: "greeting" }],
  ["help", { kind: "help" }],
  ["confirm", { kind: "confirm" }],
  ["cancel", { kind: "cancel" }],
  ["stop", { kind: "cancel" }],
  ["status", { kind: "status" }],
  ["restart", { kind: "restart" }],
  ["orders", { kind: "orders" }],
]);

function fromSlashCommand(name: string, args: string, raw: string): Reading {
  // The code as typed: `args` is the normalized (lower-cased) text. "/promo" alone asks for help.
  const rawArgs = /^\S+\s+([\s\S]*)$/.exec(raw.trim())?.[1] ?? "";
  if (name === "promo") {
    const code = promoArgument(rawArgs);
    return code === null ? { kind: "help" } : { kind: "promo", code };
  }
  const deepLinkCode = name === "start" ? promoDeepLink(rawArgs) : null;
  if (deepLinkCode !== null) return { kind: "promo", code: deepLinkCode };
  if (name === "buy") {
    // "/buy 5000": the argument is the answer to "how many?"
    const found = findAmount(readText(args).tokens, true);
    return found.reading ?? { kind: "help" };
  }
  const known = SLASH_READINGS.get(name);
  return known === undefined ? NONE : { ...known };
}

/** Talk of payment, delivery or an order's whereabouts; null when there is none. */
function paymentTalk(message: Message, question: boolean, topicOf: () => FaqTopic | null): Reading | null {
  const { words } = message;
  if (claimsPayment(words)) return { kind: "paid_claim" };
  if (asksForGoodsAgain(words)) return { kind: "reissue" };
  if (!asksStatus(words) && !mentionsPayment(words)) return null;
  // "how does delivery work?" and «можно ли вернуть оплату?» ask about the shop, not about an order
  const topic = topicOf();
  if (question && topic !== null && SHOP_TOPICS.has(topic) && !asksStatusStrictly(words)) {
    return { kind: "question", topic };
  }
  if (asksStatus(words)) return { kind: "status" };
  return topic === "coins" ? { kind: "question", topic } : { kind: "status" };
}

function asksStatusStrictly(words: readonly string[]): boolean {
  return asksStatus(words) && !words.some((w) => w === "how" || w === "как");
}

/**
 * Reads a message. Never throws; anything it is not sure of is `none` (or `clarify` when two
 * readings are equally likely), including text over 500 characters.
 */
export function readMessage(text: string, context: ReadingContext): Reading {
  if (typeof text !== "string" || text.length > MAX_LENGTH) return NONE;
  const message = readText(text);
  const { words, tokens } = message;
  if (message.text === "") return NONE;
  if (/^\?+$/.test(message.text)) return { kind: "help" };
  const question = isQuestion(words, message.text);
  // The FAQ topic is looked up at most once per message (payment talk and the amount both ask).
  let topicRead: { topic: FaqTopic | null } | null = null;
  const topicOf = () => (topicRead ??= { topic: faqTopic(words, question) }).topic;
  const payment = paymentTalk(message, question, topicOf);
  if (payment !== null) return payment;
  const slash = SLASH_COMMAND.exec(message.text);
  if (slash !== null) return fromSlashCommand(slash[1] ?? "", slash[2] ?? "", text);
  const promo = promoInText(text);
  if (promo !== null) return { kind: "promo", code: promo };
  if (asksForOrders(words)) return { kind: "orders" };
  if (asksToCancel(words)) return { kind: "cancel" };
  if (asksToRestart(words)) return { kind: "restart" };
  // "thanks!", «пока»: but "no thanks" stays a no and "yes thanks" a yes
  if (thanks(words) && !saysYes(words) && !saysNo(words)) return { kind: "thanks" };
  const found = findAmount(tokens, context.askedHowMany ?? false);
  const topic = topicOf();
  // "do 1000 tokens expire?" is about expiry; "I need 5000 tokens, can I pay in BTC?" is an order
  // ("100 usdt worth" names a coin, but as money it is a budget); "1000 gpt tokens", said, is an order
  const budgetInCoins = topic === "coins" && found.reading?.kind === "budget";
  const aboutTheAmount = topic === "price" || topic === "what_tokens"; // "what is 5000 tokens in dollars"
  const topicFirst = topic !== null && !aboutTheAmount && !found.intended && !budgetInCoins && (question || found.reading === null);
  if (found.reading !== null && !topicFirst) return found.reading;
  if (topic !== null) return { kind: "question", topic };
  if (found.blocked) return NONE;
  if (asksForHelp(words)) return { kind: "help" };
  // Before a quote, "I want to buy tokens" asks how many; with one, "buy" may accept it (a yes, below).
  if (context.phase !== "quoted" && wantsToBuy(words)) return { kind: "wants_to_buy" };
  if (saysYes(words)) return { kind: "confirm" };
  if (saysNo(words)) return { kind: "cancel" };
  if (wantsToBuy(words)) return { kind: "wants_to_buy" };
  if (greets(words)) return { kind: "greeting" };
  const code = asksForLanguage(words);
  if (code !== null) return { kind: "language", code };
  return NONE;
}
