/**
 * Which Telegram updates a chat has applied, so a redelivered update is not applied twice and a late
 * one is not mistaken for a redelivery.
 *
 * Telegram does not deliver a chat's updates in `update_id` order: it sends several at once (up to the
 * webhook's `max_connections`), sends a refused one again after newer ones went through, and two
 * instances behind a load balancer race. So "the newest applied id" cannot tell a redelivery from a
 * message that arrives late: the chat remembers the ids it applied (the newest {@link RECENT_UPDATES})
 * and a floor below which every id counts as applied (ids that left the window, and what a store
 * written by an earlier version knew: its newest applied id).
 *
 * Every backend keeps the window as text, the ids ascending and separated by spaces (the Redis commit
 * script applies the same rule in Lua: keep both in step).
 */

/** How many applied ids a chat remembers above its floor. */
export const RECENT_UPDATES = 50;

/** A chat's applied updates: every id up to `upTo`, and the ids in `recent` (ascending, all above `upTo`). */
export type AppliedUpdates = { upTo: number; recent: readonly number[] };

export const NONE_APPLIED: AppliedUpdates = { upTo: 0, recent: [] };

/** Whether the chat has applied update `updateId` (Telegram sent it again). */
export const wasApplied = (applied: AppliedUpdates, updateId: number): boolean =>
  updateId <= applied.upTo || applied.recent.includes(updateId);

/** The window as stored ("" or absent: empty). */
export function parseRecent(text: string | null | undefined): number[] {
  if (!text) return [];
  return text.split(" ").map(Number);
}

export const formatRecent = (recent: readonly number[]): string => recent.join(" ");

/** The chat's applied updates from its stored floor and window. */
export const appliedFrom = (upTo: number, recent: string | null | undefined): AppliedUpdates => ({ upTo, recent: parseRecent(recent) });

/**
 * `applied` with `updateId` applied too: added to the window in its place; the oldest ids beyond
 * {@link RECENT_UPDATES} leave it and raise the floor.
 */
export function withApplied(applied: AppliedUpdates, updateId: number): AppliedUpdates {
  if (wasApplied(applied, updateId)) return applied;
  const recent = [...applied.recent];
  let at = recent.length;
  while (at > 0 && recent[at - 1]! > updateId) at--;
  recent.splice(at, 0, updateId);
  const leaving = recent.length - RECENT_UPDATES;
  if (leaving <= 0) return { upTo: applied.upTo, recent };
  return { upTo: recent[leaving - 1]!, recent: recent.slice(leaving) };
}
