/**
 * Which Telegram updates a chat has applied, so a redelivered update is not applied twice and a late
 * one is not mistaken for a redelivery.
 *
 * Telegram sends a chat's updates in sequence: it waits for the answer to one before it sends the
 * chat's next, and when a delivery fails the chat's later updates queue until it succeeds (grammY's
 * "Deployment Types" guide, from tdlib/telegram-bot-api#75). A chat's updates can still be applied
 * here out of `update_id` order: an update whose request Telegram gave up on (a timeout) is sent again
 * while the first request may still be running, possibly in another instance behind the load
 * balancer, and the chat's next updates follow; long polling hands over a batch at once. So "the
 * newest applied id" cannot tell a redelivery from a message that arrives late: the chat remembers
 * the ids it applied (the newest {@link RECENT_UPDATES}, far more than such overlaps span) and a floor
 * below which every id counts as applied (ids that left the window, and what a store written by an
 * earlier version knew: its newest applied id).
 *
 * What a chat applied is forgotten {@link FORGET_APPLIED_AFTER_MS} after it last applied one: Telegram
 * keeps an update at most 24 hours, so nothing older can come again, and after a week without updates
 * it numbers the next ones from a random id, which may be below a chat's floor (remembered forever,
 * such a floor would take every new message of that chat for a repeat).
 *
 * Every backend keeps the window as text, the ids ascending and separated by spaces (the Redis scripts
 * apply the same rules in Lua: keep both in step).
 */

/** How many applied ids a chat remembers above its floor. */
export const RECENT_UPDATES = 50;

/** How long after its last applied update a chat remembers what it applied (Telegram keeps an update 24 hours). */
export const FORGET_APPLIED_AFTER_MS = 48 * 3_600_000;

/**
 * A chat's applied updates: every id up to `upTo`, and the ids in `recent` (ascending, all above
 * `upTo`), as of `at` (ms, the store's clock), when it last applied one; 0: not known (none applied).
 */
export type AppliedUpdates = { upTo: number; recent: readonly number[]; at: number };

export const NONE_APPLIED: AppliedUpdates = { upTo: 0, recent: [], at: 0 };

/** What the chat still remembers at `now`: nothing once {@link FORGET_APPLIED_AFTER_MS} passed since `at`. */
const remembered = (applied: AppliedUpdates, now: number): AppliedUpdates =>
  applied.at > 0 && now - applied.at >= FORGET_APPLIED_AFTER_MS ? NONE_APPLIED : applied;

/** Whether the chat has applied update `updateId` (Telegram sent it again), at `now`. */
export const wasApplied = (applied: AppliedUpdates, updateId: number, now: number): boolean => {
  const { upTo, recent } = remembered(applied, now);
  return updateId <= upTo || recent.includes(updateId);
};

/** The window as stored ("" or absent: empty). */
export function parseRecent(text: string | null | undefined): number[] {
  if (!text) return [];
  return text.split(" ").map(Number);
}

export const formatRecent = (recent: readonly number[]): string => recent.join(" ");

/**
 * When applied updates that came without a time (a store or backup of an earlier version) were
 * applied, as far as anyone knows: `now`, so they are remembered for the whole of
 * {@link FORGET_APPLIED_AFTER_MS} and then forgotten. 0 when there are none.
 */
export const appliedAtOrNow = (at: number | undefined, upTo: number, recent: readonly number[], now: number): number =>
  at ?? (upTo > 0 || recent.length > 0 ? now : 0);

/** The chat's applied updates from its stored floor, window and time. */
export const appliedFrom = (upTo: number, recent: string | null | undefined, at: number): AppliedUpdates => ({
  upTo,
  recent: parseRecent(recent),
  at,
});

/**
 * `applied` with `updateId` applied too at `now`: added to the window in its place (to an empty one
 * when the chat forgot what it applied); the oldest ids beyond {@link RECENT_UPDATES} leave it and
 * raise the floor, never past `oldestWaiting`, the oldest update still waiting in the chat's inbox (a
 * late message must not count as applied before it is: the window grows instead).
 */
export function withApplied(applied: AppliedUpdates, updateId: number, now: number, oldestWaiting: number | null = null): AppliedUpdates {
  const base = remembered(applied, now);
  if (wasApplied(base, updateId, now)) return { ...base, at: now };
  const recent = [...base.recent];
  let place = recent.length;
  while (place > 0 && recent[place - 1]! > updateId) place--;
  recent.splice(place, 0, updateId);
  let leaving = recent.length - RECENT_UPDATES;
  while (leaving > 0 && oldestWaiting !== null && recent[leaving - 1]! >= oldestWaiting) leaving--;
  if (leaving <= 0) return { upTo: base.upTo, recent, at: now };
  return { upTo: Math.max(base.upTo, recent[leaving - 1]!), recent: recent.slice(leaving), at: now };
}
