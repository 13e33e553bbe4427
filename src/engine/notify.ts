/**
 * Telling customers about what happened without them writing: a confirmed payment and its goods, an
 * expiry, money that arrived in the wrong shape. Goods are erased from the ledger only once the
 * message carrying them was accepted; when it cannot be sent at all, admins are alerted.
 */
import type { ChatId, OrderId } from "../domain/ids.ts";
import type { Logger } from "../log.ts";
import type { Notifier } from "./events.ts";
import { type EngineReply, secretOf } from "./reply.ts";

export type Notifications = {
  setNotifier(next: Notifier): void;
  /** False until a front end (console, Telegram) attached its notifier: nothing can reach customers yet. */
  hasChannel(): boolean;
  /** Sends `reply` to the chat; never throws (a failure is logged, and alerted when it held goods). */
  send(chatId: ChatId, reply: EngineReply): Promise<boolean>;
};

export type NotificationDeps = {
  log: Logger;
  /** Goods could not be sent (a blocked bot, a deleted chat): admins are told. */
  undeliverable: (chatId: ChatId, orderId: OrderId) => void;
  /** The message carrying an order's goods was accepted: the secret is erased and the order told. */
  shown: (chatId: ChatId, orderId: OrderId) => Promise<void>;
};

export function createNotifications(deps: NotificationDeps): Notifications {
  let notifier: Notifier | null = null;
  return {
    setNotifier(next) {
      notifier = next;
    },
    hasChannel: () => notifier !== null,
    async send(chatId, reply) {
      const goods = secretOf(reply);
      // Before a front end is attached nothing reaches the customer: the goods must stay in the ledger.
      if (!notifier) {
        deps.log.info("no channel to the customer yet; goods stay in the ledger until they ask", { chatId });
        return false;
      }
      try {
        await notifier(chatId, reply);
      } catch (err) {
        // The goods stay in the ledger and are shown with the customer's next status request.
        deps.log.warn("could not notify customer", { chatId, err });
        if (goods) deps.undeliverable(chatId, goods.orderId);
        return false;
      }
      if (goods)
        await deps.shown(chatId, goods.orderId).catch((err: unknown) => deps.log.error("could not mark goods as shown", { chatId, err }));
      return true;
    },
  };
}
