/**
 * Crypto Pay (@CryptoBot) as a payment provider. Invoices are created with `createInvoice`, re-read
 * with `getInvoices?invoice_ids=…`, and webhooks are authenticated with the `crypto-pay-api-signature`
 * header: hex HMAC-SHA256 of the raw body, keyed with the binary SHA-256 of the app token.
 *
 * What is compared: for a fiat invoice (the default) the invoice's own `amount` + `fiat` ("40.00" USD)
 * are what the order is checked against. `paid_amount`/`paid_asset` say which crypto the customer
 * chose and how much of it at Crypto Pay's rate; that varies with the rate and is logged, not compared.
 * Crypto Pay only marks an invoice `paid` once it was paid in full, so "underpaid" means the invoice's
 * amount itself differs from the order (a changed price, a foreign invoice) and is refused.
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import { type Money, parseMoney, toDecimalString } from "../domain/money.ts";
import { fetchJson } from "../http/client.ts";
import type { Collection } from "../store/index.ts";
import {
  type Invoice,
  type PaymentProvider,
  type PaymentStatus,
  type ProviderResult,
  fail,
  failed,
  ok,
  parseJsonOrNull,
} from "./provider.ts";

export const CRYPTOPAY_SIGNATURE_HEADER = "crypto-pay-api-signature";
export const CRYPTOPAY_TOKEN_HEADER = "Crypto-Pay-API-Token";

/** What we remember per order so asking twice for the same order returns the same invoice. */
export const CryptoPayInvoiceRecord = z.object({
  v: z.literal(1),
  orderId: z.string(),
  invoiceId: z.string(),
  payUrl: z.string(),
  expiresAt: z.number().int(),
});
export type CryptoPayInvoiceRecord = z.infer<typeof CryptoPayInvoiceRecord>;

/** The fields of Crypto Pay's Invoice object we rely on (others are ignored). */
const WireInvoice = z.object({
  invoice_id: z.union([z.number().int(), z.string()]).transform(String),
  status: z.string(),
  currency_type: z.enum(["crypto", "fiat"]).optional(),
  asset: z.string().optional(),
  fiat: z.string().optional(),
  amount: z.string(),
  paid_asset: z.string().optional(),
  paid_amount: z.string().optional(),
  payload: z.string().optional(),
  bot_invoice_url: z.string().optional(),
  mini_app_invoice_url: z.string().optional(),
  web_app_invoice_url: z.string().optional(),
  pay_url: z.string().optional(),
});
type WireInvoice = z.infer<typeof WireInvoice>;

const Envelope = z.object({ ok: z.boolean(), result: z.unknown().optional(), error: z.unknown().optional() });

/** The webhook body Crypto Pay POSTs: only `invoice_paid` updates exist today. */
const WebhookBody = z.object({
  update_id: z.number().int(),
  update_type: z.string(),
  request_date: z.string(),
  payload: z.object({ invoice_id: z.union([z.number().int(), z.string()]).transform(String) }).passthrough(),
});

export type CryptoPayOptions = {
  token: string;
  /** `https://pay.crypt.bot/api` (mainnet) or `https://testnet-pay.crypt.bot/api`. */
  apiUrl: string;
  /** "USD": a fiat invoice in US dollars the customer pays in any accepted crypto. "USDT": a USDT invoice. */
  currency: "USD" | "USDT";
  invoices: Collection<CryptoPayInvoiceRecord>;
  clock: () => number;
  timeoutMs?: number;
  fetch?: typeof fetch;
  log?: { warn(message: string, fields?: Record<string, unknown>): void };
};

/** Crypto Pay allows invoices to live between 1 second and 2,678,400 seconds (31 days). */
const MAX_EXPIRES_IN = 2_678_400;

export function createCryptoPayPayments(options: CryptoPayOptions): PaymentProvider {
  const base = options.apiUrl.replace(/\/+$/, "");
  const timeoutMs = options.timeoutMs ?? 10_000;
  const doFetch = options.fetch ?? fetch;
  const signingKey = createHash("sha256").update(options.token).digest();
  /** Same-process callers asking for the same order at once share one request. */
  const inflight = new Map<string, Promise<ProviderResult<Invoice>>>();

  /** One API call; every failure (network, timeout, HTTP, `ok:false`, bad JSON) becomes a value. */
  const call = async (method: string, init: { query?: URLSearchParams; body?: unknown }): Promise<ProviderResult<unknown>> => {
    const url = `${base}/${method}${init.query ? `?${init.query.toString()}` : ""}`;
    const answer = await fetchJson(doFetch, url, {
      method: init.body === undefined ? "GET" : "POST",
      headers: { [CRYPTOPAY_TOKEN_HEADER]: options.token },
      body: init.body,
      timeoutMs,
    });
    if (!answer.ok) return fail("unavailable", `${method}: ${answer.problem}`);
    const { status, json } = answer;
    const envelope = Envelope.safeParse(json);
    if (!envelope.success) return fail("unavailable", `${method}: HTTP ${status}, unexpected body`);
    if (!envelope.data.ok) {
      const detail = `${method}: HTTP ${status} ${JSON.stringify(envelope.data.error ?? null).slice(0, 200)}`;
      if (status === 401 || status === 403) return fail("unauthorized", detail);
      // 5xx and rate limits are worth retrying; a 400 means we sent something it will never accept.
      return status >= 500 || status === 429 ? fail("unavailable", detail) : fail("rejected", detail);
    }
    return ok(envelope.data.result);
  };

  /** The invoice's amount as exact money in the provider currency, or null when it is in something else. */
  const invoiceAmount = (invoice: WireInvoice): Money | null => {
    const isFiat = invoice.currency_type === "fiat" || (invoice.currency_type === undefined && invoice.fiat !== undefined);
    const unit = isFiat ? invoice.fiat : invoice.asset;
    if (unit !== options.currency) return null;
    const parsed = parseMoney(invoice.amount, options.currency);
    return parsed.ok ? parsed.value : null;
  };

  const create = async (request: Parameters<PaymentProvider["createInvoice"]>[0]): Promise<ProviderResult<Invoice>> => {
    const known = await options.invoices.get(request.orderId);
    if (known) return ok({ paymentId: known.invoiceId, payUrl: known.payUrl, expiresAt: known.expiresAt });
    if (request.charge.currency !== options.currency) {
      return fail("rejected", `order is priced in ${request.charge.currency}, Crypto Pay is set up for ${options.currency}`);
    }
    const now = options.clock();
    const expiresIn = Math.min(MAX_EXPIRES_IN, Math.max(1, Math.ceil((request.expiresAt - now) / 1000)));
    const amount = toDecimalString(request.charge);
    const body =
      options.currency === "USD" ? { currency_type: "fiat", fiat: "USD", amount } : { currency_type: "crypto", asset: "USDT", amount };
    const result = await call("createInvoice", {
      body: {
        ...body,
        description: request.description.slice(0, 1024),
        payload: request.orderId,
        expires_in: expiresIn,
        allow_comments: false,
        allow_anonymous: true,
      },
    });
    if (!result.ok) return failed(result);
    const invoice = WireInvoice.safeParse(result.value);
    if (!invoice.success) return fail("unavailable", "createInvoice: unexpected invoice shape");
    const payUrl =
      invoice.data.bot_invoice_url ?? invoice.data.mini_app_invoice_url ?? invoice.data.web_app_invoice_url ?? invoice.data.pay_url;
    if (!payUrl) return fail("unavailable", "createInvoice: no pay URL in the answer");
    const record: CryptoPayInvoiceRecord = {
      v: 1,
      orderId: request.orderId,
      invoiceId: invoice.data.invoice_id,
      payUrl,
      expiresAt: now + expiresIn * 1000,
    };
    await options.invoices.set(request.orderId, record);
    return ok({ paymentId: record.invoiceId, payUrl, expiresAt: record.expiresAt });
  };

  return {
    name: "cryptopay",
    currency: options.currency,
    async createInvoice(request) {
      // Idempotent by order id: the record keyed by order id answers retries with the same invoice.
      const running = inflight.get(request.orderId);
      if (running) return running;
      const attempt = create(request).finally(() => inflight.delete(request.orderId));
      inflight.set(request.orderId, attempt);
      return attempt;
    },

    async fetchPayment(paymentId): Promise<ProviderResult<PaymentStatus>> {
      if (!/^\d{1,20}$/.test(paymentId)) return fail("not_found");
      const result = await call("getInvoices", { query: new URLSearchParams({ invoice_ids: paymentId }) });
      if (!result.ok) return failed(result);
      const items = z.object({ items: z.array(z.unknown()) }).safeParse(result.value);
      if (!items.success) return fail("unavailable", "getInvoices: unexpected answer");
      const found = items.data.items.map((item) => WireInvoice.safeParse(item)).find((p) => p.success && p.data.invoice_id === paymentId);
      if (!found?.success) return fail("not_found");
      const invoice = found.data;
      const amount = invoiceAmount(invoice);
      // Never let a foreign currency pass as ours: it is reported as what it is, and the engine refuses it.
      const isFiat = invoice.currency_type === "fiat" || (invoice.currency_type === undefined && invoice.fiat !== undefined);
      const foreign = amount === null ? { amount: invoice.amount, unit: (isFiat ? invoice.fiat : invoice.asset) ?? "unknown" } : null;
      if (foreign) options.log?.warn("crypto pay invoice in an unexpected currency", { paymentId, ...foreign });
      const status: PaymentStatus["status"] =
        invoice.status === "paid" ? "paid" : invoice.status === "expired" ? "expired" : invoice.status === "active" ? "pending" : "failed";
      return ok({ paymentId, status, amount, foreign, orderId: invoice.payload ?? null });
    },

    verifyWebhook({ rawBody, headers }) {
      const given = headers[CRYPTOPAY_SIGNATURE_HEADER];
      if (typeof given !== "string" || !/^[0-9a-fA-F]{64}$/.test(given)) return null;
      const expected = createHmac("sha256", signingKey).update(rawBody).digest();
      if (!timingSafeEqual(expected, Buffer.from(given, "hex"))) return null;
      const parsed = WebhookBody.safeParse(parseJsonOrNull(rawBody));
      if (!parsed.success || parsed.data.update_type !== "invoice_paid") return null;
      // Only the id is taken from the body; status and amount are re-fetched by the engine.
      return { paymentId: parsed.data.payload.invoice_id };
    },

    async cancelInvoice(paymentId) {
      const result = await call("deleteInvoice", { body: { invoice_id: Number(paymentId) } });
      return result.ok ? ok(undefined) : failed(result);
    },
  };
}

/** Hex HMAC-SHA256 of `rawBody` keyed with SHA-256(token): what Crypto Pay puts in the signature header. */
export function cryptoPaySignature(token: string, rawBody: Buffer | string): string {
  const key = createHash("sha256").update(token).digest();
  return createHmac("sha256", key).update(rawBody).digest("hex");
}
