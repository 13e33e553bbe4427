/** Issue 11: failures are described for the log without secrets and without grammY's context object. */
import { Api, BotError, Context, HttpError } from "grammy";
import { describe, expect, test } from "vitest";
import { describeFailure, redactSecrets, safeTimeout } from "../../src/failures.ts";
import { testClock } from "../support/clock.ts";

const TOKEN = "123456:TEST-token-for-the-stub";

describe("redactSecrets", () => {
  test("removes a known secret wherever it appears", () => {
    expect(redactSecrets(`token=${TOKEN}; again ${TOKEN}`, [TOKEN])).toBe("token=[redacted]; again [redacted]");
  });

  test("removes a bot token inside a Bot API URL even when it is not known", () => {
    const message = "request to http://127.0.0.1:9/bot987654:AAbc-def_123/sendMessage failed, reason: connect ECONNREFUSED";
    expect(redactSecrets(message, [])).toBe("request to http://127.0.0.1:9/bot[redacted]/sendMessage failed, reason: connect ECONNREFUSED");
  });

  test("leaves short values alone rather than blanking ordinary words", () => {
    expect(redactSecrets("the order is open", ["open", undefined, ""])).toBe("the order is open");
  });
});

describe("describeFailure", () => {
  test("describes a grammY update failure by its messages and causes, never its context (which holds the token)", () => {
    const fetchFailure = new Error(`request to http://127.0.0.1:9/bot${TOKEN}/sendMessage failed, reason: socket hang up`);
    const httpError = new HttpError("Network request for 'sendMessage' failed!", fetchFailure);
    const ctx = new Context({ update_id: 1 }, new Api(TOKEN), {
      id: 1,
      is_bot: true,
      first_name: "Goblin",
      username: "goblin_bot",
    } as never);
    const described = describeFailure(new BotError(httpError, ctx), [TOKEN]);
    expect(described.error).toBe("BotError: HttpError in middleware: Network request for 'sendMessage' failed!");
    expect(described.cause).toContain("HttpError: Network request for 'sendMessage' failed!");
    expect(described.cause).toContain("/bot[redacted]/sendMessage");
    expect(described.stack).toBeDefined();
    expect(JSON.stringify(described)).not.toContain(TOKEN);
  });

  test("describes thrown values that are not errors", () => {
    expect(describeFailure(`bad ${TOKEN}`, [TOKEN])).toEqual({ error: "bad [redacted]" });
  });
});

describe("safeTimeout", () => {
  test("hands a synchronous throw and a rejection to the error handler instead of the process", async () => {
    const seen: string[] = [];
    const clock = testClock();
    safeTimeout(
      1,
      () => {
        throw new Error("sync");
      },
      (error) => seen.push(String(error)),
      clock.timer,
    );
    safeTimeout(
      1,
      () => Promise.reject(new Error("async")),
      (error) => seen.push(String(error)),
      clock.timer,
    );
    clock.advance(1);
    await Promise.resolve(); // the rejection is handed on a microtask later
    expect(seen.sort()).toEqual(["Error: async", "Error: sync"]);
  });

  test("runs nothing once disarmed", () => {
    const clock = testClock();
    let ran = false;
    const disarm = safeTimeout(
      1,
      () => (ran = true),
      () => {},
      clock.timer,
    );
    disarm();
    clock.advance(60_000);
    expect(ran).toBe(false);
  });
});
