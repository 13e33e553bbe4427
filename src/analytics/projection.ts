/**
 * The one read model of the shop: a reducer over the audit log, applied entry by entry and saved
 * with the log position it has applied everything up to. `npm run report`, `/stats`, `/broadcast`
 * and the dashboard all read it, so they say the same thing in the same words.
 *
 * After a restart it loads the saved state and reads only what came after the saved position; a
 * running instance reads new entries every few seconds, so an order changed by another instance
 * shows within seconds. The rows and the reducer are in `read-model.ts` (re-exported here), the
 * saved form in `projection-codec.ts`.
 */
import type { Logger } from "../log.ts";
import { type LogPosition, type ShopStore, StoreUnavailableError } from "../store/shop-store.ts";
import { decodeState, encodeState } from "./projection-codec.ts";
import { type ProjectionState, applyEntry, emptyProjection } from "./read-model.ts";

export * from "./read-model.ts";

export type Projection = {
  /** The read model as of the last refresh (do not change it). */
  state(): ProjectionState;
  /** Reads and applies what the log gained since the last read; how many entries that was. */
  refresh(): Promise<number>;
  /** Stores the state with its log position (so a restart reads only what came after). */
  save(): Promise<void>;
  /** Refreshes every `intervalMs` and saves every `saveEveryMs` (when changed); returns a stop function that saves once more. */
  start(options?: { intervalMs?: number; saveEveryMs?: number }): () => Promise<void>;
};

/** The saved read model's name in the store. */
const NAME = "shop";

/**
 * The read model over `store`'s audit log: loaded from its last save on first use, then kept up to
 * date by {@link Projection.refresh}.
 */
export function createProjection(store: ShopStore, options: { log?: Logger; batchSize?: number } = {}): Projection {
  const batchSize = options.batchSize ?? 2_000;
  let state: ProjectionState | null = null;
  let position: LogPosition | null = null;
  let savedApplied = -1;
  let loading: Promise<void> | null = null;
  let refreshing: Promise<number> | null = null;

  const load = async () => {
    const saved = await store.loadProjection(NAME).catch((err: unknown) => {
      // A store that is away for a moment is asked again later: rebuilding the whole log over a
      // saved model that is fine would cost minutes on a big shop.
      if (err instanceof StoreUnavailableError) throw err;
      options.log?.warn("saved read model could not be read; rebuilding it from the log", { err });
      return undefined;
    });
    let parsed: ProjectionState | null = null;
    try {
      parsed = saved ? decodeState(saved.state) : null;
    } catch (err) {
      options.log?.warn("saved read model is unreadable; rebuilding it from the log", { err });
    }
    // A read model saved by another version is rebuilt from the whole log.
    state = parsed?.v === 2 ? parsed : emptyProjection();
    position = parsed?.v === 2 && saved ? saved.position : null;
    savedApplied = state.applied;
  };

  const readNew = async (): Promise<number> => {
    loading ??= load().catch((err: unknown) => {
      loading = null;
      throw err;
    });
    await loading;
    let applied = 0;
    for (;;) {
      const batch = await store.readLog(position, batchSize);
      for (const entry of batch.entries) applyEntry(state!, entry);
      position = batch.position;
      applied += batch.entries.length;
      if (batch.entries.length === 0) return applied;
      // Let customers' messages through while a long backlog is read.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  };

  // Reading the log and saving never overlap: a save must hold exactly what its position says was applied.
  let queue: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(work: () => Promise<T>): Promise<T> => {
    const run = queue.then(work, work);
    queue = run.catch(() => {});
    return run;
  };

  const projection: Projection = {
    state: () => state ?? emptyProjection(),
    refresh() {
      // One read at a time; a caller arriving meanwhile waits for it.
      refreshing ??= exclusive(readNew).finally(() => (refreshing = null));
      return refreshing;
    },
    save() {
      return exclusive(async () => {
        if (!state || position === null || state.applied === savedApplied) return;
        const applied = state.applied;
        await store.saveProjection(NAME, { position, state: await encodeState(state) });
        savedApplied = applied;
      });
    },
    start(startOptions = {}) {
      const intervalMs = startOptions.intervalMs ?? 3_000;
      const saveEveryMs = startOptions.saveEveryMs ?? 60_000;
      let lastSave = Date.now();
      const timer = setInterval(() => {
        void projection
          .refresh()
          .then(() => (Date.now() - lastSave >= saveEveryMs ? projection.save().then(() => (lastSave = Date.now())) : undefined))
          .catch((err: unknown) => options.log?.warn("read model refresh failed; retrying", { err }));
      }, intervalMs);
      timer.unref();
      return async () => {
        clearInterval(timer);
        await projection.save().catch((err: unknown) => options.log?.warn("read model could not be saved", { err }));
      };
    },
  };
  return projection;
}
