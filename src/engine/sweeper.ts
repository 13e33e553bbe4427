/**
 * The sweeper: the only source of `DEADLINE` events, and the one that finishes what a crash left
 * behind. Each pass reads the due orders from the store's deadline index (never a scan): an order at
 * its deadline is sent `DEADLINE` (its state's guard decides what that means — a quote expires, an
 * invoice is asked about, a delivery is retried, stray goods are looked for), and an order a crash
 * left mid-work is resumed just by opening it. It also hands chats whose Telegram inbox nobody is
 * working off to the Telegram adapter. It runs once at start-up, then every few seconds.
 */
import { statePath } from "../../machines/purchase.reading.ts";
import type { ChatId, OrderId } from "../domain/ids.ts";
import type { Ledger } from "../delivery/index.ts";
import type { Logger } from "../log.ts";
import type { ShopStore } from "../store/shop-store.ts";
import type { Notifications } from "./notify.ts";
import type { OrderActor } from "./orders.ts";
import type { EngineReply } from "./reply.ts";
import { ChatBusyError } from "./chat-loader.ts";
import type { Session, Sessions } from "./session.ts";

export type SweeperOptions = {
  sessions: Sessions;
  store: ShopStore;
  notifications: Notifications;
  ledger: Ledger;
  replyForOrder: (session: Session, order: OrderActor) => Promise<EngineReply>;
  log: Logger;
  clock: () => number;
  /** Chats whose Telegram inbox waits with nobody working it off (see ShopStore.waitingInboxes). */
  onWaitingInbox?: (chatId: ChatId) => void;
  /** How long an update may wait in an inbox before the sweeper hands its chat on. */
  inboxPatienceMs: number;
};

export type Sweeper = ReturnType<typeof createSweeper>;

/** Orders looked at per pass; the rest wait for the next pass (seconds later). */
const BATCH = 200;

export function createSweeper(options: SweeperOptions) {
  const { sessions, store, log, clock } = options;

  /** Moves one order past its deadline; the reply to tell its customer when it changed. */
  const sweepOrder = (chatId: ChatId, orderId: OrderId) =>
    sessions.withChat(
      chatId,
      async (session): Promise<EngineReply | null> => {
        const order = await session.order(orderId);
        if (!order) return null;
        // Opening the order may have resumed work a crash interrupted: that alone is worth telling.
        const event = { type: "DEADLINE" as const, at: clock() };
        const moved = order.actor.getSnapshot().can(event) && (await session.step(order, event));
        // Goods nobody confirmed were shown are announced again, unless they were (only the order did not hear it).
        if (moved && order.actor.getSnapshot().hasTag("announce")) {
          if ((await options.ledger.pendingSecret(orderId, chatId)) !== null) return options.replyForOrder(session, order);
          await session.step(order, { type: "GOODS_SHOWN", at: clock() });
        }
        const changed = statePath(order.actor.getSnapshot()) !== statePath(order.opened);
        return changed ? options.replyForOrder(session, order) : null;
      },
      { waitMs: 0 },
    );

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
    /** One pass over the orders due now (and waiting inboxes). Returns how many orders were due. */
    async runDue(): Promise<number> {
      const due = await store.dueOrders(clock(), BATCH);
      for (const { chatId, orderId } of due) {
        try {
          const reply = await sweepOrder(chatId, orderId);
          if (reply) await options.notifications.send(chatId, reply);
        } catch (err) {
          // Another instance is working on the chat: it will finish the order itself.
          if (err instanceof ChatBusyError) continue;
          log.error("sweeper failed for an order", { chatId, orderId, err });
        }
      }
      if (options.onWaitingInbox) {
        for (const chatId of await store.waitingInboxes(clock() - options.inboxPatienceMs, BATCH)) options.onWaitingInbox(chatId);
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
