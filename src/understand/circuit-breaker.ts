/**
 * A small circuit breaker for one remote endpoint. After `failureThreshold` consecutive failures it
 * opens and refuses calls for `openMs`, so a dead LLM endpoint costs customers nothing but the rules;
 * then it lets exactly one probe through (half-open) and closes again if that probe succeeds.
 */

/** `closed`: calls flow; `open`: calls refused; `half_open`: one probe is allowed or in flight. */
export type BreakerState = "closed" | "open" | "half_open";

export type CircuitBreaker = {
  /** True when a call may be made now; in half-open state only the first caller gets true. */
  tryAcquire(): boolean;
  /** The call reached the endpoint and it answered properly. */
  success(): void;
  /** The call failed in a way that says the endpoint is unwell (timeout, 429, 5xx, network). */
  failure(): void;
  state(): BreakerState;
};

export type BreakerOptions = { failureThreshold?: number; openMs?: number; clock?: () => number };

export function createCircuitBreaker(options: BreakerOptions = {}): CircuitBreaker {
  const threshold = options.failureThreshold ?? 5;
  const openMs = options.openMs ?? 30_000;
  const clock = options.clock ?? Date.now;
  let failures = 0;
  let openedAt: number | null = null;
  let probing = false;

  const state = (): BreakerState => {
    if (openedAt === null) return "closed";
    return clock() - openedAt >= openMs ? "half_open" : "open";
  };

  return {
    tryAcquire() {
      const now = state();
      switch (now) {
        case "closed":
          return true;
        case "open":
          return false;
        case "half_open":
          if (probing) return false;
          probing = true;
          return true;
        default: {
          const unhandled: never = now;
          return unhandled;
        }
      }
    },
    success() {
      failures = 0;
      openedAt = null;
      probing = false;
    },
    failure() {
      failures += 1;
      // A failed probe re-opens for a full period; otherwise open once the threshold is reached.
      if (probing || failures >= threshold) openedAt = clock();
      probing = false;
    },
    state,
  };
}
