/**
 * Issue 18: `npm start` with a dependency it cannot reach used to hang silently for ever. The real
 * product (`node --import tsx src/main.ts`, what `npm start` runs) must instead end within its start-up
 * limit with exit code 1 and one line naming the variable to fix: no stack trace, never the token.
 */
import { spawn } from "node:child_process";
import { type Server, type Socket, createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startBotApiStub } from "../support/bot-api-stub.ts";

const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
/** What a start-up may take beyond its limit: loading TypeScript through tsx, closing the app. */
const OVERHEAD_MS = 6_000;
// Assembled at run time, so secret scanners do not flag the file; long like a real one, so the log's
// pattern-based redaction would catch it too, and short enough to be found verbatim if it leaked.
const TOKEN = ["123456", "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"].join(":");

type Run = { code: number | null; ms: number; stdout: string; stderr: string };

function start(env: Record<string, string>): Promise<Run> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
      cwd: REPO_ROOT,
      env: { ...process.env, TELEGRAM_BOT_TOKEN: "", STORE_URL: "memory://", HTTP_PORT: "0", TOKENGOBLIN_LOG: "info", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    // A hang is what this file guards against: never wait for one longer than the test may run.
    const killer = setTimeout(() => child.kill("SIGKILL"), 15_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(killer);
      resolve({ code, ms: performance.now() - started, stdout, stderr });
    });
  });
}

/** The lines meant for a person: everything on stderr that is not a JSON log line. */
const humanLines = (run: Run) => run.stderr.split("\n").filter((line) => line.trim() !== "" && !line.startsWith("{"));

function expectOneLineNaming(run: Run, variable: string, limitMs: number): string {
  expect(run.code, run.stderr).toBe(1);
  expect(run.ms).toBeLessThan(limitMs + OVERHEAD_MS);
  const lines = humanLines(run);
  expect(lines, run.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(new RegExp(`^Start-up failed: ${variable}: `));
  const all = run.stdout + run.stderr;
  expect(all).not.toMatch(/\n\s+at /); // no stack trace
  expect(all).not.toContain(TOKEN);
  expect(all).not.toContain(TOKEN.split(":")[1]);
  return lines[0]!;
}

/** A TCP port that accepts connections and never answers: Redis or a Bot API that hangs. */
let silent: Server;
let silentPort = 0;
const held = new Set<Socket>();
beforeAll(async () => {
  silent = createServer((socket) => {
    held.add(socket);
    socket.on("error", () => {});
  });
  await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
  silentPort = (silent.address() as { port: number }).port;
});
afterAll(async () => {
  for (const socket of held) socket.destroy();
  await new Promise<void>((resolve) => silent.close(() => resolve()));
});

describe("start-up with a dependency it cannot reach ends with one line (issue 18)", () => {
  test("a Redis that refuses connections: STORE_URL is named, with the cause, within the limit", async () => {
    const run = await start({ STORE_URL: "redis://127.0.0.1:1", STARTUP_TIMEOUT_MS: "1500" });
    const line = expectOneLineNaming(run, "STORE_URL", 1500);
    expect(line).toBe(
      "Start-up failed: STORE_URL: cannot reach redis://127.0.0.1:1 within 1.5 s (connection refused); check that Redis runs and the URL is right",
    );
  });

  test("a Redis that accepts and never answers: STORE_URL, no answer within the limit", async () => {
    const run = await start({ STORE_URL: `redis://127.0.0.1:${silentPort}`, STARTUP_TIMEOUT_MS: "1000" });
    expect(expectOneLineNaming(run, "STORE_URL", 1000)).toContain(`cannot reach redis://127.0.0.1:${silentPort} within 1 s (no answer)`);
  });

  test("a Redis password in STORE_URL is not printed", async () => {
    const run = await start({ STORE_URL: "redis://:s3cret-passw0rd@127.0.0.1:1", STARTUP_TIMEOUT_MS: "500" });
    expect(expectOneLineNaming(run, "STORE_URL", 500)).toContain("redis://:***@127.0.0.1:1");
    expect(run.stderr).not.toContain("s3cret-passw0rd");
  });

  test("an SQLite file whose folder cannot exist: STORE_URL is named at once, without waiting for the limit", async () => {
    const run = await start({ STORE_URL: "sqlite:///proc/nope/x.sqlite", STARTUP_TIMEOUT_MS: "60000" });
    const line = expectOneLineNaming(run, "STORE_URL", 0);
    expect(line).toContain("cannot open sqlite:///proc/nope/x.sqlite (cannot create the folder /proc/nope: no such file or directory)");
  });

  test("a Bot API that refuses connections: TELEGRAM_API_ROOT is named, and the token appears nowhere", async () => {
    const run = await start({ TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_API_ROOT: "http://127.0.0.1:1", STARTUP_TIMEOUT_MS: "1500" });
    const line = expectOneLineNaming(run, "TELEGRAM_API_ROOT", 1500);
    expect(line).toContain("cannot reach the Bot API at http://127.0.0.1:1 within 1.5 s (connection refused)");
  });

  test("a Bot API that accepts and never answers: TELEGRAM_API_ROOT, no answer within the limit", async () => {
    const run = await start({ TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_API_ROOT: `http://127.0.0.1:${silentPort}`, STARTUP_TIMEOUT_MS: "1000" });
    expect(expectOneLineNaming(run, "TELEGRAM_API_ROOT", 1000)).toContain("within 1 s (no answer)");
  });
});

describe("start-up with a Bot API that answers but refuses", () => {
  test("a token the Bot API does not accept: TELEGRAM_BOT_TOKEN is named at once, without the token", async () => {
    const api = await startBotApiStub(); // it knows another token, and answers 401 to this one
    try {
      const run = await start({ TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_API_ROOT: api.url, STARTUP_TIMEOUT_MS: "60000" });
      const line = expectOneLineNaming(run, "TELEGRAM_BOT_TOKEN", 0);
      expect(line).toContain(`the Bot API at ${api.url} refused the token (401 Unauthorized)`);
    } finally {
      await api.close();
    }
  });
});

describe("STARTUP_TIMEOUT_MS", () => {
  test("a value that is not a duration stops start-up with one line naming it", async () => {
    const run = await start({ STARTUP_TIMEOUT_MS: "soon" });
    expect(run.code).toBe(1);
    expect(humanLines(run)).toEqual([expect.stringMatching(/^Configuration error: STARTUP_TIMEOUT_MS: /)]);
  });
});
