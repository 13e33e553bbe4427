/** Small timing helpers for the benchmarks: wall-clock µs per operation after a warm-up. */
import { performance } from "node:perf_hooks";

/** Runs `op` `warmup` times untimed, then `count` times sequentially; returns µs per op. */
export async function usPerOp(count: number, op: (i: number) => Promise<unknown>, warmup = Math.min(200, count)): Promise<number> {
  for (let i = 0; i < warmup; i++) await op(i);
  const start = performance.now();
  for (let i = 0; i < count; i++) await op(warmup + i);
  return ((performance.now() - start) * 1000) / count;
}

/** Runs `lanes` sequential loops of `perLane` ops concurrently; returns µs per op over all lanes (throughput). */
export async function usPerOpConcurrent(lanes: number, perLane: number, op: (lane: number, i: number) => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await Promise.all(
    Array.from({ length: lanes }, async (_, lane) => {
      for (let i = 0; i < perLane; i++) await op(lane, i);
    }),
  );
  return ((performance.now() - start) * 1000) / (lanes * perLane);
}

export function medianOf(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export const now = () => performance.now();
