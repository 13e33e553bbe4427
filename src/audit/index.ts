/**
 * The audit trail: what happened to each order and why — every command with where it came from
 * (rules, LLM, button, slash command), every machine transition, every payment confirmation and its
 * outcome, every LLM call with its token use — stored and queryable by order id.
 *
 * Recording must not slow a customer's reply, so `record` only queues; writes happen in batches a few
 * milliseconds later. keyv has no atomic append, so each process appends only to its own bucket
 * (`${orderId}/${instanceId}`): a bucket has a single writer and read-modify-write loses nothing even
 * with two instances on one Redis. A small per-order index lists the buckets for `forOrder`.
 *
 * Only whitelisted fields are stored: no message text, no payment secrets, no goods.
 */
import type { EngineEvent } from "../engine/engine.ts";
import type { AuditEntry } from "../domain/records.ts";
import type { Logger } from "../log.ts";
import type { Stores } from "../store/index.ts";

/**
 * One LLM call, reported by the understanding layer. `orderId` is the chat's open order at the time;
 * tokens are the provider's usage figures (0 when it did not report them).
 */
export type LlmUsageEvent = {
  type: "llm";
  chatId: string;
  orderId: string;
  model: string;
  promptTokens: number;
  completionTokens: number;
  /** False when the call failed or timed out (it still cost a call). */
  ok: boolean;
  at: number;
};

/** Anything the audit log accepts: the engine's events plus LLM usage. */
export type AuditEvent = EngineEvent | LlmUsageEvent;

export type AuditLog = {
  /** Queues `event` for storage. Never throws, never waits: safe on the hot path. */
  record(event: AuditEvent): void;
  /** Writes everything queued so far. */
  flush(): Promise<void>;
  /** The order's trail, oldest first, from every instance that worked on it. */
  forOrder(orderId: string): Promise<AuditEntry[]>;
  /** Every stored entry, grouped by bucket (not globally sorted). For reports. */
  all(): AsyncIterable<AuditEntry>;
  /** Flushes and stops the batching timer. */
  close(): Promise<void>;
};

export type AuditLogOptions = {
  instanceId: string;
  log: Logger;
  /** How long entries wait to be written together. */
  batchMs?: number;
};

/** Projects an event onto a stored entry, keeping only fields that are safe and useful to keep. */
export function toAuditEntry(event: AuditEvent, instance: string, seq: number): AuditEntry {
  const base = { v: 1 as const, type: event.type, chatId: event.chatId, orderId: event.orderId, at: event.at, instance, seq };
  switch (event.type) {
    case "command":
      return { ...base, detail: { command: event.command, source: event.source, accepted: event.accepted } };
    case "transition":
      return { ...base, detail: { from: event.from, to: event.to } };
    case "payment":
      return { ...base, detail: { paymentId: event.paymentId, outcome: event.outcome } };
    case "not_understood":
      return { ...base, detail: {} };
    case "llm":
      return {
        ...base,
        detail: { model: event.model, promptTokens: event.promptTokens, completionTokens: event.completionTokens, ok: event.ok },
      };
    default: {
      const unhandled: never = event;
      throw new Error(`unknown audit event ${JSON.stringify(unhandled)}`);
    }
  }
}

/** Orders the merged trail: by time, then by writer and its sequence for same-millisecond entries. */
export function compareEntries(a: AuditEntry, b: AuditEntry): number {
  return a.at - b.at || (a.instance === b.instance ? a.seq - b.seq : a.instance < b.instance ? -1 : 1);
}

const INDEXED_MEMORY = 10_000;

export function createAuditLog(stores: Stores, options: AuditLogOptions): AuditLog {
  const { instanceId, log } = options;
  const batchMs = options.batchMs ?? 20;
  let pending = new Map<string, AuditEntry[]>();
  let seq = 0;
  let timer: NodeJS.Timeout | null = null;
  let chain: Promise<void> = Promise.resolve();
  // Orders whose index already names this instance: skips an index read per batch.
  const indexed = new Set<string>();

  const bucketKey = (orderId: string, instance: string) => `${orderId}/${instance}`;

  const ensureIndexed = async (orderId: string) => {
    if (indexed.has(orderId)) return;
    // Two instances may add themselves at once; re-read after writing and merge again if we lost.
    for (let attempt = 0; attempt < 5; attempt++) {
      const index = await stores.auditIndex.get(orderId);
      if (index?.instances.includes(instanceId)) break;
      await stores.auditIndex.set(orderId, { v: 1, instances: [...(index?.instances ?? []), instanceId] });
    }
    if (indexed.size >= INDEXED_MEMORY) indexed.clear();
    indexed.add(orderId);
  };

  const writeBatch = async (batch: Map<string, AuditEntry[]>) => {
    for (const [orderId, entries] of batch) {
      try {
        const key = bucketKey(orderId, instanceId);
        const bucket = await stores.audit.get(key);
        await stores.audit.set(key, { v: 1, orderId, entries: [...(bucket?.entries ?? []), ...entries] });
        await ensureIndexed(orderId);
      } catch (error) {
        // The trail is for people, not for correctness: a failed write is logged, never fatal.
        log.error("audit write failed", { orderId, entries: entries.length, error: String(error) });
      }
    }
  };

  const flush = (): Promise<void> => {
    if (timer) {
      clearTimeout(timer);
      timer = null;
    }
    const batch = pending;
    pending = new Map();
    // Batches are written one after another so a bucket never has two writes in flight.
    chain = chain.then(() => (batch.size > 0 ? writeBatch(batch) : undefined));
    return chain;
  };

  return {
    record(event) {
      try {
        const entry = toAuditEntry(event, instanceId, seq++);
        const list = pending.get(entry.orderId);
        if (list) list.push(entry);
        else pending.set(entry.orderId, [entry]);
        if (!timer) {
          timer = setTimeout(() => void flush(), batchMs);
          timer.unref();
        }
      } catch (error) {
        log.error("audit record failed", { error: String(error) });
      }
    },
    flush,
    async forOrder(orderId) {
      await flush();
      const index = await stores.auditIndex.get(orderId);
      const buckets = await Promise.all((index?.instances ?? []).map((instance) => stores.audit.get(bucketKey(orderId, instance))));
      return buckets.flatMap((bucket) => bucket?.entries ?? []).sort(compareEntries);
    },
    async *all() {
      await flush();
      for await (const [, bucket] of stores.audit.entries()) yield* bucket.entries;
    },
    async close() {
      await flush();
    },
  };
}
