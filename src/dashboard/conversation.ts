/**
 * Both sides of a conversation, from the audit log: what the customer wrote (a command's or a not
 * understood text's words, or the button or slash command they used) and what the bot answered (the
 * log's note of each reply, said again in words by the app's renderer, in the owner's language).
 *
 * A reply's note names the order it showed and its message; the amounts and money come from the order's
 * summary logged in the same commit (the first "order" entry after the reply, before the customer's
 * next turn), else the last one before it. Goods are never in the log: a reply that showed them says
 * so with a placeholder.
 */
import type { TalkLine } from "../analytics/projection.ts";
import { BUILT_IN_PRODUCT_ID, type Catalog } from "../domain/catalog.ts";
import type { AuditEntry, Json, OrderSummary } from "../domain/records.ts";
import type { EngineReply, OrderNote, OrderView } from "../engine/reply.ts";
import type { Faq } from "../faq/index.ts";
import type { Localization } from "../i18n/index.ts";
import { createRenderer, plainMarkup } from "../render/messages.ts";

/** One turn of a conversation, in words. `note`: how the customer said it (a button, a slash command, not understood). */
export type Turn = { at: number; from: "customer" | "bot"; text: string; note: string | null };

/** What stands in for goods the customer was shown. */
const GOODS_PLACEHOLDER = "••••••";

type Summary = Pick<
  OrderSummary,
  "state" | "tags" | "productId" | "tokens" | "usd" | "charge" | "provider" | "paymentId" | "late" | "refunded"
> &
  Partial<Pick<OrderSummary, "payUrl" | "deliveryHint" | "promoCode" | "reissues">>;

/** Says logged replies in words: the app's renderer, in one language, with the clock at the reply's time. */
export function createReplyWords(catalog: Catalog, localization: Localization, faq: Faq, language = localization.defaultLanguage) {
  let at = 0;
  const renderer = createRenderer(catalog, plainMarkup, { localization, faq, now: () => at });
  const viewOf = (note: OrderNote, same: Summary | null): OrderView => {
    return {
      orderId: note.orderId,
      stage: note.stage,
      path: same?.state ?? note.stage,
      tags: (same?.tags ?? []) as OrderView["tags"],
      words: note.words,
      buttons: note.buttons,
      productId: same?.productId ?? BUILT_IN_PRODUCT_ID,
      tokens: same?.tokens ?? null,
      usd: same?.usd ?? null,
      charge: same?.charge ?? null,
      provider: same?.provider ?? null,
      payUrl: same?.payUrl ?? null,
      quoteExpiresAt: note.quoteExpiresAt ?? null,
      paymentExpiresAt: note.paymentExpiresAt ?? null,
      deliveryHint: same?.deliveryHint ?? null,
      nextDeliveryAttemptAt: null,
      problem: note.problem ?? null,
      late: same?.late ?? false,
      refund: note.refund
        ? { reason: note.refund, amount: same?.refunded ?? null, foreign: null, refunded: (same?.refunded ?? null) !== null, manual: false }
        : null,
      strays: [],
      // What the quote was made of is not in the summary: the page says the price without its parts.
      breakdown: null,
      promoCode: same?.promoCode ?? null,
      promoRefusal: null,
      reissues: same?.reissues ?? 0,
    };
  };
  return {
    language: localization.translator(language).language,
    /**
     * The words of a logged reply, as the customer read them then. `summaryOf` gives the order's
     * summary of that moment (null when unknown: amounts are left out).
     */
    say(note: Record<string, Json>, when: number, summaryOf: (orderId: string) => Summary | null): string {
      at = when;
      const orderNote = (value: unknown) => (value && typeof value === "object" ? (value as OrderNote) : null);
      const expand = (value: unknown) => {
        const n = orderNote(value);
        return n ? viewOf(n, summaryOf(n.orderId)) : null;
      };
      const reply = { ...note } as Record<string, unknown>;
      if ("order" in note) reply.order = expand(note.order);
      if ("lastOrder" in note) reply.lastOrder = expand(note.lastOrder);
      if (note.secret === true) reply.secret = GOODS_PLACEHOLDER;
      try {
        return renderer.render(reply as EngineReply, language).text;
      } catch {
        // A note this version cannot say (written by a newer one): its kind at least.
        return `(${String(note.kind)})`;
      }
    },
  };
}

export type ReplyWords = ReturnType<typeof createReplyWords>;

const customerTurn = (at: number, text: unknown, command: unknown, source: unknown, accepted: unknown): Turn => {
  const how = source === "button" ? "button" : source === "command" ? "command" : null;
  const refused = accepted === false ? " (refused)" : "";
  if (typeof text === "string" && text !== "") return { at, from: "customer", text, note: refused ? refused.trim().slice(1, -1) : null };
  return {
    at,
    from: "customer",
    text: `${String(command ?? "?")
      .toLowerCase()
      .replace(/_/g, " ")}${refused}`,
    note: how,
  };
};

/** The turns of an order's trail (oldest first), both sides. */
export function turnsOf(trail: readonly AuditEntry[], words: ReplyWords): Turn[] {
  const turns: Turn[] = [];
  const isTurn = (entry: AuditEntry) => entry.type === "command" || entry.type === "not_understood" || entry.type === "reply";
  const summaryAt = (index: number, orderId: string): Summary | null => {
    for (let i = index + 1; i < trail.length && !isTurn(trail[i]!); i++) {
      const entry = trail[i]!;
      if (entry.type === "order" && entry.orderId === orderId) return entry.detail.summary as unknown as Summary;
    }
    for (let i = index - 1; i >= 0; i--) {
      const entry = trail[i]!;
      if (entry.type === "order" && entry.orderId === orderId) return entry.detail.summary as unknown as Summary;
    }
    return null;
  };
  for (const [index, entry] of trail.entries()) {
    const d = entry.detail;
    if (entry.type === "command") turns.push(customerTurn(entry.at, d.text, d.command, d.source, d.accepted));
    else if (entry.type === "not_understood")
      turns.push({ at: entry.at, from: "customer", text: String(d.text ?? ""), note: "not understood" });
    else if (entry.type === "reply")
      turns.push({ at: entry.at, from: "bot", text: words.say(d, entry.at, (orderId) => summaryAt(index, orderId)), note: null });
  }
  return turns;
}

/** The turns a chat had before its first order, as the read model keeps them. */
export function turnsOfTalk(lines: readonly TalkLine[], words: ReplyWords): Turn[] {
  return lines.map((line) =>
    line.from === "customer"
      ? line.text !== null
        ? { at: line.at, from: "customer", text: line.text, note: line.command === null ? "not understood" : null }
        : customerTurn(line.at, null, line.command, line.source, true)
      : { at: line.at, from: "bot", text: words.say(line.reply, line.at, () => null), note: null },
  );
}
