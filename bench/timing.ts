/** Small timing helpers for the benchmarks: wall-clock µs per operation after a warm-up. */
import { performance } from "node:perf_hooks";
import { median } from "../src/analytics/funnel.ts";

/** Runs `op` `warmup` times untimed, then `count` times sequentially; returns µs per op. */
export async function usPerOp(count: number, op: (i: number) => Promise<unknown>, warmup = Math.min(200, count)): Promise<number> {
  for (let i = 0; i < warmup; i++) await op(i);
  const start = performance.now();
  for (let i = 0; i < count; i++) await op(warmup + i);
  return ((performance.now() - start) * 1000) / count;
}

export type Throughput = {
  /** Wall-clock µs per op over all lanes (1e6 / this = ops/s). */
  wallUs: number;
  /** Process CPU (all threads: JS + SQLite's thread pool) µs per op; less sensitive to other load. */
  cpuUs: number;
  /** Main-thread busy µs per op (event-loop utilisation): the single-threaded part that caps throughput. */
  jsUs: number;
};

/** Runs `lanes` sequential loops of `perLane` ops concurrently and measures the whole run. */
export async function throughput(lanes: number, perLane: number, op: (lane: number, i: number) => Promise<unknown>): Promise<Throughput> {
  const start = performance.now();
  const cpu = process.cpuUsage();
  const elu = performance.eventLoopUtilization();
  await Promise.all(
    Array.from({ length: lanes }, async (_, lane) => {
      for (let i = 0; i < perLane; i++) await op(lane, i);
    }),
  );
  const ops = lanes * perLane;
  const used = process.cpuUsage(cpu);
  return {
    wallUs: ((performance.now() - start) * 1000) / ops,
    cpuUs: (used.user + used.system) / ops,
    jsUs: (performance.eventLoopUtilization(elu).active * 1000) / ops,
  };
}

/** µs per op, wall-clock and process CPU (all threads). */
export type OpCost = { wallUs: number; cpuUs: number };

/**
 * Runs several ops `count` times each, alternating between them in blocks of `block`, so that load
 * from other processes on a shared machine falls on all of them alike; returns each op's cost. Each op
 * is warmed up `warmup` times first (V8 optimises the hot path after a few thousand runs).
 */
export async function interleaved<K extends string>(
  count: number,
  ops: Record<K, (i: number) => Promise<unknown>>,
  warmup = Math.min(2_500, count),
  block = 100,
): Promise<Record<K, OpCost>> {
  const names = Object.keys(ops) as K[];
  for (const name of names) for (let i = 0; i < warmup; i++) await ops[name](i);
  const totals = Object.fromEntries(names.map((name) => [name, { wallUs: 0, cpuUs: 0 }])) as Record<K, OpCost>;
  for (let done = 0; done < count; done += block) {
    const n = Math.min(block, count - done);
    for (const name of names) {
      const cpu = process.cpuUsage();
      const start = performance.now();
      for (let i = 0; i < n; i++) await ops[name](warmup + done + i);
      const used = process.cpuUsage(cpu);
      totals[name].wallUs += (performance.now() - start) * 1000;
      totals[name].cpuUs += used.user + used.system;
    }
  }
  for (const name of names) {
    totals[name].wallUs /= count;
    totals[name].cpuUs /= count;
  }
  return totals;
}

/** The median of a non-empty sample (0 for an empty one). */
export function medianOf(values: readonly number[]): number {
  return median(values) ?? 0;
}

export const now = () => performance.now();
