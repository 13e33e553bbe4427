/**
 * Start-up steps that need something outside the process — the store, the Bot API — run under a time
 * limit (`STARTUP_TIMEOUT_MS`) and end as a {@link StartupError}: one line naming the variable to check,
 * what could not be reached and why, and what to do about it. Never a stack, never a secret (issue 18:
 * an unreachable Redis or Bot API used to hang start-up silently for ever).
 *
 * A step retries failures that may pass by themselves (connection refused or reset, no answer, a 5xx)
 * until its limit, so a dependency that starts a moment after the bot is waited for; anything else (a
 * refused token, a path that cannot exist) ends the step at once.
 */
import { existsSync, mkdirSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { redactSecrets } from "./failures.ts";
import { redact } from "./log.ts";
import { type ShopStore, type StoreLocation, openStore } from "./store/index.ts";

/** Start-up could not finish: `message` is the whole line for the operator, `variable` the one to fix. */
export class StartupError extends Error {
  constructor(
    readonly variable: string,
    detail: string,
  ) {
    super(`${variable}: ${detail}`);
    this.name = "StartupError";
  }
}

export type StartupStep<T> = {
  /** The environment variable the operator should look at when the step cannot finish. */
  variable: string;
  /** What the step reaches, printable: a URL without credentials, a file. */
  target: string;
  /** What to do next, e.g. "check that Redis runs and the URL is right". */
  hint: string;
  /** The verb of the failure line; default "cannot reach … within" for a timeout, else "cannot use …". */
  verb?: "open";
  limitMs: number;
  /** One attempt. `signal` aborts when the limit passes; pass it to whatever accepts one. */
  attempt: (signal: AbortSignal) => Promise<T>;
  /** Whether a failure may pass if tried again (default: {@link isTransient}). */
  retry?: (error: unknown) => boolean;
  /** A failure that needs its own words and variable (a refused token); null for the usual line. */
  refusal?: (error: unknown) => StartupError | null;
  /** Closes what an attempt produced after the step gave up on it (a connection that came too late). */
  release?: (late: T) => unknown;
  /** Values that must never appear in the line (tokens, passwords). */
  secrets?: readonly (string | undefined)[];
  /** Pause between attempts (default 250 ms). */
  retryDelayMs?: number;
};

type Chained = {
  code?: unknown;
  name?: unknown;
  message?: unknown;
  cause?: unknown;
  error?: unknown;
  originalError?: unknown;
  socketError?: unknown;
  errors?: unknown;
};

/** The error and the errors it wraps (`cause`, grammY's `error`, node-redis's `socketError`, an AggregateError's first), outermost first. */
function chainOf(failure: unknown): Chained[] {
  const chain: Chained[] = [];
  let current: unknown = failure;
  while (typeof current === "object" && current !== null && chain.length < 6 && !chain.includes(current as Chained)) {
    const error = current as Chained;
    chain.push(error);
    const first = Array.isArray(error.errors) ? (error.errors as unknown[])[0] : undefined;
    current = error.socketError ?? error.originalError ?? error.error ?? error.cause ?? first;
  }
  return chain;
}

const REASONS: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  ETIMEDOUT: "no answer",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host name lookup failed",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  EPIPE: "connection closed",
  EACCES: "permission denied",
  EPERM: "permission denied",
  ENOENT: "no such file or directory",
  ENOTDIR: "a part of the path is not a directory",
  EROFS: "read-only file system",
  ENOSPC: "no space left on the device",
  SQLITE_CANTOPEN: "cannot open the database file",
  SQLITE_READONLY: "the database file is read-only",
  SQLITE_NOTADB: "the file is not an SQLite database",
};
const TRANSIENT = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "EPIPE"]);
/** An error's class name: node-redis's errors keep `name` "Error" and differ only by class. */
const kindOf = (error: Chained) => (error.name !== "Error" ? error.name : (error as { constructor?: { name?: string } }).constructor?.name);
const isTimeout = (error: Chained) => ["AbortError", "TimeoutError", "ConnectionTimeoutError"].includes(String(kindOf(error)));
/** node-redis: the server (or something on the way) closed the connection before it was ready. */
const isClosed = (error: Chained) => kindOf(error) === "SocketClosedUnexpectedlyError";

/** In a few words, why `failure` happened: "connection refused", "no answer", or its first line. */
export function reasonOf(failure: unknown, secrets: readonly (string | undefined)[] = []): string {
  const chain = chainOf(failure);
  for (const error of chain) {
    if (typeof error.code === "string" && REASONS[error.code]) return REASONS[error.code]!;
    if (isTimeout(error)) return "no answer";
    if (isClosed(error)) return "connection closed";
  }
  const innermost = chain.at(-1);
  const text = innermost && typeof innermost.message === "string" && innermost.message !== "" ? innermost.message : String(failure);
  const line = text.split("\n")[0]!.trim();
  return redact(redactSecrets(line.length > 160 ? `${line.slice(0, 157)}...` : line, secrets));
}

/** Network failures that may pass: refused, reset, no answer, a name lookup that may work next time. */
export function isTransient(failure: unknown): boolean {
  return chainOf(failure).some(
    (error) => (typeof error.code === "string" && TRANSIENT.has(error.code)) || isTimeout(error) || isClosed(error),
  );
}

/** `10 s`, `1.5 s`. */
export const seconds = (ms: number) => `${Number((ms / 1000).toFixed(1))} s`;

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done);
  });

/**
 * Runs `step.attempt` until it succeeds, fails for good, or `step.limitMs` passes, whichever comes
 * first; the last two throw a {@link StartupError}. An attempt still running at the limit is abandoned
 * (its signal aborts) and whatever it yields later goes to `step.release`.
 */
export async function withinStartupLimit<T>(step: StartupStep<T>): Promise<T> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), step.limitMs);
  const { signal } = controller;
  const expired = new Promise<"expired">((resolve) => signal.addEventListener("abort", () => resolve("expired"), { once: true }));
  // A timeout could not reach the target; any other failure reached something that said no.
  const line = (reason: string, timedOut: boolean) =>
    new StartupError(
      step.variable,
      `cannot ${step.verb ?? (timedOut ? "reach" : "use")} ${step.target}${timedOut ? ` within ${seconds(step.limitMs)}` : ""} (${reason}); ${step.hint}`,
    );
  let lastFailure: unknown;
  try {
    for (;;) {
      const attempt = step.attempt(signal);
      const outcome = await Promise.race([
        attempt.then(
          (value) => ({ value }),
          (error: unknown) => ({ error }),
        ),
        expired,
      ]);
      if (outcome === "expired") {
        void attempt.then(
          (late) => step.release?.(late),
          () => {},
        );
        throw line(lastFailure === undefined ? "no answer" : reasonOf(lastFailure, step.secrets), true);
      }
      if ("value" in outcome) return outcome.value;
      const refused = step.refusal?.(outcome.error);
      if (refused) throw refused;
      if (signal.aborted) throw line(reasonOf(lastFailure ?? outcome.error, step.secrets), true);
      if (!(step.retry ?? isTransient)(outcome.error)) throw line(reasonOf(outcome.error, step.secrets), false);
      lastFailure = outcome.error;
      await sleep(step.retryDelayMs ?? 250, signal);
      if (signal.aborted) throw line(reasonOf(lastFailure, step.secrets), true);
    }
  } finally {
    clearTimeout(timer);
  }
}

/** `STORE_URL` fit for a message: a Redis password is blanked. */
export function printableStoreUrl(location: StoreLocation): string {
  switch (location.kind) {
    case "memory":
      return "memory://";
    case "sqlite":
      return `sqlite://${location.path}`;
    case "redis":
      return location.url.replace(/^(rediss?:\/\/[^:@/]*:)[^@/]*@/, "$1***@");
    default: {
      const unhandled: never = location;
      return String(unhandled);
    }
  }
}

/**
 * Creates the SQLite file's folder one level at a time, failing with the folder that cannot exist.
 * Node's recursive mkdir never returns for some impossible paths (`/proc/nope`: the kernel answers
 * ENOENT under a directory that exists, and Node 20 retries for ever) and blocks the event loop while
 * it spins, so no time limit could end it; after this, the store's own recursive mkdir finds the folder.
 */
function createFolderOf(file: string, target: string): void {
  const missing: string[] = [];
  let folder = dirname(resolve(file));
  while (!existsSync(folder)) {
    missing.unshift(folder);
    const parent = dirname(folder);
    if (parent === folder) break;
    folder = parent;
  }
  const hint = "check that the path is right and its folder can be created and written";
  if (existsSync(folder) && !statSync(folder).isDirectory())
    throw new StartupError("STORE_URL", `cannot open ${target} (${folder} is not a folder); ${hint}`);
  for (const part of missing) {
    try {
      mkdirSync(part);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EEXIST") continue;
      throw new StartupError("STORE_URL", `cannot open ${target} (cannot create the folder ${part}: ${reasonOf(error)}); ${hint}`);
    }
  }
}

/**
 * Opens the store `STORE_URL` names within `limitMs`, or throws a {@link StartupError} naming
 * STORE_URL. Redis is retried while it refuses connections (it may be starting too); a connection that
 * arrives after the limit is closed.
 */
export async function openStoreWithin(
  location: StoreLocation,
  limitMs: number,
  options: { clock?: () => number } = {},
): Promise<ShopStore> {
  const target = printableStoreUrl(location);
  const release = (late: ShopStore) => late.close().catch(() => {});
  switch (location.kind) {
    case "memory":
      return openStore(location, options);
    case "sqlite":
      createFolderOf(location.path, target);
      return withinStartupLimit({
        variable: "STORE_URL",
        target,
        verb: "open",
        hint: "check that the path is right and the file and its folder are writable",
        limitMs,
        attempt: () => openStore(location, options),
        retry: () => false,
        release,
      });
    case "redis":
      return withinStartupLimit({
        variable: "STORE_URL",
        target,
        hint: "check that Redis runs and the URL is right",
        limitMs,
        attempt: () => openStore(location, options),
        release,
        secrets: [/^rediss?:\/\/[^:@/]*:([^@/]*)@/.exec(location.url)?.[1]],
      });
    default: {
      const unhandled: never = location;
      throw new Error(`unknown store ${JSON.stringify(unhandled)}`);
    }
  }
}
