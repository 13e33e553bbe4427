/**
 * The shop as a real operating-system process, for tests that kill it: `node --import tsx src/main.ts`
 * (what `npm start` runs) configured by environment variables only, started, SIGKILLed and restarted
 * on the same HTTP port and the same store. The parent keeps the outside world (Bot API stand-in,
 * OpenRouter stand-in, customers) alive across the process's deaths.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import type { BotApiStub } from "./bot-api-stub.ts";
import type { OpenRouterStub } from "./openrouter-stub.ts";

const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
const CLOCK_PRELOAD = fileURLToPath(new URL("./crash-clock.ts", import.meta.url));
const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;
const OUTPUT_LINES_KEPT = 4000;

/** A TCP port nobody listens on right now (the shop keeps it across restarts). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no free port");
  return address.port;
}

/** A real-time pause, for waits on real processes and sockets only (a shop process, a redis-server, a stand-in). */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));

/** Polls `condition` until it holds or `timeoutMs` passes; returns whether it held. */
export async function until(condition: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 50): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(everyMs); // polls real processes and sockets (a shop process, a stand-in, a redis-server)
  }
}

/**
 * The configuration of a shop these tests kill, environment only, as an operator would set it: Telegram
 * and OpenRouter are the stand-ins, payments the sandbox (its Pay button is the "provider").
 */
export function killableShopEnv(options: {
  storeUrl: string;
  api: BotApiStub;
  openrouter: OpenRouterStub;
  port: number;
}): Record<string, string> {
  const { storeUrl, api, openrouter, port } = options;
  return {
    TELEGRAM_BOT_TOKEN: api.token,
    TELEGRAM_API_ROOT: api.url,
    STORE_URL: storeUrl,
    PAYMENT_PROVIDER: "sandbox",
    DELIVERY_PROVIDER: "openrouter",
    OPENROUTER_PROVISIONING_KEY: openrouter.provisioningKey,
    OPENROUTER_API_URL: openrouter.url,
    // Sandbox money with a real delivery provider is refused by default; these tests mean it.
    ALLOW_SANDBOX_PAYMENTS_WITH_REAL_DELIVERY: "1",
    HTTP_PORT: String(port),
    TOKENGOBLIN_LOG: process.env.CRASH_LOG ?? "warn",
    // Rules only: an LLM key in the developer's environment must not make the shop call out.
    LLM_API_KEY: "",
    OPENROUTER_API_KEY: "",
  };
}

export type ShopProcess = ReturnType<typeof shopProcess>;

/**
 * One shop, started as often as needed. `env` is the whole product configuration; `start` may add a
 * clock skew (see `crash-clock.ts`) for a restart "later".
 */
export function shopProcess(options: { env: Record<string, string>; api: BotApiStub; port: number }) {
  let child: ChildProcess | null = null;
  let exited: Promise<void> = Promise.resolve();
  let killedByUs = false;
  const output: string[] = [];
  const unexpectedExits: string[] = [];
  let incarnation = 0;

  const keep = (line: string) => {
    output.push(`[#${incarnation}] ${line}`);
    if (output.length > OUTPUT_LINES_KEPT) output.splice(0, output.length - OUTPUT_LINES_KEPT);
  };
  const baseUrl = `http://127.0.0.1:${options.port}`;

  const healthy = async () => {
    try {
      const response = await fetch(`${baseUrl}/healthz`, { signal: AbortSignal.timeout(1_000) });
      return response.status === 200;
    } catch {
      return false;
    }
  };

  const shop = {
    port: options.port,
    baseUrl,
    /** How many times the process was started and SIGKILLed. */
    starts: 0,
    kills: 0,
    /** Exits nobody asked for (a crash of the product itself), with the exit code or signal. */
    unexpectedExits,
    /** The last lines the processes printed (JSON log lines), for diagnosis. */
    output: () => output.join("\n"),
    running: () => child !== null,

    /**
     * Starts the process and waits until it serves `/healthz` and polls the Bot API: only then can it
     * take both payments and customer messages.
     */
    async start(extraEnv: Record<string, string> = {}) {
      if (child) throw new Error("the shop is already running");
      incarnation++;
      shop.starts++;
      killedByUs = false;
      const pollsBefore = options.api.callsOf("getUpdates").length;
      const proc = spawn(process.execPath, ["--import", "tsx", "--import", CLOCK_PRELOAD, "src/main.ts"], {
        cwd: REPO_ROOT,
        env: { ...process.env, ...options.env, ...extraEnv },
        stdio: ["ignore", "pipe", "pipe"],
      });
      child = proc;
      for (const stream of [proc.stdout, proc.stderr]) {
        let partial = "";
        stream.on("data", (chunk: Buffer) => {
          const lines = (partial + chunk.toString("utf8")).split("\n");
          partial = lines.pop() ?? "";
          lines.forEach(keep);
        });
      }
      exited = new Promise<void>((resolve) => {
        proc.once("exit", (code, signal) => {
          if (!killedByUs) unexpectedExits.push(`start #${incarnation}: exit code ${code ?? "-"} signal ${signal ?? "-"}`);
          if (child === proc) child = null;
          resolve();
        });
      });
      const ready = await until(
        async () => {
          if (child !== proc) return true;
          return (await healthy()) && options.api.callsOf("getUpdates").length > pollsBefore;
        },
        READY_TIMEOUT_MS,
        50,
      );
      if (child !== proc || !ready) {
        throw new Error(`the shop did not become ready within ${READY_TIMEOUT_MS} ms; its output:\n${shop.output()}`);
      }
    },

    /** SIGKILL: no shutdown code runs, exactly like a crash or an OOM kill. */
    async kill() {
      const proc = child;
      if (!proc) return;
      killedByUs = true;
      shop.kills++;
      proc.kill("SIGKILL");
      await exited;
    },

    /** A polite stop (SIGTERM); SIGKILL if it does not end in time. Not counted as a kill. */
    async stop() {
      const proc = child;
      if (!proc) return;
      killedByUs = true;
      proc.kill("SIGTERM");
      // A cap on a real process's exit, not a wait: the race ends as soon as it exited.
      const stopped = await Promise.race([exited.then(() => true), sleep(STOP_TIMEOUT_MS).then(() => false)]);
      if (!stopped) {
        proc.kill("SIGKILL");
        await exited;
      }
    },

    /** The process's `/metrics` counter value for a series, e.g. `tokengoblin_transitions_total{to="expired"}`. */
    async metric(name: string, labels: Record<string, string> = {}): Promise<number> {
      const text = await fetch(`${baseUrl}/metrics`, { signal: AbortSignal.timeout(2_000) }).then((r) => r.text());
      let total = 0;
      for (const line of text.split("\n")) {
        const match = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
        if (!match || match[1] !== name) continue;
        const series = match[2] ?? "";
        if (Object.entries(labels).every(([k, v]) => series.includes(`${k}="${v}"`))) total += Number(match[3]);
      }
      return total;
    },
  };
  return shop;
}

export { seededRandom } from "./seeded-random.ts";
