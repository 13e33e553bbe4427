/**
 * Issue 20, point 5: Redis down — fail fast, lose nothing. The real app (Telegram polling against the
 * Bot API stand-in, sandbox payments, OpenRouter keys that take 1.5 s to create) on a Redis of the
 * test's own, stopped mid-purchase and again mid-delivery, then started again:
 * - while it is down, a customer's message is answered at once with "one moment" in their language,
 *   /healthz says 503, the pay page says the click was not recorded (503);
 * - when it is back, the shop recovers by itself: the message sent during the outage is answered, and
 *   every paid order is delivered exactly once.
 */
import { afterEach, describe, expect, test } from "vitest";
import type { App } from "../../src/app.ts";
import { createApp } from "../../src/app.ts";
import { loadConfig } from "../../src/config.ts";
import { silentLogger } from "../../src/log.ts";
import { type TelegramHandle, startTelegram } from "../../src/telegram/index.ts";
import { buttonsOf, startBotApiStub } from "../support/bot-api-stub.ts";
import { type Customer, orderUntilPayLink, payUntilAcknowledged, secretsHeld, textsShown } from "../support/crash-customers.ts";
import { sleep, until } from "../support/crash-shop.ts";
import { startOpenRouterStub } from "../support/openrouter-stub.ts";
import { redisServerMissing, startOwnRedis } from "../support/redis-server.ts";

const missing = redisServerMissing();
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

const healthz = async (app: App) => (await fetch(`http://127.0.0.1:${app.port}/healthz`).catch(() => null))?.status ?? 0;

describe.skipIf(missing !== null && !process.env.CI)("a Redis outage (issue 20)", () => {
  // The mid-delivery outages: one long, or several short ones at uneven times.
  const schedules = [
    { name: "one outage of 3 s", outages: [{ afterMs: 0, downMs: 3_000 }] },
    {
      name: "three short outages",
      outages: [
        { afterMs: 0, downMs: 700 },
        { afterMs: 400, downMs: 300 },
        { afterMs: 900, downMs: 1_200 },
      ],
    },
  ];
  test.each(schedules)(
    "mid-purchase and mid-delivery ($name): fail fast while it is down, then every message answered and every paid order delivered once",
    { timeout: 120_000 },
    async ({ outages }) => {
      if (missing !== null) throw new Error(missing);
      const redis = await startOwnRedis({ persistent: true });
      cleanups.push(() => redis.dispose());
      const api = await startBotApiStub();
      cleanups.push(() => api.close());
      const openrouter = await startOpenRouterStub();
      cleanups.push(() => openrouter.close());
      openrouter.createLatencyMs = 1_500;
      openrouter.credits.total_credits = 1_000_000;
      const app = await createApp(
        loadConfig({
          STORE_URL: redis.url,
          TELEGRAM_BOT_TOKEN: api.token,
          TELEGRAM_API_ROOT: api.url,
          DELIVERY_PROVIDER: "openrouter",
          OPENROUTER_PROVISIONING_KEY: openrouter.provisioningKey,
          OPENROUTER_API_URL: openrouter.url,
          ALLOW_SANDBOX_PAYMENTS_WITH_REAL_DELIVERY: "1",
          HTTP_PORT: "0",
        }),
        { log: silentLogger, sweepIntervalMs: 1_000 },
      );
      await app.start();
      const telegram: TelegramHandle = await startTelegram(app, { pollTimeoutSeconds: 1, bot: { rateLimit: false } });
      cleanups.push(async () => {
        await telegram.stop();
        await app.close();
      });
      expect(await healthz(app)).toBe(200);

      // Six customers hold pay links; a seventh has a quote and is about to confirm it.
      const customers: Customer[] = await Promise.all([1, 2, 3, 4, 5, 6].map((n) => orderUntilPayLink(api, 9_100 + n)));
      const seventh = 9_107;
      api.speaks(seventh, "ru");
      const asked = api.mark();
      api.text(seventh, "хочу 2000 токенов");
      await api.waitFor((call) => call.method === "sendMessage" && String(call.payload.chat_id) === String(seventh), asked, 10_000);
      const quote = api.messages(seventh).at(-1);
      const confirm = buttonsOf(quote).find((b) => b.callback_data?.includes("confirm") || b.text.includes("Подтвердить"));
      expect(confirm?.callback_data).toBeTruthy();

      // Mid-purchase: Redis stops; the confirmation is answered at once in Russian, health and pay page say no.
      await redis.stop();
      const pressed = api.mark();
      const started = Date.now();
      api.press(seventh, quote!, confirm!.callback_data!);
      const oneMoment = await api.waitFor(
        (call) => call.method === "sendMessage" && String(call.payload.chat_id) === String(seventh),
        pressed,
        10_000,
      );
      expect(String(oneMoment.payload.text)).toContain("Минуту");
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(await healthz(app)).toBe(503);
      const page = await fetch(`http://127.0.0.1:${app.port}/pay/sandbox/${customers[0]!.paymentId}`, { method: "POST" });
      expect(page.status).toBe(503);
      await redis.restart();

      // Back: the confirmation sent during the outage is answered with its pay link.
      expect(
        await until(() => textsShown(api, { chatId: seventh } as Customer).some((text) => text.includes("/pay/sandbox/")), 30_000, 100),
      ).toBe(true);
      expect(await until(async () => (await healthz(app)) === 200, 10_000, 100)).toBe(true);

      // Mid-delivery: the six pay; Redis stops while keys are being created.
      const paying = customers.map((customer) => payUntilAcknowledged(`http://127.0.0.1:${app.port}`, customer, Date.now() + 60_000));
      expect(await until(() => openrouter.inFlightCreates > 0, 20_000, 20)).toBe(true);
      // Real time against real processes: a redis-server stopped and restarted while key creations are on the stand-in's socket.
      for (const { afterMs, downMs } of outages) {
        await sleep(afterMs);
        await redis.stop();
        await sleep(downMs);
        await redis.restart();
      }
      await Promise.all(paying);

      // Every paid order is delivered exactly once: one code shown per customer, and it is the order's live key.
      const holdsKey = (c: Customer) => secretsHeld(textsShown(api, c)).length > 0;
      await until(() => customers.every(holdsKey), 60_000, 200);
      expect(customers.filter((customer) => !holdsKey(customer)).map((customer) => customer.chatId)).toEqual([]);
      for (const customer of customers) {
        const shown = secretsHeld(textsShown(api, customer));
        expect(shown, `chat ${customer.chatId}`).toHaveLength(1);
        expect(openrouter.liveKeysFor(customer.orderId).map((key) => key.secret)).toContain(shown[0]);
      }
    },
  );
});
