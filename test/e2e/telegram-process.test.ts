/**
 * Issue 11, as an operator sees it: `src/main.ts` in its own process, in webhook mode against the Bot
 * API stand-in, fed hostile updates over HTTP. The process must stay up, serve the next customer,
 * never print the bot token, and never need its last-resort handlers (they would log "unhandled" or
 * "uncaught"): the causes are fixed where they happen.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ChatId } from "../../src/domain/ids.ts";
import { openStore } from "../../src/store/index.ts";
import { type BotApiStub, telegramShops } from "../support/telegram-shop.ts";

const SECRET = "s3cret-value-for-the-webhook";
/** Only the Bot API stand-in and clean-ups: the bot itself is `npm start`'s process. */
const shops = telegramShops();

/** A real-time pause, for waiting on the bot's own process only. */
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

type Bot = { child: ChildProcess; output: () => string; port: number; exited: Promise<number | null> };

/** Starts `npm start`'s entry point in webhook mode and waits until /healthz says ready. */
async function startBot(api: BotApiStub, storeUrl: string): Promise<Bot> {
  const port = await freePort();
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    cwd: join(import.meta.dirname, "../.."),
    env: {
      PATH: process.env.PATH,
      TELEGRAM_BOT_TOKEN: api.token,
      TELEGRAM_API_ROOT: api.url,
      TELEGRAM_WEBHOOK_URL: `http://127.0.0.1:${port}/telegram/hook`,
      TELEGRAM_WEBHOOK_SECRET: SECRET,
      HTTP_PORT: String(port),
      PUBLIC_URL: "https://shop.example",
      STORE_URL: storeUrl,
      TOKENGOBLIN_LOG: "info",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  shops.onCleanup(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGKILL");
      await exited;
    }
  });
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the bot exited during start-up:\n${output}`);
    const health = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => null);
    if (health?.status === 200) break;
    if (Date.now() > deadline) throw new Error(`the bot did not become ready:\n${output}`);
    await sleep(100); // a real process starting: ask its /healthz again
  }
  return { child, output: () => output, port, exited };
}

async function post(bot: Bot, update: object): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${bot.port}/telegram/hook`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-telegram-bot-api-secret-token": SECRET },
    body: JSON.stringify(update),
  });
  await response.text();
  return response.status;
}

/** Types a message into the webhook and returns what the bot shows next in that chat. */
async function say(api: BotApiStub, bot: Bot, chatId: number, text: string) {
  const since = api.mark();
  expect(await post(bot, api.textUpdate(chatId, text))).toBe(200);
  return api.nextShown(chatId, since, 10_000);
}

describe("the bot process under hostile updates (issue 11)", () => {
  it(
    "stays up, serves the next customer, keeps a held chat's message for later and never prints the token",
    { timeout: 90_000 },
    async () => {
      const dir = mkdtempSync(join(tmpdir(), "tokengoblin-process-"));
      shops.onCleanup(() => rmSync(dir, { recursive: true, force: true }));
      const storeUrl = `sqlite://${join(dir, "shop.sqlite")}`;
      const api = await shops.stub();
      const bot = await startBot(api, storeUrl);

      // 1. A message without a chat: it used to end the process 300 ms later (the typing timer).
      const chatless = {
        update_id: 80_001,
        message: {
          message_id: 1,
          date: Math.floor(Date.now() / 1000),
          from: { id: 4001, is_bot: false, first_name: "Ghost" },
          text: "hello",
        },
      };
      expect(await post(bot, chatless)).toBe(200);

      // 2. A chat held by a crashed instance (its lease outlives the webhook answer): the update is kept
      //    in the chat's inbox and Telegram is answered; it is applied once the lease runs out.
      const store = await openStore({ kind: "sqlite", path: join(dir, "shop.sqlite") });
      shops.onCleanup(() => store.close());
      expect((await store.openChat(ChatId.parse("4002"), { owner: "crashed-instance", ttlMs: 2_000 })).held).toBe(true);
      const heldSince = api.mark();
      const held = post(bot, api.textUpdate(4002, "I need 2000 tokens"));

      // 3. Meanwhile a customer buys, and blocked the bot before the delivery message (403).
      expect(await say(api, bot, 4003, "I need 2000 tokens")).toContain("$40.00");
      const invoice = await say(api, bot, 4003, "yes");
      const payPath = /https:\/\/shop\.example(\/pay\/sandbox\/[A-Za-z0-9_-]+)/.exec(invoice)?.[1];
      expect(payPath, invoice).toBeDefined();
      api.failNext("sendMessage", { error_code: 403, description: "Forbidden: bot was blocked by the user" });
      const paySince = api.mark();
      expect((await fetch(`http://127.0.0.1:${bot.port}${payPath}`, { method: "POST" })).status).toBe(200);
      await api.waitFor((call) => call.method === "sendMessage" && !call.ok, paySince);

      // 4. The held chat: Telegram was answered at once, and the customer's message was not lost: once
      //    the crashed instance's lease ran out, the sweeper handed the waiting inbox on and it was answered.
      expect(await held).toBe(200);
      expect(await api.nextShown(4002, heldSince, 45_000)).toContain("$40.00");

      // 5. Still alive, still serving, nothing escaped, no token anywhere.
      expect(bot.child.exitCode, bot.output()).toBeNull();
      expect(await say(api, bot, 4004, "I need 3000 tokens")).toContain("3,000 tokens");
      const output = bot.output();
      expect(output).not.toContain(api.token);
      expect(output).not.toMatch(/unhandled|uncaught/i);
      expect(output).toContain("without a chat");

      // 6. And it still shuts down cleanly when asked.
      bot.child.kill("SIGTERM");
      expect(await bot.exited).toBe(0);
      expect(bot.output()).not.toContain(api.token);
      // Everything it sent is in: the held chat's message was answered once.
      expect(api.callsOf("sendMessage", 4002)).toHaveLength(1);
    },
  );
});
