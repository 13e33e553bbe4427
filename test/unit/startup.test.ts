/**
 * The start-up time limit (issue 18) on its own: what it retries, when it gives up, what the line
 * says, and that a connection arriving after it gave up is closed rather than left running.
 */
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { StartupError, isTransient, printableStoreUrl, reasonOf, withinStartupLimit } from "../../src/startup.ts";

const refused = () => Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" });
const step = { variable: "STORE_URL", target: "redis://127.0.0.1:1", hint: "check that Redis runs", limitMs: 1_000 };

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("withinStartupLimit", () => {
  test("retries a refused connection until it works", async () => {
    let attempts = 0;
    const opened = withinStartupLimit({ ...step, attempt: async () => (++attempts < 3 ? Promise.reject(refused()) : "open") });
    await vi.advanceTimersByTimeAsync(600);
    await expect(opened).resolves.toBe("open");
    expect(attempts).toBe(3);
  });

  test("gives up at the limit with the last cause, naming the variable", async () => {
    const opened = withinStartupLimit({ ...step, attempt: () => Promise.reject(refused()) });
    const failure = expect(opened).rejects.toThrow(
      new StartupError("STORE_URL", "cannot reach redis://127.0.0.1:1 within 1 s (connection refused); check that Redis runs"),
    );
    await vi.advanceTimersByTimeAsync(1_000);
    await failure;
  });

  test("an attempt that never answers ends at the limit as 'no answer', and its signal is aborted", async () => {
    let signal: AbortSignal | undefined;
    const opened = withinStartupLimit({ ...step, attempt: (s) => ((signal = s), new Promise<never>(() => {})) });
    const failure = expect(opened).rejects.toThrow("within 1 s (no answer)");
    await vi.advanceTimersByTimeAsync(1_000);
    await failure;
    expect(signal?.aborted).toBe(true);
  });

  test("a connection that arrives after the limit is released", async () => {
    const released: string[] = [];
    let arrive: (value: string) => void = () => {};
    const opened = withinStartupLimit({
      ...step,
      attempt: () => new Promise<string>((resolve) => (arrive = resolve)),
      release: (late) => released.push(late),
    });
    const failure = expect(opened).rejects.toThrow(StartupError);
    await vi.advanceTimersByTimeAsync(1_000);
    await failure;
    arrive("late connection");
    await vi.advanceTimersByTimeAsync(0);
    expect(released).toEqual(["late connection"]);
  });

  test("a failure that will not pass by itself ends the step at once, with its own words", async () => {
    const wrongPassword = new Error("WRONGPASS invalid username-password pair");
    await expect(withinStartupLimit({ ...step, attempt: () => Promise.reject(wrongPassword) })).rejects.toThrow(
      "STORE_URL: cannot use redis://127.0.0.1:1 (WRONGPASS invalid username-password pair); check that Redis runs",
    );
    const tokenRefused = new StartupError("TELEGRAM_BOT_TOKEN", "refused");
    await expect(withinStartupLimit({ ...step, attempt: () => Promise.reject(refused()), refusal: () => tokenRefused })).rejects.toBe(
      tokenRefused,
    );
  });
});

describe("what the line says", () => {
  test("causes in a few words, found through wrapped errors", () => {
    expect(reasonOf(refused())).toBe("connection refused");
    expect(reasonOf(new Error("Network request for 'getMe' failed!", { cause: refused() }))).toBe("connection refused");
    expect(reasonOf(Object.assign(new Error("wrapped"), { error: Object.assign(new Error("x"), { code: "ENOTFOUND" }) }))).toBe(
      "host not found",
    );
    expect(reasonOf(new DOMException("aborted", "AbortError"))).toBe("no answer");
    expect(isTransient(refused())).toBe(true);
    expect(isTransient(new Error("WRONGPASS"))).toBe(false);
  });

  test("one line, without a bot token or a secret, however the error reads", () => {
    const token = ["123456", "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"].join(":");
    const reason = reasonOf(new Error(`request to http://127.0.0.1:1/bot${token}/getMe failed\n    at fetch (node:internal)`), [
      "hunter2-password",
    ]);
    expect(reason).not.toContain(token);
    expect(reason).not.toContain("\n");
    expect(reasonOf(new Error("auth hunter2-password refused"), ["hunter2-password"])).not.toContain("hunter2-password");
  });

  test("a Redis URL is printed without its password", () => {
    expect(printableStoreUrl({ kind: "redis", url: "redis://:pa55word@redis:6379/0" })).toBe("redis://:***@redis:6379/0");
    expect(printableStoreUrl({ kind: "redis", url: "rediss://app:pa55word@redis:6380" })).toBe("rediss://app:***@redis:6380");
    expect(printableStoreUrl({ kind: "redis", url: "redis://redis:6379" })).toBe("redis://redis:6379");
  });
});
