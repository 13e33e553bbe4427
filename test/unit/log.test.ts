import { describe, expect, test } from "vitest";
import { type Logger, createLogger, redact, withFields } from "../../src/log.ts";

// A made-up token in Telegram's shape, assembled so that secret scanners do not mistake the file for a leak.
const BOT_TOKEN = ["123456789", "AAHabcdefghijklmnopqrstuvwxyz0123456"].join(":");
const LLM_KEY = "sk-or-v1-abcdefghijklmnopqrstuvwxyz";

function capture(level = "debug") {
  const lines: string[] = [];
  const log = createLogger(level, (line) => lines.push(line));
  const parsed = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  return { log, lines, parsed };
}

describe("log lines", () => {
  test("each event is one JSON line with level, time and message", () => {
    const { log, lines, parsed } = capture();
    log.info("http server listening", { port: 8080 });
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain("\n");
    expect(parsed()[0]).toMatchObject({ level: "info", msg: "http server listening", port: 8080 });
    expect(Date.parse(String(parsed()[0]?.t))).not.toBeNaN();
  });

  test("TOKENGOBLIN_LOG levels filter: warn hides info and debug, silent hides everything", () => {
    const warn = capture("warn");
    warn.log.debug("d");
    warn.log.info("i");
    warn.log.warn("w");
    warn.log.error("e");
    expect(warn.parsed().map((line) => line.level)).toEqual(["warn", "error"]);
    const silent = capture("silent");
    silent.log.error("e");
    expect(silent.lines).toEqual([]);
  });

  test("an unknown level falls back to info", () => {
    const { log, parsed } = capture("loud");
    log.debug("d");
    log.info("i");
    expect(parsed().map((line) => line.msg)).toEqual(["i"]);
  });
});

describe("secrets never reach the log", () => {
  test("a bot token inside a Bot API URL is removed from the message and from string fields", () => {
    const { log, lines } = capture();
    log.warn(`GET https://api.telegram.org/bot${BOT_TOKEN}/getMe failed`, {
      url: `https://api.telegram.org/bot${BOT_TOKEN}/getUpdates`,
      note: `key ${LLM_KEY}`,
    });
    expect(lines.join("\n")).not.toContain(BOT_TOKEN.split(":")[1]);
    expect(lines.join("\n")).not.toContain(LLM_KEY);
    expect(lines[0]).toContain("/bot[redacted]/getMe");
  });

  test("fields named like credentials are censored at any depth; token counts are kept", () => {
    const { log, parsed } = capture();
    log.info("configured", { token: "plain", tokens: 2000, llm: { apiKey: "plain" }, headers: { authorization: "Bearer plain" } });
    expect(parsed()[0]).toMatchObject({
      token: "[redacted]",
      tokens: 2000,
      llm: { apiKey: "[redacted]" },
      headers: { authorization: "[redacted]" },
    });
  });

  test("delivered goods are never printed: neither the secret field nor a voucher code in text", () => {
    const { log, lines } = capture();
    log.info("delivered", { orderId: "ord_1", goods: { ref: "voucher:abc", hint: "…WXYZ", secret: "TG-ABCDEFGHIJWXYZ" } });
    log.info("customer wrote TG-ABCDEFGHIJWXYZ back to us");
    expect(lines.join("\n")).not.toContain("TG-ABCDEFGHIJWXYZ");
    expect(lines[0]).toContain("voucher:abc");
  });

  test("redact() is usable on its own", () => {
    expect(redact(`token ${BOT_TOKEN} and ${LLM_KEY}`)).toBe("token [redacted] and [redacted]");
  });
});

describe("errors", () => {
  test("an error passed as err is logged with its type, message and stack, secrets removed", () => {
    const { log, parsed } = capture();
    const error = Object.assign(new Error(`request to /bot${BOT_TOKEN}/sendMessage failed`), { code: "ECONNRESET" });
    log.error("telegram update failed", { err: error, updateId: 7 });
    const err = parsed()[0]?.err as Record<string, string>;
    expect(err).toMatchObject({ type: "Error", code: "ECONNRESET", message: "request to /bot[redacted]/sendMessage failed" });
    expect(err.stack).toContain("log.test.ts");
    expect(err.stack).not.toContain(BOT_TOKEN);
  });

  test("an Error under `error` is serialized too instead of printing {}", () => {
    const { log, parsed } = capture();
    log.error("store read failed", { error: new TypeError("bad record") });
    expect(parsed()[0]?.error).toMatchObject({ type: "TypeError", message: "bad record" });
  });
});

describe("child loggers", () => {
  test("a child's lines carry its bindings", () => {
    const { log, parsed } = capture();
    log.child?.({ chatId: "42" }).info("quoted", { orderId: "ord_1" });
    expect(parsed()[0]).toMatchObject({ chatId: "42", orderId: "ord_1", msg: "quoted" });
  });

  test("withFields adds bindings to a hand-made logger that has no child()", () => {
    const seen: unknown[] = [];
    const plain: Logger = { error: () => {}, warn: () => {}, info: (message, fields) => seen.push({ message, fields }), debug: () => {} };
    withFields(plain, { chatId: "7" }).info("hi", { n: 1 });
    expect(seen).toEqual([{ message: "hi", fields: { chatId: "7", n: 1 } }]);
  });
});
