/**
 * The orders export (RFC 4180). Cells that a spreadsheet would run as a formula (=, +, -, @, tab, CR)
 * are prefixed with an apostrophe, so an order id or chat id can never execute in the owner's Excel.
 */
import { type CustomerRow, type OrderRow, needsOwner, sourceOf, stageOfSummary } from "../analytics/projection.ts";

const HEADER = [
  "order_id",
  "stage",
  "state",
  "created_at",
  "tokens",
  "usd",
  "charged",
  "currency",
  "provider",
  "payment_id",
  "source",
  "chat_id",
  "username",
  "quoted_at",
  "paid_at",
  "delivered_at",
  "refunded",
  "needs_owner",
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

/** The rows as a CSV document with a header line (`customers` adds each chat's Telegram username). */
export function toCsv(rows: Iterable<OrderRow>, customers: ReadonlyMap<string, CustomerRow> = new Map()): string {
  const lines = [HEADER.join(",")];
  for (const r of rows) {
    const s = r.summary;
    lines.push(
      [
        r.orderId,
        stageOfSummary(s),
        s.state,
        iso(r.createdAt),
        s.tokens,
        decimal(s.usd?.minor, "USD"),
        decimal(s.charge?.minor, s.charge?.currency),
        s.charge?.currency,
        s.provider,
        s.paymentId,
        sourceOf(r),
        r.chatId,
        customers.get(r.chatId)?.username ?? "",
        iso(r.quotedAt),
        iso(s.paidAt),
        iso(s.deliveredAt),
        s.refunded ? "yes" : "",
        needsOwner(s) ? "yes" : "",
      ]
        .map(csvCell)
        .join(","),
    );
  }
  return `${lines.join("\r\n")}\r\n`;
}
