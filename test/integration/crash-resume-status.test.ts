/**
 * Issue 18, point 1: a delivery resumed by a status question ends in the goods message. The shop is
 * the real product in a child process; key creation at the OpenRouter stand-in takes 4 s, the shop is
 * SIGKILLed 1 s into it, restarted, and the customer asks "status" at once. Whatever instance or path
 * resumes the delivery, the customer must be shown the key (exactly one live key, and it is the one
 * shown), and a later status answers "delivered", not the stale "Delivering now".
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { startBotApiStub } from "../support/bot-api-stub.ts";
import { askStatus, orderUntilPayLink, payUntilAcknowledged, secretsHeld, textsShown } from "../support/crash-customers.ts";
import { freePort, killableShopEnv, shopProcess, sleep, until } from "../support/crash-shop.ts";
import { startOpenRouterStub } from "../support/openrouter-stub.ts";
import { flushRedis, probeRedis, redisDbUrl } from "../support/redis.ts";

const KEY_CREATION_MS = 4_000;
const KILL_AFTER_MS = 1_000;
const CHAT_ID = 7_301;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function payKillAndAskStatus(storeUrl: string) {
  const api = await startBotApiStub();
  cleanups.push(() => api.close());
  const openrouter = await startOpenRouterStub();
  cleanups.push(() => openrouter.close());
  openrouter.createLatencyMs = KEY_CREATION_MS;
  openrouter.credits.total_credits = 1_000_000;
  const port = await freePort();
  const shop = shopProcess({
    api,
    port,
    env: killableShopEnv({ storeUrl, api, openrouter, port }),
  });
  cleanups.push(() => shop.stop());
  await shop.start();
  const customer = await orderUntilPayLink(api, CHAT_ID);

  // Pay; the shop starts creating the key (4 s) and dies 1 s into it.
  void payUntilAcknowledged(shop.baseUrl, customer, Date.now() + 60_000);
  expect(await until(() => openrouter.inFlightCreates > 0, 10_000)).toBe(true);
  await sleep(KILL_AFTER_MS); // real time: the shop process dies 1 s into the stand-in's 4 s key creation
  await shop.kill();
  await shop.start();

  // "status" at once: the answer (or a message right after it) must carry the key.
  await askStatus(api, customer);
  const holdsKey = () => secretsHeld(textsShown(api, customer)).length === 1;
  await until(holdsKey, 20_000, 100);
  // A later status says delivered, never the stale "Delivering now".
  await askStatus(api, customer);
  expect(customer.statusAnswer ?? "").not.toContain("Delivering now");
  expect(customer.statusAnswer ?? "").toMatch(/delivered/i);

  const shown = secretsHeld(textsShown(api, customer));
  const live = openrouter.liveKeysFor(customer.orderId);
  expect({ shown: shown.length, live: live.length, same: live[0]?.secret === shown[0] }).toEqual({ shown: 1, live: 1, same: true });
}

const redisUrl = redisDbUrl(12);
const redisProblem = await probeRedis(redisUrl);

describe("a delivery resumed by a status question after a kill shows the key (issue 18)", () => {
  it("with SQLite", { timeout: 90_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "tokengoblin-resume-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    await payKillAndAskStatus(`sqlite://${join(dir, "shop.sqlite")}`);
  });

  it.skipIf(redisProblem !== null && !process.env.CI)("with Redis", { timeout: 90_000 }, async () => {
    if (redisProblem !== null) throw new Error(`Redis at ${redisUrl} is unreachable in CI (${redisProblem})`);
    await flushRedis(redisUrl);
    cleanups.push(() => flushRedis(redisUrl));
    await payKillAndAskStatus(redisUrl);
  });
});
