/**
 * A chat's applied Telegram updates: a window of the newest ids above a floor. A redelivered update is
 * a duplicate; a late one (older than ids already applied, never applied itself) is not.
 */
import { describe, expect, it } from "vitest";
import {
  NONE_APPLIED,
  RECENT_UPDATES,
  appliedFrom,
  formatRecent,
  parseRecent,
  wasApplied,
  withApplied,
} from "../../../src/store/applied-updates.ts";

const applying = (...ids: number[]) => ids.reduce(withApplied, NONE_APPLIED);

describe("applied updates", () => {
  it("an id applied is a duplicate; an older id never applied is not", () => {
    const applied = applying(12, 10);
    expect(applied).toEqual({ upTo: 0, recent: [10, 12] });
    expect(wasApplied(applied, 12)).toBe(true);
    expect(wasApplied(applied, 10)).toBe(true);
    expect(wasApplied(applied, 11)).toBe(false);
    expect(wasApplied(applied, 13)).toBe(false);
  });

  it("applying an id twice changes nothing", () => {
    const once = applying(5, 7);
    expect(withApplied(once, 7)).toBe(once);
    expect(withApplied({ upTo: 9, recent: [] }, 4)).toEqual({ upTo: 9, recent: [] });
  });

  it(`keeps the newest ${RECENT_UPDATES} ids; the oldest leave and raise the floor to the highest of them`, () => {
    const ids = Array.from({ length: RECENT_UPDATES + 3 }, (_, i) => 100 + 2 * i);
    const applied = applying(...[...ids].reverse());
    expect(applied.recent).toEqual(ids.slice(3));
    expect(applied.upTo).toBe(ids[2]);
    // Below the floor everything counts as applied, also an id that never came.
    expect(wasApplied(applied, ids[0]! + 1)).toBe(true);
    // Above it, a gap is still a message to come.
    expect(wasApplied(applied, ids[3]! + 1)).toBe(false);
  });

  it("a late id below the whole window but above the floor joins it in its place", () => {
    const applied = applying(50, 60, 40);
    expect(applied).toEqual({ upTo: 0, recent: [40, 50, 60] });
  });

  it("round-trips through its stored text; a store of an earlier version has only the floor", () => {
    const applied = applying(3, 1_000_000_007, 42);
    expect(appliedFrom(applied.upTo, formatRecent(applied.recent))).toEqual(applied);
    expect(parseRecent("")).toEqual([]);
    expect(parseRecent(null)).toEqual([]);
    expect(appliedFrom(77, undefined)).toEqual({ upTo: 77, recent: [] });
  });
});
