/**
 * The sweeper: the only source of deadline events. It expires quotes and invoices whose deadline passed
 * (asking the provider first, so a payment made at the last second still counts), retries due
 * deliveries, and, because opening a chat resumes interrupted work, completes orders a crash left at
 * `paid.recorded` or mid-delivery. It runs once at start-up, then every few seconds.
 */
import type { PaymentEvent, SystemEvent } from "../../machines/purchase.machine.ts";
import type { ChatId } from "../domain/ids.ts";
import type { Logger } from "../log.ts";
import type { PaymentProvider } from "../payments/provider.ts";
import type { Stores } from "../store/index.ts";
import type { Notifications } from "./notify.ts";
import type { PaymentDoor } from "./payment-door.ts";
import { dueAt } from "./projection.ts";
import { type EngineReply, stateName } from "./reply.ts";
import type { Session, Sessions } from "./session.ts";

export type SweeperOptions = {
  sessions: Sessions;
  stores: Stores;
  payments: PaymentProvider;
  paymentDoor: PaymentDoor;
  notifications: Notifications;
  replyFor: (session: Session) => Promise<EngineReply>;
  log: Logger;
  clock: () => number;
};

export type Sweeper = ReturnType<typeof createSweeper>;

export function createSweeper(options: SweeperOptions) {
  const { sessions, stores, log, clock } = options;

  /** Moves one chat past its deadline; true when its order changed (the customer is then told). */
  const sweepChat = (chatId: ChatId) =>
    sessions.withSession(chatId, async (session): Promise<{ changed: boolean; reply: EngineReply | null }> => {
      const before = stateName(session.opened);
      const snapshot = session.actor.getSnapshot();
      const at = clock();
      const deadline = dueAt(snapshot);
      // Opening the chat may have resumed work (a crash mid-delivery): that alone is worth telling.
      const resumed = stateName(snapshot) !== before;
      if (!resumed && (deadline === null || deadline > at)) {
        // Woke early on a deadline kept from before a later one replaced it: store the true one.
        sessions.forgetStoredDeadline(session);
        return { changed: false, reply: null };
      }
      const state = stateName(snapshot);
      let event: SystemEvent | PaymentEvent | null = null;
      if (state === "quoted") event = { type: "QUOTE_EXPIRED", at };
      if (state === "paid" && snapshot.matches({ paid: "waiting_retry" })) event = { type: "RETRY_DELIVERY", at };
      if (state === "awaiting_payment") {
        const outcome = await options.paymentDoor.reconcile(session);
        if (outcome === "provider_unavailable") return { changed: resumed, reply: resumed ? await options.replyFor(session) : null };
        if (stateName(session.actor.getSnapshot()) === "awaiting_payment") event = { type: "PAYMENT_EXPIRED", at };
      }
      if (event) await sessions.step(session, event);
      const after = session.actor.getSnapshot();
      if (stateName(after) === "expired" && state === "awaiting_payment" && snapshot.context.payment) {
        const voided = await options.payments.cancelInvoice?.(snapshot.context.payment.paymentId).catch((err: unknown) => {
          log.warn("could not void an expired invoice", { chatId, err });
          return undefined;
        });
        if (voided && !voided.ok) log.warn("provider refused to void an expired invoice", { chatId, reason: voided.reason });
      }
      const changed = stateName(after) !== before;
      return { changed, reply: changed ? await options.replyFor(session) : null };
    });

  let running = false;
  let started = false;
  const tick = async () => {
    // Work the sweeper finishes (a delivery after a crash) must be told: wait for a front end.
    if (running || !options.notifications.hasChannel()) return;
    running = true;
    try {
      await sweeper.runDue();
    } catch (err) {
      log.error("sweeper pass failed", { err });
    } finally {
      running = false;
    }
  };

  const sweeper = {
    /** One pass over every due chat. Returns how many were due. */
    async runDue(): Promise<number> {
      const now = clock();
      const due: ChatId[] = [];
      for await (const [, entry] of stores.deadlines.entries()) if (entry.dueAt <= now) due.push(entry.chatId);
      for (const chatId of due) {
        try {
          const { changed, reply } = await sweepChat(chatId);
          if (changed && reply) await options.notifications.send(chatId, reply);
        } catch (err) {
          log.error("sweeper failed for chat", { chatId, err });
        }
      }
      return due.length;
    },

    /** Starts sweeping every `intervalMs` (and once now); returns a stop function. */
    start(intervalMs = 5_000): () => void {
      const timer = setInterval(() => void tick(), intervalMs);
      timer.unref();
      started = true;
      void tick();
      return () => {
        started = false;
        clearInterval(timer);
      };
    },

    /** Sweeps now if started (a front end just attached: work held back for it can be told). */
    kick(): void {
      if (started) void tick();
    },
  };
  return sweeper;
}
