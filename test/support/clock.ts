import type { Timer } from "../../src/failures.ts";

/**
 * A clock tests move by hand: call it for the time, `advance` it to let time pass. Its `timer` arms work
 * on this clock (a {@link Timer}): `advance` runs whatever came due, in order, each at its own time;
 * `armed` counts what is still waiting.
 */
export type TestClock = { now: number; advance(ms: number): void; timer: Timer; armed(): number; (): number };

export function testClock(start = Date.UTC(2026, 10, 26, 12)): TestClock {
  const clock = (() => clock.now) as TestClock;
  const armed = new Set<{ at: number; work: () => void }>();
  clock.now = start;
  clock.timer = (ms, work) => {
    const entry = { at: clock.now + Math.max(0, ms), work };
    armed.add(entry);
    return () => void armed.delete(entry);
  };
  clock.armed = () => armed.size;
  clock.advance = (ms: number) => {
    const until = clock.now + ms;
    for (;;) {
      const next = [...armed].filter((entry) => entry.at <= until).sort((a, b) => a.at - b.at)[0];
      if (!next) break;
      armed.delete(next);
      clock.now = next.at;
      next.work();
    }
    clock.now = until;
  };
  return clock;
}
