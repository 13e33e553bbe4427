/**
 * The read model after a restart reads its saved copy, then only the log after it. When the store is
 * away for a moment at that first read, the read model waits for it rather than rebuilding the
 * whole log from the start (minutes on a big shop) over a saved copy that is fine.
 */
import { expect, test } from "vitest";
import { createProjection } from "../../../src/analytics/projection.ts";
import { encodeState } from "../../../src/analytics/projection-codec.ts";
import { emptyProjection } from "../../../src/analytics/read-model.ts";
import { type LogPosition, type ShopStore, StoreUnavailableError } from "../../../src/store/shop-store.ts";

test("a store that is unavailable when the saved read model is loaded is asked again; the log is not re-read from the start", async () => {
  const saved = emptyProjection();
  saved.applied = 1_000;
  const savedCopy = { position: "saved-position", state: await encodeState(saved) };
  let loads = 0;
  const readFrom: (LogPosition | null)[] = [];
  const store = {
    async loadProjection() {
      loads++;
      if (loads === 1) throw new StoreUnavailableError("Redis did not answer loadProjection within 1000 ms");
      return savedCopy;
    },
    async readLog(position: LogPosition | null) {
      readFrom.push(position);
      return { entries: [], position: position ?? "start" };
    },
    async saveProjection() {},
  } as unknown as ShopStore;

  const projection = createProjection(store);
  await expect(projection.refresh()).rejects.toBeInstanceOf(StoreUnavailableError);
  expect(readFrom).toEqual([]);

  await projection.refresh();
  expect(loads).toBe(2);
  expect(readFrom).toEqual(["saved-position"]);
  expect(projection.state().applied).toBe(1_000);
});
