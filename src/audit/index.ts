/**
 * The audit trail: what happened to each order and why — every command with where it came from
 * (rules, LLM, button, slash command), every machine transition, every payment confirmation and its
 * outcome, every LLM call with its token use — stored and queryable by order id.
 *
 * Recording must not slow a customer's reply, so `record` only queues; writes happen in batches a few
 * milliseconds later. keyv has no atomic append, so each process run appends only to its own chunks
 * (`${orderId}/${writer}/${n}`, at most 16 entries each, the open one kept in memory): a chunk has a
 * single writer, so nothing is lost even with two instances on one Redis, and a write never grows with
 * the length of the trail. A small per-order index lists the writers for `forOrder`.
 *
 * Only whitelisted fields are stored: no message text, no payment secrets, no goods.
 */
import { randomBytes } from "node:crypto";
import type { AdminActionEvent } from "../engine/admin-door.ts";
import type { EngineEvent } from "../engine/events.ts";
import type { AuditBucket, AuditEntry } from "../domain/records.ts";
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

/** Something an admin did to an order (refund, retry), from Telegram or the dashboard: the admin door's record. */
export type AdminAuditEvent = AdminActionEvent;

/** An event with its ids as plain text: the trail stores text and needs no brands. */
type WithTextIds<E> = E extends unknown ? { [K in keyof E]: K extends "chatId" | "orderId" | "paymentId" ? string : E[K] } : never;

/** Anything the audit log accepts: the engine's events, LLM usage and admin actions. */
export type AuditEvent = WithTextIds<EngineEvent> | LlmUsageEvent | AdminAuditEvent;

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
    case "secret_undeliverable":
      return { ...base, detail: {} };
    case "admin":
      return { ...base, detail: { action: event.action, by: event.by, paymentId: event.paymentId, refundId: event.refundId } };
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

/**
 * One audit entry as a line of text: time, type and its (already whitelisted) details, skipping empty
 * ones. `verbose` adds the chat and which instance wrote it, for the operator's terminal report.
 */
export function formatAuditEntry(entry: AuditEntry, options: { verbose?: boolean } = {}): string {
  const details = Object.entries(entry.detail)
    .filter(([, value]) => value !== null)
    .map(([key, value]) => `${key}=${String(value)}`)
    .join(" ");
  const at = new Date(entry.at).toISOString();
  return options.verbose
    ? `${at}  ${entry.type.padEnd(14)} chat=${entry.chatId} ${details}  [${entry.instance}#${entry.seq}]`
    : `${at.replace(".000Z", "Z")} ${entry.type} ${details}`.trimEnd();
}

/** Entries per stored chunk: bounds the cost of each write however long an order's trail gets. */
const CHUNK_ENTRIES = 16;
/** Orders whose open chunk is kept in memory; older ones are re-read from the store if they come back. */
const OPEN_ORDERS = 5_000;

type OpenChunk = { chunk: number; entries: AuditEntry[] };

export function createAuditLog(stores: Stores, options: AuditLogOptions): AuditLog {
  const { instanceId, log } = options;
  const batchMs = options.batchMs ?? 20;
  // One writer id per process run: a restarted instance with the same name never overwrites old chunks.
  const writer = `${instanceId}.${randomBytes(3).toString("hex")}`;
  let pending = new Map<string, AuditEntry[]>();
  let seq = 0;
  let timer: NodeJS.Timeout | null = null;
  let chain: Promise<void> = Promise.resolve();
  const open = new Map<string, OpenChunk>();

  const chunkKey = (orderId: string, by: string, chunk: number) => `${orderId}/${by}/${chunk}`;

  const readChunks = async (orderId: string, by: string) => {
    const chunks: AuditBucket[] = [];
    for (let chunk = 0; ; chunk++) {
      const bucket = await stores.audit.get(chunkKey(orderId, by, chunk));
      if (!bucket) return chunks;
      chunks.push(bucket);
    }
  };

  /** This writer's chunk to append to for `orderId`, registering the writer in the order's index first. */
  const openChunk = async (orderId: string): Promise<OpenChunk> => {
    const known = open.get(orderId);
    if (known) {
      open.delete(orderId);
      open.set(orderId, known);
      return known;
    }
    let current: OpenChunk = { chunk: 0, entries: [] };
    const index = await stores.auditIndex.get(orderId);
    if (index?.writers.includes(writer)) {
      // Evicted from memory earlier: continue after the chunks already stored.
      const chunks = await readChunks(orderId, writer);
      const last = chunks[chunks.length - 1];
      current = last && last.entries.length < CHUNK_ENTRIES ? { chunk: chunks.length - 1, entries: last.entries } : { chunk: chunks.length, entries: [] };
    } else {
      // Two writers may register at once; re-read after writing and merge again if one was lost.
      for (let attempt = 0; attempt < 5; attempt++) {
        const latest = await stores.auditIndex.get(orderId);
        if (latest?.writers.includes(writer)) break;
        await stores.auditIndex.set(orderId, { v: 1, writers: [...(latest?.writers ?? []), writer] });
      }
    }
    open.set(orderId, current);
    if (open.size > OPEN_ORDERS) {
      const oldest = open.keys().next().value;
      if (oldest !== undefined) open.delete(oldest);
    }
    return current;
  };

  const writeBatch = async (batch: Map<string, AuditEntry[]>) => {
    for (const [orderId, entries] of batch) {
      try {
        let rest = entries;
        while (rest.length > 0) {
          let current = await openChunk(orderId);
          if (current.entries.length >= CHUNK_ENTRIES) {
            current = { chunk: current.chunk + 1, entries: [] };
            open.set(orderId, current);
          }
          const room = CHUNK_ENTRIES - current.entries.length;
          const next = [...current.entries, ...rest.slice(0, room)];
          await stores.audit.set(chunkKey(orderId, writer, current.chunk), { v: 1, orderId, entries: next });
          // Only after a successful write: a failed one is simply rewritten, whole, next time.
          current.entries = next;
          rest = rest.slice(room);
        }
      } catch (error) {
        // The trail is for people, not for correctness: a failed write is logged, never fatal.
        log.error("audit write failed", { orderId, entries: entries.length, err: error });
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
    // Batches are written one after another so a chunk never has two writes in flight.
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
        log.error("audit record failed", { err: error });
      }
    },
    flush,
    async forOrder(orderId) {
      await flush();
      const index = await stores.auditIndex.get(orderId);
      const chunks = await Promise.all((index?.writers ?? []).map((by) => readChunks(orderId, by)));
      return chunks.flat().flatMap((bucket) => bucket.entries).sort(compareEntries);
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
