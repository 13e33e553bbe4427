/**
 * (w) Many chats writing at once, in webhook mode on SQLite, as an operator runs it: the compiled
 * product as `npm start` runs it (scripts/start.js, which compiles src/ first when it changed), in its
 * own process (the real HTTP server, webhook route, chat inboxes, engine and store) against the
 * Bot API stand-in (scripts/bot-api-stub.ts), which runs in this process with the load generator, as
 * Telegram runs apart from the shop. `chats` customers each send a message at the same instant (every
 * update posted at once, one connection each); then all of them a second message at once. A reply's
 * latency is from posting its update to the stand-in receiving the bot's `sendMessage` for that chat.
 *
 * Run alone: `npx tsx bench/webhook-load.ts [chats=500]`.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Agent, request } from "node:http";
import { startBotApiStub } from "../scripts/bot-api-stub.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const SECRET = "bench-webhook-secret";

export type WebhookLoad = {
  chats: number;
  /** Latencies of every reply, ms, sorted. */
  latencies: number[];
  p50: number;
  p99: number;
  max: number;
  /** Updates the webhook did not answer 200, and replies that never came. */
  errors: number;
  /** The errors by kind: `status 503`, `no connection`, `no reply in 30 s`. */
  errorKinds: Record<string, number>;
  /** Each burst's wall time until its last reply, ms. */
  bursts: number[];
  /** CPU time the shop's process used per message during the bursts, ms (null where /proc is not readable). */
  cpuPerMessageMs: number | null;
  /** When the webhook answered (the update was kept), ms after posting: p50 and p99. */
  ack: { p50: number; p99: number };
  /** Bot API calls the shop made during the bursts, by method. */
  apiCalls: Record<string, number>;
};

/** CPU time (user + system) a process has used, ms, from /proc; null where that cannot be read. */
function cpuOf(pid: number | undefined): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? ticks * 10 : null; // USER_HZ is 100 on Linux
  } catch {
    return null;
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const port = (server.address() as { port: number }).port;
  await new Promise((done) => server.close(done));
  return port;
}

const percentile = (sorted: readonly number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;

/** Runs the shop in its own process on a fresh SQLite file and sends it `chats` customers twice at once. */
export async function webhookLoad(chats: number): Promise<WebhookLoad> {
  const dir = mkdtempSync(join(tmpdir(), "tokengoblin-webhook-load-"));
  const api = await startBotApiStub();
  const port = await freePort();
  let child: ChildProcess | undefined;
  let output = "";
  // One connection per update, all at once (kept-alive sockets the server closes between bursts would
  // fail a post for a reason of the test's own).
  const agent = new Agent({ keepAlive: false, maxSockets: chats });
  /** POSTs an update to the webhook route; resolves with the status. */
  const post = (body: string) =>
    new Promise<number>((done, fail) => {
      const req = request(
        {
          agent,
          host: "127.0.0.1",
          port,
          method: "POST",
          path: "/telegram/hook",
          headers: {
            "content-type": "application/json",
            "content-length": Buffer.byteLength(body),
            "x-telegram-bot-api-secret-token": SECRET,
          },
        },
        (res) => {
          res.resume();
          res.on("end", () => done(res.statusCode ?? 0));
        },
      );
      req.on("error", fail);
      req.end(body);
    });
  try {
    child = spawn(process.execPath, ["scripts/start.js"], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        TELEGRAM_BOT_TOKEN: api.token,
        TELEGRAM_API_ROOT: api.url,
        TELEGRAM_WEBHOOK_URL: `http://127.0.0.1:${port}/telegram/hook`,
        TELEGRAM_WEBHOOK_SECRET: SECRET,
        HTTP_PORT: String(port),
        PUBLIC_URL: "https://shop.example",
        STORE_URL: `sqlite://${join(dir, "shop.sqlite")}`,
        // The product's own logging (info, one line per update) costs what it costs in production.
        TOKENGOBLIN_LOG: "info",
      },
      stdio: ["ignore", "ignore", "pipe"],
    });
    child.stderr?.on("data", (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4_000)));
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the shop exited during start-up: ${output}`);
      const health = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => null);
      if (health?.status === 200) break;
      if (Date.now() > deadline) throw new Error(`the shop did not become ready within a minute: ${output}`);
      await new Promise((done) => setTimeout(done, 100));
    }

    // Replies by chat, as the stand-in records them.
    const waiting = new Map<string, (at: number) => void>();
    let seen = 0;
    const watch = setInterval(() => {
      for (; seen < api.calls.length; seen++) {
        const call = api.calls[seen]!;
        if (call.method !== "sendMessage" || !call.ok) continue;
        const chatId = String(call.payload.chat_id);
        waiting.get(chatId)?.(performance.now());
        waiting.delete(chatId);
      }
    }, 2);
    watch.unref();
    const latencies: number[] = [];
    const acks: number[] = [];
    const bursts: number[] = [];
    let errors = 0;
    const errorKinds: Record<string, number> = {};
    const failed = (kind: string) => {
      errors += 1;
      errorKinds[kind] = (errorKinds[kind] ?? 0) + 1;
    };
    const burst = async (text: (i: number) => string) => {
      const started = performance.now();
      await Promise.all(
        Array.from({ length: chats }, async (_, i) => {
          const chatId = 2_000_000 + i;
          const update = api.textUpdate(chatId, text(i));
          const replied = new Promise<number>((done) => waiting.set(String(chatId), done));
          const sent = performance.now();
          const status = await post(JSON.stringify(update)).catch(() => 0);
          acks.push(performance.now() - sent);
          if (status !== 200) {
            failed(status === 0 ? "no connection" : `status ${status}`);
            waiting.delete(String(chatId));
            return;
          }
          const at = await Promise.race([replied, new Promise<null>((done) => setTimeout(() => done(null), 30_000).unref())]);
          if (at === null) failed("no reply in 30 s");
          else latencies.push(at - sent);
        }),
      );
      bursts.push(performance.now() - started);
    };
    const cpuBefore = cpuOf(child.pid);
    const callsBefore = api.calls.length;
    await burst((i) => `I need ${1000 + (i % 50) * 100} tokens`);
    await burst(() => "make it 2000");
    const cpuAfter = cpuOf(child.pid);
    clearInterval(watch);
    latencies.sort((a, b) => a - b);
    const cpuPerMessageMs = cpuBefore === null || cpuAfter === null ? null : (cpuAfter - cpuBefore) / (2 * chats);
    const apiCalls: Record<string, number> = {};
    for (const call of api.calls.slice(callsBefore)) apiCalls[call.method] = (apiCalls[call.method] ?? 0) + 1;
    acks.sort((a, b) => a - b);
    const ack = { p50: percentile(acks, 50), p99: percentile(acks, 99) };
    return {
      chats,
      ack,
      latencies,
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      max: latencies.at(-1) ?? 0,
      errors,
      errorKinds,
      bursts,
      cpuPerMessageMs,
      apiCalls,
    };
  } finally {
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((done) => child!.once("exit", done));
      child.kill("SIGTERM");
      await Promise.race([exited, new Promise((done) => setTimeout(done, 5_000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
    agent.destroy();
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const result = await webhookLoad(Number(process.argv[2] ?? 500));
  console.log(
    `${result.chats} chats × 2 bursts: reply p50 ${result.p50.toFixed(0)} ms, p99 ${result.p99.toFixed(0)} ms, max ${result.max.toFixed(0)} ms, ` +
      `errors ${result.errors} ${JSON.stringify(result.errorKinds)}; webhook answered p50 ${result.ack.p50.toFixed(0)} ms, p99 ${result.ack.p99.toFixed(0)} ms; bursts ${result.bursts.map((ms) => `${ms.toFixed(0)} ms`).join(", ")}; shop CPU ${result.cpuPerMessageMs?.toFixed(2) ?? "?"} ms/message; Bot API calls ${JSON.stringify(result.apiCalls)}`,
  );
}
