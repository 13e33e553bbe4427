/**
 * Builds the product from a {@link Config}: store, providers, engine, HTTP routes and the sweeper.
 * Front ends (console chat, Telegram bot) attach to the returned app; nothing here reads stdin or
 * talks to Telegram.
 */
import { randomBytes } from "node:crypto";
import { settleWithin } from "./failures.ts";
import type { InspectionEvent } from "xstate";
import { type AuditLog, createAuditLog } from "./audit/index.ts";
import type { Config } from "./config.ts";
import { createDeliveryProvider, createLedger, type DeliveryProvider } from "./delivery/index.ts";
import type { Understander } from "./domain/commands.ts";
import { type Engine, createEngine, createPurchaseActors } from "./engine/index.ts";
import { createHttpServer, type HttpServer } from "./http/server.ts";
import { type Logger, createLogger } from "./log.ts";
import { registerDashboard } from "./dashboard/index.ts";
import { type Metrics, createMetrics } from "./metrics.ts";
import type { PaymentProvider, ProviderName } from "./payments/provider.ts";
import { type StarsApi, createPaymentProvider } from "./payments/index.ts";
import type { SandboxProvider } from "./payments/sandbox.ts";
import { type LanguagePreferences, type Localization, createLanguagePreferences, loadLocalization } from "./i18n/index.ts";
import { type Renderer, createRenderer, plainMarkup } from "./render/messages.ts";
import { openStoreWithin } from "./startup.ts";
import { type Stores, createStores } from "./store/index.ts";
import { createUnderstander, loadLlmUnderstander } from "./understand/index.ts";
import { type Faq, loadFaq } from "./faq/index.ts";
import { type LlmStats, countLlmCall, createLlmStats, describeLlmMetrics } from "./understand/llm-stats.ts";
import { type SandboxPageNotice, renderSandboxPage } from "./web/sandbox-page.ts";

export type App = {
  config: Config;
  engine: Engine;
  /** The stored audit trail (every command, transition, payment, LLM call) by order id. */
  audit: AuditLog;
  stores: Stores;
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
  const stores = createStores(await openStoreWithin(config.store, config.startupTimeoutMs));
  const metrics = createMetrics();
  const localization = loadLocalization({ defaultLanguage: config.defaultLanguage });
  const languages = createLanguagePreferences(stores.preferences, localization, clock);
  const faq = loadFaq(config.faqDir ? { dir: config.faqDir } : {});
  const http = createHttpServer(log);

  // Overrides (tests, custom builds) win; otherwise the configured providers.
  const chosen = overrides.payments
    ? { provider: overrides.payments, sandbox: null }
    : await createPaymentProvider(config, {
        stores,
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
  // Audit entries are queued off the hot path and written before the conversation write that follows
  // them (write-ahead), so a crash can repeat an entry but never lose one.
  const audit = createAuditLog(stores, { instanceId, log });
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
            // On the order's audit trail, so the report's "LLM calls per sale" counts real calls.
            if (call.attempts > 0) {
              audit.record({
                type: "llm",
                chatId: call.chatId,
                orderId: call.orderId,
                model: config.llm.model,
                promptTokens: call.promptTokens,
                completionTokens: call.completionTokens,
                ok: call.outcome === "ok" || call.outcome === "unknown",
                at: call.at,
              });
            }
          },
        })
      : undefined);

  const ledger = createLedger({ stores, provider: delivery, instanceId, clock });
  // The Stately inspector (and its websocket client) is loaded only with INSPECT=1.
  const attachInspector = config.inspect ? (await import("./engine/inspect.ts")).attachInspector : () => ({ inspect: undefined });

  const engine = createEngine({
    stores,
    catalog: config.catalog,
    deadlines: config.deadlines,
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
      stores,
      log,
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
    flushJournal: () => audit.flush(),
    recordAdminAction: (event) => audit.record(event),
    inspect: overrides.inspect ?? (config.inspect ? attachInspector(log).inspect : undefined),
  });
  engine.onEvent((event) => audit.record(event));
  engine.onEvent((event) => {
    switch (event.type) {
      case "command":
        metrics.inc("tokengoblin_commands_total", { command: event.command, source: event.source, accepted: String(event.accepted) });
        break;
      case "transition":
        metrics.inc("tokengoblin_transitions_total", { to: event.to });
        break;
      case "payment":
        metrics.inc("tokengoblin_payments_total", { outcome: event.outcome });
        break;
      case "not_understood":
        metrics.inc("tokengoblin_not_understood_total");
        break;
      case "secret_undeliverable":
        metrics.inc("tokengoblin_undeliverable_goods_total");
        break;
      default: {
        const unhandled: never = event;
        void unhandled;
      }
    }
  });
  metrics.describe("tokengoblin_commands_total", "counter", "Customer commands by type, source and whether the machine accepted them.");
  metrics.describe("tokengoblin_transitions_total", "counter", "Purchase machine transitions by target state.");
  metrics.describe("tokengoblin_payments_total", "counter", "Payment confirmations by outcome.");
  metrics.describe("tokengoblin_not_understood_total", "counter", "Messages neither rules nor the LLM understood.");
  metrics.describe("tokengoblin_undeliverable_goods_total", "counter", "Delivered goods whose message the customer's channel refused.");
  metrics.describe("tokengoblin_webhooks_total", "counter", "Payment webhooks by provider and result.");

  // A load balancer's question, answered within a second whatever the store does: a frozen or
  // unreachable Redis makes a ping hang (the client queues it until reconnected), so it gets a limit.
  // Ready only once every route exists (see setReady); HEAD is answered by the server like GET.
  http.route("GET", "/healthz", async () => {
    const storeUp = await settleWithin(stores.backend.ping().then(() => true, () => false), HEALTH_PING_LIMIT_MS, false);
    const ok = ready && storeUp;
    return { status: ok ? 200 : 503, body: JSON.stringify({ ok, ready, store: stores.backend.kind, storeUp }), headers: { "content-type": "application/json" } };
  });
  http.route("GET", "/metrics", async () => ({ status: 200, body: await metrics.render(), headers: { "content-type": metrics.contentType } }));
  http.route("POST", "/webhooks/:provider", async (request) => {
    const provider = request.params.provider as ProviderName;
    const count = (result: string) => metrics.inc("tokengoblin_webhooks_total", { provider: payments.name, result });
    if (provider !== payments.name) return { status: 404, body: "unknown provider\n" };
    const notice = payments.verifyWebhook({ rawBody: request.rawBody, headers: request.headers });
    if (!notice) {
      count("forged");
      log.warn("webhook refused: bad signature or body", { provider });
      return { status: 401, body: "invalid signature\n" };
    }
    const outcome = await engine.confirmPayment(payments.name, notice.paymentId);
    count(outcome.outcome);
    log.info("payment webhook", { provider, paymentId: notice.paymentId, outcome: outcome.outcome });
    // Only "try again later" is an error: everything else was handled (or deliberately ignored).
    return outcome.outcome === "provider_unavailable" ? { status: 503, body: "retry later\n" } : { status: 200, body: "ok\n" };
  });
  if (sandbox) {
    // The page speaks the language of the chat that placed the order.
    const page = async (paymentId: string, notice?: SandboxPageNotice, status = 200) => {
      const invoice = await sandbox.invoice(paymentId);
      const order = invoice ? await stores.orders.get(invoice.orderId) : undefined;
      const language = order ? await languages.of(order.chatId) : localization.defaultLanguage;
      const html = renderSandboxPage(localization.translator(language), { invoice, paymentId, tokens: order?.tokens ?? null, ...(notice ? { notice } : {}) });
      return { status: notice || invoice ? status : 404, body: html, headers: { "content-type": "text/html; charset=utf-8" } };
    };
    http.route("GET", "/pay/sandbox/:paymentId", ({ params }) => page(params.paymentId ?? ""));
    http.route("POST", "/pay/sandbox/:paymentId", async ({ params, headers }) => {
      const paymentId = params.paymentId ?? "";
      const paid = await sandbox.pay(paymentId);
      if (!paid.ok) return page(paymentId, { kind: "refused", reason: paid.reason }, 409);
      // The same door a real provider knocks on: signature check, re-fetch, amount check, dedupe.
      const response = await http.dispatch({ method: "POST", path: "/webhooks/sandbox", headers: { ...headers, ...paid.webhook.headers }, rawBody: paid.webhook.rawBody });
      return page(paymentId, { kind: response.status === 200 ? "sent" : "delayed" });
    });
  }

  let stopSweeper: (() => void) | null = null;
  let ready = false;
  const app: App = {
    config,
    engine,
    audit,
    stores,
    http,
    metrics,
    llmStats,
    log,
    payments,
    delivery,
    renderer: createRenderer(config.catalog, plainMarkup, { localization, now: clock, faq }),
    localization,
    faq,
    languages,
    port: null,
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
      stopSweeper = engine.startSweeper(overrides.sweepIntervalMs ?? 5_000);
    },
    async close() {
      stopSweeper?.();
      await http.close();
      await audit.close().catch((error: unknown) => log.error("audit flush on close failed", { err: error }));
      await stores.backend.close();
    },
  };
  registerDashboard(app, { now: clock });
  return app;
}
