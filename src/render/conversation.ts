/**
 * Words for the conversation around an order (issue 13): what a budget buys, the amounts to choose
 * from when a message could mean several, the owner's answers' variables, and the order list with its
 * "buy again" buttons.
 */
import type { AmountChoice } from "../domain/commands.ts";
import { money } from "../domain/money.ts";
import type { BudgetNote, OrderLine } from "../engine/reply.ts";
import { type Button, pressButton as button } from "./model.ts";
import type { Phrases } from "./phrases.ts";

/** The conversation words of one language; built once per language with its {@link Phrases}. */
export function createConversationWords({ catalog, several, m, tr, t, tokens, amountOf, cash, limits }: Phrases) {
  const dates = new Intl.DateTimeFormat(tr.language, { day: "numeric", month: "short", year: "numeric", timeZone: "UTC" });
  const budgetLine = (note: BudgetNote) =>
    t(note.roundedDown ? "budget-buys-rounded" : "budget-buys", { budget: m.bold(cash(note.usd)), amount: m.bold(tokens(note.tokens)) });
  const choiceButton = (choice: AmountChoice) =>
    button(
      choice.usdCents === undefined
        ? tokens(choice.tokens)
        : t("clarify-budget-choice", { budget: tr.money(money(choice.usdCents, "USD")), amount: tokens(choice.tokens) }),
      { action: "package", tokens: choice.tokens },
    );
  const faqArgs = { price: m.bold(cash(money(catalog.pricePer1kUsdCents, "USD"))), per: tr.count(1000), limits };
  const orderLine = (line: OrderLine) => {
    const text = t("orders-line", {
      date: m.escape(dates.format(line.createdAt)),
      amount: line.tokens === null ? "" : amountOf(line.tokens, line.productId),
      price: line.usd ? cash(line.usd) : "",
      stage: t(`stage-${line.stage}`),
    });
    return line.deliveryHint ? t("orders-line-hint", { line: text, hint: m.escape(line.deliveryHint) }) : text;
  };
  /** One "buy again" button per amount (and product) of a delivered order, newest first, at most three. */
  const buyAgain = (lines: readonly OrderLine[]): Button[] => {
    const seen = new Set<string>();
    const again: { tokens: number; productId: string | null }[] = [];
    for (const line of lines) {
      if (!line.tags.includes("delivered") || line.tokens === null) continue;
      const key = several ? `${line.tokens} ${line.productId}` : String(line.tokens);
      if (seen.has(key)) continue;
      seen.add(key);
      again.push({ tokens: line.tokens, productId: line.productId });
    }
    return again
      .slice(0, 3)
      .map(({ tokens: amount, productId }) =>
        button(
          t("button-buy-again", { amount: amountOf(amount, productId, true) }),
          several && productId ? { action: "package", tokens: amount, product: productId } : { action: "package", tokens: amount },
        ),
      );
  };
  /** "🔑 Reissue …ABCD" for each listed order whose lost goods may be replaced, one row each. */
  const reissueButtons = (lines: readonly OrderLine[]): Button[][] =>
    lines
      .filter((line) => line.canReissue)
      .map((line) => [button(t("button-reissue", { hint: line.deliveryHint ?? "" }), { action: "reissue", orderId: line.orderId })]);

  return {
    /** "$25.01 buys 1,250 tokens", said above a quote worked out from a budget. */
    budgetLine,
    /** A button that picks one of the amounts a message could mean. */
    choiceButton,
    /** The variables the owner's FAQ answers may use (`{ $price }`, `{ $per }`, `{ $limits }`). */
    faqArgs,
    /** One order of the list: date, amount, price, state and delivery hint. */
    orderLine,
    /** One "buy again" button per amount of a delivered order, newest first, at most three. */
    buyAgain,
    /** A "🔑 Reissue" button per order whose lost goods may be replaced. */
    reissueButtons,
  };
}
