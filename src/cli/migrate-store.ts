/**
 * `npm run migrate-store -- --from URL --to URL`: moves a shop from one store to another (SQLite to
 * Redis when it grows, back, to or from Redis Cluster): every chat, order (snapshot, summary and
 * deadline), goods entry, payment and order index entry, queued Telegram update, saved read model,
 * setting and provider record, and the audit log in its order. The target must be empty; the source
 * is only read. Stop the bot first (what it writes after the copy began stays behind), then start it
 * with `STORE_URL` set to the target. Exit codes: 0 moved, 1 failed, 2 wrong usage.
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { formatCounts } from "../store/index.ts";
import {
  ToolError,
  elapsed,
  loadInto,
  onlyOptions,
  openToolStore,
  option,
  runTool,
  storeFromArgument,
  storeFromEnvironment,
  storeName,
} from "./store-tools.ts";

const USAGE =
  "usage: npm run migrate-store -- --from <store URL> --to <store URL>   (sqlite://path, redis://host:port, rediss://…, redis-cluster://host:port,…; ?prefix= for a Redis key prefix)";
const TOOL = "migrate-store";

async function main(argv: string[]): Promise<void> {
  onlyOptions(argv, ["from", "to"], USAGE);
  const fromUrl = option(argv, "from", USAGE);
  const toUrl = option(argv, "to", USAGE);
  if (!fromUrl || !toUrl) throw new ToolError(`both --from and --to are required.\n${USAGE}`, 2);
  const from = storeFromArgument("from", fromUrl);
  const to = storeFromArgument("to", toUrl);
  if (from.kind === "memory" || to.kind === "memory")
    throw new ToolError("memory:// keeps nothing outside the process running it: move from and to sqlite:// or redis:// stores", 2);
  if (fromUrl === toUrl) throw new ToolError("--from and --to name the same store", 2);
  // Opening a SQLite store creates it: a mistyped source path must not become an empty shop moved.
  if (from.kind === "sqlite" && !existsSync(resolve(from.path)))
    throw new ToolError(`there is no store at ${resolve(from.path)}: check --from`);
  // Only the time limit for reaching the stores comes from the settings (10 s unless they say otherwise).
  const startupTimeoutMs = (() => {
    try {
      return storeFromEnvironment().startupTimeoutMs;
    } catch {
      return 10_000;
    }
  })();
  const started = Date.now();
  const source = await openToolStore(from, startupTimeoutMs);
  // A source with nothing in it is a wrong URL (or prefix), not a shop to move.
  const items = source.exportAll()[Symbol.asyncIterator]();
  try {
    const first = await items.next();
    if (first.done) throw new ToolError(`${storeName(from)} holds no shop data: check --from (for Redis, its database and ?prefix=)`);
    const all = (async function* () {
      yield first.value;
      for (let next = await items.next(); !next.done; next = await items.next()) yield next.value;
    })();
    const target = await openToolStore(to, startupTimeoutMs);
    try {
      const report = await loadInto(TOOL, target, to, all);
      const rebuilt =
        report.projectionsLeftToRebuild > 0
          ? ` (${report.projectionsLeftToRebuild} saved read model(s) will be rebuilt from the log on first use)`
          : "";
      process.stdout.write(
        `migrate-store: moved ${formatCounts(report.counts)} from ${storeName(from)} to ${storeName(to)} in ${elapsed(started)}${rebuilt}.\n` +
          `Start the bot with STORE_URL=${storeName(to)}; ${storeName(from)} was left as it was.\n`,
      );
    } finally {
      await target.close();
    }
  } finally {
    // Ends the source's read (its transaction) before the store closes, also when the target refused.
    await items.return?.();
    await source.close();
  }
}

runTool(TOOL, () => main(process.argv.slice(2)));
