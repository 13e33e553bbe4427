/**
 * The real implementations of the purchase machine's actors, attached with `.provide()`. Each turns
 * provider failures into values the machine can explain, and each is idempotent by order id because
 * XState re-runs an invoked actor when a snapshot taken mid-invoke is restored.
 */
import { fromPromise } from "xstate";
import { purchaseMachine } from "../../machines/purchase.machine.ts";
import type { DeliveryResult, PaymentCreationResult, PricingResult } from "../../machines/purchase.machine.ts";
import { type Catalog, priceTokens, withinLimits } from "../domain/catalog.ts";
import { formatMoney, money } from "../domain/money.ts";
import type { Currency } from "../domain/money.ts";
import type { DeliveryProvider, Ledger } from "../delivery/index.ts";
import type { PaymentProvider } from "../payments/provider.ts";
import type { Stores } from "../store/index.ts";
import { groupThousands } from "../domain/money.ts";

export type ActorDeps = {
  catalog: Catalog;
  quoteTtlMs: number;
  paymentTtlMs: number;
  clock: () => number;
  payments: PaymentProvider;
  delivery: DeliveryProvider;
  ledger: Ledger;
  stores: Stores;
};

/** The purchase machine with real pricing, invoicing and delivery attached. */
export function providePurchaseMachine(deps: ActorDeps) {
  return purchaseMachine.provide({
    actors: {
      priceQuote: fromPromise(async ({ input }): Promise<PricingResult> => {
        if (!withinLimits(deps.catalog, input.tokens)) return { ok: false, reason: "pricing_unavailable" };
        const price = priceTokens(deps.catalog, input.tokens, deps.payments.currency);
        // Refuse to sell what cannot be delivered (e.g. the provisioning account's remaining credit).
        const available = deps.delivery.availableUsd ? await deps.delivery.availableUsd().catch(() => undefined) : null;
        if (available === undefined) return { ok: false, reason: "pricing_unavailable" };
        if (available !== null && available.minor < price.usd.minor) return { ok: false, reason: "out_of_stock" };
        const now = deps.clock();
        return {
          ok: true,
          quote: { tokens: input.tokens, usd: price.usd, charge: price.charge, quotedAt: now, expiresAt: now + deps.quoteTtlMs },
        };
      }),
      createPayment: fromPromise(async ({ input }): Promise<PaymentCreationResult> => {
        const { quote } = input;
        const usd = money(quote.usd.minor, quote.usd.currency as Currency);
        const charge = money(quote.charge.minor, quote.charge.currency as Currency);
        const now = deps.clock();
        const result = await deps.payments.createInvoice({
          orderId: input.orderId,
          chatId: input.chatId,
          tokens: quote.tokens,
          usd,
          charge,
          description: `${groupThousands(String(quote.tokens))} AI tokens (${formatMoney(usd)}) — order ${input.orderId}`,
          expiresAt: now + deps.paymentTtlMs,
        });
        if (!result.ok) return { ok: false, reason: "payment_unavailable" };
        const { paymentId, payUrl, expiresAt } = result.value;
        await deps.stores.paymentIndex.set(`${deps.payments.name}:${paymentId}`, {
          v: 1,
          orderId: input.orderId,
          chatId: input.chatId,
        });
        return {
          ok: true,
          payment: { provider: deps.payments.name, paymentId, payUrl, charge, createdAt: now, expiresAt },
        };
      }),
      deliverGoods: fromPromise(async ({ input }): Promise<DeliveryResult> => {
        const usd = money(input.usd.minor, input.usd.currency as Currency);
        const outcome = await deps.ledger.deliver({ orderId: input.orderId, chatId: input.chatId, tokens: input.tokens, usd });
        const at = deps.clock();
        return outcome.ok ? { ok: true, ref: outcome.entry.ref, hint: outcome.entry.hint, at } : { ok: false, reason: outcome.reason, at };
      }),
    },
  });
}
