/**
 * The kill test (issues 11 and 18), shared by the files that run it on each store
 * (test/integration/crash.test.ts on SQLite, crash-redis.test.ts, crash-cluster.test.ts; one file per
 * store so the runs, which mostly wait on real processes, go on side by side). A burst of paid purchases
 * with a slow delivery stand-in (OpenRouter key creation takes 1 s, or 1–3 s in the harsh schedule), the
 * shop process SIGKILLed at random moments while deliveries run (3 times, or 6) and restarted each time;
 * afterwards every paid order must be delivered exactly once (the customer holds the key after at most
 * one status question), no live key may be left that nobody was shown, and no customer is ever told the
 * order expired, not even an hour later when the sweeper looks at the payment deadlines.
 *
 * The shop is the real product (`node --import tsx src/main.ts`, configured by environment only)
 * in a child process; this process plays the world around it, which survives the kills: the Bot API
 * stand-in, the OpenRouter stand-in and the customers. The standard schedule runs on SQLite; the harsh
 * one on SQLite, Redis and a three-node Redis Cluster (Redis and the cluster required when CI is set).
 *
 * Knobs (environment): CRASH_SEED=<seed printed in the figures> repeats a run's arrivals and kill
 * moments; CRASH_CUSTOMERS and CRASH_KILLS override the schedule's size (CRASH_KILLS=0 is the control:
 * everything must pass); CRASH_LOG=info sets the shop's log level and CRASH_VERBOSE=1 prints its log and
 * what each lost customer was shown.
 *
 * Timing: a restarted process has the same INSTANCE_ID (host:port), so it takes back the chat leases
 * and goods claims its killed predecessor held at once; the quiet spell after the last kill covers a
 * delivery attempt cut off mid-way (its goods claim, 30 s) being retried by the sweeper.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "vitest";
import { type BotApiStub, startBotApiStub } from "./bot-api-stub.ts";
import {
  type Customer,
  askStatus,
  describeShown,
  invoicePaid,
  orderUntilPayLink,
  payUntilAcknowledged,
  secretsHeld,
  textsShown,
  toldDeliveryFailed,
  toldExpired,
  toldLateMoney,
} from "./crash-customers.ts";
import { type ShopProcess, freePort, killableShopEnv, seededRandom, shopProcess, sleep, until } from "./crash-shop.ts";
import { type OpenRouterStub, startOpenRouterStub } from "./openrouter-stub.ts";
import { flushRedis, probeRedis, redisDbUrl } from "./redis.ts";
import { isolatedRedisUrl } from "./redis-store.ts";

const SEED = Number(process.env.CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));

/** How hard a run is: how many customers pay, how long a key creation takes, how often the shop is killed. */
type Schedule = { name: string; customers: number; kills: number; keyCreationMs: { min: number; max: number }; arrivalSpreadMs: number };
/** Issue 11's schedule: key creation takes about a second, three kills. */
export const STANDARD: Schedule = {
  name: "standard",
  customers: 30,
  kills: 3,
  keyCreationMs: { min: 1_000, max: 1_000 },
  arrivalSpreadMs: 5_000,
};
/** Issue 18's harsher one, which lost paid goods on the old main: 1–3 s key creation, six kills, forty customers. */
export const HARSH: Schedule = {
  name: "harsh",
  customers: 40,
  kills: 6,
  keyCreationMs: { min: 1_000, max: 3_000 },
  arrivalSpreadMs: 15_000,
};
export const sized = (schedule: Schedule): Schedule => ({
  ...schedule,
  customers: Number(process.env.CRASH_CUSTOMERS ?? schedule.customers),
  kills: Number(process.env.CRASH_KILLS ?? schedule.kills),
});
/** After each (re)start the shop runs undisturbed for a random part of this, before the next kill is aimed. */
const MAX_CALM_MS = 1_500;
/**
 * The status questions wait at most this long after the last kill (less when every paying customer
 * already holds the goods): the restarted shop takes back its predecessor's leases and goods claims at
 * once, but a goods claim left by a process that never comes back lasts 30 s (ISSUE_CLAIM_MS in
 * src/delivery/ledger.ts), so from here on every delivery can be finished.
 */
const QUIET_AFTER_LAST_KILL_MS = 35_000;
const PAYMENT_TTL_MINUTES = 60;
/** "An hour later": past every payment deadline, so the sweeper looks at every unfinished order. */
const LATER_MS = (PAYMENT_TTL_MINUTES + 5) * 60_000;
const ADMIN_CHAT_ID = 990_001;
const FIRST_CHAT_ID = 5_001;
const REDIS_DB = 11;
export const TEST_TIMEOUT_MS = 200_000;

type Figures = {
  store: string;
  schedule: string;
  seed: number;
  purchases: number;
  paid: number;
  kills: number;
  /** Kills that hit at least one key creation in flight: without one the run proves nothing. */
  killsDuringDelivery: number;
  statusQuestions: number;
  delivered: number;
  escalated: number;
  lost: number;
  toldExpired: number;
  /** Paid customers told their money came after the order closed (a replayed payment taken for late money). */
  toldLateMoney: number;
  expiredBySweeper: number;
  duplicated: number;
  orphanLiveKeys: number;
  keysCreated: number;
  /** Exits of the shop nobody asked for: the product crashing by itself. */
  unexpectedExits: number;
  lostOrders: string[];
  seconds: number;
};

const cleanups: (() => Promise<void> | void)[] = [];
/** Stops what a kill test started (the shop, the stand-ins, its store); each test file runs it after each test. */
export async function cleanUpKillTest(): Promise<void> {
  while (cleanups.length > 0) await cleanups.pop()!();
}

/** The world around the shop: it outlives every kill. */
async function startWorld(schedule: Schedule, random: () => number) {
  const api = await startBotApiStub();
  cleanups.push(() => api.close());
  const openrouter = await startOpenRouterStub();
  cleanups.push(() => openrouter.close());
  const { min, max } = schedule.keyCreationMs;
  openrouter.createLatencyMs = () => min + Math.round(random() * (max - min));
  // Enough credit for every order: "out of stock" is not what this test is about.
  openrouter.credits.total_credits = 1_000_000;
  return { api, openrouter };
}

type KillPlan = { calmMs: number; moment: number };

/**
 * Kills the shop once per plan while deliveries run: after a calm spell it waits for a key creation to
 * be under way (up to 3 s), then SIGKILLs at a seeded moment inside the 1 s creation window, and
 * restarts. Returns when the last restart is ready, with the time of the last kill and how many kills
 * hit a delivery.
 */
async function killRepeatedly(shop: ShopProcess, openrouter: OpenRouterStub, plans: KillPlan[], log: string[], keyCreationMs: number) {
  let lastKillAt = Date.now();
  let duringDelivery = 0;
  for (const { calmMs, moment } of plans) {
    // Real time against real processes: the shop runs in a child process and the kill lands at a seeded moment of a key creation on the stand-in's socket.
    await sleep(calmMs);
    await until(() => openrouter.inFlightCreates > 0, 3_000);
    await sleep(moment * keyCreationMs);
    const inFlight = openrouter.inFlightCreates;
    if (inFlight > 0) duringDelivery++;
    await shop.kill();
    lastKillAt = Date.now();
    log.push(`kill ${shop.kills} with ${inFlight} key creations in flight`);
    await shop.start();
  }
  return { lastKillAt, duringDelivery };
}

async function runKillTest(store: string, storeUrl: string, schedule: Schedule): Promise<Figures> {
  const startedAt = Date.now();
  const random = seededRandom(SEED);
  // Drawn up front, so the seed alone fixes arrivals and kill moments whatever the timing.
  // Payments arrive over a spell, so successive kills meet different deliveries (and some finish).
  const arrivals = Array.from({ length: schedule.customers }, () => random() * schedule.arrivalSpreadMs);
  const killPlans = Array.from({ length: schedule.kills }, () => ({ calmMs: random() * MAX_CALM_MS, moment: 0.1 + random() * 0.8 }));

  const { api, openrouter } = await startWorld(schedule, seededRandom(SEED + 1));
  const port = await freePort();
  const shop = shopProcess({
    api,
    port,
    env: {
      ...killableShopEnv({ storeUrl, api, openrouter, port }),
      PAYMENT_TTL_MINUTES: String(PAYMENT_TTL_MINUTES),
      ADMIN_CHAT_IDS: String(ADMIN_CHAT_ID),
    },
  });
  cleanups.push(() => shop.stop());
  await shop.start();

  // 1. Every customer orders and gets a pay link while the shop is healthy: the issue is about paid orders.
  const customers: Customer[] = await Promise.all(
    Array.from({ length: schedule.customers }, (_, i) => orderUntilPayLink(api, FIRST_CHAT_ID + i)),
  );

  // 2. The burst: customers pay, and press Pay again while the shop does not acknowledge.
  const payDeadline = Date.now() + schedule.arrivalSpreadMs + 45_000;
  const giveUp = new AbortController();
  cleanups.push(() => giveUp.abort());
  // Real time: customers' payments reach the shop process over HTTP spread over a seeded spell.
  const paying = customers.map((customer, i) =>
    sleep(arrivals[i]!).then(() => payUntilAcknowledged(shop.baseUrl, customer, payDeadline, giveUp.signal)),
  );

  // 3. Kill the shop during deliveries, several times, restarting it each time.
  const killLog: string[] = [];
  const { lastKillAt, duringDelivery } = await killRepeatedly(shop, openrouter, killPlans, killLog, schedule.keyCreationMs.max);

  // 4. Settle: the payments go through and the deliveries finish, or the shop had its quiet time.
  await Promise.all(paying);
  const holdsSecret = (c: Customer) => secretsHeld(textsShown(api, c)).length > 0;
  await until(() => customers.every((c) => !c.acknowledged || holdsSecret(c)), lastKillAt + QUIET_AFTER_LAST_KILL_MS - Date.now(), 200);

  // 5. One status question for every paying customer still without the goods.
  const paid = new Set<Customer>();
  for (const customer of customers) if (await invoicePaid(shop.baseUrl, customer)) paid.add(customer);
  await Promise.all([...paid].filter((c) => !holdsSecret(c)).map((c) => askStatus(api, c)));
  const beforeLater = api.mark();

  // 6. An hour later (a restart with the clock past every payment deadline) the sweeper runs.
  await shop.stop();
  await shop.start({ CRASH_TEST_CLOCK_SKEW_MS: String(LATER_MS) });
  const expiredBySweeper = await settledMetric(shop, "tokengoblin_transitions_total", { to: "expired" });

  // 7. The verdict, order by order.
  const verdict = judge(customers, paid, api, openrouter, beforeLater);
  const figures: Figures = {
    store,
    schedule: schedule.name,
    seed: SEED,
    purchases: customers.length,
    paid: paid.size,
    kills: shop.kills,
    killsDuringDelivery: duringDelivery,
    statusQuestions: customers.reduce((sum, c) => sum + c.statusQuestions, 0),
    ...verdict,
    expiredBySweeper,
    keysCreated: openrouter.created.length,
    unexpectedExits: shop.unexpectedExits.length,
    seconds: Math.round((Date.now() - startedAt) / 100) / 10,
  };
  report(figures, killLog, customers, shop, api);
  return figures;
}

/**
 * Per paid order: delivered (the customer was shown exactly one key before "an hour later", and it is
 * the order's only live key), escalated (not delivered, but the customer or an admin was told delivery
 * failed) or lost (anything else, including a delivered order whose customer was later told it
 * expired). Across all orders: duplicates (two keys shown or live) and live keys nobody holds.
 */
function judge(customers: Customer[], paid: Set<Customer>, api: BotApiStub, openrouter: OpenRouterStub, later: number) {
  const verdict = {
    delivered: 0,
    escalated: 0,
    lost: 0,
    toldExpired: 0,
    toldLateMoney: 0,
    duplicated: 0,
    orphanLiveKeys: 0,
    lostOrders: [] as string[],
  };
  const adminTexts = api.callsOf("sendMessage", ADMIN_CHAT_ID).map((call) => String(call.payload.text));
  for (const customer of customers) {
    const before = textsShown(api, customer, 0, later);
    const all = textsShown(api, customer);
    const secrets = secretsHeld(before);
    const live = openrouter.liveKeysFor(customer.orderId);
    const expired = toldExpired(all);
    if (secretsHeld(all).length > 1 || live.length > 1) verdict.duplicated++;
    verdict.orphanLiveKeys += live.filter((key) => !secretsHeld(all).includes(key.secret)).length;
    if (expired) verdict.toldExpired++;
    if (paid.has(customer) && toldLateMoney(all)) verdict.toldLateMoney++;
    if (!paid.has(customer)) continue;
    const holdsItsKey = secrets.length === 1 && live.length === 1 && live[0]!.secret === secrets[0];
    if (holdsItsKey && !expired) verdict.delivered++;
    else if (!holdsItsKey && (toldDeliveryFailed(all) || adminTexts.some((text) => text.includes(customer.orderId)))) verdict.escalated++;
    else {
      const shown = describeShown(customer.statusAnswer ?? before.at(-1) ?? null);
      verdict.lostOrders.push(`${customer.orderId} (chat ${customer.chatId}): ${shown}${expired ? ", later told it expired" : ""}`);
    }
  }
  verdict.lost = verdict.lostOrders.length;
  return verdict;
}

/** A counter of the running shop, once it stopped moving for 2 s (the sweeper's first pass is over). */
async function settledMetric(shop: ShopProcess, name: string, labels: Record<string, string>): Promise<number> {
  let value = await shop.metric(name, labels);
  let stableSince = Date.now();
  await until(
    async () => {
      const now = await shop.metric(name, labels);
      if (now !== value) {
        value = now;
        stableSince = Date.now();
      }
      return Date.now() - stableSince >= 2_000;
    },
    15_000,
    250,
  );
  return value;
}

function report(f: Figures, killLog: string[], customers: Customer[], shop: ShopProcess, api: BotApiStub) {
  const presses = customers.reduce((sum, c) => sum + c.payPresses, 0);
  const warnings = new Map<string, number>();
  for (const line of shop.output().split("\n")) {
    const msg = /"msg":"([^"]*)"/.exec(line)?.[1];
    if (msg) warnings.set(msg, (warnings.get(msg) ?? 0) + 1);
  }
  console.log(
    [
      `[kill test, ${f.store}, ${f.schedule}] seed ${f.seed}: ${f.purchases} purchases, ${f.paid} paid, ${f.kills} kills (${f.killsDuringDelivery} during a key creation), ${f.statusQuestions} status questions;` +
        ` delivered ${f.delivered}, escalated ${f.escalated}, lost ${f.lost}; told "expired" ${f.toldExpired}, told "late money" ${f.toldLateMoney} (sweeper expired ${f.expiredBySweeper});` +
        ` duplicated ${f.duplicated}, orphan live keys ${f.orphanLiveKeys}, keys created ${f.keysCreated}; ${presses} Pay presses; ${f.seconds} s`,
      `  ${killLog.join("; ")}`,
      ...f.lostOrders.map((line) => `  lost: ${line}`),
      ...(shop.unexpectedExits.length > 0 ? [`  unexpected exits: ${shop.unexpectedExits.join("; ")}`] : []),
      ...(warnings.size > 0 ? [`  product log: ${[...warnings].map(([m, n]) => `${n}× ${m}`).join("; ")}`] : []),
    ].join("\n"),
  );
  if (!process.env.CRASH_VERBOSE) return;
  for (const customer of customers.filter((c) => c.statusQuestions > 0)) {
    console.log(
      `asked status: chat ${customer.chatId} (${customer.orderId}) acknowledged=${customer.acknowledged} refused=${customer.refused} presses=${customer.payPresses}: ${textsShown(
        api,
        customer,
      )
        .map((t) => describeShown(t))
        .join(" | ")}`,
    );
  }
  console.log(shop.output());
  for (const customer of customers.filter((c) => f.lostOrders.some((line) => line.startsWith(c.orderId)))) {
    console.log(
      `chat ${customer.chatId} (${customer.orderId}) was shown:\n${textsShown(api, customer)
        .map((t) => `  | ${t.replace(/\n/g, " ⏎ ")}`)
        .join("\n")}`,
    );
  }
}

function expectEveryPaidOrderDelivered(f: Figures, schedule: Schedule) {
  // Everything that went wrong at once, so one failing run shows the whole picture.
  expect({
    lost: f.lost,
    toldExpired: f.toldExpired,
    toldLateMoney: f.toldLateMoney,
    expiredBySweeper: f.expiredBySweeper,
    duplicated: f.duplicated,
    orphanLiveKeys: f.orphanLiveKeys,
    unpaid: f.purchases - f.paid,
    unexpectedExits: f.unexpectedExits,
  }).toEqual({
    lost: 0,
    toldExpired: 0,
    toldLateMoney: 0,
    expiredBySweeper: 0,
    duplicated: 0,
    orphanLiveKeys: 0,
    unpaid: 0,
    unexpectedExits: 0,
  });
  expect(f.delivered + f.escalated).toBe(f.paid);
  expect(f.kills).toBe(schedule.kills);
  if (schedule.kills > 0) expect(f.killsDuringDelivery, "no kill met a delivery in flight: the run proves nothing").toBeGreaterThan(0);
}

const redisUrl = redisDbUrl(REDIS_DB);
export const redisProblem = await probeRedis(redisUrl);
if (redisProblem !== null && !process.env.CI) {
  console.warn(
    `\n[kill test] Redis variants SKIPPED: no Redis at ${redisUrl} (${redisProblem}). Run: redis-server --port 6379 --daemonize yes --save ''\n`,
  );
}
export const clusterUrl = process.env.REDIS_CLUSTER_URL;
if (!clusterUrl && !process.env.CI)
  console.warn(
    "\n[kill test] Redis Cluster variant SKIPPED: REDIS_CLUSTER_URL is not set (scripts/redis-cluster.sh start <dir> prints one)\n",
  );

export async function onSqlite(schedule: Schedule) {
  const dir = mkdtempSync(join(tmpdir(), "tokengoblin-crash-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  expectEveryPaidOrderDelivered(await runKillTest("SQLite", `sqlite://${join(dir, "shop.sqlite")}`, schedule), schedule);
}

export async function onRedis(schedule: Schedule) {
  if (redisProblem !== null)
    throw new Error(`Redis at ${redisUrl} is unreachable in CI (${redisProblem}); start redis-server or set REDIS_URL`);
  await flushRedis(redisUrl);
  cleanups.push(() => flushRedis(redisUrl));
  expectEveryPaidOrderDelivered(await runKillTest("Redis", redisUrl, schedule), schedule);
}

export async function onCluster(schedule: Schedule) {
  if (!clusterUrl) throw new Error("REDIS_CLUSTER_URL is not set in CI; .ci/run starts a three-node cluster with scripts/redis-cluster.sh");
  // A cluster has no database numbers: this run's keys have a prefix of their own.
  const store = await isolatedRedisUrl(clusterUrl);
  cleanups.push(() => store.clear());
  expectEveryPaidOrderDelivered(await runKillTest("Redis Cluster", store.url, schedule), schedule);
}
