/**
 * Words. Turns an engine reply (codes and snapshot facts) into a message and buttons in the customer's
 * language. The sentences live in Fluent files (`locales/*.ftl`, see `src/i18n`); the words modules
 * only choose the message and fill in its variables: `orders.ts` for an order and its buttons,
 * `notices.ts` for refusals and payment notices, `conversation.ts` for budgets, choices and the order
 * list, and this module for which of them each reply kind says. The same text serves the console and
 * Telegram: a {@link Markup} decides how bold, code, spoilers and escaping look. Every user- or
 * provider-supplied string is escaped before it goes into a message, so it can never inject formatting.
 */
import type { Catalog } from "../domain/catalog.ts";
import type { Promo } from "../domain/products.ts";
import type { EngineReply, OrderView } from "../engine/reply.ts";
import { type Faq, loadFaq } from "../faq/index.ts";
import { type Localization, type Translator, loadLocalization } from "../i18n/index.ts";
import { createConversationWords } from "./conversation.ts";
import type { Markup } from "./markup.ts";
import { type Button, type RenderedMessage, pressButton as button } from "./model.ts";
import { createNoticeWords } from "./notices.ts";
import { createOrderWords } from "./orders.ts";
import { createPhrases } from "./phrases.ts";

export { type Markup, htmlMarkup, plainMarkup } from "./markup.ts";
export type { Button, RenderedMessage } from "./model.ts";

/** How a renderer finds its words and time; every field has a default. */
export type RendererOptions = {
  /** Defaults to the files in `locales/` with English as the default language. */
  localization?: Localization;
  /** Only used for "valid for N minutes". */
  now?: () => number;
  /** The owner's answers to questions; defaults to the shipped `faq/` files. */
  faq?: Faq;
  /** The promo codes in force (with the owner's dashboard changes); defaults to the catalog's. */
  promos?: () => readonly Promo[];
};

/** The renderer for one language; built once per language and kept. */
function createWords(catalog: Catalog, m: Markup, tr: Translator, now: () => number, faq: Faq, promos?: () => readonly Promo[]) {
  const phrases = createPhrases(catalog, m, tr, now, promos);
  const { t, help, packages, limits } = phrases;
  const askAmount = catalog.minTokens === 1 ? t("ask-amount") : t("ask-amount-within", { limits });
  const { describeOrder, orderButtons, checkLine, paidText } = createOrderWords(phrases);
  const { refusal, paymentNotice } = createNoticeWords(phrases, paidText);
  /** The code of goods issued for a late payment, shown once, like a delivered order's. */
  const codeLine = (secret: string | undefined) => (secret ? `\n${t("late-code", { secret: m.spoiler(m.code(m.escape(secret))) })}` : "");
  const { budgetLine, choiceButton, faqArgs, orderLine, buyAgain, reissueButtons } = createConversationWords(phrases);

  return {
    render(reply: EngineReply): RenderedMessage {
      const notice = reply.notice === "conversation_reset" ? `${t("conversation-reset")}\n\n` : "";
      const out = (text: string, buttons: Button[][]): RenderedMessage => ({
        text: notice + text,
        buttons: buttons.filter((row) => row.length > 0),
      });
      // An answer that is not about the order, followed by where the order stands (if there is one).
      const besideOrder = (text: string, order: OrderView | null) =>
        order ? out(`${text}\n\n${describeOrder(order)}`, orderButtons(order)) : out(text, [packages]);
      // A quote worked out from a budget says first what the budget buys.
      if (reply.kind === "order" && reply.budget)
        return out(`${budgetLine(reply.budget)}\n${describeOrder(reply.order, reply.secret)}`, orderButtons(reply.order));
      switch (reply.kind) {
        case "help":
          if (reply.askAmount && !reply.greeting) return besideOrder(askAmount, reply.order);
          return besideOrder(reply.greeting ? t("welcome", { help }) : help, reply.order);
        case "thanks":
          return out(t("thanks"), []);
        case "order":
          return out(checkLine(reply.check, reply.order) + describeOrder(reply.order, reply.secret), orderButtons(reply.order));
        case "no_order":
          return out(reply.lastOrder ? `${describeOrder(reply.lastOrder)}\n\n${t("no-open-order")}` : t("no-order-yet", { help }), [
            packages,
          ]);
        case "refused":
          return besideOrder(refusal(reply.reason, reply.tokens, reply.product), reply.order);
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
          // The notice says what arrived and what becomes of it; the order follows unless it is over.
          if (reply.order.tags.includes("ended") || reply.payment.reason === "late")
            return out(paymentNotice(reply.payment, reply.order) + codeLine(reply.secret), [packages]);
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
          return {
            ...shown,
            buttons: [...reissueButtons(reply.orders), buyAgain(reply.orders), ...shown.buttons].filter((row) => row.length > 0),
          };
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
    if (!found) byLanguage.set(tr.language, (found = createWords(catalog, markup, tr, now, faq, options.promos)));
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
