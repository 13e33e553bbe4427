/**
 * What the pages ask of the read model: the overview of a period (one pass over the rows) and a page
 * of the orders table (keyset paging over the newest-first index, so page 500 costs what page 1 does).
 */
import { FUNNEL_SOURCES, type FunnelSource } from "../analytics/funnel.ts";
import { OrderState } from "../domain/records.ts";
import type { Money } from "../domain/money.ts";
import { type OwnerGraph, PURCHASE_GRAPH } from "./diagram.ts";
import type { OrderRow } from "./readmodel.ts";

export const PERIODS = ["today", "7d", "30d", "all"] as const;
export type Period = (typeof PERIODS)[number];
export const PERIOD_LABELS: Record<Period, string> = { today: "Today", "7d": "7 days", "30d": "30 days", all: "All" };

const DAY = 86_400_000;

/** The start of a period (UTC days), or 0 for all time. */
export function periodStart(period: Period, now: number): number {
  switch (period) {
    case "today":
      return Math.floor(now / DAY) * DAY;
    case "7d":
      return now - 7 * DAY;
    case "30d":
      return now - 30 * DAY;
    case "all":
      return 0;
    default: {
      const unhandled: never = period;
      throw new Error(`unknown period ${String(unhandled)}`);
    }
  }
}

export const parsePeriod = (text: string | null): Period => (PERIODS as readonly string[]).includes(text ?? "") ? (text as Period) : "7d";

export type FunnelLine = {
  source: FunnelSource | "total";
  started: number;
  quoted: number;
  invoiced: number;
  paid: number;
  delivered: number;
  llmCalls: number;
  llmTokens: number;
  medianQuoteToDeliveryMs: number | null;
};

export type RevenueBucket = { label: string; start: number; usdMinor: number; sales: number };

export type Overview = {
  period: Period;
  since: number;
  now: number;
  /** Rows per source that have orders, in the report's order, then the total. */
  funnel: FunnelLine[];
  revenue: { buckets: RevenueBucket[]; unit: "day" | "month"; totalUsdMinor: number; sales: number; refundedUsdMinor: number };
  providers: { provider: string; sales: number; usdMinor: number; charged: Money[] }[];
  edgeCounts: number[];
  stateCounts: Map<string, number>;
  needs: { failedDeliveries: OrderRow[]; latePayments: OrderRow[] };
};

const emptyLine = (source: FunnelLine["source"]): FunnelLine & { durations: number[] } => ({
  source, started: 0, quoted: 0, invoiced: 0, paid: 0, delivered: 0, llmCalls: 0, llmTokens: 0, medianQuoteToDeliveryMs: null, durations: [],
});

/** The median as the report computes it, on a typed array: its numeric sort is ~10× faster at 100,000 values. */
function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = Float64Array.from(values).sort();
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function count(target: FunnelLine & { durations: number[] }, row: OrderRow) {
  target.started++;
  if (row.quoted) target.quoted++;
  if (row.invoiced) target.invoiced++;
  if (row.paid) target.paid++;
  if (row.delivered) {
    target.delivered++;
    if (row.quoteToDeliveryMs !== null) target.durations.push(row.quoteToDeliveryMs);
  }
  target.llmCalls += row.llmCalls;
  target.llmTokens += row.llmTokens;
}

/** The overview of orders started (funnel, diagram) and paid (revenue) since the period's start. */
export function overview(rows: Iterable<OrderRow>, period: Period, now: number, graph: OwnerGraph = PURCHASE_GRAPH): Overview {
  const since = periodStart(period, now);
  const lines = new Map<FunnelLine["source"], ReturnType<typeof emptyLine>>();
  const line = (source: FunnelLine["source"]) => {
    let found = lines.get(source);
    if (!found) lines.set(source, (found = emptyLine(source)));
    return found;
  };
  const total = line("total");
  const edgeCounts = graph.edges.map(() => 0);
  const stateCounts = new Map<string, number>(graph.states.map((s) => [s, 0]));
  const paidRows: OrderRow[] = [];
  const failedDeliveries: OrderRow[] = [];
  const latePayments: OrderRow[] = [];
  let refundedUsdMinor = 0;
  let firstPaid = Infinity;
  for (const row of rows) {
    // What needs the owner is about now, whatever the period.
    if (!row.refund && row.state === "delivery_failed") failedDeliveries.push(row);
    else if (!row.refund && row.latePayment) latePayments.push(row);
    if (row.paidAt !== null && row.paid && row.paidAt >= since) {
      paidRows.push(row);
      firstPaid = Math.min(firstPaid, row.paidAt);
    }
    if (row.refund && row.refund.at >= since && row.refund.amount.currency === "USD") refundedUsdMinor += row.refund.amount.minor;
    if (row.createdAt < since) continue;
    count(line(row.source), row);
    count(total, row);
    stateCounts.set(graph.initial, (stateCounts.get(graph.initial) ?? 0) + 1);
    for (const edge of row.edges) {
      edgeCounts[edge] = (edgeCounts[edge] ?? 0) + 1;
      const to = graph.edges[edge]!.to;
      if (to !== graph.initial) stateCounts.set(to, (stateCounts.get(to) ?? 0) + 1);
    }
  }
  const funnel = [...FUNNEL_SOURCES, "total" as const]
    .map((source) => lines.get(source))
    .filter((l): l is ReturnType<typeof emptyLine> => l !== undefined && (l.source === "total" || l.started > 0))
    .map(({ durations, ...rest }) => ({ ...rest, medianQuoteToDeliveryMs: median(durations) }));
  return {
    period,
    since,
    now,
    funnel,
    revenue: revenue(paidRows, Math.max(since, Number.isFinite(firstPaid) ? Math.min(firstPaid, now) : now), now, refundedUsdMinor),
    providers: providers(paidRows),
    edgeCounts,
    stateCounts,
    needs: { failedDeliveries: failedDeliveries.sort((a, b) => b.updatedAt - a.updatedAt), latePayments: latePayments.sort((a, b) => b.updatedAt - a.updatedAt) },
  };
}

const dayLabel = (at: number) => new Date(at).toISOString().slice(5, 10);
const monthLabel = (at: number) => new Date(at).toISOString().slice(0, 7);

/** Revenue (the quote's USD price of each paid order) per UTC day, or per month over long spans. */
function revenue(paid: OrderRow[], from: number, now: number, refundedUsdMinor: number): Overview["revenue"] {
  const unit = now - from > 62 * DAY ? "month" : "day";
  const buckets: RevenueBucket[] = [];
  // Buckets by UTC day number: one division per paid order instead of formatting its date.
  const byDay = new Map<number, RevenueBucket>();
  for (let dayNumber = Math.floor(from / DAY); dayNumber * DAY <= now; dayNumber++) {
    const label = unit === "day" ? dayLabel(dayNumber * DAY) : monthLabel(dayNumber * DAY);
    let bucket = buckets[buckets.length - 1];
    if (!bucket || bucket.label !== label) buckets.push((bucket = { label, start: dayNumber * DAY, usdMinor: 0, sales: 0 }));
    byDay.set(dayNumber, bucket);
  }
  let totalUsdMinor = 0;
  for (const row of paid) {
    const bucket = byDay.get(Math.floor(row.paidAt! / DAY));
    const usd = row.usd?.minor ?? 0;
    totalUsdMinor += usd;
    if (bucket) {
      bucket.usdMinor += usd;
      bucket.sales++;
    }
  }
  return { buckets, unit, totalUsdMinor, sales: paid.length, refundedUsdMinor };
}

function providers(paid: OrderRow[]): Overview["providers"] {
  const by = new Map<string, { provider: string; sales: number; usdMinor: number; charged: Map<Money["currency"], number> }>();
  for (const row of paid) {
    const name = row.provider ?? "unknown";
    let entry = by.get(name);
    if (!entry) by.set(name, (entry = { provider: name, sales: 0, usdMinor: 0, charged: new Map() }));
    entry.sales++;
    entry.usdMinor += row.usd?.minor ?? 0;
    if (row.charge) entry.charged.set(row.charge.currency, (entry.charged.get(row.charge.currency) ?? 0) + row.charge.minor);
  }
  return [...by.values()]
    .sort((a, b) => b.usdMinor - a.usdMinor)
    .map((e) => ({ provider: e.provider, sales: e.sales, usdMinor: e.usdMinor, charged: [...e.charged].map(([currency, minor]) => ({ currency, minor })) }));
}

export type OrderFilter = {
  state?: OrderState;
  /** Inclusive UTC dates (YYYY-MM-DD) on the order's creation time. */
  from?: string;
  to?: string;
  /** Part of an order id, or a chat id. */
  q?: string;
};

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** The filter from a query string; anything malformed is ignored. */
export function parseFilter(query: URLSearchParams): OrderFilter {
  const state = query.get("state") ?? "";
  const from = query.get("from") ?? "";
  const to = query.get("to") ?? "";
  const q = (query.get("q") ?? "").trim().slice(0, 80);
  return {
    ...(OrderState.safeParse(state).success ? { state: OrderState.parse(state) } : {}),
    ...(DATE.test(from) ? { from } : {}),
    ...(DATE.test(to) ? { to } : {}),
    ...(q ? { q } : {}),
  };
}

/** A predicate for the filter. */
export function matcher(filter: OrderFilter): (row: OrderRow) => boolean {
  const from = filter.from ? Date.parse(`${filter.from}T00:00:00Z`) : -Infinity;
  const to = filter.to ? Date.parse(`${filter.to}T00:00:00Z`) + DAY : Infinity;
  const q = filter.q;
  return (row) =>
    (filter.state === undefined || row.state === filter.state) &&
    row.createdAt >= from &&
    row.createdAt < to &&
    (q === undefined || row.orderId.includes(q) || row.chatId === q);
}

export type OrdersPage = { rows: OrderRow[]; matched: number; next: string | null; first: boolean };

/** The cursor of a row: its place in the newest-first order. */
const cursorOf = (row: OrderRow) => `${row.createdAt}.${row.orderId}`;

/**
 * A page of `limit` matching orders after `after` (a cursor from a previous page), plus how many
 * match in all. Finding the cursor is a binary search; counting is one pass with no allocation.
 */
export function ordersPage(sorted: readonly OrderRow[], filter: OrderFilter, after: string | null, limit = 50): OrdersPage {
  const matches = matcher(filter);
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
