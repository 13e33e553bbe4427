/**
 * The real implementations of the purchase machine's actors: pricing, creating a payment, asking the
 * provider about it, voiding it, delivering the goods, returning money, revoking stray goods. The
 * engine attaches them with `machine.provide()`; tests pass fakes the same way. Each turns provider
 * failures into values the machine can explain, and each is idempotent by order id, because XState
 * re-runs an invoked actor when a snapshot taken mid-invoke is restored.
 */
import { fromPromise } from "xstate";
import type {
  DeliveryInput,
  DeliveryResult,
  PaymentCheckInput,
  PaymentCheckResult,
  PaymentCreationInput,
  PaymentCreationResult,
  PricingInput,
  PricingResult,
  PromoCheckInput,
  PromoCheckResult,
  PromoReleaseInput,
  PromoReleaseResult,
  PromoReserveInput,
  PromoReserveResult,
  RefundInput,
  RefundResult,
  ReissueInput,
  StrayGoodsInput,
  StrayGoodsResult,
  VoidInput,
  VoidResult,
} from "../../machines/purchase.machine.ts";
import { type ChatId, type OrderId, PaymentId } from "../domain/ids.ts";
import { type Money, formatMoney, groupThousands } from "../domain/money.ts";
import { paymentKey } from "../payments/provider.ts";
import { type CatalogActorDeps, createCatalogActors } from "./catalog-actors.ts";

/** The actors the machine names, as `machine.provide({ actors })` takes them (the stray payment's return reuses `refundPayment`). */
export type PurchaseActors = {
  priceQuote: ReturnType<typeof fromPromise<PricingResult, PricingInput>>;
  createPayment: ReturnType<typeof fromPromise<PaymentCreationResult, PaymentCreationInput>>;
  checkPayment: ReturnType<typeof fromPromise<PaymentCheckResult, PaymentCheckInput>>;
  voidInvoice: ReturnType<typeof fromPromise<VoidResult, VoidInput>>;
  deliverGoods: ReturnType<typeof fromPromise<DeliveryResult, DeliveryInput>>;
  refundPayment: ReturnType<typeof fromPromise<RefundResult, RefundInput>>;
  sweepStrayGoods: ReturnType<typeof fromPromise<StrayGoodsResult, StrayGoodsInput>>;
  checkPromo: ReturnType<typeof fromPromise<PromoCheckResult, PromoCheckInput>>;
  reservePromo: ReturnType<typeof fromPromise<PromoReserveResult, PromoReserveInput>>;
  releasePromo: ReturnType<typeof fromPromise<PromoReleaseResult, PromoReleaseInput>>;
  reissueGoods: ReturnType<typeof fromPromise<DeliveryResult, ReissueInput>>;
};

/** What the catalog's actors need, and what invoicing adds to it. */
export type ActorDeps = CatalogActorDeps & {
  paymentTtlMs: number;
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

/** The product's real pricing, promo codes, invoicing, payment checks, delivery, reissues and refunds. */
export function createPurchaseActors(deps: ActorDeps): PurchaseActors {
  const { log, payments } = deps;
  return {
    ...createCatalogActors(deps),

    createPayment: fromPromise(async ({ input }): Promise<PaymentCreationResult> => {
      const { quote } = input;
      const now = deps.clock();
      const words = await (deps.describeInvoice ?? describeInEnglish)({
        orderId: input.orderId,
        chatId: input.chatId,
        tokens: quote.tokens,
        usd: quote.usd,
      });
      const result = await payments.createInvoice({
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
      // Write-first index: a webhook can always find its order, even if the order's commit never happens.
      await deps.store.indexPayment(paymentKey(payments.name, paymentId), { orderId: input.orderId, chatId: input.chatId });
      return { ok: true, payment: { provider: payments.name, paymentId, payUrl, charge: quote.charge, createdAt: now, expiresAt } };
    }),

    // Asking the provider is the same verified path as a webhook: only what it says now counts.
    checkPayment: fromPromise(async ({ input }): Promise<PaymentCheckResult> => {
      const status = await payments.fetchPayment(input.paymentId).catch((err: unknown) => {
        log.warn("payment check threw", { orderId: input.orderId, err });
        return null;
      });
      const at = deps.clock();
      if (!status?.ok) return { status: "unavailable", amount: null, foreign: null, at };
      return { status: status.value.status, amount: status.value.amount, foreign: status.value.foreign ?? null, at };
    }),

    voidInvoice: fromPromise(async ({ input }): Promise<VoidResult> => {
      if (!payments.cancelInvoice) return { voided: false, at: deps.clock() };
      const voided = await payments.cancelInvoice(input.paymentId).catch((err: unknown) => {
        log.warn("could not void the invoice of a closed order", { orderId: input.orderId, err });
        return null;
      });
      if (voided && !voided.ok)
        log.info("provider did not void the invoice of a closed order", { orderId: input.orderId, reason: voided.reason });
      return { voided: voided?.ok === true, at: deps.clock() };
    }),

    deliverGoods: fromPromise(async ({ input }): Promise<DeliveryResult> => {
      const outcome = await deps.ledger.deliver({
        orderId: input.orderId,
        chatId: input.chatId,
        tokens: input.tokens,
        usd: input.usd,
        credit: input.credit ?? null,
        productId: input.productId,
      });
      const at = deps.clock();
      if (outcome.ok) return { ok: true, ref: outcome.entry.ref, hint: outcome.entry.hint, at, mayLeaveStrays: deps.ledger.mayLeaveStrays };
      log.warn("delivery attempt failed", {
        orderId: input.orderId,
        attempt: input.attempt,
        reason: outcome.reason,
        detail: outcome.detail,
      });
      return { ok: false, reason: outcome.reason, at };
    }),

    refundPayment: fromPromise(async ({ input }): Promise<RefundResult> => {
      const at = () => deps.clock();
      if (!payments.refund || input.amount === null) return { ok: false, reason: "unsupported", at: at() };
      const refunded = await payments.refund(input.chargeId, input.amount).catch((err: unknown) => {
        log.warn("refund threw", { orderId: input.orderId, err });
        return null;
      });
      if (refunded?.ok) {
        log.info("payment refunded through the provider", {
          orderId: input.orderId,
          chargeId: input.chargeId,
          refundId: refunded.value.refundId,
        });
        return { ok: true, refundId: refunded.value.refundId, at: at() };
      }
      log.warn("provider could not refund; the owner must", {
        orderId: input.orderId,
        chargeId: input.chargeId,
        reason: refunded?.reason ?? "threw",
      });
      return {
        ok: false,
        reason:
          refunded?.reason === "unsupported"
            ? "unsupported"
            : refunded === null || refunded.reason === "unavailable"
              ? "unavailable"
              : "rejected",
        at: at(),
      };
    }),

    sweepStrayGoods: fromPromise(async ({ input }): Promise<StrayGoodsResult> => {
      const revoked = await deps.ledger.revokeStrays(input.orderId, input.chatId, input.keep);
      // A key nobody was shown was live: say so, it was revoked (issue 18).
      if (revoked > 0) log.warn("revoked goods an interrupted delivery attempt left live", { orderId: input.orderId, revoked });
      return { revoked, at: deps.clock() };
    }),
  };
}
