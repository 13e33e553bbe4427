/**
 * Failures that happen where nobody awaits them: work that goes on after a webhook was answered,
 * timers, process-level last resorts. Each is turned into one log-ready record with the secrets taken
 * out, so it can be logged without ending the process or printing a credential (issue 11).
 */

/** What a log line needs to know about a failure: no context objects, no secrets. */
export type FailureRecord = {
  /** `Name: message`, redacted. */
  error: string;
  /** The chain of causes (`error.cause`, grammY's `HttpError.error`), redacted. */
  cause?: string;
  /** The stack of the innermost error that has one, redacted. */
  stack?: string;
};

const REDACTED = "[redacted]";

/**
 * Removes every secret value from `text`, including a bot token inside a Bot API URL
 * (`…/bot<token>/sendMessage`, as fetch errors print it) even when the token itself is not known.
 */
export function redactSecrets(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text.replace(/\/bot\d+:[A-Za-z0-9_-]+/g, `/bot${REDACTED}`);
  for (const secret of secrets) {
    // Short values would blank out ordinary words; real tokens and keys are long.
    if (secret && secret.length >= 8) out = out.split(secret).join(REDACTED);
  }
  return out;
}

const asError = (value: unknown): { name: string; message: string; stack?: string; cause?: unknown } | null => {
  if (value instanceof Error) return value;
  return null;
};

/** The wrapped failure of an error that wraps one (grammY's `BotError.error`, `HttpError.error`, `cause`). */
const innerOf = (error: unknown): unknown => {
  if (typeof error !== "object" || error === null) return undefined;
  const record = error as { error?: unknown; cause?: unknown };
  return record.error instanceof Error ? record.error : record.cause;
};

/**
 * Describes any thrown value for a log line: message, causes and stack, with `secrets` redacted. It
 * reads only messages and stacks, never other fields: grammY's errors carry the update's context,
 * whose API object holds the bot token.
 */
export function describeFailure(failure: unknown, secrets: readonly (string | undefined)[] = []): FailureRecord {
  const clean = (text: string) => redactSecrets(text, secrets);
  const top = asError(failure);
  const record: FailureRecord = { error: clean(top ? `${top.name}: ${top.message}` : String(failure)) };
  const causes: string[] = [];
  let stack = top?.stack;
  let current = innerOf(failure);
  for (let depth = 0; current !== undefined && depth < 5; depth++) {
    const inner = asError(current);
    causes.push(inner ? `${inner.name}: ${inner.message}` : String(current));
    if (inner?.stack) stack = inner.stack;
    current = innerOf(current);
  }
  if (causes.length > 0) record.cause = clean(causes.join(" <- "));
  if (stack) record.stack = clean(stack);
  return record;
}

/**
 * Arms `work` to run once after `ms` and returns what disarms it. {@link realTimer} by default; tests
 * pass a clock's timer and advance that clock, so no test waits for a timer to be sure of it.
 */
export type Timer = (ms: number, work: () => void) => () => void;

/** A {@link Timer} on Node's own timers. */
export const realTimer: Timer = (ms, work) => {
  const handle = setTimeout(work, ms);
  return () => clearTimeout(handle);
};

/**
 * A timer for callbacks that must never end the process: a synchronous throw or a rejected promise
 * from `work` goes to `onError` instead of becoming an uncaught exception. Returns what disarms it.
 */
export function safeTimeout(ms: number, work: () => unknown, onError: (error: unknown) => void, timer: Timer = realTimer): () => void {
  const report = (error: unknown) => {
    try {
      onError(error);
    } catch {
      // The error handler itself failed (a broken logger): nothing left to tell.
    }
  };
  return timer(ms, () => {
    try {
      const result = work();
      if (result instanceof Promise) result.catch(report);
    } catch (error) {
      report(error);
    }
  });
}

/**
 * `work`'s result, or `fallback` once `ms` have passed without one — for answers owed within a deadline
 * (a health check, Telegram's pre-checkout, a Bot API call). The timer never outlives the race; a
 * rejection of `work` before the deadline is passed on.
 */
export async function resultWithin<T, F>(work: Promise<T>, ms: number, fallback: F): Promise<T | F> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<F>((resolve) => {
    timer = setTimeout(() => resolve(fallback), ms);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}
