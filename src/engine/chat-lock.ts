/**
 * One chat at a time. Messages of one chat run strictly in order, different chats in parallel. Inside
 * one process a promise chain per chat does it for free; when several processes share a store
 * (Redis), a claim with expiry on `chat:<id>` keeps them apart too.
 */
import type { Claims } from "../store/index.ts";

export type ChatLock = <T>(chatId: string, work: () => Promise<T>) => Promise<T>;

export type ChatLockOptions = {
  /** Set when other processes may work on the same chats (shared Redis). */
  claims?: Claims;
  owner: string;
  /** A crashed holder's claim frees itself after this long. */
  leaseMs?: number;
  /** Give up waiting for another process after this long. */
  waitMs?: number;
};

export class ChatBusyError extends Error {
  constructor(chatId: string) {
    super(`chat ${chatId} is busy in another instance; try again`);
    this.name = "ChatBusyError";
  }
}

export function createChatLock(options: ChatLockOptions): ChatLock {
  const tails = new Map<string, Promise<unknown>>();
  const leaseMs = options.leaseMs ?? 30_000;
  const waitMs = options.waitMs ?? 15_000;

  const acrossProcesses = async <T>(chatId: string, work: () => Promise<T>): Promise<T> => {
    const claims = options.claims;
    if (!claims) return work();
    const key = `chat:${chatId}`;
    const deadline = Date.now() + waitMs;
    let pause = 5;
    while (!(await claims.tryClaim(key, options.owner, leaseMs))) {
      if (Date.now() > deadline) throw new ChatBusyError(chatId);
      await new Promise((resolve) => setTimeout(resolve, pause));
      pause = Math.min(pause * 2, 100);
    }
    try {
      return await work();
    } finally {
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
