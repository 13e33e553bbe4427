/**
 * The dashboard's read model: one compact row per order, joined from the stored order records, late
 * payments, refunds and the audit trail (which says how the amount was set and which transitions the
 * order took). Pages aggregate these rows in memory, so the overview of 100,000 orders is a single
 * pass of a few milliseconds instead of a scan of the store per request.
 *
 * Freshness: the model is built from the store on first use; orders this process touches (engine
 * events, dashboard actions) are re-read before the next page; and a full re-read in the background
 * every `rescanMs` picks up what other instances sharing the store did.
 */
import { compareEntries } from "../audit/index.ts";
import type { Logger } from "../log.ts";
import type { AuditLog } from "../audit/index.ts";
import { type FunnelSource, orderFacts, sourceOf } from "../analytics/funnel.ts";
import type { AuditEntry, LatePayment, OrderProjection, OrderState, Refund } from "../domain/records.ts";
import type { Stores } from "../store/index.ts";
import { type OwnerGraph, PURCHASE_GRAPH, pathBetween } from "./diagram.ts";

/** Everything the dashboard shows about an order, without reading the store again. */
export type OrderRow = {
  orderId: string;
  chatId: string;
  /** False for a conversation that never got an amount (it counts as started in the funnel only). */
  hasRecord: boolean;
  state: OrderState;
  createdAt: number;
  updatedAt: number;
  tokens: number | null;
  usd: OrderProjection["usd"];
  charge: OrderProjection["charge"];
  provider: string | null;
  paymentId: string | null;
  quotedAt: number | null;
  paidAt: number | null;
  deliveredAt: number | null;
  source: FunnelSource;
  quoted: boolean;
  invoiced: boolean;
  paid: boolean;
  delivered: boolean;
  /** First quote to delivery, from the trail; null unless both happened. */
  quoteToDeliveryMs: number | null;
  llmCalls: number;
  llmTokens: number;
  /** Owner-graph edges the order took (distinct), and the whole path in order. */
  edges: number[];
  path: number[];
  latePayment: LatePayment | null;
  refund: Refund | null;
  /** "late" or "mismatch" when a payment for it could not be applied. */
  paymentProblem: "late" | "mismatch" | null;
};

export type ReadModel = {
  /** Every row, fresh as described above. */
  rows(): Promise<readonly OrderRow[]>;
  /** Rows with an order record, newest first (createdAt, then order id, descending). */
  newestFirst(): Promise<readonly OrderRow[]>;
  /** One order's row (re-read from the store if unknown). */
  row(orderId: string): Promise<OrderRow | undefined>;
  /** Starts the first build in the background if none exists yet (the login form calls it). */
  warm(): void;
  /** Marks an order as changed: it is re-read before the next page. */
  touch(orderId: string): void;
  /** How long the last full build took, in ms, and when it finished (real time). */
  lastBuild(): { ms: number; at: number; orders: number } | null;
};

export type ReadModelOptions = {
  stores: Stores;
  audit: AuditLog;
  graph?: OwnerGraph;
  /** Full re-read interval (catches other instances' writes). */
  rescanMs?: number;
  /** Orders touched within this many ms are re-read on every page (their writes may still be landing). */
  settleMs?: number;
  /** Where a failed background rebuild is reported (the next page tries again). */
  log?: Logger;
};

/** Builds a row from an order's stored parts; `trail` in any order. */
export function toRow(
  orderId: string,
  record: OrderProjection | undefined,
  trail: AuditEntry[],
  late: LatePayment | undefined,
  refund: Refund | undefined,
  graph: OwnerGraph = PURCHASE_GRAPH,
): OrderRow {
  trail.sort(compareEntries);
  const facts = orderFacts(trail);
  const path: number[] = [];
  let paymentProblem: OrderRow["paymentProblem"] = null;
  for (const entry of trail) {
    const d = entry.detail;
    if (entry.type === "transition" && typeof d.from === "string" && typeof d.to === "string") path.push(...pathBetween(graph, d.from, d.to));
    if (entry.type === "payment" && (d.outcome === "late" || d.outcome === "mismatch")) paymentProblem = d.outcome;
  }
  const first = trail[0]?.at;
  const createdAt = Math.min(record?.createdAt ?? Infinity, first ?? Infinity);
  return {
    orderId,
    chatId: record?.chatId ?? trail[0]?.chatId ?? "",
    hasRecord: record !== undefined,
    state: record?.state ?? "initial",
    createdAt: Number.isFinite(createdAt) ? createdAt : 0,
    updatedAt: Math.max(record?.updatedAt ?? 0, trail[trail.length - 1]?.at ?? 0),
    tokens: record?.tokens ?? null,
    usd: record?.usd ?? null,
    charge: record?.charge ?? null,
    provider: record?.provider ?? null,
    paymentId: record?.paymentId ?? null,
    quotedAt: record?.quotedAt ?? facts.quotedAt,
    paidAt: record?.paidAt ?? null,
    deliveredAt: record?.deliveredAt ?? facts.deliveredAt,
    source: sourceOf(facts),
    quoted: facts.quotedAt !== null || record?.quotedAt != null,
    invoiced: facts.paymentCreated || record?.paymentId != null,
    paid: facts.paid || record?.paidAt != null,
    delivered: facts.deliveredAt !== null || record?.state === "delivered",
    quoteToDeliveryMs: facts.quotedAt !== null && facts.deliveredAt !== null ? facts.deliveredAt - facts.quotedAt : null,
    llmCalls: facts.llmCalls,
    llmTokens: facts.llmTokens,
    edges: [...new Set(path)],
    path,
    latePayment: late ?? null,
    refund: refund ?? null,
    paymentProblem,
  };
}

const newerFirst = (a: OrderRow, b: OrderRow) => b.createdAt - a.createdAt || (a.orderId < b.orderId ? 1 : a.orderId > b.orderId ? -1 : 0);

/** Reads every order's parts from the store and builds all rows. */
export async function buildRows(stores: Stores, audit: AuditLog, graph: OwnerGraph = PURCHASE_GRAPH): Promise<Map<string, OrderRow>> {
  const records = new Map<string, OrderProjection>();
  for await (const [, record] of stores.orders.entries()) records.set(record.orderId, record);
  const trails = new Map<string, AuditEntry[]>();
  // Whole chunks rather than `audit.all()`'s entry-by-entry generator: a tenth of the time at 100,000 orders.
  await audit.flush();
  for await (const [, bucket] of stores.audit.entries()) {
    const list = trails.get(bucket.orderId);
    if (list) list.push(...bucket.entries);
    else trails.set(bucket.orderId, bucket.entries);
  }
  const late = new Map<string, LatePayment>();
  for await (const [key, value] of stores.latePayments.entries()) late.set(key, value);
  const refunds = new Map<string, Refund>();
  for await (const [key, value] of stores.refunds.entries()) refunds.set(key, value);
  const rows = new Map<string, OrderRow>();
  let done = 0;
  for (const orderId of new Set([...records.keys(), ...trails.keys()])) {
    rows.set(orderId, toRow(orderId, records.get(orderId), trails.get(orderId) ?? [], late.get(orderId), refunds.get(orderId), graph));
    // Let customers' messages through: 100,000 rows would otherwise hold the event loop for a while.
    if (++done % 2_000 === 0) await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return rows;
}

export function createReadModel(options: ReadModelOptions): ReadModel {
  const rebuildFailed = (err: unknown) => options.log?.warn("dashboard read model rebuild failed; the next page retries", { err });
  const { stores, audit } = options;
  const graph = options.graph ?? PURCHASE_GRAPH;
  const rescanMs = options.rescanMs ?? 300_000;
  const settleMs = options.settleMs ?? 2_000;
  let rows: Map<string, OrderRow> | null = null;
  let sorted: OrderRow[] = [];
  let building: Promise<void> | null = null;
  let built: { ms: number; at: number; orders: number } | null = null;
  /** Order id → when it was last touched (real time). */
  const dirty = new Map<string, number>();
  /** Orders touched while a full build runs: it may have read them before the change. */
  let touchedDuringBuild: Set<string> | null = null;

  const fullBuild = () => {
    building ??= (async () => {
      const started = performance.now();
      const startedAt = Date.now();
      touchedDuringBuild = new Set();
      try {
        const fresh = await buildRows(stores, audit, graph);
        rows = fresh;
        sorted = [...fresh.values()].filter((r) => r.hasRecord).sort(newerFirst);
        built = { ms: performance.now() - started, at: Date.now(), orders: fresh.size };
        // The scan saw every change that had landed before it started; later ones are re-read.
        for (const [id, at] of dirty) if (at < startedAt - settleMs) dirty.delete(id);
        for (const id of touchedDuringBuild) dirty.set(id, Date.now());
      } finally {
        touchedDuringBuild = null;
        building = null;
      }
    })();
    return building;
  };

  /** Where `row` sits (or would sit) in the newest-first index: a binary search. */
  const slot = (row: OrderRow) => {
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (newerFirst(sorted[mid]!, row) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };

  /** Puts a re-read row in place of its previous version (which may have sorted elsewhere). */
  const replace = (before: OrderRow | undefined, row: OrderRow) => {
    if (before?.hasRecord) {
      const at = slot(before);
      if (sorted[at]?.orderId === before.orderId) sorted.splice(at, 1);
    }
    if (row.hasRecord) sorted.splice(slot(row), 0, row);
  };

  const reread = async (orderId: string) => {
    const [record, trail, late, refund] = await Promise.all([
      stores.orders.get(orderId),
      audit.forOrder(orderId),
      stores.latePayments.get(orderId),
      stores.refunds.get(orderId),
    ]);
    if (!record && trail.length === 0) return undefined;
    return toRow(orderId, record, trail, late, refund, graph);
  };

  const fresh = async (): Promise<Map<string, OrderRow>> => {
    // Rereading costs four reads per order: past a thousand changed orders a full scan is cheaper.
    if (!rows || dirty.size > 1_000) await fullBuild();
    else if (built && Date.now() - built.at >= rescanMs) void fullBuild().catch(rebuildFailed);
    if (dirty.size > 0) {
      const now = Date.now();
      const ids = [...dirty.keys()];
      for (const [id, at] of dirty) if (now - at > settleMs) dirty.delete(id);
      const updated = await Promise.all(ids.map((id) => reread(id)));
      // Applied to whatever model is current now: a rebuild may have finished meanwhile, and these
      // reads are at least as new as its.
      const current = rows!;
      for (const row of updated) {
        if (!row) continue;
        replace(current.get(row.orderId), row);
        current.set(row.orderId, row);
      }
    }
    return rows!;
  };

  return {
    async rows() {
      return [...(await fresh()).values()];
    },
    async newestFirst() {
      await fresh();
      return sorted;
    },
    async row(orderId) {
      const all = await fresh();
      const known = all.get(orderId);
      if (known) return known;
      const row = await reread(orderId);
      if (row && !all.has(orderId)) {
        replace(undefined, row);
        all.set(orderId, row);
      }
      return row;
    },
    warm() {
      if (!rows) void fullBuild().catch(rebuildFailed);
    },
    touch(orderId) {
      dirty.set(orderId, Date.now());
      touchedDuringBuild?.add(orderId);
    },
    lastBuild: () => built,
  };
}
