/**
 * Reading the audit log: every command with where it came from (rules, LLM, button, slash command),
 * every machine transition, every order change, every payment and its outcome, every LLM call, every
 * admin action. Entries are written by the engine inside the commit of the step they describe
 * (src/engine/session.ts), so the log never falls behind the state; this module only reads it.
 */
import type { OrderId } from "../domain/ids.ts";
import type { AuditEntry } from "../domain/records.ts";
import type { LogPosition, ShopStore } from "../store/shop-store.ts";

export type AuditLog = {
  /** The order's trail, oldest first, from every instance that worked on it. */
  forOrder(orderId: string): Promise<AuditEntry[]>;
  /** Every entry from `position` (null: the start), in log order, with the position after each batch. */
  batches(position?: LogPosition | null, batchSize?: number): AsyncIterable<{ entries: AuditEntry[]; position: LogPosition }>;
  /** Every stored entry, in log order. */
  all(): AsyncIterable<AuditEntry>;
};

export function createAuditLog(store: ShopStore): AuditLog {
  const batches = async function* (position: LogPosition | null = null, batchSize = 1_000) {
    for (let at = position; ;) {
      const batch = await store.readLog(at, batchSize);
      if (batch.entries.length === 0) return;
      yield batch;
      at = batch.position;
    }
  };
  return {
    async forOrder(orderId) {
      return store.auditOf(orderId as OrderId);
    },
    batches,
    async *all() {
      for await (const batch of batches()) yield* batch.entries;
    },
  };
}

/** Orders entries for display: by time, then as written. */
export function compareEntries(a: AuditEntry, b: AuditEntry): number {
  return a.at - b.at;
}

/**
 * One audit entry as a line of text: time, type and its details, skipping empty ones. `verbose` adds
 * the chat and which instance wrote it, for the operator's terminal report.
 */
export function formatAuditEntry(entry: AuditEntry, options: { verbose?: boolean } = {}): string {
  const details = Object.entries(entry.detail)
    .filter(([, value]) => value !== null && typeof value !== "object")
    .map(([key, value]) => `${key}=${String(value)}`)
    .join(" ");
  const summary =
    entry.type === "order" && typeof entry.detail.summary === "object" && entry.detail.summary !== null
      ? `state=${String((entry.detail.summary as { state?: unknown }).state)}`
      : "";
  const at = new Date(entry.at).toISOString();
  const text = [details, summary].filter(Boolean).join(" ");
  return options.verbose
    ? `${at}  ${entry.type.padEnd(14)} chat=${entry.chatId} ${text}  [${entry.instance}]`
    : `${at.replace(".000Z", "Z")} ${entry.type} ${text}`.trimEnd();
}
