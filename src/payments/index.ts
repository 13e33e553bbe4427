/**
 * Chooses the payment provider named by configuration. Each provider keeps its own small records in
 * the shared store (invoices per order, Stars payments), so restarts and other instances see them.
 *
 * Only the configured provider's module is loaded (the Stars one brings grammY), so the console and
 * sandbox default start without them. For that reason this index re-exports the providers' types
 * only: import `createCryptoPayPayments`, `cryptoPaySignature` from `./cryptopay.ts` and
 * `starsPaymentsComposer`, `isStarsProvider` from `./stars.ts`.
 */
import type { Config } from "../config.ts";
import type { Logger } from "../log.ts";
import { type ShopStore, collectionOf } from "../store/index.ts";
import type { PaymentProvider } from "./provider.ts";
import { SandboxInvoice, SandboxOutbox, createSandboxPayments } from "./sandbox.ts";
import type { SandboxProvider } from "./sandbox.ts";
import type { StarsApi } from "./stars.ts";

export type { PaymentProvider, ProviderName } from "./provider.ts";
export type { StarsApi, StarsProvider } from "./stars.ts";

export type PaymentDeps = {
  store: ShopStore;
  clock: () => number;
  log: Logger;
  /** The Bot API for Stars (the Telegram layer builds it from the bot token). */
  starsApi?: () => Promise<StarsApi>;
  /** The base URL of the sandbox pay page, asked each time (the port may be chosen at start). */
  publicUrl: () => string;
};

/** The configured provider. The sandbox one is returned separately too: the app serves its pay page. */
export async function createPaymentProvider(
  config: Config,
  deps: PaymentDeps,
): Promise<{ provider: PaymentProvider; sandbox: SandboxProvider | null }> {
  const { store, clock } = deps;
  switch (config.payments.provider) {
    case "sandbox": {
      const sandbox = createSandboxPayments({
        invoices: collectionOf(store.kv("sandbox_invoices"), SandboxInvoice),
        outbox: collectionOf(store.kv("sandbox_outbox"), SandboxOutbox),
        publicUrl: deps.publicUrl,
        clock,
      });
      return { provider: sandbox, sandbox };
    }
    case "cryptopay": {
      const { CryptoPayInvoiceRecord, createCryptoPayPayments } = await import("./cryptopay.ts");
      const provider = createCryptoPayPayments({
        token: config.payments.cryptopayToken,
        apiUrl: config.payments.cryptopayApiUrl,
        currency: config.payments.cryptopayCurrency,
        invoices: collectionOf(store.kv("cryptopay_invoices"), CryptoPayInvoiceRecord),
        clock,
        log: deps.log,
      });
      return { provider, sandbox: null };
    }
    case "stars": {
      const { StarsInvoiceRecord, StarsPaymentRecord, createStarsPayments } = await import("./stars.ts");
      if (!deps.starsApi) throw new Error("PAYMENT_PROVIDER=stars needs the Telegram Bot API (TELEGRAM_BOT_TOKEN)");
      const api = await deps.starsApi();
      const provider = createStarsPayments({
        api,
        invoices: collectionOf(store.kv("stars_invoices"), StarsInvoiceRecord),
        payments: collectionOf(store.kv("stars_payments"), StarsPaymentRecord),
        clock,
      });
      return { provider, sandbox: null };
    }
    default: {
      const unhandled: never = config.payments;
      throw new Error(`unknown payment provider ${JSON.stringify(unhandled)}`);
    }
  }
}
