/**
 * Builds the product from a {@link Config}: store, providers, engine, HTTP routes and the sweeper.
 * Front ends (console chat, Telegram bot) attach to the returned app; nothing here reads stdin or
 * talks to Telegram.
 */
import type { InspectionEvent } from "xstate";
import { type AuditLog, createAuditLog } from "./audit/index.ts";
import type { Config } from "./config.ts";
import { createDeliveryProvider, type DeliveryProvider } from "./delivery/index.ts";
import { type Engine, type Understander, createEngine } from "./engine/engine.ts";
import { attachInspector } from "./engine/inspect.ts";
import { createHttpServer, type HttpServer } from "./http/server.ts";
import { type Logger, createLogger } from "./log.ts";
import { registerDashboard } from "./dashboard/index.ts";
import { type Metrics, createMetrics } from "./metrics.ts";
import type { PaymentProvider, ProviderName } from "./payments/provider.ts";
import { type StarsApi, createPaymentProvider } from "./payments/index.ts";
import { type SandboxProvider, renderSandboxPage } from "./payments/sandbox.ts";
import { type Renderer, createRenderer, plainMarkup } from "./render/messages.ts";
import { type Stores, createStores, openBackend } from "./store/index.ts";
import { createUnderstander } from "./understand/index.ts";
import { createLlmUnderstander } from "./understand/llm.ts";
import { type LlmStats, countLlmCall, createLlmStats, describeLlmMetrics } from "./understand/llm-stats.ts";

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
  /** The port the HTTP server listens on, once started. */
  port: number | null;
  start(): Promise<void>;
  close(): Promise<void>;
};

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
};

export async function createApp(config: Config, overrides: AppOverrides = {}): Promise<App> {
  const log = overrides.log ?? createLogger();
  const clock = overrides.clock ?? Date.now;
  const stores = createStores(await openBackend(config.store));
  const metrics = createMetrics();
  const http = createHttpServer(log);

  // Overrides (tests, custom builds) win; otherwise the configured providers.
  const chosen = overrides.payments
    ? { provider: overrides.payments, sandbox: null }
    : createPaymentProvider(config, {
        stores,
        clock,
        log,
        publicUrl: () => config.http.publicUrl ?? `http://localhost:${app.port ?? config.http.port}`,
        ...(overrides.starsApi ? { starsApi: overrides.starsApi } : {}) });
  const payments = chosen.provider;
  const sandbox: SandboxProvider | null = chosen.sandbox;
  const delivery = overrides.delivery ?? createDeliveryProvider(config);
  const llmStats = createLlmStats();
  describeLlmMetrics(metrics);
  const apiKey = config.llm.apiKey;
  const llm =
    overrides.llm ??
    (apiKey
      ? createLlmUnderstander({
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

  const engine = createEngine({
    stores,
    catalog: config.catalog,
    deadlines: config.deadlines,
    maxMessageLength: config.maxMessageLength,
    maxDeliveryAttempts: config.delivery.maxAttempts,
    retryBackoffMs: overrides.retryBackoffMs,
    payments,
    delivery,
    understand: createUnderstander(llm),
    log,
    clock,
    instanceId: overrides.instanceId,
    inspect: overrides.inspect ?? (config.inspect ? attachInspector(log).inspect : undefined),
  });
  // Audit writes are queued and batched off the hot path; a failed write is logged, never fatal.
  const audit = createAuditLog(stores, { instanceId: engine.instanceId, log });
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
  metrics.describe("tokengoblin_webhooks_total", "counter", "Payment webhooks by provider and result.");

  http.route("GET", "/healthz", async () => {
    try {
      await stores.backend.ping();
      return { status: 200, body: JSON.stringify({ ok: true, store: stores.backend.kind }), headers: { "content-type": "application/json" } };
    } catch {
      return { status: 503, body: JSON.stringify({ ok: false, store: stores.backend.kind }), headers: { "content-type": "application/json" } };
    }
  });
  http.route("GET", "/metrics", () => ({ status: 200, body: metrics.render(), headers: { "content-type": "text/plain; version=0.0.4" } }));
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
    const page = (html: string, status = 200) => ({ status, body: html, headers: { "content-type": "text/html; charset=utf-8" } });
    http.route("GET", "/pay/sandbox/:paymentId", async ({ params }) => {
      const paymentId = params.paymentId ?? "";
      const invoice = await sandbox.invoice(paymentId);
      return page(renderSandboxPage(invoice, paymentId), invoice ? 200 : 404);
    });
    http.route("POST", "/pay/sandbox/:paymentId", async ({ params, headers }) => {
      const paymentId = params.paymentId ?? "";
      const paid = await sandbox.pay(paymentId);
      if (!paid.ok) return page(renderSandboxPage(await sandbox.invoice(paymentId), paymentId, `Payment not possible: ${paid.reason.replace("_", " ")}.`), 409);
      // The same door a real provider knocks on: signature check, re-fetch, amount check, dedupe.
      const response = await http.dispatch({ method: "POST", path: "/webhooks/sandbox", headers: { ...headers, ...paid.webhook.headers }, rawBody: paid.webhook.rawBody });
      const message = response.status === 200 ? "Payment sent. You can go back to the chat." : "Payment received; confirmation is delayed and will arrive shortly.";
      return page(renderSandboxPage(await sandbox.invoice(paymentId), paymentId, message));
    });
  }

  let stopSweeper: (() => void) | null = null;
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
    renderer: createRenderer(config.catalog, plainMarkup, clock),
    port: null,
    async start() {
      if (overrides.listen !== false) {
        app.port = await http.listen(config.http.port);
        log.info("http server listening", { port: app.port });
      }
      stopSweeper = engine.startSweeper(overrides.sweepIntervalMs ?? 5_000);
    },
    async close() {
      stopSweeper?.();
      await http.close();
      await audit.close().catch((error: unknown) => log.error("audit flush on close failed", { error: String(error) }));
      await stores.backend.close();
    },
  };
  registerDashboard(app, { now: clock });
  return app;
}
