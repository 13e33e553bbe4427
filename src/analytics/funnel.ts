/**
 * The sales funnel, from the read model (`projection.ts`): how many orders got a quote, an invoice,
 * were paid and received their goods — split by how the customer drove the order (typed text
 * understood by rules, typed text understood by the LLM, buttons, slash commands, or a mix). Also what
 * the LLM cost per completed purchase and how long a purchase takes from quote to delivery. The CLI
 * report, `/stats` and the dashboard all show this one table.
 */
import { FUNNEL_SOURCES, type FunnelSource, type OrderRow, sourceOf } from "./read-model.ts";

export { FUNNEL_SOURCES, sourceOf };
export type { FunnelSource };

export type FunnelRow = {
  source: FunnelSource | "total";
  /** Orders that got an amount (a chat that only said hello is not an order). */
  started: number;
  quoted: number;
  invoiced: number;
  /** Orders paid, including money that arrived after the order closed and bought its goods anyway. */
  paid: number;
  /** Of those, orders whose money arrived after they were cancelled or expired. */
  latePaid: number;
  delivered: number;
  llmCalls: number;
  llmTokens: number;
  /** Median time from the first quote to delivery over delivered orders; null when none was delivered. */
  medianQuoteToDeliveryMs: number | null;
};

export type Funnel = {
  /** One row per source that has at least one order, in {@link FUNNEL_SOURCES} order, then the total. */
  rows: FunnelRow[];
  orders: number;
  /** Time span of the orders counted, or null when there were none. */
  from: number | null;
  to: number | null;
};

/** Builds the funnel from the read model's orders (pass `since` to count only orders created at or after it). */
export function buildFunnel(orders: Iterable<OrderRow>, options: { since?: number } = {}): Funnel {
  const rows = new Map<FunnelRow["source"], FunnelRow & { durations: number[] }>();
  const row = (source: FunnelRow["source"]) => {
    let existing = rows.get(source);
    if (!existing) {
      existing = {
        source,
        started: 0,
        quoted: 0,
        invoiced: 0,
        paid: 0,
        latePaid: 0,
        delivered: 0,
        llmCalls: 0,
        llmTokens: 0,
        medianQuoteToDeliveryMs: null,
        durations: [],
      };
      rows.set(source, existing);
    }
    return existing;
  };
  let count = 0;
  let from: number | null = null;
  let to: number | null = null;
  for (const order of orders) {
    if (options.since !== undefined && order.createdAt < options.since) continue;
    count++;
    from = from === null ? order.createdAt : Math.min(from, order.createdAt);
    to = Math.max(to ?? 0, order.updatedAt);
    for (const target of [row(sourceOf(order)), row("total")]) {
      target.started++;
      if (order.quotedAt !== null) target.quoted++;
      if (order.invoicedAt !== null) target.invoiced++;
      if (order.paid) target.paid++;
      if (order.paid && order.summary.late) target.latePaid++;
      if (order.delivered) {
        target.delivered++;
        if (order.quotedAt !== null && order.summary.deliveredAt !== null)
          target.durations.push(order.summary.deliveredAt - order.quotedAt);
      }
      target.llmCalls += order.llmCalls;
      target.llmTokens += order.llmTokens;
    }
  }
  row("total");
  const ordered = [...FUNNEL_SOURCES, "total" as const]
    .map((source) => rows.get(source))
    .filter((r): r is FunnelRow & { durations: number[] } => r !== undefined && (r.source === "total" || r.started > 0))
    .map(({ durations, ...rest }) => ({ ...rest, medianQuoteToDeliveryMs: median(durations) }));
  return { rows: ordered, orders: count, from, to };
}

/** The middle value (mean of the two middle ones for an even count), or null for none. */
export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** How each source is named for people (report, /stats, dashboard). */
export const SOURCE_LABELS: Record<FunnelRow["source"], string> = {
  rules: "text (rules)",
  llm: "text (LLM)",
  button: "buttons",
  command: "commands",
  mixed: "mixed",
  unattributed: "not understood",
  total: "total",
};

const pct = (part: number, whole: number) => (whole === 0 ? "-" : `${((100 * part) / whole).toFixed(1)}%`);

/** Human duration: 850ms, 42s, 3m 20s, 2h 5m. */
export function formatDuration(ms: number | null): string {
  if (ms === null) return "-";
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

/** A plain-text table (monospace) of the funnel: counts, conversion from start, LLM cost per purchase. */
export function formatFunnel(funnel: Funnel): string {
  const header = [
    "source",
    "started",
    "quoted",
    "invoiced",
    "paid",
    "of which late",
    "delivered",
    "conv.",
    "LLM calls/sale",
    "LLM tokens/sale",
    "median quote→delivery",
  ];
  const body = funnel.rows.map((r) => [
    SOURCE_LABELS[r.source],
    String(r.started),
    `${r.quoted} (${pct(r.quoted, r.started)})`,
    `${r.invoiced} (${pct(r.invoiced, r.quoted)})`,
    `${r.paid} (${pct(r.paid, r.invoiced)})`,
    String(r.latePaid),
    `${r.delivered} (${pct(r.delivered, r.paid)})`,
    pct(r.delivered, r.started),
    r.delivered === 0 ? (r.llmCalls === 0 ? "0" : `${r.llmCalls} (no sales)`) : (r.llmCalls / r.delivered).toFixed(2),
    r.delivered === 0 ? (r.llmTokens === 0 ? "0" : `${r.llmTokens} (no sales)`) : Math.round(r.llmTokens / r.delivered).toString(),
    formatDuration(r.medianQuoteToDeliveryMs),
  ]);
  const table = [header, ...body];
  const widths = header.map((_, i) => Math.max(...table.map((line) => (line[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join("  ");
  const span =
    funnel.from === null || funnel.to === null
      ? "no orders recorded yet"
      : `${funnel.orders} orders, ${new Date(funnel.from).toISOString()} – ${new Date(funnel.to).toISOString()}`;
  return [
    span,
    line(header),
    widths.map((w) => "-".repeat(w)).join("  "),
    ...body.map(line),
    "",
    "Each stage's % is of the stage before it; conv. = delivered / started. Sources: how the amount was set.",
    "Paid includes money that arrived after its order was cancelled or expired and bought its goods anyway (of which late).",
  ].join("\n");
}
