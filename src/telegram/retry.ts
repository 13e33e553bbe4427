/**
 * Retrying the Bot API. Rate limits (429 with `retry_after`) are @grammyjs/auto-retry's job. Telegram's
 * own hiccups (5xx) are retried here instead, a few times with a short, growing pause and no pause after
 * the last attempt: auto-retry waits once more after its last failed attempt (3 + 6 + 12 + 24 s), so a
 * reply that cannot be sent took about 45 s to fail, holding the chat all that while.
 */
import type { Transformer } from "grammy";

export type ServerErrorRetry = {
  /** Attempts in all (the first included). */
  attempts: number;
  /** Pause before the second attempt; doubled before each later one. */
  firstPauseMs: number;
};

/** A Bot API transformer that retries 5xx answers `attempts - 1` times, never waiting after the last. */
export function retryServerErrors(options: ServerErrorRetry = { attempts: 3, firstPauseMs: 500 }): Transformer {
  return async (prev, method, payload, signal) => {
    let pause = options.firstPauseMs;
    for (let attempt = 1; ; attempt++) {
      const result = await prev(method, payload, signal);
      if (result.ok || result.error_code < 500 || attempt >= options.attempts || signal?.aborted) return result;
      await new Promise((resolve) => setTimeout(resolve, pause));
      pause *= 2;
    }
  };
}
