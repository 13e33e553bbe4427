/**
 * Group commit for the SQLite store: write transactions that different chats ask for in the same turn
 * of the event loop run together in one `BEGIN IMMEDIATE … COMMIT`, each inside a savepoint of its own.
 *
 * Why: under many chats at once (a burst of webhook updates) most of a write transaction's cost is
 * per transaction, not per row: taking the write lock and appending the pages it changed to the WAL.
 * Steps of different chats touch the same pages (the audit log's last page, the inbox, the index
 * pages), so one transaction for twenty steps writes those pages once instead of twenty times.
 *
 * What does not change: each write is all or nothing (its savepoint is rolled back when its own code
 * throws; the others go on), and nobody is told a write succeeded before the transaction that holds it
 * committed (a failed BEGIN or COMMIT, or SQLite failing inside the group, fails every write in it, and
 * they may be tried again). A single chat working alone
 * never waits: a write runs at once unless another chat's write already ran in this turn of the loop,
 * so one conversation's open and commit (the benchmark's loop, a quiet shop) pay nothing for this.
 */
import type Database from "better-sqlite3";

/** An error SQLite raised (it has an `SQLITE_…` code), as opposed to one the write's own code threw. */
const isSqliteFailure = (error: unknown) => {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && code.startsWith("SQLITE_");
};

type Pending = {
  run: () => unknown;
  settle: (outcome: { ok: true; value: unknown } | { ok: false; error: unknown }) => void;
};

export type GroupCommit = {
  /**
   * `work` as a write transaction that may share its COMMIT with other chats' writes. `keyOf` names the
   * chat (or other record) an invocation writes, from its first argument: writes of the same key in a row do not wait for a batch.
   */
  write<A extends [unknown, ...unknown[]], R>(work: (...args: A) => R, keyOf: (first: A[0]) => string): (...args: A) => Promise<R>;
  /** Runs whatever waits now (before the connection closes). */
  flush(): void;
};

/**
 * @param failure maps a failure to the error callers see (the store's "unavailable" mapping); it is
 *   applied to each write's own failure and to a failed BEGIN or COMMIT, which fails the whole group.
 */
export function groupCommit(db: Database.Database, failure: (error: unknown) => unknown): GroupCommit {
  const runGroup = db.transaction((runAll: () => void) => runAll()).immediate;
  let waiting: Pending[] = [];
  /** The key of the last write run at once in this turn of the loop; undefined when none ran. */
  let ranThisTurn: string | undefined;
  let turnResetScheduled = false;

  const endTurn = () => {
    turnResetScheduled = false;
    ranThisTurn = undefined;
    flush();
  };

  function flush(): void {
    if (waiting.length === 0) return;
    const group = waiting;
    waiting = [];
    const outcomes: Parameters<Pending["settle"]>[0][] = [];
    try {
      runGroup(() => {
        for (const pending of group) {
          try {
            outcomes.push({ ok: true, value: pending.run() });
          } catch (error) {
            // SQLite itself failed (I/O, a full disk, a lock): it may have rolled the whole transaction
            // back already, taking the writes before this one with it, so the whole group fails.
            if (isSqliteFailure(error) || !db.inTransaction) throw error;
            outcomes.push({ ok: false, error: failure(error) });
          }
        }
      });
    } catch (error) {
      // BEGIN or COMMIT failed: nothing of the group is stored, and every write says so.
      const mapped = failure(error);
      for (const pending of group) pending.settle({ ok: false, error: mapped });
      return;
    }
    group.forEach((pending, i) => pending.settle(outcomes[i] ?? { ok: false, error: new Error("a grouped write did not run") }));
  }

  return {
    write<A extends [unknown, ...unknown[]], R>(work: (...args: A) => R, keyOf: (first: A[0]) => string) {
      const transaction = db.transaction(work);
      return (...args: A): Promise<R> => {
        const key = keyOf(args[0]);
        if (waiting.length === 0 && (ranThisTurn === undefined || ranThisTurn === key)) {
          ranThisTurn = key;
          if (!turnResetScheduled) {
            turnResetScheduled = true;
            setImmediate(endTurn);
          }
          try {
            return Promise.resolve(transaction.immediate(...args));
          } catch (error) {
            return Promise.reject(failure(error));
          }
        }
        return new Promise<R>((resolve, reject) => {
          waiting.push({
            // Inside the group's transaction this call is a savepoint: it rolls back alone when it throws.
            run: () => transaction.immediate(...args),
            settle: (outcome) => (outcome.ok ? resolve(outcome.value as R) : reject(outcome.error)),
          });
          if (!turnResetScheduled) {
            turnResetScheduled = true;
            setImmediate(endTurn);
          }
        });
      };
    },
    flush,
  };
}
