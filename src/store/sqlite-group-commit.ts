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
 * they may be tried again). A single chat working alone never waits: a write runs at once unless
 * another chat's write already ran in this turn of the loop, so one conversation's open and commit (the
 * benchmark's loop, a quiet shop) pay nothing for this. The store runs every call that is not grouped
 * (reads, single statements) after flushing the group, so no call overtakes a write asked for before it.
 */
import type Database from "better-sqlite3";

/**
 * SQLite failures after which the transaction cannot be trusted to hold what ran before (SQLite may
 * have rolled it back by itself: I/O, a full disk, memory, a lock, a damaged file). A constraint or a
 * write's own exception undoes only that write's statement or savepoint.
 */
const TRANSACTION_IN_DOUBT = /^SQLITE_(IOERR|FULL|NOMEM|CORRUPT|BUSY|LOCKED|PROTOCOL|READONLY|CANTOPEN|NOTADB|INTERRUPT|ABORT)/;
const putsTransactionInDoubt = (error: unknown) => {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  return typeof code === "string" && TRANSACTION_IN_DOUBT.test(code);
};

/** How often writes waiting for another transaction on the connection (an export) look again. */
const OPEN_TRANSACTION_RETRY_MS = 5;

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };
type Pending = { run: () => unknown; durable: boolean; settle: (outcome: Outcome) => void };

/**
 * Whether a write must be on the disk before its caller hears "stored" (the default), or holds nothing
 * a power loss could cost (a chat's lease: it runs out by itself). A lighter write commits with
 * `synchronous=NORMAL`: its pages reach the disk with the next durable commit, or are lost with the
 * power, which loses nothing.
 */
export type WriteKind = { durable: boolean };

export type GroupCommit = {
  /**
   * `work` as a write transaction that may share its COMMIT with other chats' writes. `keyOf` names the
   * chat (or other record) an invocation writes, from its first argument: writes of the same key in a
   * row do not wait for a group. Arguments are read when the write runs: pass values, not objects the
   * caller may still change.
   */
  write<A extends [unknown, ...unknown[]], R>(
    work: (...args: A) => R,
    keyOf: (first: A[0]) => string,
    kind?: WriteKind,
  ): (...args: A) => Promise<R>;
  /** Runs whatever waits now, unless a transaction of another kind is open on the connection. */
  flush(): void;
};

export type GroupFailures = {
  /** The error a write's caller sees for its own failure (the store's "unavailable" mapping). */
  failure: (error: unknown) => unknown;
  /**
   * The error the other writes of a group see when the group failed for one of them, or at BEGIN or
   * COMMIT: nothing of theirs was stored, and they may be tried again.
   */
  groupFailure: (error: unknown) => unknown;
};

export function groupCommit(db: Database.Database, { failure, groupFailure }: GroupFailures): GroupCommit {
  const runGroup = db.transaction((runAll: () => void) => runAll()).immediate;
  // The connection stays at synchronous=FULL (configure()); a light write lowers it for its own COMMIT
  // only. (Not prepared statements: SQLite applies this pragma when the statement is compiled.)
  const committing = <R>(durable: boolean, commit: () => R): R => {
    if (durable) return commit();
    db.exec("PRAGMA synchronous = NORMAL");
    try {
      return commit();
    } finally {
      db.exec("PRAGMA synchronous = FULL");
    }
  };
  let waiting: Pending[] = [];
  /** The key of the last write run at once in this turn of the loop; undefined when none ran. */
  let ranThisTurn: string | undefined;
  let turnEndScheduled = false;

  const scheduleTurnEnd = () => {
    if (turnEndScheduled) return;
    turnEndScheduled = true;
    setImmediate(() => {
      turnEndScheduled = false;
      ranThisTurn = undefined;
      flush();
    });
  };

  function flush(): void {
    if (waiting.length === 0) return;
    if (db.inTransaction) {
      // Another transaction is open across awaits (a backup's read, an import): a write must not become
      // part of it, so the group waits for it to end, looking again every few milliseconds.
      if (!turnEndScheduled) {
        turnEndScheduled = true;
        setTimeout(() => {
          turnEndScheduled = false;
          flush();
        }, OPEN_TRANSACTION_RETRY_MS);
      }
      return;
    }
    const group = waiting;
    waiting = [];
    const outcomes: Outcome[] = [];
    let culprit = -1;
    try {
      committing(
        group.some((pending) => pending.durable),
        () =>
          runGroup(() => {
            for (const pending of group) {
              try {
                outcomes.push({ ok: true, value: pending.run() });
              } catch (error) {
                if (putsTransactionInDoubt(error) || !db.inTransaction) {
                  culprit = outcomes.length;
                  throw error;
                }
                // Only this write's savepoint went back; the others go on.
                outcomes.push({ ok: false, error: failure(error) });
              }
            }
          }),
      );
    } catch (error) {
      // Nothing of the group is stored (BEGIN or COMMIT failed, or SQLite failed under one write and may
      // have rolled everything back): every write says so, the one that failed with its own error.
      const others = groupFailure(error);
      group.forEach((pending, i) => pending.settle({ ok: false, error: i === culprit ? failure(error) : others }));
      return;
    }
    group.forEach((pending, i) =>
      pending.settle(outcomes[i] ?? { ok: false, error: groupFailure(new Error("a grouped write did not run")) }),
    );
  }

  return {
    write<A extends [unknown, ...unknown[]], R>(
      work: (...args: A) => R,
      keyOf: (first: A[0]) => string,
      kind: WriteKind = { durable: true },
    ) {
      const transaction = db.transaction(work);
      const { durable } = kind;
      return (...args: A): Promise<R> => {
        const key = keyOf(args[0]);
        if (waiting.length === 0 && !db.inTransaction && (ranThisTurn === undefined || ranThisTurn === key)) {
          ranThisTurn = key;
          scheduleTurnEnd();
          try {
            return Promise.resolve(committing(durable, () => transaction.immediate(...args)));
          } catch (error) {
            return Promise.reject(failure(error));
          }
        }
        return new Promise<R>((resolve, reject) => {
          waiting.push({
            // Inside the group's transaction this call is a savepoint: it rolls back alone when it throws.
            run: () => transaction.immediate(...args),
            durable,
            settle: (outcome) => (outcome.ok ? resolve(outcome.value as R) : reject(outcome.error)),
          });
          scheduleTurnEnd();
        });
      };
    },
    flush,
  };
}
