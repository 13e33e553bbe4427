/**
 * Builds the product from a {@link Config}: store, providers, engine, HTTP routes and the sweeper.
 * Front ends (console chat, Telegram bot) attach to the returned app; nothing here reads stdin or
 * talks to Telegram.
 */
import { randomBytes } from "node:crypto";
import { resultWithin } from "./failures.ts";
import type { InspectionEvent } from "xstate";
import { type AuditLog, createAuditLog } from "./audit/index.ts";
import { registerPaymentRoutes } from "./http/payment-routes.ts";
import { type Projection, createProjection } from "./analytics/projection.ts";
import type { Config } from "./config.ts";
import { createDeliveryProvider, createLedger, type DeliveryProvider } from "./delivery/index.ts";
import type { Understander } from "./domain/commands.ts";
import { type Engine, createEngine, createPurchaseActors } from "./engine/index.ts";
import { type PromoBook, createPromoBook } from "./engine/promo-book.ts";
import { shopOf } from "./domain/catalog.ts";
import { createHttpServer, type HttpServer } from "./http/server.ts";
import { type Logger, createLogger } from "./log.ts";
import { type Metrics, countEngineEvents, createMetrics } from "./metrics.ts";
import type { PaymentProvider } from "./payments/provider.ts";
import { type StarsApi, createPaymentProvider } from "./payments/index.ts";
import type { SandboxProvider } from "./payments/sandbox.ts";
import { type LanguagePreferences, type Localization, createLanguagePreferences, loadLocalization } from "./i18n/index.ts";
import { type Renderer, createRenderer, plainMarkup } from "./render/messages.ts";
import { openStoreWithin } from "./startup.ts";
import { upgradeFromSchema2 } from "./upgrade/from-schema-2.ts";
import { type ShopStore, collectionOf } from "./store/index.ts";
import { LanguagePreference } from "./domain/preferences.ts";
import { createUnderstander, loadLlmUnderstander } from "./understand/index.ts";
import { type Faq, loadFaq } from "./faq/index.ts";
import { type LlmStats, countLlmCall, createLlmStats, describeLlmMetrics } from "./understand/llm-stats.ts";

export type App = {
  config: Config;
  engine: Engine;
  /** The stored audit log (every command, transition, order change, payment, LLM call), by order and in order. */
  audit: AuditLog;
  /** The shop's read model over the audit log (report, /stats, the dashboard). */
  projection: Projection;
  store: ShopStore;
  http: HttpServer;
  metrics: Metrics;
  /** LLM calls and tokens, in total, per chat and per order (all zero when no LLM is configured). */
  llmStats: LlmStats;
  log: Logger;
  payments: PaymentProvider;
  delivery: DeliveryProvider;
  /** Plain-text renderer (console); Telegram builds its own HTML one. */
  renderer: Renderer;
  /** The translations in `locales/`, with the configured default language. */
  localization: Localization;
  /** The owner's answers to customers' questions (`FAQ_DIR`, else the shipped `faq/`). */
  faq: Faq;
  /** Each chat's language (stored, so it survives restarts). */
  languages: LanguagePreferences;
  /** The promo codes in force: the catalog file's, with the owner's dashboard changes (stored). */
  promos: PromoBook;
  /** Sends the sandbox provider's owed payment webhooks now and waits for them (no-op for real providers). */
  flushSandboxWebhooks(): Promise<void>;
  /** The port the HTTP server listens on, once started. */
  port: number | null;
  /**
   * Whether /healthz may say ready. An app starts not ready; whoever registers the last route (the
   * Telegram bot's webhook, or main for the console) sets it, and shutdown clears it.
   */
  setReady(ready: boolean): void;
  start(): Promise<void>;
  close(): Promise<void>;
};

/** How long /healthz waits for the store before calling it down. */
const HEALTH_PING_LIMIT_MS = 500;

export type AppOverrides = {
  log?: Logger;
  clock?: () => number;
  payments?: PaymentProvider;
  /** The Bot API used by the Stars provider (tests capture calls); built from the bot token otherwise. */
  starsApi?: StarsApi;
  delivery?: DeliveryProvider;
  llm?: Understander;
  /** Do not open a port (tests dispatch HTTP requests in-process). */
  listen?: boolean;
  sweepIntervalMs?: number;
  instanceId?: string;
  retryBackoffMs?: number;
  /** Observes every purchase actor (tests use it to see the states the engine passed through). */
  inspect?: (event: InspectionEvent) => void;
  /** The chat lock's lease and wait across processes (tests shorten them). */
  chatLock?: { leaseMs?: number; waitMs?: number };
};

export async function createApp(config: Config, overrides: AppOverrides = {}): Promise<App> {
  const log = overrides.log ?? createLogger();
  const clock = overrides.clock ?? Date.now;
  // Within STARTUP_TIMEOUT_MS, or a StartupError naming STORE_URL: an unreachable store must not hang start-up.
  const store = await openStoreWithin(config.store, config.startupTimeoutMs, { clock });
  // A store the previous version wrote is moved to this version's layout before anything is served.
  await upgradeFromSchema2(store, { log, clock, latePayment: config.latePayment, workGraceMs: overrides.chatLock?.leaseMs ?? 10_000 });
  const metrics = createMetrics();
  const localization = loadLocalization({ defaultLanguage: config.defaultLanguage });
  const languages = createLanguagePreferences(collectionOf(store.kv("preferences"), LanguagePreference), localization, clock);
  const faq = loadFaq(config.faqDir ? { dir: config.faqDir } : {});
  const http = createHttpServer(log);

  // Overrides (tests, custom builds) win; otherwise the configured providers.
  const chosen = overrides.payments
    ? { provider: overrides.payments, sandbox: null }
    : await createPaymentProvider(config, {
        store,
        clock,
        log,
        publicUrl: () => config.http.publicUrl ?? `http://localhost:${app.port ?? config.http.port}`,
        // grammY's Api is loaded only when Stars is the configured provider.
        starsApi: async () => overrides.starsApi ?? (await import("./telegram/stars.ts")).starsApiFromConfig(config),
      });
  const payments = chosen.provider;
  const sandbox: SandboxProvider | null = chosen.sandbox;
  const delivery = overrides.delivery ?? createDeliveryProvider(config);
  const llmStats = createLlmStats();
  describeLlmMetrics(metrics);
  const instanceId = overrides.instanceId ?? config.instanceId ?? `i-${randomBytes(4).toString("hex")}`;
  const audit = createAuditLog(store);
  const projection = createProjection(store, { log });
  const apiKey = config.llm.apiKey;
  const llm =
    overrides.llm ??
    (apiKey
      ? await loadLlmUnderstander({
          ...config.llm,
          apiKey,
          catalog: config.catalog,
          log,
          // Latency and the breaker's cool-down are real time, whatever clock the orders run on.
          referer: config.http.publicUrl,
          onCall: (call) => {
            llmStats.record(call);
            countLlmCall(metrics, call);
          },
        })
      : undefined);

  const ledger = createLedger({ store, provider: delivery, instanceId, clock });
  const promos = createPromoBook(shopOf(config.catalog).promos, store);
  // The Stately inspector (and its websocket client) is loaded only with INSPECT=1.
  const attachInspector = config.inspect ? (await import("./engine/inspect.ts")).attachInspector : () => ({ inspect: undefined });

  const engine = createEngine({
    store,
    catalog: config.catalog,
    maxMessageLength: config.maxMessageLength,
    maxDeliveryAttempts: config.delivery.maxAttempts,
    retryBackoffMs: overrides.retryBackoffMs,
    actors: createPurchaseActors({
      catalog: config.catalog,
      quoteTtlMs: config.deadlines.quoteTtlMs,
      paymentTtlMs: config.deadlines.paymentTtlMs,
      clock,
      payments,
      delivery,
      ledger,
      store,
      log,
      promos,
      // The provider's invoice (Telegram's Stars sheet, Crypto Pay's page) speaks the customer's language.
      describeInvoice: async (order) => {
        const tr = localization.translator(await languages.of(order.chatId));
        const tokens = tr.t("tokens", { count: order.tokens, tokens: tr.count(order.tokens) });
        return {
          title: tr.t("invoice-title", { tokens }),
          description: tr.t("invoice-description", { tokens, price: tr.money(order.usd), orderId: order.orderId }),
        };
      },
    }),
    ledger,
    payments,
    latePayment: config.latePayment,
    understand: createUnderstander(llm, { catalog: config.catalog }),
    log,
    clock,
    instanceId,
    ...(overrides.chatLock ? { chatLock: overrides.chatLock } : {}),
    inspect: overrides.inspect ?? (config.inspect ? attachInspector(log).inspect : undefined),
  });
  countEngineEvents(metrics, engine);

  // A load balancer's question, answered within a second whatever the store does: a frozen or
  // unreachable Redis makes a ping hang (the client queues it until reconnected), so it gets a limit.
  // Ready only once every route exists (see setReady); HEAD is answered by the server like GET.
  http.route("GET", "/healthz", async () => {
    const storeUp = await resultWithin(
      store.ping().then(
        () => true,
        () => false,
      ),
      HEALTH_PING_LIMIT_MS,
      false,
    );
    const ok = ready && storeUp;
    return {
      status: ok ? 200 : 503,
      body: JSON.stringify({ ok, ready, store: store.kind, storeUp }),
      headers: { "content-type": "application/json" },
    };
  });
  http.route("GET", "/metrics", async () => ({
    status: 200,
    body: await metrics.render(),
    headers: { "content-type": metrics.contentType },
  }));
  const paymentRoutes = registerPaymentRoutes({ http, engine, payments, sandbox, metrics, log, localization, languages });

  let stopSweeper: (() => void) | null = null;
  let stopProjection: (() => Promise<void>) | null = null;
  let ready = false;
  const app: App = {
    config,
    engine,
    audit,
    projection,
    store,
    http,
    metrics,
    llmStats,
    log,
    payments,
    delivery,
    renderer: createRenderer(config.catalog, plainMarkup, { localization, now: clock, faq, promos: promos.known }),
    localization,
    faq,
    languages,
    promos,
    port: null,
    flushSandboxWebhooks: () => paymentRoutes.flushSandbox(),
    setReady(value) {
      ready = value;
    },
    async start() {
      if (config.telegram.token && payments.name === "sandbox") {
        log.warn(
          "TEST MODE: PAYMENT_PROVIDER=sandbox with a real Telegram bot. Customers can 'pay' on the sandbox page without money; " +
            "every payment message says so. Set PAYMENT_PROVIDER=cryptopay or stars to take real payments.",
        );
      }
      if (overrides.listen !== false) {
        app.port = await http.listen(config.http.port);
        log.info("http server listening", { port: app.port });
      }
      // The owner's promo code changes, for replies that name a code's discount before any code is judged here.
      void promos.inForce().catch(() => {});
      stopSweeper = engine.startSweeper(overrides.sweepIntervalMs ?? 5_000);
      stopProjection = projection.start();
    },
    async close() {
      stopSweeper?.();
      await stopProjection?.();
      paymentRoutes.stop();
      await http.close();
      await store.close();
    },
  };
  // The dashboard (and its page code) is loaded only when ADMIN_TOKEN turns it on.
  if (config.adminToken) (await import("./dashboard/index.ts")).registerDashboard(app, { now: clock });
  return app;
}
