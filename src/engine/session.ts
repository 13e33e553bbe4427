/**
 * Chat sessions: one chat, opened from the store under its lease, worked on, and written back in one
 * atomic commit. A session holds the chat's conversation record and the actors of the orders it
 * touched (its current order, and any other of its orders an event is for).
 *
 * "Persist before you act, acknowledge after you keep":
 * - a step's whole effect — the chat, every order it changed with its deadline, the audit entries that
 *   describe it, the Telegram update it applied — is one commit: all of it is stored, or none;
 * - a durable waypoint (`resume` tag: a verified payment) is committed before the engine moves on,
 *   so a payment is stored before any goods are issued; whoever opens the order next (a customer's
 *   message, a webhook retry, the sweeper) moves it on again after a crash;
 * - engine events reach listeners (metrics, alerts) only once their commit is stored.
 *
 * Warm chats: after a commit, this process keeps the chat as it wrote it (its record and its current
 * order's running actor, at rest). The next open asks the store for the chat only if its revision moved
 * (`openChatSince`); every commit that writes the chat's record or any of its orders moves the revision
 * on, so an unmoved one means nothing changed, and the order need not be read, validated and restored again.
 *
 * Serialisation: one chat at a time. Inside a process a promise chain per chat orders the work; across
 * processes the chat's lease does (renewed while work runs). A writer that lost its lease cannot
 * commit: the store refuses it, and the work is redone on the fresh record (its effects are idempotent).
 */
import type { PurchaseEvent, PurchaseSnapshot } from "../../machines/purchase.machine.ts";
import { isWorking, orderMeta, statePath } from "../../machines/purchase.reading.ts";
import type { ChatId, OrderId } from "../domain/ids.ts";
import { type AuditEntry, type ChatRecord, MAX_REMEMBERED_ORDERS } from "../domain/records.ts";
import type { Logger } from "../log.ts";
import { wasApplied } from "../store/applied-updates.ts";
import type { ShopStore } from "../store/shop-store.ts";
import { type AuditedEvent, toAuditEntry } from "./audit-entries.ts";
import type { EngineEvent } from "./events.ts";
import { leaseRenewals } from "./lease-renewals.ts";
import type { OrderActor, OrderActors } from "./orders.ts";
import { ChatBusyError, createChatLoader } from "./chat-loader.ts";
import { chatKeyOf } from "./warm-chats.ts";

/** Another writer moved the chat since it was read (or took its lease): the work is redone on the fresh record. */
class ChatMovedError extends Error {
  constructor(chatId: string, reason: string) {
    super(`chat ${chatId} was changed by another writer (${reason}); redoing the work on the fresh record`);
    this.name = "ChatMovedError";
  }
}

/**
 * The Telegram update a step was to apply was applied by another writer meanwhile (this process's
 * lease ran out under the step, and another instance worked the chat's inbox off): that writer
 * answered it, so there is nothing to do and nothing to say. Not a failure: the update is applied.
 */
export class UpdateAppliedElsewhereError extends Error {
  constructor(chatId: string, updateId: number) {
    super(`Telegram update ${updateId} of chat ${chatId} was applied and answered by another writer; nothing to do`);
    this.name = "UpdateAppliedElsewhereError";
  }
}

export type Session = {
  chatId: ChatId;
  /** The chat's conversation record, changed in place by the doors; written at the commit. */
  chat: ChatRecord;
  /** The stored record could not be read and the conversation restarted (the customer is told). */
  notice?: "conversation_reset";
  /**
   * True when the Telegram update this session was opened for was applied before: by this very work's
   * earlier attempt (its waypoint commit; the customer still waits for the answer), or by another
   * writer (then `withChat` rejects with {@link UpdateAppliedElsewhereError} once it committed).
   */
  duplicateUpdate: boolean;
  /** The chat's current order, or null before its first. */
  current(): OrderActor | null;
  /** Starts a new current order (the previous one joins the chat's earlier orders). */
  startOrder(): OrderActor;
  /**
   * Takes back an order this session started that never took a step (its first command was refused):
   * nothing of it is stored, and the chat's current order is the one before it. Returns that order.
   */
  abandon(order: OrderActor): OrderActor | null;
  /** One of the chat's orders (resumed if a crash left work in flight); null when unknown or unreadable. */
  order(orderId: OrderId): Promise<OrderActor | null>;
  /** Sends one event and waits for the work it starts; false when the machine refused it. */
  step(order: OrderActor, event: PurchaseEvent): Promise<boolean>;
  /** Queues an engine event: audited in this session's commit, announced once it is stored. */
  note(event: AuditedEvent): void;
};

export type SessionOptions = {
  store: ShopStore;
  orders: OrderActors;
  log: Logger;
  clock: () => number;
  instanceId: string;
  /** How long a lease lasts without renewal, and how long to wait for another process's. */
  lease: { ttlMs: number; waitMs: number };
  /** Engine events, announced after their commit. */
  emit: (event: EngineEvent) => void;
  /** Updates wait in a chat's inbox after a commit: the lease was kept for this process to work them off. */
  onPendingUpdates: (chatId: ChatId) => void;
  /**
   * A step committed the Telegram update it was opened for (`WithChatMode.updateId`): the update is
   * applied, and `pendingUpdates` says whether the lease was kept because more wait in the inbox.
   */
  onUpdateApplied?: (chatId: ChatId, updateId: number, pendingUpdates: boolean) => void;
  /** How many chats to keep warm (see the module's comment); 0 turns it off. Default 500. */
  warmChats?: number;
};

export type WithChatMode = {
  /** A look that changes nothing writes nothing (unless opening the chat resumed work). */
  readOnly?: boolean;
  /** The Telegram update this work applies: committed with it, so it is applied once. */
  updateId?: number;
  /** How long to wait for another process's lease (default: the configured wait; 0: not at all). */
  waitMs?: number;
  /**
   * Told when an order of this session is busy with invoked work once an event was taken (pricing, a
   * provider, promo codes); the function it returns is called when that work is over. Work that stays
   * in the process is over before any timer could fire, so a channel that shows "the answer is
   * coming" after a moment shows it only for work that waits on something outside (the provisioning
   * account, a payment provider, the store).
   */
  onWaiting?: () => () => void;
};

export type Sessions = ReturnType<typeof createSessions>;

const MAX_ATTEMPTS = 3;

export function createSessions(options: SessionOptions) {
  const { store, orders, log, clock } = options;
  const owner = options.instanceId;
  const tails = new Map<string, Promise<unknown>>();
  const renewals = leaseRenewals(store, options.lease.ttlMs, owner, log);
  const { load, warm, handOvers } = createChatLoader({
    store,
    orders,
    clock,
    owner,
    lease: options.lease,
    warmChats: options.warmChats ?? 500,
  });

  /** One chat at a time within this process (across processes, the lease). */
  const inOrder = <T>(chatId: string, work: () => Promise<T>): Promise<T> => {
    const previous = tails.get(chatId) ?? Promise.resolve();
    const run = previous.then(work, work);
    const tail = run.catch(() => {});
    tails.set(chatId, tail);
    void tail.then(() => {
      if (tails.get(chatId) === tail) tails.delete(chatId);
    });
    return run;
  };

  /** What one `withChat` call did across its attempts: whether a commit of it applied its Telegram update. */
  type Attempts = { appliedUpdate: boolean };

  const open = async (chatId: ChatId, mode: WithChatMode, attempts: Attempts) => {
    const loaded = await load(chatId, mode);
    const appliedWhenOpened = mode.updateId !== undefined && wasApplied(loaded.applied, mode.updateId, clock());
    const { chat, invalid } = loaded;
    const live = new Map<OrderId, OrderActor>();
    const pending: AuditedEvent[] = [];
    let current: OrderActor | null = loaded.current;
    if (current) live.set(current.orderId, current);
    /** What the last startOrder replaced, so an order refused at once can be taken back. */
    let replaced: { order: OrderActor | null; recentOrderIds: OrderId[] } | null = null;
    let rev = loaded.rev;
    let storedChatKey = loaded.chatKey;

    /** Notes what changed between two snapshots of an order: its state, and whether it now needs the owner. */
    const noteChange = (order: OrderActor, before: PurchaseSnapshot) => {
      const snapshot = order.actor.getSnapshot();
      const [from, to] = [statePath(before), statePath(snapshot)];
      if (to !== from) pending.push({ type: "transition", chatId, orderId: order.orderId, from, to, at: clock() });
      // A new task for the owner is announced, also when the order needed them for another one before
      // (a failed delivery the owner refunds, through a provider that cannot: now a refund by hand).
      const task = orderMeta(snapshot).ownerTask;
      if (task && snapshot.hasTag("needs_owner") && !(before.hasTag("needs_owner") && orderMeta(before).ownerTask === task)) {
        pending.push({ type: "needs_owner", chatId, orderId: order.orderId, task, at: clock() });
      }
      const owed = (s: PurchaseSnapshot) => s.context.strays.filter((stray) => stray.status === "owed").length;
      if (owed(snapshot) > owed(before))
        pending.push({ type: "needs_owner", chatId, orderId: order.orderId, task: "refund_by_hand", at: clock() });
    };

    /** Writes everything changed so far; `release` ends the session's hold on the chat. */
    const commit = async (release: boolean): Promise<{ pendingUpdates: boolean }> => {
      const at = clock();
      const changed = [...live.values()].filter((order) => order.actor.getSnapshot() !== order.stored);
      const records = changed.map((order) => orders.record(order, at));
      const chatKey = chatKeyOf(chat);
      const chatChanged = storedChatKey === null ? records.length > 0 || !mode.readOnly : chatKey !== storedChatKey;
      const audit: AuditEntry[] = [
        ...pending.map((event) => toAuditEntry(event, owner)),
        ...records.map((record) =>
          toAuditEntry({ type: "order", chatId, orderId: record.orderId, summary: record.summary, createdAt: record.createdAt, at }, owner),
        ),
      ];
      if (!chatChanged && records.length === 0 && audit.length === 0 && mode.updateId === undefined) {
        return release ? store.releaseLease(chatId, owner) : { pendingUpdates: false };
      }
      // Write-first index: an order is findable by id before anything refers to it.
      for (const order of changed) if (order.stored === null) await store.indexOrder(order.orderId, chatId);
      const record = { ...chat, updatedAt: at };
      const result = await store.commit({
        chatId,
        owner,
        // Compare-and-set on the revision read, also when only orders are written: holding the lease
        // again (this process took it back for a Telegram update) does not make a read from before fresh.
        ...(chatChanged ? { chat: { record, expectedRev: rev } } : { expectedRev: rev }),
        orders: records,
        audit,
        ...(mode.updateId !== undefined ? { appliedUpdateId: mode.updateId } : {}),
        release,
      });
      if (!result.ok) throw new ChatMovedError(chatId, result.reason);
      // This work applied its update, unless it was applied before this attempt opened the chat (by
      // another writer: then a later attempt must still not answer it).
      if (mode.updateId !== undefined && !appliedWhenOpened) attempts.appliedUpdate = true;
      rev = result.rev;
      if (chatChanged) {
        storedChatKey = chatKey;
        chat.updatedAt = at;
      }
      for (const order of changed) order.stored = order.actor.getSnapshot();
      const announced = pending.splice(0);
      for (const event of announced) options.emit(event);
      return { pendingUpdates: result.pendingUpdates };
    };

    /** Waits for an order's invoked work, telling `mode.onWaiting` while it runs. */
    const waitingFor = async (snapshot: PurchaseSnapshot, work: () => Promise<unknown>): Promise<void> => {
      const over = snapshot.hasTag("busy") ? mode.onWaiting?.() : undefined;
      try {
        await work();
      } finally {
        over?.();
      }
    };

    /** At a durable waypoint (`resume` tag): make sure it is stored, then move on and wait for the work. */
    const continueFromWaypoint = async (order: OrderActor): Promise<void> => {
      const snapshot = order.actor.getSnapshot();
      if (!snapshot.hasTag("resume")) return;
      if (snapshot !== order.stored) await commit(false);
      order.actor.send({ type: "START_DELIVERY", at: clock() });
      await waitingFor(order.actor.getSnapshot(), () => orders.finishWork(order));
      noteChange(order, snapshot);
    };

    /** A snapshot taken while work was in flight resumes it (XState re-runs the invoked actor); a waypoint moves on. */
    const resume = async (order: OrderActor): Promise<void> => {
      const before = order.actor.getSnapshot();
      await waitingFor(before, () => orders.finishWork(order));
      noteChange(order, before);
      await continueFromWaypoint(order);
    };

    const session: Session = {
      chatId,
      chat,
      duplicateUpdate: appliedWhenOpened,
      ...(invalid ? { notice: "conversation_reset" as const } : {}),
      current: () => current,
      startOrder() {
        replaced = { order: current, recentOrderIds: chat.recentOrderIds };
        if (current) {
          const previous = current.orderId;
          chat.recentOrderIds = [...chat.recentOrderIds.filter((id) => id !== previous), previous].slice(-MAX_REMEMBERED_ORDERS);
        }
        current = orders.start(chatId);
        live.set(current.orderId, current);
        chat.currentOrderId = current.orderId;
        return current;
      },
      abandon(order) {
        if (order !== current || order.stored !== null || !replaced)
          throw new Error(`order ${order.orderId} is not one this session just started`);
        live.delete(order.orderId);
        order.actor.stop();
        current = replaced.order;
        chat.recentOrderIds = replaced.recentOrderIds;
        chat.currentOrderId = current?.orderId ?? null;
        replaced = null;
        return current;
      },
      async order(orderId) {
        const known = live.get(orderId);
        if (known) return known;
        const [record] = await store.readOrders(chatId, [orderId]);
        const restored = record ? orders.restore(record) : null;
        if (!restored) return null;
        live.set(orderId, restored);
        await resume(restored);
        return restored;
      },
      async step(order, event) {
        const before = order.actor.getSnapshot();
        if (!before.can(event)) return false;
        order.actor.send(event);
        await waitingFor(order.actor.getSnapshot(), () => orders.finishWork(order));
        noteChange(order, before);
        await continueFromWaypoint(order);
        return true;
      },
      note(event) {
        pending.push(event);
      },
    };
    if (current) await resume(current);
    return {
      session,
      commit,
      /**
       * Ends the session: after a commit the chat stays warm (its current order's actor kept running,
       * at rest), unless it is not worth or not safe to keep; every other actor is stopped.
       */
      close: (committed: boolean) => {
        const keep =
          committed &&
          warm.enabled &&
          !invalid &&
          rev > 0 &&
          storedChatKey !== null &&
          (current === null || (current.actor.getSnapshot() === current.stored && !isWorking(current.actor.getSnapshot())));
        for (const order of live.values()) if (!(keep && order === current)) order.actor.stop();
        if (keep && storedChatKey !== null) warm.keep(chatId, { rev, chat, chatKey: storedChatKey, order: current });
      },
    };
  };

  return {
    /** The store handed this process the chat's lease with Telegram update `updateId` to apply first, at revision `rev`. */
    handedOver(chatId: ChatId, updateId: number, rev: number): void {
      handOvers.note(chatId, updateId, rev);
    },
    /**
     * Runs `work` on the chat under its lease and commits what it changed. When another writer moved
     * the chat meanwhile, the work is redone on the fresh record (its side effects are idempotent).
     */
    withChat<T>(chatId: ChatId, work: (session: Session) => Promise<T>, mode: WithChatMode = {}): Promise<T> {
      return inOrder(chatId, async () => {
        const attempts: Attempts = { appliedUpdate: false };
        for (let attempt = 1; ; attempt++) {
          let opened: Awaited<ReturnType<typeof open>> | null = null;
          let committed = false;
          try {
            const appliedBefore = attempts.appliedUpdate;
            opened = await open(chatId, mode, attempts);
            // Applied, and not by an earlier attempt of this work: another writer did it, and answered it.
            const elsewhere = opened.session.duplicateUpdate && !appliedBefore;
            renewals.hold(chatId);
            const result = await work(opened.session);
            const { pendingUpdates } = await opened.commit(true);
            committed = true;
            if (mode.updateId !== undefined) options.onUpdateApplied?.(chatId, mode.updateId, pendingUpdates);
            if (pendingUpdates) options.onPendingUpdates(chatId);
            // What opening the chat resumed is stored; the answer was the other writer's to give.
            if (elsewhere && mode.updateId !== undefined) throw new UpdateAppliedElsewhereError(chatId, mode.updateId);
            return result;
          } catch (err) {
            if (!(err instanceof ChatMovedError)) throw err;
            // Other writers kept moving the chat under every attempt: it is busy, which passes. Said as
            // such, a Telegram update stays in its inbox and a payment webhook answers 503 for a retry.
            if (attempt >= MAX_ATTEMPTS) throw new ChatBusyError(chatId, { cause: err });
            log.warn("chat moved under us; redoing the work", { chatId, attempt });
          } finally {
            renewals.letGo(chatId);
            opened?.close(committed);
            if (opened && !committed) {
              const released = await store.releaseLease(chatId, owner).catch(() => ({ pendingUpdates: false }));
              // Work applying a Telegram update is the inbox drain's, which goes on (or leaves the
              // update for later) by itself: asking it to drain again retried a busy update at once,
              // in a loop that told the customer "busy" at every turn.
              if (released.pendingUpdates && mode.updateId === undefined) options.onPendingUpdates(chatId);
            }
          }
        }
      });
    },
  };
}
