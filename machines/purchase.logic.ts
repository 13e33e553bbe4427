/**
 * The purchase machine's rules and bookkeeping as plain functions: its guards (may this event move the
 * order?) and the context updates its actions make. `purchase.machine.ts` names them in `setup()`; the
 * states refer to them by name, so the machine file reads as the specification and these stay testable
 * one by one. Nothing here does I/O or imports from `src/`.
 */
import type {
  DeliveryFailure,
  DeliveryResult,
  PaymentCheckResult,
  PaymentCreationResult,
  PricingResult,
  Problem,
  PurchaseContext,
  PurchaseEvent,
  RefundDetails,
  RefundResult,
  StrayGoodsResult,
  VoidResult,
} from "./purchase.types.ts";
import { MAX_REISSUES } from "./purchase.types.ts";
import { offerGuards, offerUpdates } from "./purchase.offer.ts";

export { limitsFor, productsOf, spanOf } from "./purchase.offer.ts";

/** What a guard or an update is given: the order's context and the event being decided on. */
type Args = { context: PurchaseContext; event: PurchaseEvent };
/** Payloads of actor completions, narrowed once so guards and updates stay one-liners. */
type DoneWith<T> = { output: T };

/** How long after a delivery its goods are announced again when nobody confirmed they were shown. */
const ANNOUNCE_AGAIN_MS = 20_000;
/** How often goods are announced at most (then they wait for the customer's next status question). */
const MAX_ANNOUNCE_ATTEMPTS = 6;
/** How long after a delivery the provider is asked for goods an interrupted earlier attempt left live. */
const STRAY_GOODS_CHECK_MS = 60_000;
/** How long after a failed look for stray goods it is tried again. */
const STRAY_GOODS_RETRY_MS = 10 * 60_000;
/** How long after an open invoice's expiry the provider is asked again when it still says "pending". */
const RECHECK_PENDING_MS = 60 * 60_000;
/** How soon the provider is asked again when it could not be reached. */
const RECHECK_UNAVAILABLE_MS = 60_000;
/** An invoice the provider still calls pending this long after its expiry is no longer watched. */
const STOP_WATCHING_AFTER_MS = 7 * 24 * 60 * 60_000;

const sameMoney = (a: { minor: number; currency: string } | null, b: { minor: number; currency: string } | null) =>
  a !== null && b !== null && a.minor === b.minor && a.currency === b.currency;

/** The money a payment event reports, or (for a provider check) the order's own invoice. */
const paymentOf = (context: PurchaseContext, event: PurchaseEvent) =>
  event.type === "PAYMENT_RECEIVED"
    ? { chargeId: event.chargeId, amount: event.amount, foreign: event.foreign }
    : { chargeId: context.payment!.paymentId, amount: null, foreign: null };

/** A refund of the money `paid`, for `reason`, not yet made. */
const refundOf = (paid: Pick<RefundDetails, "chargeId" | "amount" | "foreign">, reason: RefundDetails["reason"]): RefundDetails => ({
  ...paid,
  reason,
  refundId: null,
  manual: false,
  refundedAt: null,
});

/** Why a delivery attempt failed, from its result (a success here is a bug, reported as unexpected). */
export function failureReason(result: DeliveryResult): DeliveryFailure {
  return result.ok ? "unexpected_error" : result.reason;
}

/** The machine's guards, by name. */
export const guards = {
  ...offerGuards,
  reissuesLeft: ({ context }: Args) => (context.reissues ?? 0) < MAX_REISSUES,
  quoteStillValid: ({ context, event }: Args) => context.quote !== null && event.at < context.quote.expiresAt,
  quoteDeadlinePassed: ({ context, event }: Args) => context.quote !== null && event.at >= context.quote.expiresAt,
  /** The money of this order's invoice, in exactly the invoiced amount and currency. */
  paysTheInvoice: ({ context, event }: Args) =>
    event.type === "PAYMENT_RECEIVED" && event.paymentId === context.payment?.paymentId && sameMoney(event.amount, context.payment.charge),
  /** This order's invoice was paid, but not in the invoiced amount or currency. */
  mismatchesTheInvoice: ({ context, event }: Args) =>
    event.type === "PAYMENT_RECEIVED" && event.paymentId === context.payment?.paymentId && !sameMoney(event.amount, context.payment.charge),
  /** A payment this order already applied or is already returning (a provider's retry): nothing to do. */
  paymentAlreadyHandled: ({ context, event }: Args) =>
    event.type === "PAYMENT_RECEIVED" &&
    (event.chargeId === context.paidCharge ||
      event.chargeId === context.refund?.chargeId ||
      context.strays.some((stray) => stray.chargeId === event.chargeId)),
  paymentFailureMatchesOrder: ({ context, event }: Args) =>
    event.type === "PAYMENT_FAILED" && context.payment !== null && event.paymentId === context.payment.paymentId,
  invoiceClosedForOrder: ({ context, event }: Args) => event.type === "INVOICE_CLOSED" && event.paymentId === context.payment?.paymentId,
  /** Money for this closed order's invoice, in full, and the order's terms say late money buys the goods. */
  paysTheInvoiceLate: ({ context, event }: Args) =>
    context.latePayment === "deliver" &&
    event.type === "PAYMENT_RECEIVED" &&
    event.paymentId === context.payment?.paymentId &&
    sameMoney(event.amount, context.payment.charge),
  paymentCheckDue: ({ context, event }: Args) => context.payment !== null && event.at >= (context.nextCheckAt ?? context.payment.expiresAt),
  hasOpenInvoice: ({ context }: Args) => context.payment !== null && !context.invoiceClosed,
  announceDue: ({ context, event }: Args) => context.delivery.announceAt !== null && event.at >= context.delivery.announceAt,
  announceAttemptsLeft: ({ context }: Args) => context.delivery.announceAttempts + 1 < MAX_ANNOUNCE_ATTEMPTS,
  strayGoodsPossible: ({ context }: Args) => context.delivery.strayCheckAt !== null,
  goodsCheckDue: ({ context, event }: Args) => context.delivery.strayCheckAt !== null && event.at >= context.delivery.strayCheckAt,
  retryDue: ({ context, event }: Args) => context.delivery.nextAttemptAt === null || event.at >= context.delivery.nextAttemptAt,
  strayOwed: ({ context, event }: Args) =>
    event.type === "REFUND_RECORDED" && context.strays.some((stray) => stray.chargeId === event.chargeId && stray.status === "owed"),
  // The order's own refund is recorded without a chargeId, or with the id of the very payment being returned.
  ownRefundOwed: ({ context, event }: Args) =>
    event.type === "REFUND_RECORDED" &&
    context.refund !== null &&
    (event.chargeId === undefined || event.chargeId === context.refund.chargeId),
  /** The owner records returning the order's own money (a stray payment's return names its `chargeId`). */
  ownRefundRecorded: ({ context, event }: Args) =>
    event.type === "REFUND_RECORDED" &&
    (event.chargeId === undefined || (context.paidCharge !== null && event.chargeId === context.paidCharge)),
  pricingSucceeded: (_: Args, params: DoneWith<PricingResult>) => params.output.ok,
  paymentCreated: (_: Args, params: DoneWith<PaymentCreationResult>) => params.output.ok,
  deliverySucceeded: (_: Args, params: DoneWith<DeliveryResult>) => params.output.ok,
  refundSucceeded: (_: Args, params: DoneWith<RefundResult>) => params.output.ok,
  invoiceVoided: (_: Args, params: DoneWith<VoidResult>) => params.output.voided,
  /** True while the attempt that just failed was not the last one allowed. */
  deliveryRetriesLeft: ({ context }: Args) => context.delivery.attempts + 1 < context.maxDeliveryAttempts,
  checkedPaidInFull: ({ context }: Args, params: DoneWith<PaymentCheckResult>) =>
    params.output.status === "paid" && sameMoney(params.output.amount, context.payment?.charge ?? null),
  checkedPaidInFullLate: ({ context }: Args, params: DoneWith<PaymentCheckResult>) =>
    context.latePayment === "deliver" &&
    params.output.status === "paid" &&
    sameMoney(params.output.amount, context.payment?.charge ?? null),
  checkedPaidWrongly: ({ context }: Args, params: DoneWith<PaymentCheckResult>) =>
    params.output.status === "paid" && !sameMoney(params.output.amount, context.payment?.charge ?? null),
  checkedFailed: (_: Args, params: DoneWith<PaymentCheckResult>) => params.output.status === "failed",
  checkedExpired: (_: Args, params: DoneWith<PaymentCheckResult>) => params.output.status === "expired",
  /** Still unpaid at the provider, and this order's own payment deadline has passed. */
  checkedUnpaidPastDeadline: ({ context }: Args, params: DoneWith<PaymentCheckResult>) =>
    params.output.status === "pending" && context.payment !== null && params.output.at >= context.payment.expiresAt,
  /** An invoice the provider has called pending for a week past its expiry is no longer watched. */
  checkedStalePending: ({ context }: Args, params: DoneWith<PaymentCheckResult>) =>
    params.output.status === "pending" &&
    context.payment !== null &&
    params.output.at >= context.payment.expiresAt + STOP_WATCHING_AFTER_MS,
};

/** The context updates of the machine's actions, by name (each wrapped in `assign` by the machine). */
export const update = {
  noteActivity: ({ event }: Args) => ({ lastActivityAt: event.at, problem: null }),
  ...offerUpdates,
  recordPricingProblem: (_: Args, params: DoneWith<PricingResult>) => ({
    problem: params.output.ok ? null : params.output.reason,
    quote: null,
    tokens: null,
  }),
  recordPayment: (_: Args, params: DoneWith<PaymentCreationResult>) => (params.output.ok ? { payment: params.output.payment } : {}),
  recordPaymentProblem: (): Partial<PurchaseContext> => ({ problem: "payment_unavailable" satisfies Problem }),
  recordQuoteRefresh: (): Partial<PurchaseContext> => ({ problem: "quote_refreshed" satisfies Problem }),
  recordPaid: ({ event }: Args) => ({
    paidAt: event.at,
    paidCharge: event.type === "PAYMENT_RECEIVED" ? event.chargeId : null,
    nextCheckAt: null,
  }),
  recordLatePaid: ({ event }: Args) => ({
    paidAt: event.at,
    paidCharge: event.type === "PAYMENT_RECEIVED" ? event.chargeId : null,
    late: true,
    nextCheckAt: null,
  }),
  recordPaidFromCheck: ({ context }: Args, params: DoneWith<PaymentCheckResult>) => ({
    paidAt: params.output.at,
    paidCharge: context.payment?.paymentId ?? null,
    nextCheckAt: null,
    lastCheck: { at: params.output.at, result: "paid" as const },
  }),
  recordLatePaidFromCheck: ({ context }: Args, params: DoneWith<PaymentCheckResult>) => ({
    paidAt: params.output.at,
    paidCharge: context.payment?.paymentId ?? null,
    late: true,
    nextCheckAt: null,
  }),
  /** The invoice was paid in another amount or currency: that money goes back. */
  returnMismatched: ({ context, event }: Args) => ({ refund: refundOf(paymentOf(context, event), "mismatch") }),
  returnLate: ({ context, event }: Args) => ({ refund: refundOf(paymentOf(context, event), "late") }),
  returnCheckedPayment: ({ context }: Args, params: DoneWith<PaymentCheckResult> & { reason: "late" | "mismatch" }) => ({
    refund: refundOf({ chargeId: context.payment!.paymentId, amount: params.output.amount, foreign: params.output.foreign }, params.reason),
  }),
  /** The owner returns what the order was paid (a delivery that kept failing). */
  returnOrderPayment: ({ context }: Args) =>
    context.refund !== null || context.payment === null
      ? {}
      : {
          refund: refundOf(
            { chargeId: context.paidCharge ?? context.payment.paymentId, amount: context.payment.charge, foreign: null },
            "owner",
          ),
        },
  recordRefunded: ({ context }: Args, params: DoneWith<RefundResult>) => ({
    refund:
      context.refund && params.output.ok
        ? { ...context.refund, refundId: params.output.refundId, refundedAt: params.output.at }
        : context.refund,
  }),
  recordManualRefund: ({ context, event }: Args) => ({
    refund: context.refund ? { ...context.refund, manual: true, refundedAt: event.at } : context.refund,
  }),
  recordCheck: (_: Args, params: DoneWith<PaymentCheckResult>) => ({
    lastCheck: {
      at: params.output.at,
      result:
        params.output.status === "unavailable"
          ? ("unavailable" as const)
          : params.output.status === "paid"
            ? ("paid" as const)
            : ("not_paid" as const),
    },
  }),
  /** Asks the provider again later: soon after it could not be reached, an hour later while it says pending. */
  scheduleRecheck: (_: Args, params: DoneWith<PaymentCheckResult>) => ({
    nextCheckAt: params.output.at + (params.output.status === "unavailable" ? RECHECK_UNAVAILABLE_MS : RECHECK_PENDING_MS),
  }),
  /**
   * Asks again a minute after the provider could not be reached; any other answer puts the next look
   * back at the invoice's own deadline (a recheck time left in the past would make every sweep ask).
   */
  scheduleRecheckIfUnavailable: (_: Args, params: DoneWith<PaymentCheckResult>) => ({
    nextCheckAt: params.output.status === "unavailable" ? params.output.at + RECHECK_UNAVAILABLE_MS : null,
  }),
  /**
   * The check itself crashed (its error carries no time): asked again a minute after the deadline that
   * started it, as after an unreachable provider.
   */
  scheduleRecheckAfterCrash: ({ context }: Args) => ({
    nextCheckAt: (context.nextCheckAt ?? context.payment?.expiresAt ?? 0) + RECHECK_UNAVAILABLE_MS,
  }),
  markInvoiceClosed: (): Partial<PurchaseContext> => ({ invoiceClosed: true, nextCheckAt: null }),
  recordPaymentFailure: (): Partial<PurchaseContext> => ({ problem: "payment_failed" satisfies Problem }),
  recordDelivery: ({ context }: Args, params: DoneWith<DeliveryResult>) =>
    params.output.ok
      ? {
          problem: null,
          delivery: {
            ...context.delivery,
            attempts: context.delivery.attempts + 1,
            nextAttemptAt: null,
            lastError: null,
            ref: params.output.ref,
            hint: params.output.hint,
            deliveredAt: params.output.at,
            strayCheckAt: params.output.mayLeaveStrays ? params.output.at + STRAY_GOODS_CHECK_MS : null,
            announceAt: params.output.at + ANNOUNCE_AGAIN_MS,
            announceAttempts: 0,
          },
        }
      : {},
  scheduleDeliveryRetry: ({ context }: Args, params: { reason: DeliveryFailure; at: number | null }) => {
    const attempts = context.delivery.attempts + 1;
    // Exponential backoff from the failure time: base, 2×base, 4×base… A bug (no time known) retries at once.
    const nextAttemptAt = params.at === null ? null : params.at + context.retryBackoffMs * 2 ** (attempts - 1);
    return {
      problem: "delivery_retrying" satisfies Problem,
      delivery: { ...context.delivery, attempts, nextAttemptAt, lastError: params.reason },
    };
  },
  recordDeliveryFailure: ({ context }: Args, params: { reason: DeliveryFailure }) => ({
    problem: "delivery_failed" satisfies Problem,
    delivery: { ...context.delivery, attempts: context.delivery.attempts + 1, nextAttemptAt: null, lastError: params.reason },
  }),
  /** Goods announced once more; the next time, later (1, 2, 4… minutes). */
  scheduleNextAnnounce: ({ context, event }: Args) => ({
    delivery: {
      ...context.delivery,
      announceAttempts: context.delivery.announceAttempts + 1,
      announceAt: event.at + 60_000 * 2 ** context.delivery.announceAttempts,
    },
  }),
  stopAnnouncing: ({ context }: Args) => ({ delivery: { ...context.delivery, announceAt: null } }),
  recordStrayGoodsCheck: ({ context }: Args, params: DoneWith<StrayGoodsResult>) => ({
    delivery: { ...context.delivery, strayCheckAt: null, straysRevoked: context.delivery.straysRevoked + params.output.revoked },
  }),
  /** The look failed (its error carries no time): tried again ten minutes after it was due. */
  retryStrayGoodsCheck: ({ context }: Args) => ({
    delivery: {
      ...context.delivery,
      strayCheckAt: (context.delivery.strayCheckAt ?? context.delivery.deliveredAt ?? 0) + STRAY_GOODS_RETRY_MS,
    },
  }),
  /** New goods replaced the old ones: shown like a delivery's (announced until seen, stray keys looked for). */
  recordReissue: ({ context }: Args, params: DoneWith<DeliveryResult>) =>
    params.output.ok
      ? {
          problem: null,
          reissues: (context.reissues ?? 0) + 1,
          delivery: {
            ...context.delivery,
            ref: params.output.ref,
            hint: params.output.hint,
            strayCheckAt: params.output.mayLeaveStrays ? params.output.at + STRAY_GOODS_CHECK_MS : null,
            announceAt: params.output.at + ANNOUNCE_AGAIN_MS,
            announceAttempts: 0,
          },
        }
      : {},
  recordReissueFailure: (): Partial<PurchaseContext> => ({ problem: "reissue_failed" satisfies Problem }),
  grantFreshDeliveryAttempts: ({ context }: Args) => ({
    problem: null,
    delivery: { ...context.delivery, attempts: 0, nextAttemptAt: null },
  }),
  recordStrayReturnedByHand: ({ context, event }: Args) =>
    event.type === "REFUND_RECORDED"
      ? { strays: context.strays.map((stray) => (stray.chargeId === event.chargeId ? { ...stray, status: "refunded" as const } : stray)) }
      : {},
  settleStray: ({ context, event }: Args) =>
    event.type === "STRAY_SETTLED"
      ? {
          strays: context.strays.map((stray) =>
            stray.chargeId === event.chargeId
              ? { ...stray, status: event.refunded ? ("refunded" as const) : ("owed" as const), refundId: event.refundId }
              : stray,
          ),
        }
      : {},
} satisfies Record<string, (args: Args, params: never) => Partial<PurchaseContext>>;
