/**
 * A chat's applied Telegram updates: a window of the newest ids above a floor. A redelivered update is
 * a duplicate; a late one (older than ids already applied, never applied itself) is not.
 */
import { describe, expect, it } from "vitest";
import {
  NONE_APPLIED,
  FORGET_APPLIED_AFTER_MS,
  RECENT_UPDATES,
  appliedAtOrNow,
  appliedFrom,
  formatRecent,
  parseRecent,
  wasApplied,
  withApplied,
} from "../../../src/store/applied-updates.ts";

const NOW = 1_000_000;
const applying = (...ids: number[]) => ids.reduce((applied, id) => withApplied(applied, id, NOW), NONE_APPLIED);

describe("applied updates", () => {
  it("an id applied is a duplicate; an older id never applied is not", () => {
    const applied = applying(12, 10);
    expect(applied).toEqual({ upTo: 0, recent: [10, 12], at: NOW });
    expect(wasApplied(applied, 12, NOW)).toBe(true);
    expect(wasApplied(applied, 10, NOW)).toBe(true);
    expect(wasApplied(applied, 11, NOW)).toBe(false);
    expect(wasApplied(applied, 13, NOW)).toBe(false);
  });

  it("applying an id twice changes nothing", () => {
    const once = applying(5, 7);
    expect(withApplied(once, 7, NOW)).toEqual(once);
    expect(withApplied({ upTo: 9, recent: [], at: NOW }, 4, NOW)).toEqual({ upTo: 9, recent: [], at: NOW });
  });

  it(`keeps the newest ${RECENT_UPDATES} ids; the oldest leave and raise the floor to the highest of them`, () => {
    const ids = Array.from({ length: RECENT_UPDATES + 3 }, (_, i) => 100 + 2 * i);
    const applied = applying(...[...ids].reverse());
    expect(applied.recent).toEqual(ids.slice(3));
    expect(applied.upTo).toBe(ids[2]);
    // Below the floor everything counts as applied, also an id that never came.
    expect(wasApplied(applied, ids[0]! + 1, NOW)).toBe(true);
    // Above it, a gap is still a message to come.
    expect(wasApplied(applied, ids[3]! + 1, NOW)).toBe(false);
  });

  it("the floor never rises past an update still waiting in the inbox: the window grows instead, and the floor never falls", () => {
    const full = applying(10, ...Array.from({ length: RECENT_UPDATES - 1 }, (_, i) => 1_000 + i));
    // Update 5 came late and waits; applying the next one would push 10 out and raise the floor to 10.
    const waiting = withApplied(full, 2_000, NOW, 5);
    expect(waiting.upTo).toBe(0);
    expect(waiting.recent).toHaveLength(RECENT_UPDATES + 1);
    expect(wasApplied(waiting, 5, NOW)).toBe(false);
    // Once 5 is applied (nothing waits), the window is trimmed back.
    const trimmed = withApplied(waiting, 5, NOW, null);
    expect(trimmed.recent).toHaveLength(RECENT_UPDATES);
    expect(trimmed.upTo).toBe(10);
    // A window holding ids below its floor (written alongside an earlier version) never lowers it.
    const mixed = { upTo: 5_000, recent: Array.from({ length: RECENT_UPDATES }, (_, i) => 100 + i), at: NOW };
    expect(withApplied(mixed, 6_000, NOW).upTo).toBe(5_000);
  });

  it("a late id below the whole window but above the floor joins it in its place", () => {
    const applied = applying(50, 60, 40);
    expect(applied).toEqual({ upTo: 0, recent: [40, 50, 60], at: NOW });
  });

  it("round-trips through its stored text; a store of an earlier version has only the floor", () => {
    const applied = applying(3, 1_000_000_007, 42);
    expect(appliedFrom(applied.upTo, formatRecent(applied.recent), applied.at)).toEqual(applied);
    expect(parseRecent("")).toEqual([]);
    expect(parseRecent(null)).toEqual([]);
    expect(appliedFrom(77, undefined, 5)).toEqual({ upTo: 77, recent: [], at: 5 });
    // Without a time (a store or backup of an earlier version), what it applied is dated now.
    expect(appliedAtOrNow(undefined, 77, [], NOW)).toBe(NOW);
    expect(appliedAtOrNow(undefined, 0, [], NOW)).toBe(0);
    expect(appliedAtOrNow(12, 77, [], NOW)).toBe(12);
  });

  it(`forgets everything ${FORGET_APPLIED_AFTER_MS / 3_600_000} hours after the last applied update, not before`, () => {
    const ids = Array.from({ length: RECENT_UPDATES + 5 }, (_, i) => 500 + i);
    const applied = applying(...ids);
    const later = NOW + FORGET_APPLIED_AFTER_MS;
    expect(wasApplied(applied, 400, later - 1)).toBe(true);
    expect(wasApplied(applied, ids.at(-1)!, later - 1)).toBe(true);
    expect(wasApplied(applied, 400, later)).toBe(false);
    expect(wasApplied(applied, ids.at(-1)!, later)).toBe(false);
    // Applying one then starts afresh; applying one before keeps the rest and restarts the time.
    expect(withApplied(applied, 400, later)).toEqual({ upTo: 0, recent: [400], at: later });
    expect(withApplied(applied, 10_000, later - 1)).toMatchObject({ upTo: applied.upTo + 1, at: later - 1 });
    // Nothing known of when (none applied): nothing to forget.
    expect(wasApplied({ upTo: 9, recent: [], at: 0 }, 4, later * 10)).toBe(true);
  });
});
