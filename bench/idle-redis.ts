/**
 * (i) What one idle instance asks of Redis (issue 20, point 3): the app started as `npm start` starts
 * it (sweeper every 5 s, the projection following the audit log, a front end attached) on a Redis that
 * holds 200,000 keys of another application's data. The server's `INFO commandstats` is read before and
 * after a quiet window (no MONITOR: it would be a client of its own), so every command counts, including
 * those run inside scripts. Any SCAN or KEYS fails the row: idle work must come from indexes.
 *
 * Point it at a Redis nothing else uses (`npm run bench` starts its own): the counts are server-wide.
 */
import { createClient } from "@redis/client";
import { createApp } from "../src/app.ts";
import { loadConfig } from "../src/config.ts";
import { silentLogger } from "../src/log.ts";

export type IdleFigures = {
  /** The window actually watched, in seconds. */
  seconds: number;
  /** Commands per minute (scaled from the window), by name. */
  perMinute: Record<string, number>;
  total: number;
  /** SCAN and KEYS calls of any kind (SCAN, SSCAN, HSCAN, ZSCAN, KEYS) in the window. */
  scans: number;
  /** Keys in the Redis database at the end (the other data and the shop's). */
  keys: number;
};

const SCANS = new Set(["scan", "sscan", "hscan", "zscan", "keys"]);

async function commandCalls(client: { info(section: string): Promise<string> }): Promise<Map<string, number>> {
  const calls = new Map<string, number>();
  for (const match of (await client.info("commandstats")).matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm))
    calls.set(match[1] ?? "", Number(match[2]));
  return calls;
}

/** Fills `url` with `count` keys of another application (prefix `other-app:`), in batches. */
export async function fillWithOtherData(url: string, count: number): Promise<void> {
  const client = createClient({ url });
  await client.connect();
  try {
    const batch = 1_000;
    for (let from = 0; from < count; from += batch) {
      const pairs: [string, string][] = [];
      for (let i = from; i < Math.min(count, from + batch); i++)
        pairs.push([`other-app:item:${i}`, `{"n":${i},"payload":"${"x".repeat(40)}"}`]);
      await client.mSet(pairs);
    }
  } finally {
    await client.quit();
  }
}

/** Starts an idle instance on `url`, watches the server for `windowMs`, and returns what it was asked. */
export async function idleRedisCommands(url: string, windowMs: number): Promise<IdleFigures> {
  const admin = createClient({ url });
  await admin.connect();
  const app = await createApp(loadConfig({ STORE_URL: url }), { listen: false, log: silentLogger, instanceId: "bench-idle" });
  try {
    // A front end is attached (the sweeper waits for one), as the console or the Telegram bot does.
    app.engine.setNotifier(async () => {});
    await app.start();
    // Start-up (the schema check, the first pass) is not idleness: watch from a moment later.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const before = await commandCalls(admin);
    const started = performance.now();
    await new Promise((resolve) => setTimeout(resolve, windowMs));
    const after = await commandCalls(admin);
    const seconds = (performance.now() - started) / 1000;
    const perMinute: Record<string, number> = {};
    let scans = 0;
    for (const [name, calls] of after) {
      // The watcher's own INFO calls are not the instance's.
      const ran = calls - (before.get(name) ?? 0) - (name === "info" ? 1 : 0);
      if (ran <= 0) continue;
      if (SCANS.has(name)) scans += ran;
      perMinute[name] = (ran * 60) / seconds;
    }
    const keys = await admin.dbSize();
    return { seconds, perMinute, total: Object.values(perMinute).reduce((a, b) => a + b, 0), scans, keys };
  } finally {
    await app.close();
    await admin.quit();
  }
}
