/**
 * Customers of the kill test, played through the Bot API stand-in and the shop's sandbox pay page:
 * they order by text, confirm with the button, press Pay until the shop acknowledges the payment
 * (the way a real provider re-sends an unanswered webhook), and ask "status" when their goods are
 * late. What they end up holding is read from the messages the bot showed them.
 */
import { type ApiCall, type BotApiStub, buttonsOf } from "./bot-api-stub.ts";
import { sleep } from "./crash-shop.ts";

export type Customer = {
  chatId: number;
  orderId: string;
  paymentId: string;
  /** Presses of Pay, including those that hit a dead process. */
  payPresses: number;
  /** The pay page said "Payment sent.": the shop answered the payment webhook with 200. */
  acknowledged: boolean;
  /** The pay page refused the payment (e.g. the invoice expired), with its words. */
  refused: string | null;
  statusQuestions: number;
  /** What the bot answered to the status question, if it answered. */
  statusAnswer: string | null;
};

const REPLY_TIMEOUT_MS = 20_000;
const SECRET = /Your code: <tg-spoiler><code>([^<]+)<\/code>/;

/** A message the bot successfully showed in this chat (sent, or an edit of an earlier one). */
const shownIn = (chatId: number) => (call: ApiCall) =>
  call.ok && (call.method === "sendMessage" || call.method === "editMessageText") && String(call.payload.chat_id) === String(chatId);

/** Orders 2,000 tokens by text, presses ✅ Confirm and returns the customer holding the pay link. */
export async function orderUntilPayLink(api: BotApiStub, chatId: number): Promise<Customer> {
  const typed = api.mark();
  api.text(chatId, "I need 2000 tokens");
  await api.waitFor(
    (call) => shownIn(chatId)(call) && JSON.stringify(call.payload.reply_markup ?? {}).includes("Confirm"),
    typed,
    REPLY_TIMEOUT_MS,
  );
  const quote = [...api.messages(chatId)].reverse().find((m) => buttonsOf(m).some((b) => b.text.includes("Confirm") && b.callback_data));
  const confirm = buttonsOf(quote).find((b) => b.text.includes("Confirm") && b.callback_data);
  if (!quote || !confirm?.callback_data) throw new Error(`customer ${chatId} got no quote with a Confirm button`);
  const pressed = api.mark();
  api.press(chatId, quote, confirm.callback_data);
  const invoice = await api.waitFor(
    (call) => shownIn(chatId)(call) && /\/pay\/sandbox\//.test(String(call.payload.text)),
    pressed,
    REPLY_TIMEOUT_MS,
  );
  const text = String(invoice.payload.text);
  const paymentId = /\/pay\/sandbox\/([A-Za-z0-9_-]+)/.exec(text)?.[1];
  const orderId = /Order <code>([^<]+)<\/code>/.exec(text)?.[1];
  if (!paymentId || !orderId) throw new Error(`customer ${chatId}: no pay link or order id in ${JSON.stringify(text)}`);
  return { chatId, orderId, paymentId, payPresses: 0, acknowledged: false, refused: null, statusQuestions: 0, statusAnswer: null };
}

/**
 * Presses Pay on the sandbox page until the shop acknowledges the payment, `deadline` passes or the
 * test gives up (`stop`). A press that meets a dead process, an error or "confirmation is delayed" is
 * repeated after a short pause.
 */
export async function payUntilAcknowledged(baseUrl: string, customer: Customer, deadline: number, stop?: AbortSignal): Promise<void> {
  while (Date.now() < deadline && !stop?.aborted) {
    customer.payPresses++;
    const answer = await fetch(`${baseUrl}/pay/sandbox/${customer.paymentId}`, {
      method: "POST",
      signal: AbortSignal.timeout(REPLY_TIMEOUT_MS + 5_000),
    })
      .then(async (response) => ({ status: response.status, page: await response.text() }))
      .catch(() => null);
    if (answer?.status === 200 && answer.page.includes("Payment sent.")) {
      customer.acknowledged = true;
      return;
    }
    if (answer?.status === 409) {
      customer.refused = /Payment not possible: [^<]*/.exec(answer.page)?.[0] ?? "refused";
      return;
    }
    await sleep(200 + Math.random() * 200); // a customer pressing Pay again on a real shop process that did not acknowledge
  }
}

/**
 * Whether the sandbox payment service says this customer's invoice is paid. The page answers 503
 * when the store did not answer it in time (a loaded machine): asked again, up to ten times.
 */
export async function invoicePaid(baseUrl: string, customer: Customer): Promise<boolean> {
  for (let attempt = 1; ; attempt++) {
    const response = await fetch(`${baseUrl}/pay/sandbox/${customer.paymentId}`, { signal: AbortSignal.timeout(5_000) });
    const page = await response.text();
    if (response.status !== 503 || attempt >= 10) return /Status: (<b>)?paid\b/.test(page);
    // A real HTTP server under load: wait a moment before asking again.
    await sleep(300);
  }
}

/** Asks "status" once and waits for the bot's answer (null when none came). */
export async function askStatus(api: BotApiStub, customer: Customer): Promise<void> {
  customer.statusQuestions++;
  const asked = api.mark();
  api.text(customer.chatId, "status");
  const answer = await api.waitFor(shownIn(customer.chatId), asked, REPLY_TIMEOUT_MS).catch(() => null);
  customer.statusAnswer = answer ? String(answer.payload.text) : null;
}

/** Every text the bot showed the customer between two marks, oldest first (edits included as they happened). */
export const textsShown = (api: BotApiStub, customer: Customer, from = 0, to = api.calls.length) =>
  api.calls
    .slice(from, to)
    .filter(shownIn(customer.chatId))
    .map((call) => String(call.payload.text));

/** The distinct secrets (API keys) the customer was shown. */
export const secretsHeld = (texts: string[]) => [
  ...new Set(texts.map((t) => SECRET.exec(t)?.[1]).filter((s): s is string => s !== undefined)),
];

export const toldExpired = (texts: string[]) => texts.some((t) => t.includes("expired before it was paid"));
/** Told their money came after the order closed: wrong for an order this very payment paid. */
export const toldLateMoney = (texts: string[]) => texts.some((t) => t.includes("after it had closed"));
export const toldDeliveryFailed = (texts: string[]) => texts.some((t) => t.includes("delivery failed several times"));

/** A one-word description of a bot message, for the figures of orders that went wrong. */
export function describeShown(text: string | null): string {
  if (text === null) return "no answer";
  if (SECRET.test(text)) return "delivered with code";
  if (text.includes("expired before it was paid")) return "expired";
  if (text.includes("/pay/sandbox/")) return "awaiting payment";
  if (text.includes("Delivering now") || text.includes("retrying automatically")) return "paid, delivering";
  if (text.includes("delivery failed several times")) return "delivery failed";
  if (text.includes("was delivered")) return "delivered (code not shown)";
  return `other: ${text.slice(0, 60)}`;
}
