/**
 * The orders table: a filter from the query string, and keyset paging over the newest-first index
 * (so page 500 costs what page 1 does). Stage names are only compared with the stage the owner picked
 * from the machine's own list: for grouping, never for a decision.
 */
import { STAGES } from "../../machines/purchase.reading.ts";
import { type CustomerRow, type OrderRow, needsOwner, stageOfSummary } from "../analytics/projection.ts";

const DAY = 86_400_000;

export type OrderFilter = {
  /** A top-level state (stage) the order is in now. */
  stage?: string;
  /** Only orders that need the owner now. */
  needs?: true;
  /** Inclusive UTC dates (YYYY-MM-DD) on the order's creation time. */
  from?: string;
  to?: string;
  /** Part of an order id; a chat id, payment id or Telegram username. */
  q?: string;
};

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** The filter from a query string; anything malformed is ignored. */
export function parseFilter(query: URLSearchParams): OrderFilter {
  const stage = query.get("stage") ?? "";
  const from = query.get("from") ?? "";
  const to = query.get("to") ?? "";
  const q = (query.get("q") ?? "").trim().slice(0, 80);
  return {
    ...(STAGES.includes(stage) ? { stage } : {}),
    ...(query.get("needs") === "1" ? { needs: true as const } : {}),
    ...(DATE.test(from) ? { from } : {}),
    ...(DATE.test(to) ? { to } : {}),
    ...(q ? { q } : {}),
  };
}

/** A predicate for the filter; `customers` lets a search name a Telegram username. */
export function matcher(filter: OrderFilter, customers: ReadonlyMap<string, CustomerRow> = new Map()): (row: OrderRow) => boolean {
  const from = filter.from ? Date.parse(`${filter.from}T00:00:00Z`) : -Infinity;
  const to = filter.to ? Date.parse(`${filter.to}T00:00:00Z`) + DAY : Infinity;
  const q = filter.q;
  const username = q?.replace(/^@/, "").toLowerCase();
  const named = new Set<string>();
  if (username) for (const c of customers.values()) if (c.username?.toLowerCase() === username) named.add(c.chatId);
  return (row) =>
    (filter.stage === undefined || stageOfSummary(row.summary) === filter.stage) &&
    (filter.needs === undefined || needsOwner(row.summary)) &&
    row.createdAt >= from &&
    row.createdAt < to &&
    (q === undefined || row.orderId.includes(q) || row.chatId === q || row.summary.paymentId === q || named.has(row.chatId));
}

export type OrdersPage = { rows: OrderRow[]; matched: number; next: string | null; first: boolean };

/** Newest first: creation time, then order id, both descending. */
export const newerFirst = (a: OrderRow, b: OrderRow): number =>
  b.createdAt - a.createdAt || (a.orderId < b.orderId ? 1 : a.orderId > b.orderId ? -1 : 0);

/** The cursor of a row: its place in the newest-first order. */
const cursorOf = (row: OrderRow) => `${row.createdAt}.${row.orderId}`;

/**
 * A page of `limit` matching orders after `after` (a cursor from a previous page), plus how many
 * match in all. Finding the cursor is a binary search; counting is one pass with no allocation.
 */
export function ordersPage(sorted: readonly OrderRow[], matches: (row: OrderRow) => boolean, after: string | null, limit = 50): OrdersPage {
  let start = 0;
  const cursor = after ? /^(\d+)\.(.+)$/.exec(after) : null;
  if (cursor) {
    const at = Number(cursor[1]);
    const id = cursor[2]!;
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const row = sorted[mid]!;
      // Rows strictly before the cursor in newest-first order.
      if (row.createdAt > at || (row.createdAt === at && row.orderId >= id)) lo = mid + 1;
      else hi = mid;
    }
    start = lo;
  }
  const rows: OrderRow[] = [];
  let matched = 0;
  let next: string | null = null;
  for (let i = 0; i < sorted.length; i++) {
    const row = sorted[i]!;
    if (!matches(row)) continue;
    matched++;
    if (i < start) continue;
    if (rows.length < limit) rows.push(row);
    else next ??= cursorOf(rows[rows.length - 1]!);
  }
  return { rows, matched, next, first: start === 0 };
}
