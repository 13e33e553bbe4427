/**
 * A local stand-in for the Crypto Pay API (https://help.send.tg/en/articles/10279948-crypto-pay-api):
 * `createInvoice`, `getInvoices`, `deleteInvoice` under `/api`, token checked from the
 * `Crypto-Pay-API-Token` header, answers wrapped in `{ok, result}`. Tests play the customer with
 * `pay()`, which returns the signed `invoice_paid` webhook Crypto Pay would POST.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { cryptoPaySignature } from "../../src/payments/cryptopay.ts";

export type StubInvoice = {
  invoice_id: number;
  hash: string;
  status: "active" | "paid" | "expired";
  currency_type: "crypto" | "fiat";
  asset?: string;
  fiat?: string;
  amount: string;
  paid_asset?: string;
  paid_amount?: string;
  description?: string;
  payload?: string;
  bot_invoice_url: string;
  mini_app_invoice_url: string;
  web_app_invoice_url: string;
  created_at: string;
  expires_in?: number;
};

export type CryptoPayStub = {
  /** Base API URL, like `https://testnet-pay.crypt.bot/api`. */
  url: string;
  token: string;
  invoices: Map<number, StubInvoice>;
  calls: { createInvoice: number; getInvoices: number; deleteInvoice: number; unauthorized: number };
  /** While true every API call answers 503 (the provider is down). */
  down: boolean;
  /** The customer pays: the invoice becomes paid; returns the signed webhook Crypto Pay would send. */
  pay(invoiceId: number, patch?: Partial<StubInvoice>): { rawBody: Buffer; headers: Record<string, string> };
  /** A webhook for an invoice as it stands now, signed with `token` (or another token to forge). */
  webhook(invoiceId: number, signWith?: string): { rawBody: Buffer; headers: Record<string, string> };
  invoiceForOrder(orderId: string): StubInvoice | undefined;
  close(): Promise<void>;
};

export async function startCryptoPayStub(token = "123:TESTTOKEN"): Promise<CryptoPayStub> {
  const invoices = new Map<number, StubInvoice>();
  const calls = { createInvoice: 0, getInvoices: 0, deleteInvoice: 0, unauthorized: 0 };
  let nextId = 1000;
  let updateId = 1;

  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
  };
  const readBody = async (req: IncomingMessage): Promise<Record<string, unknown>> => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    return text ? (JSON.parse(text) as Record<string, unknown>) : {};
  };

  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? "/", "http://stub");
      if (stub.down) return send(res, 503, { ok: false, error: { code: 503, name: "SERVICE_UNAVAILABLE" } });
      if (req.headers["crypto-pay-api-token"] !== token) {
        calls.unauthorized++;
        return send(res, 401, { ok: false, error: { code: 401, name: "UNAUTHORIZED" } });
      }
      const params: Record<string, unknown> = req.method === "POST" ? await readBody(req) : Object.fromEntries(url.searchParams);
      switch (url.pathname) {
        case "/api/createInvoice": {
          calls.createInvoice++;
          const id = nextId++;
          const fiat = params.currency_type === "fiat";
          const invoice: StubInvoice = {
            invoice_id: id,
            hash: `IV${id}`,
            status: "active",
            currency_type: fiat ? "fiat" : "crypto",
            ...(fiat ? { fiat: String(params.fiat) } : { asset: String(params.asset) }),
            amount: String(params.amount),
            description: typeof params.description === "string" ? params.description : undefined,
            payload: typeof params.payload === "string" ? params.payload : undefined,
            bot_invoice_url: `https://t.me/CryptoTestnetBot?start=IV${id}`,
            mini_app_invoice_url: `https://t.me/CryptoTestnetBot/app?startapp=invoice-IV${id}`,
            web_app_invoice_url: `https://testnet-app.send.tg/invoices/IV${id}`,
            created_at: new Date().toISOString(),
            expires_in: typeof params.expires_in === "number" ? params.expires_in : undefined,
          };
          invoices.set(id, invoice);
          return send(res, 200, { ok: true, result: invoice });
        }
        case "/api/getInvoices": {
          calls.getInvoices++;
          const ids = String(params.invoice_ids ?? "")
            .split(",")
            .filter(Boolean)
            .map(Number);
          const items = ids.map((id) => invoices.get(id)).filter((i): i is StubInvoice => i !== undefined);
          return send(res, 200, { ok: true, result: { items } });
        }
        case "/api/deleteInvoice": {
          calls.deleteInvoice++;
          const deleted = invoices.delete(Number(params.invoice_id));
          return send(
            res,
            deleted ? 200 : 400,
            deleted ? { ok: true, result: true } : { ok: false, error: { code: 400, name: "INVOICE_NOT_FOUND" } },
          );
        }
        default:
          return send(res, 405, { ok: false, error: { code: 405, name: "METHOD_NOT_FOUND" } });
      }
    })().catch((error: unknown) => send(res, 500, { ok: false, error: { code: 500, name: String(error) } }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;

  const webhook = (invoiceId: number, signWith = token) => {
    const invoice = invoices.get(invoiceId);
    if (!invoice) throw new Error(`no invoice ${invoiceId}`);
    const rawBody = Buffer.from(
      JSON.stringify({ update_id: updateId++, update_type: "invoice_paid", request_date: new Date().toISOString(), payload: invoice }),
    );
    return { rawBody, headers: { "content-type": "application/json", "crypto-pay-api-signature": cryptoPaySignature(signWith, rawBody) } };
  };

  const stub: CryptoPayStub = {
    url: `http://127.0.0.1:${port}/api`,
    token,
    invoices,
    calls,
    down: false,
    pay(invoiceId, patch = {}) {
      const invoice = invoices.get(invoiceId);
      if (!invoice) throw new Error(`no invoice ${invoiceId}`);
      Object.assign(invoice, { status: "paid", paid_asset: "USDT", paid_amount: invoice.amount }, patch);
      return webhook(invoiceId);
    },
    webhook,
    invoiceForOrder: (orderId) => [...invoices.values()].find((i) => i.payload === orderId),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  return stub;
}
