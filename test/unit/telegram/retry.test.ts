/**
 * Issue 20: a Bot API call Telegram keeps answering 5xx fails after a few quick attempts, with no
 * pause after the last one (auto-retry alone waited 45 s in all before giving up).
 */
import { afterEach, describe, expect, test, vi } from "vitest";
import { retryServerErrors } from "../../../src/telegram/retry.ts";

afterEach(() => {
  vi.useRealTimers();
});

type Result = { ok: boolean; error_code: number; description: string };
const answering = (results: Result[]) => {
  const calls: number[] = [];
  const prev = vi.fn(async () => {
    calls.push(Date.now());
    return results.shift() ?? { ok: true, error_code: 0, description: "" };
  });
  return { prev, calls };
};
const failed = (code: number): Result => ({ ok: false, error_code: code, description: "Bad Gateway" });

describe("retrying Telegram's server errors", () => {
  test("three 502s: three attempts 0.5 s and 1 s apart, and the failure returned at once after the last", async () => {
    vi.useFakeTimers({ now: 0 });
    const { prev, calls } = answering([failed(502), failed(502), failed(502)]);
    const retry = retryServerErrors({ attempts: 3, firstPauseMs: 500 });
    const result = retry(prev as never, "sendMessage", { chat_id: 1, text: "hi" } as never);
    await vi.runAllTimersAsync();
    expect(await result).toMatchObject({ ok: false, error_code: 502 });
    expect(calls).toEqual([0, 500, 1_500]);
    expect(Date.now()).toBe(1_500);
  });

  test("a 5xx then a success: the success is returned", async () => {
    vi.useFakeTimers({ now: 0 });
    const { prev } = answering([failed(500)]);
    const result = retryServerErrors()(prev as never, "sendMessage", {} as never);
    await vi.runAllTimersAsync();
    expect(await result).toMatchObject({ ok: true });
    expect(prev).toHaveBeenCalledTimes(2);
  });

  test("a 400 is not retried: the request itself is wrong", async () => {
    const { prev } = answering([failed(400)]);
    expect(await retryServerErrors()(prev as never, "sendMessage", {} as never)).toMatchObject({ ok: false, error_code: 400 });
    expect(prev).toHaveBeenCalledTimes(1);
  });
});
