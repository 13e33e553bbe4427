/**
 * What the store tools (`npm run backup`, `npm run restore`, `npm run migrate-store`) share: reading
 * their arguments and the store settings as `npm start` does (`.env`, then the environment), opening
 * a store under the start-up time limit, progress lines, and one way to end: a message and an exit
 * code (0 done, 1 failed, 2 wrong usage).
 */
import { existsSync } from "node:fs";
import { ConfigError, loadStoreSettings } from "../config.ts";
import { StartupError, openStoreWithin, printableStoreUrl } from "../startup.ts";
import {
  type ImportReport,
  type ShopStore,
  type StoreCounts,
  type StoreItem,
  type StoreLocation,
  StoreNeedsUpgradeError,
  StoreNotEmptyError,
  StoreUnavailableError,
  formatCounts,
  parseStoreUrl,
} from "../store/index.ts";

/** A failure the tool explains in one message; `code` is the exit code (1 failed, 2 wrong usage). */
export class ToolError extends Error {
  constructor(
    message: string,
    readonly code: 1 | 2 = 1,
  ) {
    super(message);
    this.name = "ToolError";
  }
}

/** The value after `--name` (or `--name=value`); undefined when absent; a usage error when the value is missing. */
export function option(argv: readonly string[], name: string, usage: string): string | undefined {
  const at = argv.findIndex((arg) => arg === `--${name}` || arg.startsWith(`--${name}=`));
  if (at === -1) return undefined;
  const arg = argv[at]!;
  const value = arg.includes("=") ? arg.slice(arg.indexOf("=") + 1) : argv[at + 1];
  if (!value || value.startsWith("--")) throw new ToolError(`--${name} needs a value.\n${usage}`, 2);
  return value;
}

/** Refuses arguments the tool does not know (a typo must not be ignored). */
export function onlyOptions(argv: readonly string[], known: readonly string[], usage: string): void {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const name = /^--([a-z-]+)/.exec(arg)?.[1];
    if (arg === "--help" || arg === "-h") throw new ToolError(usage, 2);
    if (!name || !known.includes(name)) throw new ToolError(`unknown argument ${JSON.stringify(arg)}.\n${usage}`, 2);
    if (!arg.includes("=")) i++;
  }
}

/** The store `STORE_URL` names, read like `npm start` reads it: `.env` if present, the environment winning. */
export function storeFromEnvironment(): { store: StoreLocation; startupTimeoutMs: number } {
  if (existsSync(".env")) process.loadEnvFile(".env");
  try {
    return loadStoreSettings(process.env);
  } catch (error) {
    if (error instanceof ConfigError) throw new ToolError(`configuration error: ${error.message}`);
    throw error;
  }
}

/**
 * Loads `items` into `store` and reports progress; when a load into Redis fails midway (a SQLite or
 * memory load is all or nothing), the message says that part of the copy is there.
 */
export async function loadInto(
  tool: string,
  store: ShopStore,
  location: StoreLocation,
  items: AsyncIterable<StoreItem>,
): Promise<ImportReport> {
  try {
    return await store.importAll(items, { onProgress: progressLine(tool), progressEvery: 1_000 });
  } catch (error) {
    if (location.kind !== "redis" || error instanceof StoreNotEmptyError || error instanceof StoreNeedsUpgradeError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new ToolError(
      `${message}. ${storeName(location)} now holds part of the copy: delete its keys (those of its ?prefix=) before trying again`,
    );
  }
}

/** A store URL given on the command line (`--from`, `--to`). */
export function storeFromArgument(name: string, url: string): StoreLocation {
  const location = parseStoreUrl(url);
  if (!location)
    throw new ToolError(
      `--${name} must be sqlite://path, redis://host:port, rediss://… or redis-cluster://host:port,…; got ${JSON.stringify(url)}`,
      2,
    );
  return location;
}

/** Opens a store (within `limitMs`); its failure becomes the tool's one-line message. */
export async function openToolStore(location: StoreLocation, limitMs: number): Promise<ShopStore> {
  try {
    return await openStoreWithin(location, limitMs);
  } catch (error) {
    if (error instanceof StartupError || error instanceof StoreUnavailableError) throw new ToolError(error.message);
    throw error;
  }
}

/** How a store is named in messages (a Redis password blanked). */
export const storeName = (location: StoreLocation) => printableStoreUrl(location);

/** Progress on stderr, at most once a second, for runs long enough to need it. */
export function progressLine(tool: string): (counts: StoreCounts) => void {
  const started = Date.now();
  let last = started;
  return (counts) => {
    const now = Date.now();
    if (now - last < 1_000) return;
    last = now;
    process.stderr.write(`${tool}: ${formatCounts(counts)} so far (${((now - started) / 1000).toFixed(0)} s)\n`);
  };
}

/** `12.3 s`, `850 ms`. */
export const elapsed = (since: number) => {
  const ms = Date.now() - since;
  return ms < 1_000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
};

/** A UTC time stamp for file names: 20261203-141500. */
export const stamp = (at: Date = new Date()) => at.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);

/**
 * Runs a tool's `main` and sets the process's exit code: a {@link ToolError} prints its message with
 * its code; any other failure (a store refusing, a file that cannot be written) prints its message, 1.
 */
export function runTool(tool: string, main: () => Promise<void>): void {
  main().then(
    () => {
      process.exitCode = 0;
    },
    (error: unknown) => {
      if (error instanceof ToolError) {
        process.stderr.write(`${tool}: ${error.message}\n`);
        process.exitCode = error.code;
        return;
      }
      process.stderr.write(`${tool} failed: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
