/**
 * Issue 22 (5): `npm run migrate-store -- --from … --to …` moves a shop between SQLite, Redis and Redis
 * Cluster. A shop with orders in every state the sandbox shop reaches (driven by the real engine), a
 * queued Telegram update, a language setting, providers' invoices and a saved read model moves to
 * Redis and back and reads the same through the ShopStore API at every step; the order awaiting
 * payment is paid and delivered on the new store, and the delivery waiting to be retried is retried
 * there. A target that holds data is refused. Redis is required in CI (REDIS_URL), and the cluster
 * (REDIS_CLUSTER_URL) too; locally each is skipped with a warning when absent.
 */
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { connectRedis } from "../../src/store/redis-connect.ts";
import { testClock } from "../support/app.ts";
import { probeRedis } from "../support/redis.ts";
import { isolatedRedisUrl, whenRedis } from "../support/redis-store.ts";
import { STOCKED_CHATS, expectSameShop, openStockedShopApp, runStoreTool, stockShop } from "../support/stocked-shop.ts";
import { TOOLS_TIMEOUT_MS, cleanUpScratch, cleanups, opened, scratchDir } from "../support/tool-scratch.ts";

const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const CLUSTER_URL = process.env.REDIS_CLUSTER_URL;

afterEach(cleanUpScratch);

async function redisTarget(base: string): Promise<string> {
  const target = await isolatedRedisUrl(base);
  cleanups.push(() => target.clear());
  return target.url;
}

async function move(from: string, to: string) {
  const result = await runStoreTool("migrate-store", ["--from", from, "--to", to]);
  expect(result.stderr).toMatch(/^(migrate-store: .+ so far \(\d+ s\)\n)*$/);
  expect(result.code).toBe(0);
  expect(result.stdout).toMatch(/^migrate-store: moved \d+ chats, \d+ orders, .*\d+ audit entries/);
  return result;
}

/** The moved shop serves: the awaiting order is paid and delivered once, the waiting delivery is retried and delivered. */
async function finishesOnTheNewStore(url: string, stocked: Awaited<ReturnType<typeof stockShop>>) {
  const { app, pay, notifications, clock } = await openStockedShopApp(url, testClock(stocked.clock.now));
  cleanups.push(() => app.close());
  await pay(stocked.awaitingUrl);
  await pay(stocked.awaitingUrl);
  const delivered = notifications.filter((n) => n.chatId === STOCKED_CHATS.awaitingPayment && n.reply.kind === "order" && n.reply.secret);
  expect(delivered).toHaveLength(1);
  expect((await app.engine.orderView(delivered[0]!.reply.kind === "order" ? delivered[0]!.reply.order.orderId : ""))?.path).toBe(
    "delivered.settled",
  );

  clock.advance(2 * 60_000);
  await app.engine.runDue();
  const retried = await app.engine.handleText(STOCKED_CHATS.waitingRetry, "status");
  expect(retried.kind === "order" ? retried.order.stage : retried.kind === "no_order" ? retried.lastOrder?.stage : retried.kind).toBe(
    "delivered",
  );
  // The settings moved too: this customer chose Russian on the old store.
  expect(await app.languages.of(STOCKED_CHATS.delivered)).toBe("ru");
}

const problem = await probeRedis(REDIS_URL);

whenRedis(
  "migrate-store",
  problem === null ? null : `no Redis at ${REDIS_URL} (${problem})`,
  "Run: redis-server --port 6379 --daemonize yes --save '' (or set REDIS_URL)",
  () => {
    describe("moving a shop (issue 22, 5)", () => {
      test(
        "a shop with orders in every state moves from SQLite to Redis and back, and goes on selling on the new store",
        async () => {
          const dir = scratchDir("move");
          const sqliteUrl = `sqlite://${join(dir, "shop.sqlite")}`;
          const stocked = await stockShop(sqliteUrl);
          expect(stocked.stages).toEqual({
            quoted: "quoted",
            awaitingPayment: "awaiting_payment.waiting",
            delivered: "delivered.settled",
            waitingRetry: "paid.waiting_retry",
            deliveryFailed: "delivery_failed",
            refunded: "refunded",
            cancelledQuote: "cancelled.invoice_closed",
            cancelledInvoice: "cancelled.invoice_closed",
            expiredQuote: "expired.invoice_closed",
            expiredInvoice: "expired.invoice_closed",
            deliveredThenQuoted: "quoted",
            queuedUpdate: null,
          });

          const redisUrl = await redisTarget(REDIS_URL);
          await move(sqliteUrl, redisUrl);
          await expectSameShop(await opened(sqliteUrl), await opened(redisUrl), stocked.chatIds);

          const backUrl = `sqlite://${join(dir, "back.sqlite")}`;
          await move(redisUrl, backUrl);
          await expectSameShop(await opened(sqliteUrl), await opened(backUrl), stocked.chatIds);

          await finishesOnTheNewStore(redisUrl, stocked);
        },
        TOOLS_TIMEOUT_MS,
      );

      test(
        "a target that holds a shop's data is refused and left as it was; so are a missing source and a wrong argument",
        async () => {
          const dir = scratchDir("move");
          const sqliteUrl = `sqlite://${join(dir, "shop.sqlite")}`;
          const stocked = await stockShop(sqliteUrl);
          const redisUrl = await redisTarget(REDIS_URL);
          await move(sqliteUrl, redisUrl);

          const again = await runStoreTool("migrate-store", ["--from", sqliteUrl, "--to", redisUrl]);
          expect(again.code).toBe(1);
          expect(again.stderr).toMatch(/is not empty \(it holds keys such as .*\)\. Load into an empty store/);
          await expectSameShop(await opened(sqliteUrl), await opened(redisUrl), stocked.chatIds);

          const missing = await runStoreTool("migrate-store", [
            "--from",
            `sqlite://${join(dir, "nope.sqlite")}`,
            "--to",
            `sqlite://${join(dir, "x.sqlite")}`,
          ]);
          expect(missing.code).toBe(1);
          expect(missing.stderr).toContain("there is no store at");
          const usage = await runStoreTool("migrate-store", ["--from", sqliteUrl]);
          expect(usage.code).toBe(2);
          expect(usage.stderr).toContain("usage: npm run migrate-store -- --from <store URL> --to <store URL>");
        },
        TOOLS_TIMEOUT_MS,
      );
    });
  },
);

async function clusterProblem(url: string | undefined): Promise<string | null> {
  if (!url) return "REDIS_CLUSTER_URL is not set";
  try {
    await (await connectRedis(url)).close();
    return null;
  } catch (error) {
    return `no Redis Cluster at ${url} (${error instanceof Error ? error.message : String(error)})`;
  }
}

whenRedis(
  "migrate-store (cluster)",
  await clusterProblem(CLUSTER_URL),
  "Start one with: scripts/redis-cluster.sh start /tmp/redis-cluster, then REDIS_CLUSTER_URL=redis-cluster://127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002",
  () => {
    test(
      "a shop moves from SQLite to a Redis Cluster and back, and goes on selling on the cluster",
      async () => {
        const dir = scratchDir("move");
        const sqliteUrl = `sqlite://${join(dir, "shop.sqlite")}`;
        const stocked = await stockShop(sqliteUrl);
        const clusterUrl = await redisTarget(CLUSTER_URL ?? "");
        await move(sqliteUrl, clusterUrl);
        await expectSameShop(await opened(sqliteUrl), await opened(clusterUrl), stocked.chatIds);
        const backUrl = `sqlite://${join(dir, "back.sqlite")}`;
        await move(clusterUrl, backUrl);
        await expectSameShop(await opened(sqliteUrl), await opened(backUrl), stocked.chatIds);
        await finishesOnTheNewStore(clusterUrl, stocked);
      },
      TOOLS_TIMEOUT_MS,
    );
  },
);
