/**
 * The HTTP routes money arrives through: provider webhooks (`/webhooks/<provider>`) and the sandbox
 * pay page. A webhook answers 200 only once what it said is stored (or deliberately ignored); when the
 * provider or the store cannot be asked, or the order's chat is busy elsewhere, it answers 503 so the
 * provider sends it again. The sandbox page records the click and answers at once; its webhook goes
 * out afterwards and is re-sent until the shop takes it, like a real provider's.
 */
import { resultWithin } from "../failures.ts";
import type { ConfirmOutcome } from "../engine/events.ts";
import type { Engine } from "../engine/index.ts";
import { ChatBusyError } from "../engine/index.ts";
import type { LanguagePreferences, Localization } from "../i18n/index.ts";
import type { Logger } from "../log.ts";
import type { Metrics } from "../metrics.ts";
import type { PaymentProvider, ProviderName } from "../payments/provider.ts";
import type { SandboxProvider } from "../payments/sandbox.ts";
import { StoreUnavailableError } from "../store/index.ts";
import { type SandboxPageNotice, renderSandboxPage } from "../web/sandbox-page.ts";
import type { HttpServer } from "./server.ts";

export type PaymentRoutesDeps = {
  http: HttpServer;
  engine: Engine;
  payments: PaymentProvider;
  sandbox: SandboxProvider | null;
  metrics: Metrics;
  log: Logger;
  localization: Localization;
  languages: LanguagePreferences;
};

/** How long the pay page waits for the store to record a click before asking the payer to press again. */
const RECORD_LIMIT_MS = 1_500;
/** How long the page waits for what it shows (the invoice, its order, the payer's language). */
const PAGE_LIMIT_MS = 400;
/** How often owed sandbox webhooks are sent again. */
const RESEND_EVERY_MS = 2_000;

/** True for failures that mean "not now": the sender should try again later. */
const isTransient = (error: unknown) => error instanceof ChatBusyError || error instanceof StoreUnavailableError;

export type PaymentRoutes = {
  /** Sends the sandbox's owed webhooks now and waits for the shop's answers (tests; the console). */
  flushSandbox(): Promise<void>;
  stop(): void;
};

export function registerPaymentRoutes(deps: PaymentRoutesDeps): PaymentRoutes {
  const { http, engine, payments, sandbox, metrics, log } = deps;
  metrics.describe("tokengoblin_webhooks_total", "counter", "Payment webhooks by provider and result.");

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
    let outcome: ConfirmOutcome;
    try {
      outcome = await engine.confirmPayment(payments.name, notice.paymentId);
    } catch (error) {
      if (!isTransient(error)) throw error;
      count("retry_later");
      log.warn("payment webhook not taken now; the provider will send it again", { provider, paymentId: notice.paymentId, err: error });
      return { status: 503, body: "retry later\n" };
    }
    count(outcome.outcome);
    log.info("payment webhook", { provider, paymentId: notice.paymentId, outcome: outcome.outcome });
    // Only "try again later" is an error: everything else was handled (or deliberately ignored).
    return outcome.outcome === "provider_unavailable" ? { status: 503, body: "retry later\n" } : { status: 200, body: "ok\n" };
  });

  if (!sandbox) return { flushSandbox: async () => {}, stop() {} };

  // The page speaks the language of the chat that placed the order. What it reads from the store has
  // a deadline too: a store that does not answer must not hold the payer's browser (issue 18).
  const page = async (paymentId: string, notice?: SandboxPageNotice, status = 200) => {
    const lookUp = async () => {
      const invoice = await sandbox.invoice(paymentId).catch(() => undefined);
      const order = invoice ? await engine.order(invoice.orderId).catch(() => undefined) : undefined;
      const language = order
        ? await deps.languages.of(order.chatId).catch(() => deps.localization.defaultLanguage)
        : deps.localization.defaultLanguage;
      return { invoice, order, language };
    };
    const read = await resultWithin(lookUp(), PAGE_LIMIT_MS, null);
    const { invoice, order, language } = read ?? { invoice: undefined, order: undefined, language: deps.localization.defaultLanguage };
    const html = renderSandboxPage(deps.localization.translator(language), {
      invoice,
      paymentId,
      tokens: order?.summary.tokens ?? null,
      ...(notice ? { notice } : {}),
    });
    // A page the store did not answer for in time is "try again" (503), not "no such invoice" (404).
    return {
      status: notice || invoice ? status : read === null ? 503 : 404,
      body: html,
      headers: { "content-type": "text/html; charset=utf-8" },
    };
  };

  /** Posts owed webhooks through the same door a real provider knocks on. */
  const resend = () =>
    sandbox.sendOwedWebhooks(async (webhook) => {
      const response = await http.dispatch({
        method: "POST",
        path: "/webhooks/sandbox",
        headers: webhook.headers,
        rawBody: webhook.rawBody,
      });
      return response.status === 200;
    });
  let sending: Promise<unknown> = Promise.resolve();
  const sendSoon = () => {
    // Overlapping rounds are fine: a webhook already on its way is skipped by the provider.
    sending = Promise.all([
      sending,
      resend().catch((err: unknown) => log.warn("sandbox webhooks could not be sent yet; retrying", { err })),
    ]);
  };
  const timer = setInterval(sendSoon, RESEND_EVERY_MS);
  timer.unref();
  sendSoon();

  http.route("GET", "/pay/sandbox/:paymentId", ({ params }) => page(params.paymentId ?? ""));
  http.route("POST", "/pay/sandbox/:paymentId", async ({ params }) => {
    const paymentId = params.paymentId ?? "";
    const paid = await resultWithin(sandbox.pay(paymentId), RECORD_LIMIT_MS, null).catch(() => null);
    if (paid === null) return page(paymentId, { kind: "not_recorded" }, 503);
    if (!paid.ok) return page(paymentId, { kind: "refused", reason: paid.reason }, 409);
    // Recorded: the payer is answered now; the shop hears of it right after (and again until it takes it).
    sendSoon();
    return page(paymentId, { kind: "sent" });
  });
  return {
    async flushSandbox() {
      sendSoon();
      await sending;
    },
    stop() {
      clearInterval(timer);
    },
  };
}
