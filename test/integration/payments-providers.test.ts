/**
 * Provider edges that don't need the whole app: the Crypto Pay signature recipe written out from its
 * documentation (not via our helper), and timeouts on APIs that never answer.
 */
import { createHash, createHmac } from "node:crypto";
import { ChatId, OrderId } from "../../src/domain/ids.ts";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createOpenRouterDelivery } from "../../src/delivery/openrouter.ts";
import { money } from "../../src/domain/money.ts";
import { CryptoPayInvoiceRecord, createCryptoPayPayments } from "../../src/payments/cryptopay.ts";
import { collectionOf, openStore } from "../../src/store/index.ts";

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(
    servers.splice(0).map(
      (s) =>
        new Promise((resolve) => {
          s.close(resolve);
          s.closeAllConnections();
        }),
    ),
  );
});

/** A server that accepts connections and never answers. */
async function blackHole(): Promise<string> {
  const server = createServer(() => {});
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  server.unref();
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function cryptoPay(apiUrl: string, timeoutMs = 10_000) {
  const store = await openStore({ kind: "memory" });
  return createCryptoPayPayments({
    token: "123:TESTTOKEN",
    apiUrl,
    currency: "USD",
    invoices: collectionOf(store.kv("cryptopay_invoices"), CryptoPayInvoiceRecord),
    clock: () => 0,
    timeoutMs,
  });
}

describe("Crypto Pay webhook authentication", () => {
  const body = Buffer.from(
    '{"update_id":1,"update_type":"invoice_paid","request_date":"2026-03-01T12:00:00.000Z","payload":{"invoice_id":1001,"status":"paid"}}',
  );

  it("accepts the documented signature: hex HMAC-SHA256 of the raw body keyed with SHA-256(token) bytes", async () => {
    const provider = await cryptoPay("http://127.0.0.1:9");
    const key = createHash("sha256").update("123:TESTTOKEN").digest();
    const signature = createHmac("sha256", key).update(body).digest("hex");
    expect(provider.verifyWebhook({ rawBody: body, headers: { "crypto-pay-api-signature": signature } })).toEqual({ paymentId: "1001" });
  });

  it("refuses look-alike signatures (token as key, hex digest as key) and other update types", async () => {
    const provider = await cryptoPay("http://127.0.0.1:9");
    const byToken = createHmac("sha256", "123:TESTTOKEN").update(body).digest("hex");
    const byHexKey = createHmac("sha256", createHash("sha256").update("123:TESTTOKEN").digest("hex")).update(body).digest("hex");
    for (const signature of [byToken, byHexKey, "", "zz"]) {
      expect(provider.verifyWebhook({ rawBody: body, headers: { "crypto-pay-api-signature": signature } })).toBeNull();
    }
    const other = Buffer.from(body.toString().replace("invoice_paid", "invoice_expired"));
    const key = createHash("sha256").update("123:TESTTOKEN").digest();
    const signed = createHmac("sha256", key).update(other).digest("hex");
    expect(provider.verifyWebhook({ rawBody: other, headers: { "crypto-pay-api-signature": signed } })).toBeNull();
  });
});

describe("slow providers", () => {
  it("a Crypto Pay API that never answers becomes 'unavailable' after the timeout", async () => {
    const provider = await cryptoPay(`${await blackHole()}/api`, 200);
    const started = Date.now();
    const created = await provider.createInvoice({
      orderId: OrderId.parse("ord_1"),
      chatId: ChatId.parse("c1"),
      tokens: 1000,
      usd: money(2000, "USD"),
      charge: money(2000, "USD"),
      title: "TokenGoblin: 1,000 tokens",
      description: "1,000 AI tokens",
      expiresAt: 3_600_000,
    });
    expect(created).toMatchObject({ ok: false, reason: "unavailable" });
    expect(await provider.fetchPayment("1001")).toMatchObject({ ok: false, reason: "unavailable" });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it("an OpenRouter API that never answers fails the delivery attempt and the stock check after the timeout", async () => {
    const delivery = createOpenRouterDelivery({ apiUrl: await blackHole(), provisioningKey: "sk-or-v1-x", timeoutMs: 200 });
    const issued = await delivery.issue({
      orderId: OrderId.parse("ord_1"),
      chatId: ChatId.parse("c1"),
      tokens: 1000,
      usd: money(2000, "USD"),
    });
    expect(issued.ok).toBe(false);
    await expect(delivery.availableUsd!()).rejects.toThrow(/TimeoutError/);
  });
});
