/**
 * The dashboard's view of the shop's one read model (`app.projection`): every page first reads what
 * the audit log gained (one short read when nothing changed), so an order changed by this or another
 * instance shows on the next page; the app's own timer does the same every few seconds. After a
 * restart the projection loads its saved state and reads only the entries after it.
 *
 * A page never waits long for the log: when a read takes longer than `patienceMs` (the first build of
 * a big shop without a saved model), the page shows what is known, says so, and the read goes on.
 */
import type { OrderRow, Projection, ProjectionState } from "../analytics/projection.ts";
import type { Logger } from "../log.ts";
import { newerFirst } from "./orders-query.ts";

export type DashboardModel = {
  /** The read model after reading the log's news; `behind` when the read is still going on. */
  fresh(): Promise<{ state: ProjectionState; behind: boolean }>;
  /** Every order, newest first (kept sorted between changes). */
  newestFirst(state: ProjectionState): readonly OrderRow[];
  /** Starts reading the log without waiting (the login form calls it while the owner types). */
  warm(): void;
};

export function createDashboardModel(projection: Projection, options: { log?: Logger; patienceMs?: number } = {}): DashboardModel {
  const patienceMs = options.patienceMs ?? 2_000;
  /** The newest-first index of one state's orders: rows never move in it (creation times do not change), new ones are merged in. */
  let sorted: { orders: ProjectionState["orders"]; count: number; rows: OrderRow[] } | null = null;
  const refresh = () =>
    projection.refresh().catch((err: unknown) => {
      options.log?.warn("dashboard could not read the audit log; showing the read model as it was", { err });
      return 0;
    });
  return {
    async fresh() {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<"late">((resolve) => {
        timer = setTimeout(() => resolve("late"), patienceMs);
        timer.unref();
      });
      const read = await Promise.race([refresh(), late]);
      clearTimeout(timer);
      return { state: projection.state(), behind: read === "late" };
    },
    newestFirst(state) {
      if (sorted?.orders !== state.orders) {
        // The log adds orders mostly in creation order: newest-first is close to the reverse, which sorts fast.
        sorted = { orders: state.orders, count: state.orders.size, rows: [...state.orders.values()].reverse().sort(newerFirst) };
      } else if (state.orders.size > sorted.count) {
        // Orders are only ever added, at the end of the map: merge the new ones in.
        const fresh: OrderRow[] = [];
        let index = 0;
        for (const row of state.orders.values()) if (index++ >= sorted.count) fresh.push(row);
        sorted = { orders: state.orders, count: state.orders.size, rows: mergeNewestFirst(sorted.rows, fresh.sort(newerFirst)) };
      }
      return sorted.rows;
    },
    warm() {
      void refresh();
    },
  };
}

/** Two newest-first lists as one. */
function mergeNewestFirst(a: readonly OrderRow[], b: readonly OrderRow[]): OrderRow[] {
  const merged: OrderRow[] = new Array(a.length + b.length);
  let i = 0;
  let j = 0;
  for (let k = 0; k < merged.length; k++) merged[k] = j >= b.length || (i < a.length && newerFirst(a[i]!, b[j]!) <= 0) ? a[i++]! : b[j++]!;
  return merged;
}
