/**
 * One chat at a time. Messages of one chat run strictly in order, different chats in parallel. Inside
 * one process a promise chain per chat does it for free; when several processes share a store (Redis,
 * or one SQLite file), a claim with expiry on `chat:<id>` keeps them apart too.
 *
 * The claim is a lease: renewed while the work runs, so a slow LLM or provider cannot outlive it and
 * let another instance in. If renewal fails anyway (the store was unreachable for a whole lease), the
 * work is told through {@link Lease.lost}; the conversation's compare-and-set write is what finally
 * stops a writer that lost its lease from overwriting the new holder's state.
 */
import type { Claims } from "./types.ts";

/** What the work under the lock can ask about its lease. */
export type Lease = {
  /** True once another process may have taken the chat over (renewal failed). */
  readonly lost: boolean;
};

export type ChatLock = <T>(chatId: string, work: (lease: Lease) => Promise<T>) => Promise<T>;

export type ChatLockOptions = {
  /** Set when other processes may work on the same chats (a shared store). */
  claims?: Claims;
  owner: string;
  /** A crashed holder's claim frees itself after this long. */
  leaseMs?: number;
  /** Give up waiting for another process after this long. */
  waitMs?: number;
  /** Called when a renewal fails (logged by the engine). */
  onRenewalFailure?: (chatId: string, error: unknown) => void;
};

/** The chat stayed busy in another instance for longer than the wait: the caller should ask to try again. */
export class ChatBusyError extends Error {
  constructor(chatId: string) {
    super(`chat ${chatId} is busy in another instance; try again`);
    this.name = "ChatBusyError";
  }
}

const HELD_IN_PROCESS: Lease = { lost: false };

export function createChatLock(options: ChatLockOptions): ChatLock {
  const tails = new Map<string, Promise<unknown>>();
  // Short, because it is renewed while work runs: a crashed holder blocks its chats for seconds, not half a minute.
  const leaseMs = options.leaseMs ?? 10_000;
  const waitMs = options.waitMs ?? 15_000;

  const acrossProcesses = async <T>(chatId: string, work: (lease: Lease) => Promise<T>): Promise<T> => {
    const claims = options.claims;
    if (!claims) return work(HELD_IN_PROCESS);
    const key = `chat:${chatId}`;
    const deadline = Date.now() + waitMs;
    let pause = 5;
    while (!(await claims.tryClaim(key, options.owner, leaseMs))) {
      if (Date.now() > deadline) throw new ChatBusyError(chatId);
      await new Promise((resolve) => setTimeout(resolve, pause));
      pause = Math.min(pause * 2, 100);
    }
    const lease = { lost: false };
    // Renew at a third of the lease: two renewals may fail (a blip) before another instance could get in.
    const renewal = setInterval(() => {
      claims.tryClaim(key, options.owner, leaseMs).then(
        (held) => {
          if (!held) lease.lost = true;
        },
        (error: unknown) => options.onRenewalFailure?.(chatId, error),
      );
    }, Math.max(10, Math.floor(leaseMs / 3)));
    renewal.unref();
    try {
      return await work(lease);
    } finally {
      clearInterval(renewal);
      await claims.release(key, options.owner).catch(() => {});
    }
  };

  return (chatId, work) => {
    const previous = tails.get(chatId) ?? Promise.resolve();
    const run = previous.then(
      () => acrossProcesses(chatId, work),
      () => acrossProcesses(chatId, work),
    );
    const tail = run.catch(() => {});
    tails.set(chatId, tail);
    void tail.then(() => {
      if (tails.get(chatId) === tail) tails.delete(chatId);
    });
    return run;
  };
}
