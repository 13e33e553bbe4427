/**
 * What the pages ask of the read model (`app.projection`): the owner's front page (today, what needs
 * them, customers, what the bot did not understand, the funnel) and the funnel of a period by source
 * with the machine's picture. The orders table's filter and paging are in `orders-query.ts`. Every
 * count comes from the projection's rows; the funnel is `buildFunnel`, the same table `npm run report`
 * and `/stats` print.
 */
import { type Funnel, buildFunnel, sourceOf } from "../analytics/funnel.ts";
import {
  type CustomerRow,
  type NotUnderstoodRow,
  type OrderRow,
  type ProjectionState,
  needsOwner,
  stageOfSummary,
  usdCents,
} from "../analytics/projection.ts";
import { type SalesByProduct, salesByProduct } from "../analytics/sales.ts";
import type { Money } from "../domain/money.ts";
import { type OwnerGraph, PURCHASE_GRAPH, pathBetween } from "./diagram.ts";

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

export const parsePeriod = (text: string | null): Period => ((PERIODS as readonly string[]).includes(text ?? "") ? (text as Period) : "7d");

/** Money taken and given back among `rows`, by list price (US cents). */
export type Takings = { sales: number; usdMinor: number; refunds: number; refundedUsdMinor: number };

/** Sales (paid in `[since, now]`) and refunds (money returned then) among `rows`. */
function takings(rows: Iterable<OrderRow>, since: number): Takings {
  const sum: Takings = { sales: 0, usdMinor: 0, refunds: 0, refundedUsdMinor: 0 };
  for (const row of rows) {
    const paidAt = row.summary.paidAt;
    if (row.paid && paidAt !== null && paidAt >= since) {
      sum.sales++;
      sum.usdMinor += usdCents(row.summary.usd);
    }
    if (row.refundedAt !== null && row.refundedAt >= since) {
      sum.refunds++;
      sum.refundedUsdMinor += usdCents(row.summary.usd);
    }
  }
  return sum;
}

/** The customers part of the front page: who buys, who comes back, and what that is worth. */
export type Customers = {
  total: number;
  buyers: number;
  /** Customers with two paid orders or more, and their share of all revenue (all time, list prices). */
  repeatBuyers: number;
  repeatRevenueUsdMinor: number;
  revenueUsdMinor: number;
  /** The most recently active customers, newest first. */
  recent: CustomerRow[];
};

function customers(all: ReadonlyMap<string, CustomerRow>, shown: number): Customers {
  const result: Customers = { total: 0, buyers: 0, repeatBuyers: 0, repeatRevenueUsdMinor: 0, revenueUsdMinor: 0, recent: [] };
  const recent: CustomerRow[] = [];
  for (const customer of all.values()) {
    result.total++;
    result.revenueUsdMinor += customer.revenueUsdCents;
    if (customer.paidOrders > 0) result.buyers++;
    if (customer.paidOrders > 1) {
      result.repeatBuyers++;
      result.repeatRevenueUsdMinor += customer.revenueUsdCents;
    }
    // Keep the `shown` most recent without sorting every customer.
    if (recent.length < shown || customer.lastSeenAt > recent[recent.length - 1]!.lastSeenAt) {
      recent.push(customer);
      recent.sort((a, b) => b.lastSeenAt - a.lastSeenAt);
      if (recent.length > shown) recent.pop();
    }
  }
  result.recent = recent;
  return result;
}

/** The owner's front page. */
export type FrontPage = {
  now: number;
  today: Takings & { since: number; orders: number };
  /** Orders that need the owner now, the longest waiting first. */
  needs: OrderRow[];
  customers: Customers;
  /** What customers wrote that the bot did not understand, most recent first. */
  notUnderstood: NotUnderstoodRow[];
  /** The funnel of the last seven days (all sources together; by source is one click away). */
  funnel: Funnel;
  /** Sales by product, tier and promo code, all time (the sums `npm run report` and `/stats` show). */
  sales: SalesByProduct;
};

/** The front page from the read model at `now`. */
export function frontPage(state: ProjectionState, now: number, shownCustomers = 10): FrontPage {
  const rows = [...state.orders.values()];
  const since = periodStart("today", now);
  let orders = 0;
  const needs: OrderRow[] = [];
  for (const row of rows) {
    if (row.createdAt >= since) orders++;
    if (needsOwner(row.summary)) needs.push(row);
  }
  needs.sort((a, b) => (a.ownerSince ?? a.updatedAt) - (b.ownerSince ?? b.updatedAt));
  return {
    now,
    today: { since, orders, ...takings(rows, since) },
    needs,
    customers: customers(state.customers, shownCustomers),
    notUnderstood: [...state.notUnderstood].reverse(),
    funnel: buildFunnel(rows, { since: periodStart("7d", now) }),
    sales: salesByProduct(rows),
  };
}

export type RevenueBucket = { label: string; start: number; usdMinor: number; sales: number };

/** The funnel page of one period: the funnel by source, revenue over time, providers, and where orders went in the machine. */
export type FunnelPage = {
  period: Period;
  since: number;
  now: number;
  funnel: Funnel;
  revenue: { buckets: RevenueBucket[]; unit: "day" | "month" } & Takings;
  providers: { provider: string; sales: number; usdMinor: number; charged: Money[] }[];
  /** Orders started in the period per owner-graph edge, per stage they went through, and per stage they are in now. */
  edgeCounts: number[];
  stageCounts: Map<string, number>;
  nowCounts: Map<string, number>;
};

/**
 * The owner-graph edges an order took, from the stages it was committed in. Every order starts in the
 * machine's initial stage, though its first commit already finds it further on (a quote is committed
 * priced).
 */
export function edgesOf(row: { stages: readonly string[] }, graph: OwnerGraph = PURCHASE_GRAPH): number[] {
  const path: number[] = [];
  let from = graph.initial;
  for (const stage of row.stages) {
    if (stage !== from) path.push(...pathBetween(graph, from, stage));
    from = stage;
  }
  return path;
}

/** The distinct edges and stages of a list of stages, worked out once per list (a loaded read model shares equal lists). */
const paths = new WeakMap<readonly string[], { edges: number[]; through: string[] }>();
function pathOf(stages: readonly string[], graph: OwnerGraph): { edges: number[]; through: string[] } {
  let found = graph === PURCHASE_GRAPH ? paths.get(stages) : undefined;
  if (!found) {
    const edges = [...new Set(edgesOf({ stages }, graph))];
    const through = new Set<string>([graph.initial, ...stages]);
    for (const edge of edges) through.add(graph.edges[edge]!.to);
    found = { edges, through: [...through] };
    if (graph === PURCHASE_GRAPH) paths.set(stages, found);
  }
  return found;
}

/** The funnel page from the read model's rows. */
export function funnelPage(rows: readonly OrderRow[], period: Period, now: number, graph: OwnerGraph = PURCHASE_GRAPH): FunnelPage {
  const since = periodStart(period, now);
  const edgeCounts = graph.edges.map(() => 0);
  const stageCounts = new Map<string, number>(graph.states.map((s) => [s, 0]));
  const nowCounts = new Map<string, number>();
  const paid: OrderRow[] = [];
  let firstPaid = Infinity;
  for (const row of rows) {
    const paidAt = row.summary.paidAt;
    if (row.paid && paidAt !== null && paidAt >= since) {
      paid.push(row);
      firstPaid = Math.min(firstPaid, paidAt);
    }
    if (row.createdAt < since) continue;
    const path = pathOf(row.stages, graph);
    for (const edge of path.edges) edgeCounts[edge] = (edgeCounts[edge] ?? 0) + 1;
    for (const stage of path.through) stageCounts.set(stage, (stageCounts.get(stage) ?? 0) + 1);
    const stage = stageOfSummary(row.summary);
    nowCounts.set(stage, (nowCounts.get(stage) ?? 0) + 1);
  }
  const from = Math.max(since, Number.isFinite(firstPaid) ? Math.min(firstPaid, now) : now);
  return {
    period,
    since,
    now,
    funnel: buildFunnel(rows, { since }),
    revenue: { ...revenueBuckets(paid, from, now), ...takings(rows, since) },
    providers: providers(paid),
    edgeCounts,
    stageCounts,
    nowCounts,
  };
}

const dayLabel = (at: number) => new Date(at).toISOString().slice(5, 10);
const monthLabel = (at: number) => new Date(at).toISOString().slice(0, 7);

/** Revenue (each paid order's list price) per UTC day, or per month over long spans. */
function revenueBuckets(paid: OrderRow[], from: number, now: number): { buckets: RevenueBucket[]; unit: "day" | "month" } {
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
  for (const row of paid) {
    const bucket = byDay.get(Math.floor(row.summary.paidAt! / DAY));
    if (bucket) {
      bucket.usdMinor += usdCents(row.summary.usd);
      bucket.sales++;
    }
  }
  return { buckets, unit };
}

function providers(paid: OrderRow[]): FunnelPage["providers"] {
  const by = new Map<string, { provider: string; sales: number; usdMinor: number; charged: Map<Money["currency"], number> }>();
  for (const row of paid) {
    const name = row.summary.provider ?? "unknown";
    let entry = by.get(name);
    if (!entry) by.set(name, (entry = { provider: name, sales: 0, usdMinor: 0, charged: new Map() }));
    entry.sales++;
    entry.usdMinor += usdCents(row.summary.usd);
    const charge = row.summary.charge;
    if (charge) entry.charged.set(charge.currency, (entry.charged.get(charge.currency) ?? 0) + charge.minor);
  }
  return [...by.values()]
    .sort((a, b) => b.usdMinor - a.usdMinor)
    .map((e) => ({
      provider: e.provider,
      sales: e.sales,
      usdMinor: e.usdMinor,
      charged: [...e.charged].map(([currency, minor]) => ({ currency, minor })),
    }));
}

/** How the order's amount was set, for tables. */
export { sourceOf };
