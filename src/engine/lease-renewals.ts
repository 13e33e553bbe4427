/**
 * Lease renewal for the chats one process is working on (see session.ts): a chat's lease must not run
 * out while a slow step (a model call, a provider) is still working on it.
 */
import type { ChatId } from "../domain/ids.ts";
import type { Logger } from "../log.ts";
import type { ShopStore } from "../store/shop-store.ts";

/**
 * Renews the leases of the chats this process is working on, at a third of the lease's length (two
 * renewals may fail, a blip, before another process could get in). One timer for all of them, running
 * only while some chat is held, instead of one per step.
 */
export function leaseRenewals(store: ShopStore, ttlMs: number, owner: string, log: Logger) {
  const held = new Set<ChatId>();
  let ticker: NodeJS.Timeout | null = null;
  const renewAll = () => {
    if (held.size === 0) {
      if (ticker) clearInterval(ticker);
      ticker = null;
      return;
    }
    for (const chatId of held) {
      store.renewLease(chatId, { owner, ttlMs }).catch((err: unknown) => log.warn("chat lease renewal failed", { chatId, err }));
    }
  };
  return {
    hold(chatId: ChatId) {
      held.add(chatId);
      if (ticker) return;
      ticker = setInterval(renewAll, Math.max(10, Math.floor(ttlMs / 3)));
      ticker.unref();
    },
    letGo(chatId: ChatId) {
      held.delete(chatId);
    },
  };
}
