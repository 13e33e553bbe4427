/**
 * A small structured logger: one JSON line per event on stderr. Field values that look like secrets
 * (bot tokens, API keys) and fields named like secrets are redacted, so logs never print them.
 * `TOKENGOBLIN_LOG` sets the level: silent, error, warn, info (default) or debug.
 */
export type LogFields = Record<string, unknown>;
export type Logger = {
  error(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  debug(message: string, fields?: LogFields): void;
};

const LEVELS = { silent: 0, error: 1, warn: 2, info: 3, debug: 4 } as const;
type Level = keyof typeof LEVELS;

const SECRET_FIELD = /token|secret|key|password|authorization|signature/i;
/** Field names that match SECRET_FIELD but hold counts, not credentials. */
const NOT_SECRET_FIELD = /^(hasToken|tokens)$/;
const SECRET_VALUE = [
  /\b\d{6,12}:[A-Za-z0-9_-]{30,}\b/g, // Telegram bot token
  /\bsk-[A-Za-z0-9_-]{16,}\b/g, // OpenAI/OpenRouter style keys
  /\b\d{3,}:AA[A-Za-z0-9_-]{20,}\b/g, // Crypto Pay tokens
];

/** Removes anything that looks like a credential from a string. */
export function redact(text: string): string {
  return SECRET_VALUE.reduce((out, pattern) => out.replace(pattern, "[redacted]"), text);
}

function clean(fields: LogFields): LogFields {
  const out: LogFields = {};
  for (const [name, value] of Object.entries(fields)) {
    if (SECRET_FIELD.test(name) && !NOT_SECRET_FIELD.test(name)) out[name] = "[redacted]";
    else if (typeof value === "string") out[name] = redact(value);
    else out[name] = value;
  }
  return out;
}

export function createLogger(level: string = process.env.TOKENGOBLIN_LOG ?? "info", sink: (line: string) => void = (line) => process.stderr.write(`${line}\n`)): Logger {
  const threshold = LEVELS[(level in LEVELS ? level : "info") as Level];
  const write = (name: Exclude<Level, "silent">) => (message: string, fields: LogFields = {}) => {
    if (LEVELS[name] > threshold) return;
    sink(JSON.stringify({ t: new Date().toISOString(), level: name, msg: redact(message), ...clean(fields) }));
  };
  return { error: write("error"), warn: write("warn"), info: write("info"), debug: write("debug") };
}

/** A logger that prints nothing, for tests and benchmarks. */
export const silentLogger: Logger = { error() {}, warn() {}, info() {}, debug() {} };
