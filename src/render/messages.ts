/**
 * Words. Turns an engine reply (codes and snapshot facts) into a message and buttons. The same text
 * serves the console and Telegram: a {@link Markup} decides how bold, code, spoilers and escaping
 * look, so user- or provider-supplied strings can never inject formatting.
 */
import type { Catalog } from "../domain/catalog.ts";
import { escapeHtml } from "./html.ts";
import { formatMoney, groupThousands, money } from "../domain/money.ts";
import type { EngineReply, OrderView, PaymentNotice, Refusal } from "../engine/reply.ts";
import { type ButtonAction, encodeButton } from "../engine/buttons.ts";

export type Markup = {
  escape(text: string): string;
  bold(text: string): string;
  code(text: string): string;
  spoiler(text: string): string;
};

export const plainMarkup: Markup = {
  escape: (text) => text,
  bold: (text) => text,
  code: (text) => text,
  spoiler: (text) => text,
};

export const htmlMarkup: Markup = {
  escape: escapeHtml,
  bold: (text) => `<b>${text}</b>`,
  code: (text) => `<code>${text}</code>`,
  spoiler: (text) => `<tg-spoiler>${text}</tg-spoiler>`,
};

export type Button = { label: string; data: string } | { label: string; url: string };
export type RenderedMessage = { text: string; buttons: Button[][] };

const tokens = (count: number) => `${groupThousands(String(count))} tokens`;
const short = (count: number) => (count % 1000 === 0 ? `${groupThousands(String(count / 1000))}k` : groupThousands(String(count)));

function minutesLeft(until: number | null, now: number): string {
  if (until === null) return "";
  const minutes = Math.max(0, Math.ceil((until - now) / 60_000));
  return minutes <= 1 ? "about a minute" : `${minutes} minutes`;
}

const button = (label: string, action: ButtonAction): Button => ({ label, data: encodeButton(action) });

/** Renders replies for one catalog. `now` is only used for "valid for N minutes". */
export function createRenderer(catalog: Catalog, markup: Markup, now: () => number = Date.now) {
  const m = markup;
  // The package buttons depend only on the catalog: built once.
  const packages: Button[] = catalog.packages.map((p) => button(short(p), { action: "package", tokens: p }));
  const limits = `${tokens(catalog.minTokens)} to ${tokens(catalog.maxTokens)}`;
  const price = formatMoney(money(catalog.pricePer1kUsdCents, "USD"));
  const priceLine = (order: OrderView) => {
    if (!order.usd || !order.charge) return "";
    const usd = formatMoney(order.usd);
    const charge = formatMoney(order.charge);
    return order.charge.currency === "USD" ? m.bold(usd) : `${m.bold(usd)} (you pay ${m.bold(charge)})`;
  };

  const orderButtons = (order: OrderView): Button[][] => {
    const id = order.orderId;
    switch (order.state) {
      case "quoted": {
        const step = 1000;
        const amount = order.tokens ?? catalog.minTokens;
        const adjust: Button[] = [];
        if (amount - step >= catalog.minTokens) adjust.push(button(`− ${short(step)}`, { action: "amount", orderId: id, tokens: amount - step }));
        if (amount + step <= catalog.maxTokens) adjust.push(button(`+ ${short(step)}`, { action: "amount", orderId: id, tokens: amount + step }));
        const rows = [[button("✅ Confirm", { action: "confirm", orderId: id }), button("✖ Cancel", { action: "cancel", orderId: id })]];
        if (adjust.length > 0) rows.push(adjust);
        return rows;
      }
      case "awaiting_payment":
        return [
          ...(order.payUrl ? [[{ label: `💳 Pay ${order.charge ? formatMoney(order.charge) : ""}`.trim(), url: order.payUrl }]] : []),
          [button("🔄 Check status", { action: "status", orderId: id }), button("✖ Cancel", { action: "cancel", orderId: id })],
        ];
      case "paid":
      case "delivery_failed":
      case "pricing":
      case "creating_payment":
        return [[button("🔄 Check status", { action: "status", orderId: id })]];
      case "initial":
      case "delivered":
      case "cancelled":
      case "expired":
      case "payment_failed":
      case "refunded":
        return [packages];
      default: {
        const unhandled: never = order.state;
        throw new Error(`unknown state ${String(unhandled)}`);
      }
    }
  };

  const describeOrder = (order: OrderView, secret?: string): string => {
    const amount = order.tokens === null ? "" : tokens(order.tokens);
    const problem = (() => {
      switch (order.problem) {
        case "quote_refreshed":
          return "Your previous quote had expired, so here is a fresh one.\n";
        case "payment_unavailable":
          return "⚠️ I couldn't create the payment just now. Press Confirm to try again in a moment.\n";
        case "pricing_unavailable":
          return "⚠️ I couldn't price that right now. Please try again in a moment.\n";
        case "out_of_stock":
          return "⚠️ Sorry, we can't deliver that much right now. Try a smaller amount.\n";
        case "payment_failed":
        case "delivery_retrying":
        case "delivery_failed":
        case null:
          return "";
        default: {
          const unhandled: never = order.problem;
          return String(unhandled);
        }
      }
    })();
    switch (order.state) {
      case "initial":
        return `${problem}How many tokens would you like? ${catalog.minTokens === 1 ? "" : `(${limits})`}`.trim();
      case "pricing":
      case "creating_payment":
        return `⏳ Working on your order for ${amount}… I'll update you in a moment.`;
      case "quoted":
        return `${problem}🧾 ${m.bold(amount)} for ${priceLine(order)}.\nThis price is held for ${minutesLeft(order.quoteExpiresAt, now())}. Confirm to get a payment link, or tell me another amount.`;
      case "awaiting_payment":
        return (
          `💳 Order ${m.code(m.escape(order.orderId))}: ${m.bold(amount)} for ${priceLine(order)}.\nPay here: ${m.escape(order.payUrl ?? "")}\nThe link is valid for ${minutesLeft(order.paymentExpiresAt, now())}. I'll tell you as soon as the payment is confirmed.` +
          (order.provider === "sandbox" ? "\n🧪 This is a test payment: no real money moves." : "")
        );
      case "paid":
        return order.problem === "delivery_retrying"
          ? `✅ Payment confirmed for ${amount}. Delivery hit a snag; I'm retrying automatically and will message you when it's done.`
          : `✅ Payment confirmed for ${amount}. Delivering now…`;
      case "delivered":
        return secret
          ? `🎉 Payment confirmed and delivered: ${m.bold(amount)}.\nYour code: ${m.spoiler(m.code(m.escape(secret)))}\nKeep it safe: it is shown only once.`
          : `🎉 Order ${m.code(m.escape(order.orderId))} was delivered: ${amount}${order.deliveryHint ? ` (code ending ${m.escape(order.deliveryHint)})` : ""}.`;
      case "delivery_failed":
        return `⚠️ Your payment for ${amount} is safe, but delivery failed several times. Our team has been told and will fix it or refund you.`;
      case "refunded":
        return `↩️ Order ${m.code(m.escape(order.orderId))} was refunded.`;
      case "cancelled":
        return `Order cancelled. Nothing was charged. Want something else?`;
      case "expired":
        return `⌛ Your order for ${amount} expired before it was paid. Pick an amount to start again.`;
      case "payment_failed":
        return `❌ The payment for ${amount} failed. Nothing was delivered. Pick an amount to try again.`;
      default: {
        const unhandled: never = order.state;
        return String(unhandled);
      }
    }
  };

  const refusal = (reason: Refusal, requested?: number): string => {
    switch (reason) {
      case "amount_out_of_range":
        return `${requested === undefined ? "That amount" : tokens(requested)} is outside what I can sell: orders are ${limits}.`;
      case "nothing_to_confirm":
        return "There's nothing to confirm yet. Tell me how many tokens you need.";
      case "nothing_to_cancel":
        return "There's no open order to cancel.";
      case "payment_in_progress":
        return "Your order is waiting for payment. Cancel it first if you want a different amount.";
      case "delivery_in_progress":
        return "Your payment is confirmed and the order is being delivered; it can't be changed now.";
      case "not_now":
        return "That can't be done at this step.";
      default: {
        const unhandled: never = reason;
        return String(unhandled);
      }
    }
  };

  const paymentNotice = (notice: PaymentNotice, order: OrderView): string => {
    const paid = notice.paid ? formatMoney(notice.paid) : notice.foreign ? `${notice.foreign.amount} ${notice.foreign.unit}` : "a payment";
    const id = m.code(m.escape(order.orderId));
    const invoiced = order.charge ? formatMoney(order.charge) : "the invoiced amount";
    switch (notice.reason) {
      case "wrong_amount":
        return `⚠️ We received ${m.escape(paid)} for order ${id}, but it was invoiced at ${m.escape(invoiced)}, so it was not applied. The shop owner has been told and will refund it.`;
      case "foreign_currency":
        return `⚠️ We received ${m.escape(paid)} for order ${id}, a currency this shop does not take, so it was not applied. The shop owner has been told and will refund it.`;
      case "late":
        return `⚠️ We received ${m.escape(paid)} for order ${id} after it had closed. Your money is safe: the shop owner has been told and will sort it out with you.`;
      default: {
        const unhandled: never = notice.reason;
        return String(unhandled);
      }
    }
  };

  const help = () =>
    `I sell AI API credit at ${m.bold(price)} per 1,000 tokens (${limits}).\n` +
    `Just tell me what you need, like "I need 2000 tokens", or pick a package below. ` +
    `You can say "change it to 5000", "status" or "cancel" at any time.`;

  return {
    /** The message for one engine reply. */
    render(reply: EngineReply): RenderedMessage {
      const notice = reply.notice === "conversation_reset" ? "ℹ️ I couldn't restore our earlier conversation, so we're starting fresh. Your orders are safe.\n\n" : "";
      const out = (text: string, buttons: Button[][]): RenderedMessage => ({ text: notice + text, buttons: buttons.filter((row) => row.length > 0) });
      // An answer that is not about the order, followed by where the order stands (if there is one).
      const besideOrder = (text: string, order: OrderView | null) =>
        order ? out(`${text}\n\n${describeOrder(order)}`, orderButtons(order)) : out(text, [packages]);
      switch (reply.kind) {
        case "help":
          return besideOrder(help(), reply.order);
        case "order":
          return out(describeOrder(reply.order, reply.secret), orderButtons(reply.order));
        case "no_order":
          return out(
            reply.lastOrder ? `${describeOrder(reply.lastOrder)}\n\nNo open order right now. How many tokens would you like?` : `No open order yet. ${help()}`,
            [packages],
          );
        case "refused":
          return besideOrder(refusal(reply.reason, reply.tokens), reply.order);
        case "not_understood":
          return reply.order
            ? out(`Sorry, I didn't get that. ${describeOrder(reply.order)}`, orderButtons(reply.order))
            : out(`Sorry, I didn't get that. Tell me an amount like "2000 tokens", or pick a package:`, [packages, [button("❓ Help", { action: "help" })]]);
        case "stale_button":
          return besideOrder("That button belongs to an order that is no longer active.", reply.order);
        case "too_long":
          return out(`That message is too long for me (over ${groupThousands(String(reply.limit))} characters). Please send a shorter one, like "2000 tokens".`, []);
        case "unsupported_message":
          return besideOrder("I can only read text. Tell me how many tokens you need, or use the buttons.", reply.order);
        case "payment_notice":
          return besideOrder(paymentNotice(reply.payment, reply.order), reply.order);
        case "busy":
          return out("I'm still working on your previous message. Please try again in a moment.", []);
        case "rate_limited":
          return out("You're sending messages very fast. Please wait a few seconds and try again.", []);
        case "unavailable":
          return out("Sorry, something went wrong on our side. Nothing was lost; please try again in a moment.", []);
        default: {
          const unhandled: never = reply;
          throw new Error(`unknown reply ${JSON.stringify(unhandled)}`);
        }
      }
    },
    /** The first message of a conversation. */
    welcome(): RenderedMessage {
      return { text: `👋 Welcome to TokenGoblin!\n${help()}`, buttons: [packages] };
    },
  };
}

export type Renderer = ReturnType<typeof createRenderer>;
