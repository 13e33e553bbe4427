/**
 * The real implementations of the purchase machine's actors: pricing, creating a payment, delivering
 * the goods. The engine attaches them with `machine.provide()`; tests pass fakes the same way. Each
 * turns provider failures into values the machine can explain, and each is idempotent by order id
 * because XState re-runs an invoked actor when a snapshot taken mid-invoke is restored.
 */
import { fromPromise } from "xstate";
import type {
  DeliveryInput,
  DeliveryResult,
  PaymentCreationInput,
  PaymentCreationResult,
  PricingInput,
  PricingResult,
} from "../../machines/purchase.machine.ts";
import { type Catalog, priceTokens } from "../domain/catalog.ts";
import { type ChatId, type OrderId, PaymentId } from "../domain/ids.ts";
import { type Money, formatMoney, groupThousands } from "../domain/money.ts";
import type { DeliveryProvider, Ledger } from "../delivery/index.ts";
import type { Logger } from "../log.ts";
import type { PaymentProvider } from "../payments/provider.ts";
import { paymentKey } from "../payments/provider.ts";
import type { Stores } from "../store/index.ts";

/** The three actors the machine names, as `machine.provide({ actors })` takes them. */
export type PurchaseActors = {
  priceQuote: ReturnType<typeof fromPromise<PricingResult, PricingInput>>;
  createPayment: ReturnType<typeof fromPromise<PaymentCreationResult, PaymentCreationInput>>;
  deliverGoods: ReturnType<typeof fromPromise<DeliveryResult, DeliveryInput>>;
};

export type ActorDeps = {
  catalog: Catalog;
  quoteTtlMs: number;
  paymentTtlMs: number;
  clock: () => number;
  payments: PaymentProvider;
  delivery: DeliveryProvider;
  ledger: Ledger;
  stores: Stores;
  log: Logger;
  /** The invoice's title and description as the provider shows them, in the customer's language. */
  describeInvoice?: (order: InvoiceSubject) => Promise<{ title: string; description: string }>;
};

/** What an invoice is for, to be put into words. */
export type InvoiceSubject = { orderId: OrderId; chatId: ChatId; tokens: number; usd: Money };

/** The words when no translation is attached (tests, custom builds): English. */
async function describeInEnglish(order: InvoiceSubject): Promise<{ title: string; description: string }> {
  const tokens = `${groupThousands(String(order.tokens))} tokens`;
  return { title: `TokenGoblin: ${tokens}`, description: `${tokens} of AI API credit (${formatMoney(order.usd)}), order ${order.orderId}` };
}

/** The product's real pricing, invoicing and delivery. */
export function createPurchaseActors(deps: ActorDeps): PurchaseActors {
  const { log } = deps;
  return {
    // The amount was checked by the machine's `amountWithinLimits` guard before pricing starts.
    priceQuote: fromPromise(async ({ input }): Promise<PricingResult> => {
      const price = priceTokens(deps.catalog, input.tokens, deps.payments.currency);
      // Refuse to sell what cannot be delivered (e.g. the provisioning account's remaining credit).
      let available;
      try {
        available = deps.delivery.availableUsd ? await deps.delivery.availableUsd() : null;
      } catch (err) {
        log.warn("stock check failed; the customer is asked to try again", { orderId: input.orderId, err });
        return { ok: false, reason: "pricing_unavailable" };
      }
      if (available !== null && available.minor < price.usd.minor) return { ok: false, reason: "out_of_stock" };
      const now = deps.clock();
      return {
        ok: true,
        quote: { tokens: input.tokens, usd: price.usd, charge: price.charge, quotedAt: now, expiresAt: now + deps.quoteTtlMs },
      };
    }),

    createPayment: fromPromise(async ({ input }): Promise<PaymentCreationResult> => {
      const { quote } = input;
      const now = deps.clock();
      const words = await (deps.describeInvoice ?? describeInEnglish)({ orderId: input.orderId, chatId: input.chatId, tokens: quote.tokens, usd: quote.usd });
      const result = await deps.payments.createInvoice({
        orderId: input.orderId,
        chatId: input.chatId,
        tokens: quote.tokens,
        usd: quote.usd,
        charge: quote.charge,
        ...words,
        expiresAt: now + deps.paymentTtlMs,
      });
      if (!result.ok) {
        log.warn("invoice could not be created", { orderId: input.orderId, reason: result.reason, detail: result.detail ?? null });
        return { ok: false, reason: "payment_unavailable" };
      }
      const { payUrl, expiresAt } = result.value;
      const paymentId = PaymentId.parse(result.value.paymentId);
      // The index is written before the order knows its invoice: a webhook can always find its order.
      await deps.stores.paymentIndex.set(paymentKey(deps.payments.name, paymentId), { v: 1, orderId: input.orderId, chatId: input.chatId });
      return {
        ok: true,
        payment: { provider: deps.payments.name, paymentId, payUrl, charge: quote.charge, createdAt: now, expiresAt },
      };
    }),

    deliverGoods: fromPromise(async ({ input }): Promise<DeliveryResult> => {
      const outcome = await deps.ledger.deliver({ orderId: input.orderId, chatId: input.chatId, tokens: input.tokens, usd: input.usd });
      const at = deps.clock();
      if (outcome.ok) return { ok: true, ref: outcome.entry.ref, hint: outcome.entry.hint, at };
      log.warn("delivery attempt failed", { orderId: input.orderId, attempt: input.attempt, reason: outcome.reason, detail: outcome.detail });
      return { ok: false, reason: outcome.reason, at };
    }),
  };
}
