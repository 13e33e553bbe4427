/**
 * The sales funnel, read from the audit trail: how many conversations got a quote, created a payment,
 * paid and received their goods — split by how the customer drove the order (typed text understood by
 * rules, typed text understood by the LLM, buttons, slash commands, or a mix). Also what the LLM cost
 * per completed purchase and how long a purchase takes from quote to delivery.
 *
 * Pure functions over {@link AuditEntry}s, so the CLI report and the Telegram admin `/stats` share them.
 */
import { compareEntries } from "../audit/index.ts";
import { CommandSource } from "../domain/commands.ts";
import type { AuditEntry } from "../domain/records.ts";

/** How an order was driven: the source of the command(s) that set its amount. */
export type FunnelSource = CommandSource | "mixed" | "unattributed";

export const FUNNEL_SOURCES: readonly FunnelSource[] = [...CommandSource.options, "mixed", "unattributed"];

export type FunnelRow = {
  source: FunnelSource | "total";
  started: number;
  quoted: number;
  paymentCreated: number;
  paid: number;
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
  /** Time span covered by the entries read, or null when there were none. */
  from: number | null;
  to: number | null;
};

/** What one order's audit trail says about it (see {@link orderFacts}). */
export type OrderFacts = {
  quoteSources: Set<CommandSource>;
  firstSource: CommandSource | null;
  quotedAt: number | null;
  paymentCreated: boolean;
  paid: boolean;
  deliveredAt: number | null;
  llmCalls: number;
  llmTokens: number;
};

const PAID_STATES = new Set(["paid", "delivered", "delivery_failed"]);
const num = (value: unknown) => (typeof value === "number" && Number.isFinite(value) ? value : 0);
const isSource = (value: unknown): value is CommandSource => CommandSource.safeParse(value).success;

/**
 * Builds the funnel from audit entries (any order; pass `since` to count only orders whose first entry
 * is at or after it). An order is attributed to the source of its accepted QUOTE/CHANGE_AMOUNT
 * commands — "mixed" when they came from several — or, if it never got an amount, to its first command.
 */
export function buildFunnel(entries: Iterable<AuditEntry>, options: { since?: number } = {}): Funnel {
  const byOrder = new Map<string, AuditEntry[]>();
  let from: number | null = null;
  let to: number | null = null;
  for (const entry of entries) {
    const list = byOrder.get(entry.orderId);
    if (list) list.push(entry);
    else byOrder.set(entry.orderId, [entry]);
  }
  const rows = new Map<FunnelRow["source"], FunnelRow & { durations: number[] }>();
  const row = (source: FunnelRow["source"]) => {
    let existing = rows.get(source);
    if (!existing) {
      existing = { source, started: 0, quoted: 0, paymentCreated: 0, paid: 0, delivered: 0, llmCalls: 0, llmTokens: 0, medianQuoteToDeliveryMs: null, durations: [] };
      rows.set(source, existing);
    }
    return existing;
  };
  let orders = 0;
  for (const list of byOrder.values()) {
    list.sort(compareEntries);
    const first = list[0];
    if (!first || (options.since !== undefined && first.at < options.since)) continue;
    orders++;
    from = from === null ? first.at : Math.min(from, first.at);
    to = Math.max(to ?? 0, list[list.length - 1]?.at ?? first.at);
    const facts = orderFacts(list);
    const source = sourceOf(facts);
    for (const target of [row(source), row("total")]) {
      target.started++;
      if (facts.quotedAt !== null) target.quoted++;
      if (facts.paymentCreated) target.paymentCreated++;
      if (facts.paid) target.paid++;
      if (facts.deliveredAt !== null) {
        target.delivered++;
        if (facts.quotedAt !== null) target.durations.push(facts.deliveredAt - facts.quotedAt);
      }
      target.llmCalls += facts.llmCalls;
      target.llmTokens += facts.llmTokens;
    }
  }
  row("total");
  const ordered = [...FUNNEL_SOURCES, "total" as const]
    .map((source) => rows.get(source))
    .filter((r): r is FunnelRow & { durations: number[] } => r !== undefined && (r.source === "total" || r.started > 0))
    .map(({ durations, ...rest }) => ({ ...rest, medianQuoteToDeliveryMs: median(durations) }));
  return { rows: ordered, orders, from, to };
}

/** How the order was driven: its amount's source, "mixed" when several set it, else its first command's. */
export function sourceOf(facts: OrderFacts): FunnelSource {
  return facts.quoteSources.size > 1 ? "mixed" : ([...facts.quoteSources][0] ?? facts.firstSource ?? "unattributed");
}

/** The funnel facts of one order from its trail, oldest entry first (the web dashboard shares this). */
export function orderFacts(list: readonly AuditEntry[]): OrderFacts {
  const facts: OrderFacts = {
    quoteSources: new Set(),
    firstSource: null,
    quotedAt: null,
    paymentCreated: false,
    paid: false,
    deliveredAt: null,
    llmCalls: 0,
    llmTokens: 0,
  };
  for (const entry of list) {
    const d = entry.detail;
    switch (entry.type) {
      case "command":
        if (isSource(d.source)) {
          facts.firstSource ??= d.source;
          if (d.accepted === true && (d.command === "QUOTE" || d.command === "CHANGE_AMOUNT")) facts.quoteSources.add(d.source);
        }
        break;
      case "transition":
        if (d.to === "quoted" && facts.quotedAt === null) facts.quotedAt = entry.at;
        if (d.to === "awaiting_payment") facts.paymentCreated = true;
        if (typeof d.to === "string" && PAID_STATES.has(d.to)) facts.paid = true;
        if (d.to === "delivered" && facts.deliveredAt === null) facts.deliveredAt = entry.at;
        break;
      case "payment":
        if (d.outcome === "paid" || d.outcome === "delivered") facts.paid = true;
        break;
      case "llm":
        facts.llmCalls++;
        facts.llmTokens += num(d.promptTokens) + num(d.completionTokens);
        break;
      case "not_understood":
      case "admin":
      case "secret_undeliverable":
        break;
      default: {
        const unhandled: never = entry.type;
        void unhandled;
      }
    }
  }
  return facts;
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
  const header = ["source", "started", "quoted", "invoiced", "paid", "delivered", "conv.", "LLM calls/sale", "LLM tokens/sale", "median quote→delivery"];
  const body = funnel.rows.map((r) => [
    SOURCE_LABELS[r.source],
    String(r.started),
    `${r.quoted} (${pct(r.quoted, r.started)})`,
    `${r.paymentCreated} (${pct(r.paymentCreated, r.quoted)})`,
    `${r.paid} (${pct(r.paid, r.paymentCreated)})`,
    `${r.delivered} (${pct(r.delivered, r.paid)})`,
    pct(r.delivered, r.started),
    r.delivered === 0 ? (r.llmCalls === 0 ? "0" : `${r.llmCalls} (no sales)`) : (r.llmCalls / r.delivered).toFixed(2),
    r.delivered === 0 ? (r.llmTokens === 0 ? "0" : `${r.llmTokens} (no sales)`) : Math.round(r.llmTokens / r.delivered).toString(),
    formatDuration(r.medianQuoteToDeliveryMs),
  ]);
  const table = [header, ...body];
  const widths = header.map((_, i) => Math.max(...table.map((line) => (line[i] ?? "").length)));
  const line = (cells: string[]) => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join("  ");
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
  ].join("\n");
}
