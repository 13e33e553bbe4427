/**
 * Structured logging over one root {@link https://getpino.io pino} logger: one JSON line per event on
 * stderr, `{"level":"warn","t":"<ISO time>",…fields,"msg":"…"}`. `TOKENGOBLIN_LOG` sets the level:
 * silent, error, warn, info (default) or debug.
 *
 * Secrets never reach the output, three ways: pino's `redact` paths censor known credential and
 * delivered-goods fields nested in objects; fields *named* like secrets are censored at any depth; and
 * every string (message, field values, an error's message and stack) has values that *look* like
 * secrets replaced, such as a bot token inside a URL (`…/bot<token>/getMe`) or an `sk-…` key.
 *
 * Errors keep their stack: pass them as `{ err: error }` (pino's error serializer); `error` gets the
 * same treatment when it holds an `Error`.
 */
import pino, { type DestinationStream } from "pino";

export type LogFields = Record<string, unknown>;
export type Logger = {
  error(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  debug(message: string, fields?: LogFields): void;
  /**
   * A logger whose lines all carry `bindings` (`log.child({ chatId })`). Optional so hand-made test
   * loggers stay four functions; use {@link withFields} when the logger may lack it.
   */
  child?(bindings: LogFields): Logger;
};

const LEVELS = ["silent", "error", "warn", "info", "debug"] as const;
type Level = (typeof LEVELS)[number];

const CENSOR = "[redacted]";
const SECRET_FIELD = /token|secret|key|password|authorization|signature/i;
/** Field names that match SECRET_FIELD but hold counts, not credentials. */
const NOT_SECRET_FIELD = /^(hasToken|tokens|promptTokens|completionTokens)$/;
const SECRET_VALUE = [
  // No \b before the digits: in a Bot API URL the token follows "bot" directly (`/bot123:AA…/getMe`).
  /(?<!\d)\d{6,12}:[A-Za-z0-9_-]{30,}/g, // Telegram bot token
  /\bsk-[A-Za-z0-9_-]{16,}/g, // OpenAI/OpenRouter style keys
  /(?<!\d)\d{3,}:AA[A-Za-z0-9_-]{20,}/g, // Crypto Pay tokens
  /\bTG-[A-Z0-9]{12,}\b/g, // sandbox voucher codes (delivered goods)
];

/**
 * Paths pino censors however the field above is named: credentials in options and headers, and the
 * goods a customer paid for (`IssuedGoods.secret`). Top-level names are covered by SECRET_FIELD.
 */
export const REDACT_PATHS = [
  "*.token",
  "*.apiKey",
  "*.provisioningKey",
  "*.cryptopayToken",
  "*.secret",
  "*.password",
  "*.authorization",
  'headers["x-telegram-bot-api-secret-token"]',
  'headers["crypto-pay-api-signature"]',
  "goods.secret",
  "*.goods.secret",
  "delivered.secret",
];

/** Removes anything that looks like a credential (or a delivered voucher) from a string. */
export function redact(text: string): string {
  return SECRET_VALUE.reduce((out, pattern) => out.replace(pattern, CENSOR), text);
}

/** Censors secret-named fields and secret-looking strings, a few levels deep; leaves errors to the serializer. */
function clean(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return redact(value);
  if (value === null || typeof value !== "object" || value instanceof Error || depth > 4) return value;
  if (Array.isArray(value)) return value.map((item) => clean(item, depth + 1));
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value; // Dates, Buffers, class instances: as pino prints them
  const out: LogFields = {};
  for (const [name, field] of Object.entries(value)) {
    out[name] =
      SECRET_FIELD.test(name) && !NOT_SECRET_FIELD.test(name) && field != null && typeof field !== "boolean"
        ? CENSOR
        : clean(field, depth + 1);
  }
  return out;
}

/** pino's error serializer (type, message, stack, cause, own fields), with secrets removed from every string. */
function serializeError(value: unknown): unknown {
  // The serializer's result has its own prototype; spread it so clean() walks it like plain data.
  return value instanceof Error ? clean({ ...pino.stdSerializers.err(value) }) : value;
}

/**
 * The root logger. `sink` receives each line without its newline (tests); by default lines are written
 * synchronously to stderr, so none is lost when the process exits right after logging.
 */
export function createLogger(level: string = process.env.TOKENGOBLIN_LOG ?? "info", sink?: (line: string) => void): Logger {
  const destination: DestinationStream = sink
    ? { write: (line: string) => sink(line.endsWith("\n") ? line.slice(0, -1) : line) }
    : pino.destination({ fd: 2, sync: true });
  const root = pino(
    {
      level: (LEVELS as readonly string[]).includes(level) ? (level as Level) : "info",
      base: undefined, // no pid/hostname: the process supervisor knows them
      messageKey: "msg",
      timestamp: () => `,"t":"${new Date().toISOString()}"`,
      formatters: {
        level: (label) => ({ level: label }),
        log: (fields) => clean(fields) as LogFields,
        bindings: (bindings) => clean(bindings) as LogFields,
      },
      serializers: { err: serializeError, error: serializeError },
      redact: { paths: REDACT_PATHS, censor: CENSOR },
    },
    destination,
  );
  return wrap(root);
}

function wrap(instance: pino.Logger): Logger {
  const at = (name: Exclude<Level, "silent">) => (message: string, fields?: LogFields) => {
    if (!instance.isLevelEnabled(name)) return;
    instance[name](fields ?? {}, redact(message));
  };
  return {
    error: at("error"),
    warn: at("warn"),
    info: at("info"),
    debug: at("debug"),
    child: (bindings) => wrap(instance.child(bindings)),
  };
}

/** `log.child(bindings)` when the logger has it; otherwise a logger that adds `bindings` to each line. */
export function withFields(log: Logger, bindings: LogFields): Logger {
  if (log.child) return log.child(bindings);
  const at = (name: Exclude<Level, "silent">) => (message: string, fields?: LogFields) => log[name](message, { ...bindings, ...fields });
  return {
    error: at("error"),
    warn: at("warn"),
    info: at("info"),
    debug: at("debug"),
    child: (more) => withFields(log, { ...bindings, ...more }),
  };
}

/** A logger that prints nothing, for tests and benchmarks. */
export const silentLogger: Logger = { error() {}, warn() {}, info() {}, debug() {}, child: () => silentLogger };
