/**
 * Sessions: one chat's conversation, opened from the store under the chat lock, worked on, and written
 * back. This module is the only place that creates purchase actors and the only writer of
 * conversations, orders and deadlines.
 *
 * Writes follow "persist before you act":
 * 1. the audit entries observed so far are flushed (write-ahead: a crash repeats an entry, never drops one);
 * 2. a deadline that became earlier is written before the conversation, so the sweeper can never miss it;
 * 3. the order record derived from the snapshot: after a crash it may be ahead of the conversation until
 *    the chat's next write, never behind it (a chat that moved on to its next order would never rewrite
 *    the old order's record);
 * 4. the conversation, compare-and-set on its revision: the one atomic write that says where the order is;
 * 5. a deadline that went away or later.
 * A state tagged `resume` (`paid.recorded`) is written before the engine moves on (`START_DELIVERY`),
 * so a verified payment is durable before any goods are issued, and is moved on again after a crash by
 * whoever opens the chat next (a customer's message, a webhook retry, the sweeper).
 */
import { type Actor, type InspectionEvent, createActor, waitFor } from "xstate";
import type { PurchaseEvent, PurchaseMachine } from "../../machines/purchase.machine.ts";
import type { Catalog } from "../domain/catalog.ts";
import { type ChatId, OrderId, newOrderId as makeOrderId } from "../domain/ids.ts";
import { type ConversationRecord, MAX_REMEMBERED_ORDERS, OrderState, isStoredSnapshot } from "../domain/records.ts";
import type { Logger } from "../log.ts";
import { type ChatLock, type Lease, type Stores, createChatLock } from "../store/index.ts";
import type { EngineEvent } from "./events.ts";
import { dueAt, projectOrder } from "./projection.ts";
import { type PurchaseSnapshot, stateName } from "./reply.ts";

export type Session = {
  chatId: ChatId;
  /** The snapshot as restored from the store (or freshly started), before opening resumed any work. */
  opened: PurchaseSnapshot;
  /** The snapshot as restored (or freshly started), before any resumed work: unchanged means nothing to save. */
  loaded: PurchaseSnapshot;
  actor: Actor<PurchaseMachine>;
  /** The conversation revision this session will write next is `rev + 1`. */
  rev: number;
  lease: Lease;
  lastOrderId: OrderId | null;
  /** The chat's ended orders, oldest first, at most `MAX_REMEMBERED_ORDERS`. */
  orderIds: OrderId[];
  /** The bot's last message asked "how many tokens?" (set by the customer door). */
  askedHowMany: boolean;
  /** The conversation's memory changed (not the order): written even after a read-only look. */
  remembered?: boolean;
  turns: string[];
  notice?: "conversation_reset";
  /** The order projection as last written, to skip writes that change nothing. */
  before: string | null;
  dueBefore: number | null;
};

/** Another writer moved the conversation since it was read: the work is redone on the fresh record. */
export class ConversationMovedError extends Error {
  constructor(chatId: string) {
    super(`conversation ${chatId} was changed by another writer; retrying on the fresh record`);
    this.name = "ConversationMovedError";
  }
}

export type SessionOptions = {
  stores: Stores;
  machine: PurchaseMachine;
  catalog: Catalog;
  conversationTimeoutMs: number;
  maxDeliveryAttempts: number;
  retryBackoffMs: number;
  log: Logger;
  clock: () => number;
  instanceId: string;
  newOrderId?: () => OrderId;
  settleTimeoutMs?: number;
  lock?: { leaseMs?: number; waitMs?: number };
  emit: (event: EngineEvent) => void;
  /** Writes the audit entries observed so far; awaited before each conversation write. */
  flushJournal?: () => Promise<void>;
  inspect?: (event: InspectionEvent) => void;
};

const MAX_ATTEMPTS = 3;
/** The input's order id is ignored when a snapshot is restored (it brings its own); skip generating one. */
const UNUSED_ORDER_ID = OrderId.parse("restored");

export type Sessions = ReturnType<typeof createSessions>;

export function createSessions(options: SessionOptions) {
  const { stores, log, clock } = options;
  const newOrderId = options.newOrderId ?? makeOrderId;
  const settleTimeoutMs = options.settleTimeoutMs ?? 30_000;
  const lock: ChatLock = createChatLock({
    owner: options.instanceId,
    // Any shared store (a Redis server, or one SQLite file opened by several processes) can have other
    // processes working on the same chat; both have atomic claims. Only memory is private to a process.
    claims: stores.backend.kind === "memory" ? undefined : stores.claims,
    ...options.lock,
    onRenewalFailure: (chatId, err) => log.warn("chat lease renewal failed", { chatId, err }),
  });

  const startActor = (chatId: ChatId, snapshot?: ConversationRecord["snapshot"]) => {
    const actor = createActor(options.machine, {
      // Input only seeds a new order; a restored snapshot brings its own context.
      input: {
        orderId: snapshot ? UNUSED_ORDER_ID : newOrderId(),
        chatId,
        minTokens: options.catalog.minTokens,
        maxTokens: options.catalog.maxTokens,
        maxDeliveryAttempts: options.maxDeliveryAttempts,
        retryBackoffMs: options.retryBackoffMs,
        at: clock(),
      },
      ...(snapshot ? { snapshot } : {}),
      ...(options.inspect ? { inspect: options.inspect } : {}),
    });
    // A failing chat must never take the process down: errors are logged and the chat carries on.
    actor.subscribe({ error: (err) => log.error("purchase actor failed", { chatId, err }) });
    actor.start();
    return actor;
  };

  const settle = async (session: Session): Promise<boolean> => {
    if (!session.actor.getSnapshot().hasTag("busy")) return true;
    try {
      await waitFor(session.actor, (s) => !s.hasTag("busy"), { timeout: settleTimeoutMs });
      return true;
    } catch {
      return false;
    }
  };

  /** Restores a stored snapshot; null when it names states or fields this machine does not have. */
  const restore = (chatId: ChatId, record: ConversationRecord) => {
    try {
      const actor = startActor(chatId, record.snapshot);
      const restored = actor.getSnapshot();
      // XState accepts a snapshot naming states this machine does not have; such a record is corrupt.
      if (!OrderState.safeParse(stateName(restored)).success || typeof restored.context?.orderId !== "string") {
        actor.stop();
        throw new Error(`unknown state ${JSON.stringify(restored.value)}`);
      }
      return actor;
    } catch (err) {
      log.warn("stored conversation could not be restored; starting fresh", { chatId, err });
      return null;
    }
  };

  const open = async (chatId: ChatId, lease: Lease): Promise<Session> => {
    const { record: loaded, rev } = await stores.conversations.read(chatId);
    const record = loaded === "invalid" ? undefined : loaded;
    const restored = record ? restore(chatId, record) : null;
    const notice = loaded === "invalid" || (record && !restored) ? "conversation_reset" : undefined;
    const actor = restored ?? startActor(chatId);
    const session: Session = {
      chatId,
      opened: actor.getSnapshot(),
      loaded: actor.getSnapshot(),
      actor,
      rev,
      lease,
      lastOrderId: record?.lastOrderId ?? null,
      orderIds: record ? [...record.orderIds] : [],
      askedHowMany: record?.askedHowMany ?? false,
      turns: record && clock() - record.updatedAt < options.conversationTimeoutMs ? [...record.turns] : [],
      ...(notice ? { notice } : {}),
      before: restored ? JSON.stringify(projectOrder(actor.getSnapshot())) : null,
      dueBefore: restored ? dueAt(actor.getSnapshot()) : null,
    };
    // A snapshot taken while work was in flight resumes it (XState re-runs the invoked actor); one
    // stopped at a durable waypoint (`paid.recorded`) is moved on now.
    await settle(session);
    await continueFromWaypoint(session);
    return session;
  };

  /** Writes the session (see the module comment for the order of writes). */
  const persist = async (session: Session): Promise<void> => {
    const snapshot = session.actor.getSnapshot();
    const now = clock();
    if (session.lease.lost) throw new ConversationMovedError(session.chatId);
    const due = dueAt(snapshot);
    const earlier = due !== null && (session.dueBefore === null || due < session.dueBefore || Number.isNaN(session.dueBefore));
    const projection = projectOrder(snapshot);
    const serialized = JSON.stringify(projection);
    // An order is recorded once it has an amount; after that every change is kept (a restart back to
    // `initial` must not leave the record saying "quoted"). Late payments and refunds live in their own
    // records, so this write needs no read and cannot overwrite them.
    const projectionChanged =
      serialized !== session.before && (projection.tokens !== null || projection.state !== "initial" || session.before !== null);
    // Steps 1–3 are independent of each other; all must be stored before the conversation is.
    await Promise.all([
      options.flushJournal?.().catch((err: unknown) => log.error("audit write failed before a conversation write", { chatId: session.chatId, err })),
      earlier ? stores.deadlines.set(session.chatId, { v: 1, chatId: session.chatId, orderId: snapshot.context.orderId, dueAt: due }) : undefined,
      projectionChanged ? stores.orders.set(projection.orderId, { ...projection, createdAt: snapshot.context.createdAt, updatedAt: now }) : undefined,
    ]);
    if (projectionChanged) session.before = serialized;
    const record: ConversationRecord = {
      v: 2,
      rev: session.rev + 1,
      chatId: session.chatId,
      snapshot: persistedSnapshot(session.actor),
      lastOrderId: session.lastOrderId,
      turns: session.turns,
      updatedAt: now,
      orderIds: session.orderIds,
      askedHowMany: session.askedHowMany,
    };
    if (!(await stores.conversations.write(session.chatId, record))) throw new ConversationMovedError(session.chatId);
    session.rev = record.rev;
    session.loaded = snapshot;
    // A deadline that moved later is left as stored: it only wakes the sweeper early, which then stores
    // the true one. That saves a write on every amount change (each pushes the quote's expiry).
    const later = due !== null && session.dueBefore !== null && due > session.dueBefore;
    // Removed: done last, so a crash before it only wakes the sweeper early. (An unknown stored
    // deadline, NaN, counts as one to remove; a new one was written as "earlier" above.)
    if (due === null && session.dueBefore !== null) await stores.deadlines.delete(session.chatId);
    if (!later) session.dueBefore = due;
  };

  /** At a durable waypoint (`resume` tag): make sure it is stored, then move on and wait for the work. */
  const continueFromWaypoint = async (session: Session): Promise<void> => {
    const snapshot = session.actor.getSnapshot();
    if (!snapshot.hasTag("resume")) return;
    if (snapshot !== session.loaded) await persist(session);
    const before = snapshot;
    session.actor.send({ type: "START_DELIVERY", at: clock() });
    await settle(session);
    reportTransition(session, before);
  };

  const reportTransition = (session: Session, before: PurchaseSnapshot) => {
    const after = session.actor.getSnapshot();
    const from = stateName(before);
    const to = stateName(after);
    if (from !== to) options.emit({ type: "transition", chatId: session.chatId, orderId: before.context.orderId, from, to, at: clock() });
  };

  return {
    /**
     * Runs `work` on the chat's session under the chat lock and writes it afterwards. A `readOnly` look
     * (a status view) writes nothing unless opening it resumed work. When another writer moved the
     * conversation meanwhile, the work is redone on the fresh record (its side effects are idempotent).
     */
    async withSession<T>(chatId: ChatId, work: (session: Session) => Promise<T>, mode: { readOnly?: boolean } = {}): Promise<T> {
      for (let attempt = 1; ; attempt++) {
        try {
          return await lock(chatId, async (lease) => {
            const session = await open(chatId, lease);
            try {
              const result = await work(session);
              if (!mode.readOnly || session.remembered || session.actor.getSnapshot() !== session.loaded) await persist(session);
              return result;
            } finally {
              session.actor.stop();
            }
          });
        } catch (err) {
          if (!(err instanceof ConversationMovedError) || attempt >= MAX_ATTEMPTS) throw err;
          log.warn("conversation moved under us; redoing the work", { chatId, attempt });
        }
      }
    },

    /** Sends one event and waits for the work it starts; false when the machine refused it. */
    async step(session: Session, event: PurchaseEvent): Promise<boolean> {
      const before = session.actor.getSnapshot();
      // A finished order takes no more events (opening the chat may just have completed it).
      if (before.status !== "active" || !before.can(event)) return false;
      session.actor.send(event);
      await settle(session);
      reportTransition(session, before);
      await continueFromWaypoint(session);
      return true;
    },

    /** Starts the next order once the current one has ended (delivered, cancelled, expired…). */
    nextOrderIfEnded(session: Session): void {
      const snapshot = session.actor.getSnapshot();
      if (snapshot.status !== "done") return;
      session.lastOrderId = snapshot.context.orderId;
      if (!session.orderIds.includes(session.lastOrderId)) session.orderIds.push(session.lastOrderId);
      if (session.orderIds.length > MAX_REMEMBERED_ORDERS) session.orderIds.splice(0, session.orderIds.length - MAX_REMEMBERED_ORDERS);
      session.actor.stop();
      session.actor = startActor(session.chatId);
      session.before = null;
    },

    /** Makes the next write store the true deadline (the sweeper woke on an outdated one). */
    forgetStoredDeadline(session: Session): void {
      session.dueBefore = Number.NaN;
    },
  };
}

/** The actor's persisted snapshot in the stored shape (it always fits; a bug would throw here). */
function persistedSnapshot(actor: Actor<PurchaseMachine>): ConversationRecord["snapshot"] {
  const persisted = actor.getPersistedSnapshot();
  if (!isStoredSnapshot(persisted)) throw new Error("XState returned a persisted snapshot without value or context");
  return persisted;
}
