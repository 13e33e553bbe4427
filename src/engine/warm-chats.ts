/**
 * Warm chats (see session.ts): the chats this process committed last, kept as it wrote them, so the
 * next step on one of them need not read, validate and restore its order again while the store's
 * revision says nothing changed. Bounded and expiring: what they hold is only a shortcut. And hand-overs:
 * the revision the store reported when it gave this process a chat's lease for a Telegram update.
 */
import { createBoundedMap } from "../bounded.ts";
import type { ChatId } from "../domain/ids.ts";
import type { ChatRecord } from "../domain/records.ts";
import type { OrderActor } from "./orders.ts";

/** A chat as this process last committed it: reused while the store's revision is still `rev`. */
export type WarmChat = {
  rev: number;
  chat: ChatRecord;
  /** The chat record's JSON with `updatedAt` left out, to tell whether a step changed it. */
  chatKey: string;
  /** The current order's actor, at rest and stored; null before the chat's first order. */
  order: OrderActor | null;
};

/** The chat record as compared for changes: everything but when it was last written. */
export const chatKeyOf = (chat: ChatRecord): string => JSON.stringify({ ...chat, updatedAt: 0 });

/**
 * At most `maxEntries` warm chats (0: none kept), each forgotten 10 minutes after it was kept. A chat
 * is taken out while a step works on it, and kept again only after that step's commit.
 */
export function createWarmChats(maxEntries: number, clock: () => number) {
  const warm = createBoundedMap<ChatId, WarmChat>({ maxEntries: Math.max(1, maxEntries), ttlMs: 600_000, clock });
  return {
    enabled: maxEntries > 0,
    /** The chat as this process last committed it, if kept; it is no longer kept (the caller owns it now). */
    take(chatId: ChatId): WarmChat | undefined {
      const found = warm.get(chatId);
      if (found) warm.delete(chatId);
      return found;
    },
    keep(chatId: ChatId, chat: WarmChat): void {
      if (maxEntries > 0) warm.set(chatId, chat);
    },
  };
}

/**
 * Chats whose lease this process just took with a Telegram update in hand (the store's acceptUpdate),
 * with the revision the store reported then. The step applying that update skips the store's open when
 * this process holds the chat warm at that revision: the lease is this process's until the update is
 * applied (a commit keeps it while the inbox holds updates). A hand-over counts only within a sixth of
 * the lease: the step's renewals start when it begins, a third of the lease apart, so two of them can
 * still fail before the lease taken at the hand-over runs out (as after an open). Bounded, as the step
 * may never come (a sticker).
 */
export function createHandOvers(leaseMs: number) {
  const handed = createBoundedMap<ChatId, { updateId: number; rev: number; since: number }>({ maxEntries: 10_000 });
  return {
    note(chatId: ChatId, updateId: number, rev: number): void {
      handed.set(chatId, { updateId, rev, since: performance.now() });
    },
    /** The revision handed over with `updateId`, if that is the chat's fresh hand-over (taken: used once). */
    take(chatId: ChatId, updateId: number | undefined): number | undefined {
      const entry = handed.get(chatId);
      if (!entry || updateId === undefined || entry.updateId !== updateId) return undefined;
      handed.delete(chatId);
      return performance.now() - entry.since < leaseMs / 6 ? entry.rev : undefined;
    },
  };
}
