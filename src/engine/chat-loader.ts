/**
 * Opening a chat for a session (session.ts): claim its lease, waiting with backoff for another process
 * to let go, and read it; or reuse what this process holds warm (warm-chats.ts) while the store's
 * revision says nothing changed, and skip the store altogether for a Telegram update whose lease the
 * store just handed over at the revision held here. A chat never written starts fresh; one whose
 * record or current order cannot be read restarts its conversation (the order stays stored).
 */
import type { ChatId } from "../domain/ids.ts";
import type { ChatRecord } from "../domain/records.ts";
import { type AppliedUpdates, NONE_APPLIED } from "../store/applied-updates.ts";
import type { ChatState, ShopStore } from "../store/shop-store.ts";
import type { OrderActors } from "./orders.ts";
import { type WarmChat, chatKeyOf, createHandOvers, createWarmChats } from "./warm-chats.ts";

/** The chat stayed busy in another process for longer than the wait: ask the sender to try again. */
export class ChatBusyError extends Error {
  constructor(chatId: string, options?: { cause: unknown }) {
    super(`chat ${chatId} is busy in another instance; try again`, options);
    this.name = "ChatBusyError";
  }
}

export type ChatLoaderOptions = {
  store: ShopStore;
  orders: OrderActors;
  clock: () => number;
  /** This process's lease owner name. */
  owner: string;
  /** How long a lease lasts without renewal, and how long to wait for another process's. */
  lease: { ttlMs: number; waitMs: number };
  /** How many chats to keep warm; 0 turns it off. */
  warmChats: number;
};

/** How a chat is opened: for which Telegram update (if any), and how long to wait for another process's lease. */
export type LoadMode = { updateId?: number; waitMs?: number };

/** Loads chats for sessions; also gives the session the warm chats to keep and the hand-overs to note. */
export function createChatLoader(options: ChatLoaderOptions) {
  const { store, orders, clock, owner } = options;
  const warm = createWarmChats(options.warmChats, clock);
  const handOvers = createHandOvers(options.lease.ttlMs);

  /**
   * Claims the chat's lease, waiting (with backoff) for another process to let go, and reads the chat:
   * `unchanged` when it is still at `knownRev` (0: read it whatever its revision).
   */
  const acquire = async (
    chatId: ChatId,
    waitMs: number,
    knownRev: number,
  ): Promise<ChatState | { unchanged: true; applied: AppliedUpdates }> => {
    // Real time, whatever clock the orders run on: this is how long a caller waits.
    const deadline = performance.now() + waitMs;
    const lease = { owner, ttlMs: options.lease.ttlMs };
    let pause = 5;
    for (;;) {
      const opened = knownRev > 0 ? await store.openChatSince(chatId, lease, knownRev) : await store.openChat(chatId, lease);
      if (opened.held) return "unchanged" in opened ? opened : opened.state;
      if (performance.now() >= deadline) throw new ChatBusyError(chatId);
      await new Promise((resolve) => setTimeout(resolve, pause));
      pause = Math.min(pause * 2, 100);
    }
  };

  const freshChat = (chatId: ChatId): ChatRecord => ({
    v: 3,
    chatId,
    currentOrderId: null,
    recentOrderIds: [],
    turns: [],
    askedFor: null,
    choices: [],
    profile: { username: null, firstName: null },
    lastActivityAt: clock(),
    updatedAt: clock(),
  });

  /** The chat as this process last committed it, its current order's actor going on from where it rests. */
  const reuse = (cached: WarmChat, applied: AppliedUpdates) => {
    if (cached.order) cached.order.opened = cached.order.actor.getSnapshot();
    const { rev, chat, chatKey, order: current } = cached;
    return { rev, chat, chatKey: chatKey as string | null, current, invalid: false, applied };
  };

  /** The chat as stored: reused from this process's last commit while its revision holds, else read and restored. */
  const load = async (chatId: ChatId, mode: LoadMode) => {
    const cached = warm.take(chatId);
    const handedRev = handOvers.take(chatId, mode.updateId);
    // The store handed this process the chat's lease for this very update a moment ago, the chat at
    // the revision held here: nothing to claim or read. The update is not applied: it was waiting in
    // the inbox, and only the lease holder applies one.
    if (cached && handedRev === cached.rev) return reuse(cached, NONE_APPLIED);
    let opened;
    try {
      opened = await acquire(chatId, mode.waitMs ?? options.lease.waitMs, cached?.rev ?? 0);
    } catch (err) {
      cached?.order?.actor.stop();
      throw err;
    }
    if ("unchanged" in opened && cached) return reuse(cached, opened.applied);
    cached?.order?.actor.stop();
    if ("unchanged" in opened) throw new Error(`the store said chat ${chatId} is unchanged, but nothing of it was kept`);
    const state = opened;
    let invalid = state.chat === "invalid" || state.order === "invalid";
    const chat = state.chat && state.chat !== "invalid" ? state.chat : freshChat(chatId);
    const current = state.order && state.order !== "invalid" ? orders.restore(state.order) : null;
    if (state.order && !current) invalid = true;
    // A chat whose record or current order cannot be read restarts its conversation; the order stays stored.
    if (invalid) chat.currentOrderId = null;
    const chatKey = state.chat && state.chat !== "invalid" ? chatKeyOf(state.chat) : null;
    return { rev: state.rev, chat, chatKey, current, invalid, applied: state.applied };
  };

  return { load, warm, handOvers };
}
