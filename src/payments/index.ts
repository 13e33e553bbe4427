/**
 * Chooses the payment provider named by configuration. Each provider keeps its own small records in
 * the shared store (invoices per order, Stars payments), so restarts and other instances see them.
 */
import type { Config } from "../config.ts";
import type { Logger } from "../log.ts";
import type { Stores } from "../store/index.ts";
import { CryptoPayInvoiceRecord, createCryptoPayPayments } from "./cryptopay.ts";
import type { PaymentProvider } from "./provider.ts";
import { SandboxInvoice, createSandboxPayments } from "./sandbox.ts";
import type { SandboxProvider } from "./sandbox.ts";
import { type StarsApi, StarsInvoiceRecord, StarsPaymentRecord, createStarsPayments } from "./stars.ts";

export type { PaymentProvider, ProviderName } from "./provider.ts";
export { createCryptoPayPayments, cryptoPaySignature, CRYPTOPAY_SIGNATURE_HEADER } from "./cryptopay.ts";
export { createStarsPayments, isStarsProvider } from "./stars.ts";
export type { StarsApi, StarsProvider } from "./stars.ts";

export type PaymentDeps = {
  stores: Stores;
  clock: () => number;
  log: Logger;
  /** The Bot API for Stars (the Telegram layer builds it from the bot token). */
  starsApi?: () => StarsApi;
  /** The base URL of the sandbox pay page, asked each time (the port may be chosen at start). */
  publicUrl: () => string;
};

/** The configured provider. The sandbox one is returned separately too: the app serves its pay page. */
export function createPaymentProvider(config: Config, deps: PaymentDeps): { provider: PaymentProvider; sandbox: SandboxProvider | null } {
  const { stores, clock } = deps;
  switch (config.payments.provider) {
    case "sandbox": {
      const sandbox = createSandboxPayments({
        invoices: stores.backend.collection("sandbox_invoices", SandboxInvoice),
        publicUrl: deps.publicUrl,
        clock,
      });
      return { provider: sandbox, sandbox };
    }
    case "cryptopay": {
      if (!config.payments.cryptopayToken) throw new Error("CRYPTOPAY_TOKEN is required for PAYMENT_PROVIDER=cryptopay");
      const provider = createCryptoPayPayments({
        token: config.payments.cryptopayToken,
        apiUrl: config.payments.cryptopayApiUrl,
        currency: config.payments.cryptopayCurrency,
        invoices: stores.backend.collection("cryptopay_invoices", CryptoPayInvoiceRecord),
        clock,
        log: deps.log,
      });
      return { provider, sandbox: null };
    }
    case "stars": {
      if (!deps.starsApi) throw new Error("PAYMENT_PROVIDER=stars needs the Telegram Bot API (TELEGRAM_BOT_TOKEN)");
      const api = deps.starsApi();
      const provider = createStarsPayments({
        api,
        invoices: stores.backend.collection("stars_invoices", StarsInvoiceRecord),
        payments: stores.backend.collection("stars_payments", StarsPaymentRecord),
        claims: stores.claims,
        clock,
      });
      return { provider, sandbox: null };
    }
    default: {
      const unhandled: never = config.payments.provider;
      throw new Error(`unknown payment provider ${String(unhandled)}`);
    }
  }
}
