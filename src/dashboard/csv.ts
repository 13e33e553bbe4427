/**
 * The orders export (RFC 4180). Cells that a spreadsheet would run as a formula (=, +, -, @, tab, CR)
 * are prefixed with an apostrophe, so an order id or chat id can never execute in the owner's Excel.
 */
import type { OrderRow } from "./readmodel.ts";

const HEADER = [
  "order_id", "state", "created_at", "tokens", "usd", "charged", "currency", "provider", "payment_id",
  "source", "chat_id", "quoted_at", "paid_at", "delivered_at", "refunded",
];

const iso = (at: number | null) => (at === null ? "" : new Date(at).toISOString());
const decimal = (minor: number | undefined, currency: string | undefined) =>
  minor === undefined ? "" : currency === "XTR" ? String(minor) : (minor / 100).toFixed(2);

/** One CSV cell: neutralised when it looks like a formula, quoted when it must be. */
export function csvCell(value: string | number | null | undefined): string {
  let text = value === null || value === undefined ? "" : String(value);
  if (/^[=+\-@\t\r]/.test(text) && !/^-?\d+(\.\d+)?$/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The rows as a CSV document with a header line. */
export function toCsv(rows: Iterable<OrderRow>): string {
  const lines = [HEADER.join(",")];
  for (const r of rows) {
    lines.push(
      [
        r.orderId, r.state, iso(r.createdAt), r.tokens, decimal(r.usd?.minor, "USD"), decimal(r.charge?.minor, r.charge?.currency),
        r.charge?.currency, r.provider, r.paymentId, r.source, r.chatId, iso(r.quotedAt), iso(r.paidAt), iso(r.deliveredAt),
        r.refund ? "yes" : "",
      ]
        .map(csvCell)
        .join(","),
    );
  }
  return `${lines.join("\r\n")}\r\n`;
}
