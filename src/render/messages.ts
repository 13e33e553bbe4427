/**
 * Words. Turns an engine reply (codes and snapshot facts) into a message and buttons in the customer's
 * language. The sentences live in Fluent files (`locales/*.ftl`, see `src/i18n`); this module only
 * chooses the message and fills in its variables. The same text serves the console and Telegram: a
 * {@link Markup} decides how bold, code, spoilers and escaping look. Every user- or provider-supplied
 * string is escaped before it goes into a message, so it can never inject formatting.
 */
import type { Catalog } from "../domain/catalog.ts";
import { type Money, money } from "../domain/money.ts";
import type { EngineReply, OrderView, PaymentCheck, PaymentNotice, Refusal } from "../engine/reply.ts";
import type { ButtonAction } from "../domain/buttons.ts";
import type { AmountChoice } from "../domain/commands.ts";
import type { BudgetNote, OrderLine } from "../engine/reply.ts";
import { type Faq, loadFaq } from "../faq/index.ts";
import { type Localization, type Translator, loadLocalization } from "../i18n/index.ts";
import { escapeHtml } from "./html.ts";

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

/**
 * A button as the words describe it: a press that means a {@link ButtonAction}, or a link. Each
 * channel turns it into its own form (Telegram packs the press into `callback_data`; the console
 * presses it when its number or label is typed).
 */
export type Button = { label: string; press: ButtonAction } | { label: string; url: string };
/** A reply in words: the text (in the renderer's markup) and rows of buttons. */
export type RenderedMessage = { text: string; buttons: Button[][] };

export type RendererOptions = {
  /** Defaults to the files in `locales/` with English as the default language. */
  localization?: Localization;
  /** Only used for "valid for N minutes". */
  now?: () => number;
  /** The owner's answers to questions; defaults to the shipped `faq/` files. */
  faq?: Faq;
};

const button = (label: string, press: ButtonAction): Button => ({ label, press });

/** The renderer for one language; built once per language and kept. */
function createWords(catalog: Catalog, m: Markup, tr: Translator, now: () => number, faq: Faq) {
  const t = tr.t;
  const tokens = (count: number) => t("tokens", { count, tokens: tr.count(count) });
  const short = (count: number) => (count % 1000 === 0 ? t("tokens-thousands", { thousands: tr.count(count / 1000) }) : tr.count(count));
  const cash = (value: Money) => m.escape(tr.money(value));
  const timeLeft = (until: number | null) =>
    until === null ? "" : t("time-left", { minutes: Math.max(1, Math.ceil((until - now()) / 60_000)) });
  // The package buttons, the limits and the price depend only on the catalog: built once.
  const packages: Button[] = catalog.packages.map((p) => button(short(p), { action: "package", tokens: p }));
  const limits = t("limits", { min: tr.count(catalog.minTokens), minCount: catalog.minTokens, max: tr.count(catalog.maxTokens), maxCount: catalog.maxTokens });
  const help = t("help", { price: m.bold(cash(money(catalog.pricePer1kUsdCents, "USD"))), per: tr.count(1000), limits });
  const priceLine = (order: OrderView) => {
    if (!order.usd || !order.charge) return "";
    const usd = m.bold(cash(order.usd));
    return order.charge.currency === "USD" ? usd : t("price-with-charge", { usd, charge: m.bold(cash(order.charge)) });
  };

  const orderButtons = (order: OrderView): Button[][] => {
    const id = order.orderId;
    const status = () => button(t("button-status"), { action: "status", orderId: id });
    const cancel = () => button(t("button-cancel"), { action: "cancel", orderId: id });
    switch (order.state) {
      case "quoted": {
        const step = 1000;
        const amount = order.tokens ?? catalog.minTokens;
        const adjust: Button[] = [];
        // Quote buttons carry the amount this message shows: pressed later, they never act on another.
        const shown = order.tokens;
        if (amount - step >= catalog.minTokens) adjust.push(button(t("button-less", { step: short(step) }), { action: "amount", orderId: id, tokens: amount - step, shown }));
        if (amount + step <= catalog.maxTokens) adjust.push(button(t("button-more", { step: short(step) }), { action: "amount", orderId: id, tokens: amount + step, shown }));
        const rows = [[button(t("button-confirm"), { action: "confirm", orderId: id, shown }), cancel()]];
        if (adjust.length > 0) rows.push(adjust);
        return rows;
      }
      case "awaiting_payment": {
        const pay = order.charge ? t("button-pay-amount", { charge: tr.money(order.charge) }) : t("button-pay");
        return [...(order.payUrl ? [[{ label: pay, url: order.payUrl }]] : []), [status(), cancel()]];
      }
      case "paid":
      case "delivery_failed":
      case "pricing":
      case "creating_payment":
        return [[status()]];
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

  /** A line about what went wrong, shown above the order; empty when there is nothing to say. */
  const problemLine = (order: OrderView): string => {
    switch (order.problem) {
      case "quote_refreshed":
        return `${t("problem-quote-refreshed")}\n`;
      case "payment_unavailable":
        return `${t("problem-payment-unavailable")}\n`;
      case "pricing_unavailable":
        return `${t("problem-pricing-unavailable")}\n`;
      case "out_of_stock":
        return `${t("problem-out-of-stock")}\n`;
      case "payment_failed":
      case "delivery_retrying":
      case "delivery_failed":
      case null:
        return "";
      default: {
        const unhandled: never = order.problem;
        throw new Error(`unknown problem ${String(unhandled)}`);
      }
    }
  };

  /** The code of goods issued for a late payment, shown once, like a delivered order's. */
  const codeLine = (secret: string | undefined) => (secret ? `\n${t("late-code", { secret: m.spoiler(m.code(m.escape(secret))) })}` : "");

  /** An order that closed unpaid, but money arrived for it afterwards: never "nothing was charged". */
  const closedButPaid = (order: OrderView, late: NonNullable<OrderView["late"]>, secret?: string): string =>
    t("order-closed-paid-late", {
      state: order.state,
      orderId: m.code(m.escape(order.orderId)),
      paid: late.paid ? cash(late.paid) : "",
      next: late.next,
      hint: m.escape(order.deliveryHint ?? ""),
    }) + codeLine(secret);

  /** What the provider said just now, above the invoice (issue 13): the status in words. */
  const checkLine = (check: PaymentCheck | undefined, order: OrderView): string => {
    if (!check || order.state !== "awaiting_payment" || check.result === "paid") return "";
    const key = check.result === "unavailable" ? "check-unavailable" : "check-not-paid";
    return `${t(key, { provider: check.provider })}\n\n`;
  };

  const describeOrder = (order: OrderView, secret?: string): string => {
    const amount = order.tokens === null ? "" : tokens(order.tokens);
    const orderId = m.code(m.escape(order.orderId));
    if (order.late && (order.state === "cancelled" || order.state === "expired" || order.state === "payment_failed")) return closedButPaid(order, order.late, secret);
    switch (order.state) {
      case "initial":
        return problemLine(order) + (catalog.minTokens === 1 ? t("ask-amount") : t("ask-amount-within", { limits }));
      case "pricing":
      case "creating_payment":
        return t("order-working", { amount });
      case "quoted":
        return problemLine(order) + t("order-quoted", { amount: m.bold(amount), price: priceLine(order), time: timeLeft(order.quoteExpiresAt) });
      case "awaiting_payment":
        return t(order.provider === "sandbox" ? "order-awaiting-test-payment" : "order-awaiting-payment", {
          orderId,
          amount: m.bold(amount),
          price: priceLine(order),
          payUrl: m.escape(order.payUrl ?? ""),
          time: timeLeft(order.paymentExpiresAt),
        });
      case "paid":
        return t(order.problem === "delivery_retrying" ? "order-paid-retrying" : "order-paid", { amount });
      case "delivered":
        if (secret) return t("order-delivered-secret", { amount: m.bold(amount), secret: m.spoiler(m.code(m.escape(secret))) });
        return order.deliveryHint
          ? t("order-delivered-hint", { orderId, amount, hint: m.escape(order.deliveryHint) })
          : t("order-delivered", { orderId, amount });
      case "delivery_failed":
        return t("order-delivery-failed", { amount });
      case "refunded":
        return t("order-refunded", { orderId });
      case "cancelled":
        return t("order-cancelled");
      case "expired":
        // A quote that was never confirmed had no payment to speak of.
        return order.payUrl === null && order.provider === null ? t("order-quote-expired", { amount }) : t("order-expired", { amount });
      case "payment_failed":
        return t("order-payment-failed", { amount });
      default: {
        const unhandled: never = order.state;
        throw new Error(`unknown state ${String(unhandled)}`);
      }
    }
  };

  const refusal = (reason: Refusal, requested?: number): string => {
    switch (reason) {
      case "amount_out_of_range":
        return requested === undefined ? t("refused-that-amount-out-of-range", { limits }) : t("refused-amount-out-of-range", { amount: tokens(requested), limits });
      case "nothing_to_confirm":
        return t("refused-nothing-to-confirm");
      case "nothing_to_cancel":
        return t("refused-nothing-to-cancel");
      case "payment_in_progress":
        return t("refused-payment-in-progress");
      case "delivery_in_progress":
        return t("refused-delivery-in-progress");
      case "not_now":
        return t("refused-not-now");
      default: {
        const unhandled: never = reason;
        throw new Error(`unknown refusal ${String(unhandled)}`);
      }
    }
  };

  /** Money that could not pay the order as invoiced: what arrived, and what happens next. */
  const paymentNotice = (notice: PaymentNotice, order: OrderView): string => {
    const paid = notice.paid ? cash(notice.paid) : notice.foreign ? m.code(m.escape(`${notice.foreign.amount} ${notice.foreign.unit}`)) : "";
    const orderId = m.code(m.escape(order.orderId));
    switch (notice.reason) {
      case "wrong_amount":
        return t("payment-wrong-amount", { paid, orderId, invoiced: order.charge ? cash(order.charge) : "" });
      case "foreign_currency":
        return t("payment-foreign-currency", { paid, orderId });
      case "late":
        switch (notice.next) {
          case "delivered":
            return t("payment-late-delivered", { paid, orderId, amount: order.tokens === null ? "" : m.bold(tokens(order.tokens)) });
          case "delivering":
            return t("payment-late-delivering", { paid, orderId, amount: order.tokens === null ? "" : m.bold(tokens(order.tokens)) });
          case "refunded":
            return t("payment-late-refunded", { paid, orderId });
          case "owner_refunds":
            return t("payment-late", { paid, orderId });
          default: {
            const unhandled: never = notice.next;
            throw new Error(`unknown late payment outcome ${String(unhandled)}`);
          }
        }
      default: {
        const unhandled: never = notice.reason;
        throw new Error(`unknown payment notice ${String(unhandled)}`);
      }
    }
  };

  // Words for the conversation around an order (issue 13): budgets, choices, answers, the order list.
  const dates = new Intl.DateTimeFormat(tr.language, { day: "numeric", month: "short", year: "numeric", timeZone: "UTC" });
  const budgetLine = (note: BudgetNote) =>
    t(note.roundedDown ? "budget-buys-rounded" : "budget-buys", { budget: m.bold(cash(note.usd)), amount: m.bold(tokens(note.tokens)) });
  const choiceButton = (choice: AmountChoice) =>
    button(
      choice.usdCents === undefined ? tokens(choice.tokens) : t("clarify-budget-choice", { budget: tr.money(money(choice.usdCents, "USD")), amount: tokens(choice.tokens) }),
      { action: "package", tokens: choice.tokens },
    );
  const faqArgs = { price: m.bold(cash(money(catalog.pricePer1kUsdCents, "USD"))), per: tr.count(1000), limits };
  const orderLine = (line: OrderLine) => {
    const text = t("orders-line", {
      date: m.escape(dates.format(line.createdAt)),
      amount: line.tokens === null ? "" : tokens(line.tokens),
      price: line.usd ? cash(line.usd) : "",
      state: line.state,
    });
    return line.deliveryHint ? t("orders-line-hint", { line: text, hint: m.escape(line.deliveryHint) }) : text;
  };
  /** One "buy again" button per amount of a delivered order, newest first, at most three. */
  const buyAgain = (lines: readonly OrderLine[]): Button[] => {
    const amounts = [...new Set(lines.filter((l) => l.state === "delivered" && l.tokens !== null).map((l) => l.tokens!))].slice(0, 3);
    return amounts.map((amount) => button(t("button-buy-again", { amount: tokens(amount) }), { action: "package", tokens: amount }));
  };

  return {
    render(reply: EngineReply): RenderedMessage {
      const notice = reply.notice === "conversation_reset" ? `${t("conversation-reset")}\n\n` : "";
      const out = (text: string, buttons: Button[][]): RenderedMessage => ({ text: notice + text, buttons: buttons.filter((row) => row.length > 0) });
      // An answer that is not about the order, followed by where the order stands (if there is one).
      const besideOrder = (text: string, order: OrderView | null) =>
        order ? out(`${text}\n\n${describeOrder(order)}`, orderButtons(order)) : out(text, [packages]);
      // A quote worked out from a budget says first what the budget buys.
      if (reply.kind === "order" && reply.budget) return out(`${budgetLine(reply.budget)}\n${describeOrder(reply.order, reply.secret)}`, orderButtons(reply.order));
      switch (reply.kind) {
        case "help":
          return besideOrder(reply.greeting ? t("welcome", { help }) : help, reply.order);
        case "order":
          return out(checkLine(reply.check, reply.order) + describeOrder(reply.order, reply.secret), orderButtons(reply.order));
        case "no_order":
          return out(reply.lastOrder ? `${describeOrder(reply.lastOrder)}\n\n${t("no-open-order")}` : t("no-order-yet", { help }), [packages]);
        case "refused":
          return besideOrder(refusal(reply.reason, reply.tokens), reply.order);
        case "not_understood":
          return reply.order
            ? out(t("not-understood", { order: describeOrder(reply.order) }), orderButtons(reply.order))
            : out(t("not-understood-no-order"), [packages, [button(t("button-help"), { action: "help" })]]);
        case "stale_button":
          return besideOrder(t(reply.outdated ? "stale-button-outdated" : "stale-button"), reply.order);
        case "too_long":
          return out(t("too-long", { limit: tr.count(reply.limit), limitCount: reply.limit }), []);
        case "unsupported_message":
          return besideOrder(t("unsupported-message"), reply.order);
        case "payment_notice":
          // Money for a closed order: the notice says it all (the closed order would say "nothing was charged").
          if (reply.payment.reason === "late") return out(paymentNotice(reply.payment, reply.order) + codeLine(reply.secret), [packages]);
          return besideOrder(paymentNotice(reply.payment, reply.order), reply.order);
        case "busy":
          return out(t("busy"), []);
        case "rate_limited":
          return out(t("rate-limited"), []);
        case "unavailable":
          return out(t("unavailable"), []);
        case "answer":
          return besideOrder(faq.answer(tr.language, reply.topic, faqArgs), reply.order);
        case "clarify": {
          const question = out(t("clarify-amount"), [reply.choices.map(choiceButton)]);
          if (!reply.order) return question;
          return out(`${question.text}\n\n${describeOrder(reply.order)}`, [...question.buttons, ...orderButtons(reply.order)]);
        }
        case "orders": {
          const list = reply.orders.length === 0 ? t("orders-none") : `${t("orders-heading")}\n${reply.orders.map(orderLine).join("\n")}`;
          const shown = besideOrder(list, reply.order);
          return { ...shown, buttons: [buyAgain(reply.orders), ...shown.buttons].filter((row) => row.length > 0) };
        }
        default: {
          // A new reply kind fails to compile here until it has words in every language.
          const unhandled: never = reply;
          throw new Error(`unknown reply ${JSON.stringify(unhandled)}`);
        }
      }
    },
    welcome(): RenderedMessage {
      return { text: t("welcome", { help }), buttons: [packages] };
    },
  };
}

/** Renders replies for one catalog in any language of the localization. */
export function createRenderer(catalog: Catalog, markup: Markup, options: RendererOptions = {}) {
  const localization = options.localization ?? loadLocalization();
  const now = options.now ?? Date.now;
  const faq = options.faq ?? loadFaq();
  const byLanguage = new Map<string, ReturnType<typeof createWords>>();
  const words = (language: string = localization.defaultLanguage) => {
    const tr = localization.translator(language);
    let found = byLanguage.get(tr.language);
    if (!found) byLanguage.set(tr.language, (found = createWords(catalog, markup, tr, now, faq)));
    return found;
  };
  return {
    localization,
    /** The message for one engine reply, in `language` (default: the shop's default language). */
    render: (reply: EngineReply, language?: string): RenderedMessage => words(language).render(reply),
    /** The first message of a conversation. */
    welcome: (language?: string): RenderedMessage => words(language).welcome(),
  };
}

export type Renderer = ReturnType<typeof createRenderer>;
