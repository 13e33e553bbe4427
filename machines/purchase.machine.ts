/**
 * The purchase machine: the business specification of one order, for its whole life — from a first
 * amount to delivered goods, and after: money that arrives late, money that does not match, refunds,
 * and money that arrives twice. It holds no I/O. What touches the world (pricing, invoices, asking the
 * provider, voiding, delivering, refunding) is declared here by name as actors and attached by the
 * engine with `.provide()`; tests attach fakes the same way.
 *
 * Time is data: every event carries `at` (ms since epoch) and deadlines live in context, because XState
 * `after` timers are lost when a snapshot is restored. Each state's `meta.deadline` names its deadline;
 * the engine's sweeper sends the one `DEADLINE` event then, and the state's guard decides what it means.
 *
 * Only the payment layer may send `PAYMENT_*` and `INVOICE_CLOSED` events, after re-fetching the
 * payment from its provider; only the engine and the owner send the system events. The engine's
 * customer door accepts none of them.
 */
import { type SnapshotFrom, and, assign, fromPromise, setup } from "xstate";
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
  PurchaseContext,
  PurchaseEvent,
  PurchaseInput,
  PurchaseMeta,
  PurchaseTag,
  RefundInput,
  RefundResult,
  ReissueInput,
  StrayGoodsInput,
  StrayGoodsResult,
  StrayPayment,
  VoidInput,
  VoidResult,
} from "./purchase.types.ts";
import { failureReason, guards, limitsFor, productsOf, spanOf, update } from "./purchase.logic.ts";
import { strayPaymentMachine } from "./stray-payment.machine.ts";

export * from "./purchase.types.ts";
export * from "./purchase.commands.ts";
export { strayPaymentMachine } from "./stray-payment.machine.ts";

const notProvided = (name: string) => async (): Promise<never> => {
  throw new Error(`actor "${name}" is not provided: attach it with machine.provide()`);
};

/** Passes an actor's result to the guards and actions of its `onDone` transitions. */
const priced = ({ event }: { event: { output: PricingResult } }) => ({ output: event.output });
const invoiced = ({ event }: { event: { output: PaymentCreationResult } }) => ({ output: event.output });
const handedOver = ({ event }: { event: { output: DeliveryResult } }) => ({ output: event.output });
const returned = ({ event }: { event: { output: RefundResult } }) => ({ output: event.output });
const checked = ({ event }: { event: { output: PaymentCheckResult } }) => ({ output: event.output });
const voided = ({ event }: { event: { output: VoidResult } }) => ({ output: event.output });
const promoChecked = ({ event }: { event: { output: PromoCheckResult } }) => ({ output: event.output });
const promoReserved = ({ event }: { event: { output: PromoReserveResult } }) => ({ output: event.output });
/** The order's invoice, for the actors that ask the provider about it. */
const invoiceOf = ({ context }: { context: PurchaseContext }) => ({ orderId: context.orderId, paymentId: context.payment!.paymentId });

/**
 * Lost goods are replaced on request only once the customer was shown them: goods still being announced
 * are not lost (the engine shows them again instead), so `announcing` does not take REISSUE.
 */
const reissueOnRequest = {
  REISSUE: { guard: "reissuesLeft", target: "#purchase.reissuing", actions: "noteActivity" },
} as const;

/**
 * After an order closes unpaid (cancelled or expired), its invoice is voided where the provider allows;
 * until the invoice is closed, money that still arrives through it is delivered or returned by the
 * order's LATE_PAYMENT terms. Both closed states share these children.
 */
const watchTheInvoice = {
  initial: "closing",
  states: {
    closing: { always: [{ guard: "hasOpenInvoice", target: "voiding" }, { target: "invoice_closed" }] },
    voiding: {
      description: "Asking the provider to void the invoice, so the pay link stops taking money.",
      tags: ["busy"],
      meta: { deadline: "now" },
      invoke: {
        src: "voidInvoice",
        input: invoiceOf,
        onDone: [
          { guard: { type: "invoiceVoided", params: voided }, target: "invoice_closed", actions: "markInvoiceClosed" },
          { target: "invoice_open" },
        ],
        onError: { target: "invoice_open" },
      },
    },
    invoice_open: {
      description: "The provider could not void the invoice: money may still arrive, and is delivered or returned (LATE_PAYMENT).",
      meta: { deadline: "payment_check" },
      on: {
        PAYMENT_RECEIVED: [
          { guard: "paysTheInvoiceLate", target: "#purchase.paid", actions: "recordLatePaid" },
          { guard: "paysTheInvoice", target: "#purchase.refunding", actions: "returnLate" },
          { guard: "mismatchesTheInvoice", target: "#purchase.refunding", actions: "returnMismatched" },
        ],
        INVOICE_CLOSED: { guard: "invoiceClosedForOrder", target: "invoice_closed", actions: "markInvoiceClosed" },
        DEADLINE: { guard: "paymentCheckDue", target: "checking" },
      },
    },
    checking: {
      description: "Asking the provider whether the open invoice was paid or has closed.",
      tags: ["busy"],
      meta: { deadline: "now" },
      invoke: {
        src: "checkPayment",
        input: invoiceOf,
        onDone: [
          {
            guard: { type: "checkedPaidInFullLate", params: checked },
            target: "#purchase.paid",
            actions: { type: "recordLatePaidFromCheck", params: checked },
          },
          {
            guard: { type: "checkedPaidInFull", params: checked },
            target: "#purchase.refunding",
            actions: {
              type: "returnCheckedPayment",
              params: (args: { event: { output: PaymentCheckResult } }) => ({ ...checked(args), reason: "late" as const }),
            },
          },
          {
            guard: { type: "checkedPaidWrongly", params: checked },
            target: "#purchase.refunding",
            actions: {
              type: "returnCheckedPayment",
              params: (args: { event: { output: PaymentCheckResult } }) => ({ ...checked(args), reason: "mismatch" as const }),
            },
          },
          { guard: { type: "checkedExpired", params: checked }, target: "invoice_closed", actions: "markInvoiceClosed" },
          { guard: { type: "checkedFailed", params: checked }, target: "invoice_closed", actions: "markInvoiceClosed" },
          { guard: { type: "checkedStalePending", params: checked }, target: "invoice_closed", actions: "markInvoiceClosed" },
          { target: "invoice_open", actions: { type: "scheduleRecheck", params: checked } },
        ],
        onError: { target: "invoice_open", actions: "scheduleRecheckAfterCrash" },
      },
    },
    invoice_closed: {
      description: "No money can arrive through the invoice any more: the order is over.",
      always: { guard: "promoUseHeld", target: "releasing_promo" },
    },
    releasing_promo: {
      description: "No money can pay the order any more: the promo code's use it reserved at Confirm is given back.",
      tags: ["busy"],
      meta: { deadline: "now" },
      invoke: {
        src: "releasePromo",
        input: ({ context }: { context: PurchaseContext }) => ({
          orderId: context.orderId,
          chatId: context.chatId,
          code: context.promoHeld ?? "",
        }),
        onDone: { target: "invoice_closed", actions: "forgetPromoUse" },
        // The store could not give it back (a crash re-runs this state; only a bug gets here): the use
        // stays spent, so max_uses is never exceeded, at the cost of one use.
        onError: { target: "invoice_closed", actions: "forgetPromoUse" },
      },
    },
  },
} as const;

export const purchaseMachine = setup({
  types: {
    context: {} as PurchaseContext,
    events: {} as PurchaseEvent,
    input: {} as PurchaseInput,
    tags: {} as PurchaseTag,
    meta: {} as PurchaseMeta,
  },
  actors: {
    priceQuote: fromPromise<PricingResult, PricingInput>(notProvided("priceQuote")),
    createPayment: fromPromise<PaymentCreationResult, PaymentCreationInput>(notProvided("createPayment")),
    checkPayment: fromPromise<PaymentCheckResult, PaymentCheckInput>(notProvided("checkPayment")),
    voidInvoice: fromPromise<VoidResult, VoidInput>(notProvided("voidInvoice")),
    deliverGoods: fromPromise<DeliveryResult, DeliveryInput>(notProvided("deliverGoods")),
    refundPayment: fromPromise<RefundResult, RefundInput>(notProvided("refundPayment")),
    sweepStrayGoods: fromPromise<StrayGoodsResult, StrayGoodsInput>(notProvided("sweepStrayGoods")),
    checkPromo: fromPromise<PromoCheckResult, PromoCheckInput>(notProvided("checkPromo")),
    reservePromo: fromPromise<PromoReserveResult, PromoReserveInput>(notProvided("reservePromo")),
    releasePromo: fromPromise<PromoReleaseResult, PromoReleaseInput>(notProvided("releasePromo")),
    reissueGoods: fromPromise<DeliveryResult, ReissueInput>(notProvided("reissueGoods")),
    returnStrayPayment: strayPaymentMachine,
  },
  guards,
  actions: {
    noteActivity: assign(update.noteActivity),
    rememberAmount: assign(update.rememberAmount),
    pickProduct: assign(update.pickProduct),
    rememberPromoCode: assign(update.rememberPromoCode),
    recordPromo: assign(update.recordPromo),
    recordPromoRefusal: assign(update.recordPromoRefusal),
    recordPromoCheckFailure: assign(update.recordPromoCheckFailure),
    recordPromoHold: assign(update.recordPromoHold),
    dropPromo: assign(update.dropPromo),
    forgetPromoUse: assign(update.forgetPromoUse),
    recordReissue: assign(update.recordReissue),
    recordReissueFailure: assign(update.recordReissueFailure),
    recordQuote: assign(update.recordQuote),
    recordPricingProblem: assign(update.recordPricingProblem),
    recordPayment: assign(update.recordPayment),
    recordPaymentProblem: assign(update.recordPaymentProblem),
    recordQuoteRefresh: assign(update.recordQuoteRefresh),
    recordPaid: assign(update.recordPaid),
    recordLatePaid: assign(update.recordLatePaid),
    recordPaidFromCheck: assign(update.recordPaidFromCheck),
    recordLatePaidFromCheck: assign(update.recordLatePaidFromCheck),
    returnMismatched: assign(update.returnMismatched),
    returnLate: assign(update.returnLate),
    returnCheckedPayment: assign(update.returnCheckedPayment),
    returnOrderPayment: assign(update.returnOrderPayment),
    recordRefunded: assign(update.recordRefunded),
    recordManualRefund: assign(update.recordManualRefund),
    recordCheck: assign(update.recordCheck),
    scheduleRecheck: assign(update.scheduleRecheck),
    scheduleRecheckIfUnavailable: assign(update.scheduleRecheckIfUnavailable),
    scheduleRecheckAfterCrash: assign(update.scheduleRecheckAfterCrash),
    markInvoiceClosed: assign(update.markInvoiceClosed),
    recordPaymentFailure: assign(update.recordPaymentFailure),
    recordDelivery: assign(update.recordDelivery),
    scheduleDeliveryRetry: assign(update.scheduleDeliveryRetry),
    recordDeliveryFailure: assign(update.recordDeliveryFailure),
    grantFreshDeliveryAttempts: assign(update.grantFreshDeliveryAttempts),
    recordStrayGoodsCheck: assign(update.recordStrayGoodsCheck),
    scheduleNextAnnounce: assign(update.scheduleNextAnnounce),
    stopAnnouncing: assign(update.stopAnnouncing),
    retryStrayGoodsCheck: assign(update.retryStrayGoodsCheck),
    /** Money the order cannot use (a second charge, money after the order's own was returned) is returned beside it. */
    returnStray: assign(({ context, event, spawn }) => {
      if (event.type !== "PAYMENT_RECEIVED") return {};
      const stray: StrayPayment = {
        chargeId: event.chargeId,
        amount: event.amount,
        foreign: event.foreign,
        receivedAt: event.at,
        status: "returning",
        refundId: null,
      };
      spawn("returnStrayPayment", { id: `stray:${event.chargeId}`, input: { ...stray, orderId: context.orderId, chatId: context.chatId } });
      return { strays: [...context.strays, stray] };
    }),
    settleStray: assign(update.settleStray),
    recordStrayReturnedByHand: assign(update.recordStrayReturnedByHand),
  },
}).createMachine({
  id: "purchase",
  description: "One customer order for its whole life: quote, payment, verified confirmation, exactly-once delivery, and any money after.",
  context: ({ input }) => {
    const products =
      input.products ?? (input.productId ? [{ id: input.productId, minTokens: input.minTokens, maxTokens: input.maxTokens }] : []);
    const known = { products, productId: input.productId, limits: { minTokens: input.minTokens, maxTokens: input.maxTokens } };
    return {
      orderId: input.orderId,
      chatId: input.chatId,
      productId: input.productId,
      products: productsOf(known),
      latePayment: input.latePayment,
      limits: limitsFor(known, input.productId) ?? (products.length > 0 ? spanOf(products) : known.limits),
      maxDeliveryAttempts: input.maxDeliveryAttempts,
      retryBackoffMs: input.retryBackoffMs,
      tokens: null,
      promoCode: null,
      promoTyped: null,
      promoHeld: null,
      promoRefusal: null,
      reissues: 0,
      quote: null,
      payment: null,
      paidAt: null,
      paidCharge: null,
      late: false,
      delivery: {
        attempts: 0,
        nextAttemptAt: null,
        lastError: null,
        ref: null,
        hint: null,
        deliveredAt: null,
        strayCheckAt: null,
        straysRevoked: 0,
        announceAt: null,
        announceAttempts: 0,
      },
      refund: null,
      strays: [],
      invoiceClosed: false,
      nextCheckAt: null,
      lastCheck: null,
      problem: null,
      createdAt: input.at,
      lastActivityAt: input.at,
    };
  },
  initial: "initial",
  on: {
    // Money that reaches a state with no use for it: a provider's retry changes nothing, anything else goes back.
    PAYMENT_RECEIVED: [{ guard: "paymentAlreadyHandled" }, { actions: "returnStray" }],
    STRAY_SETTLED: { actions: "settleStray" },
    REFUND_RECORDED: { guard: "strayOwed", actions: "recordStrayReturnedByHand" },
  },
  states: {
    initial: {
      description: "Browsing: no amount chosen yet.",
      tags: ["open", "at_rest"],
      meta: { words: "order-initial", buttons: ["packages"] },
      on: {
        SET_AMOUNT: [
          { guard: "amountWithinLimits", target: "pricing", actions: ["noteActivity", "rememberAmount"] },
          { guard: "amountNeedsProduct", target: "choosing_product", actions: ["noteActivity", "rememberAmount"] },
        ],
        SET_PRODUCT: { guard: "productKnown", actions: ["noteActivity", "pickProduct"] },
        APPLY_PROMO: { target: "checking_promo", actions: ["noteActivity", "rememberPromoCode"] },
      },
    },
    choosing_product: {
      description: "An amount without a product, in a shop of several: the customer is asked which product it is for.",
      tags: ["open"],
      meta: { words: "order-choosing-product", buttons: ["packages"] },
      on: {
        SET_PRODUCT: { guard: "productFitsAmount", target: "pricing", actions: ["noteActivity", "pickProduct"] },
        SET_AMOUNT: [
          { guard: "amountWithinLimits", target: "pricing", actions: ["noteActivity", "rememberAmount"] },
          { guard: "amountNeedsProduct", target: "choosing_product", actions: ["noteActivity", "rememberAmount"] },
        ],
        APPLY_PROMO: { target: "checking_promo", actions: ["noteActivity", "rememberPromoCode"] },
        CANCEL: { target: "cancelled", actions: "noteActivity" },
      },
    },
    checking_promo: {
      description:
        "Checking a promo code the customer gave: it exists, has not expired or been used up, fits the product, and this customer may use it.",
      tags: ["busy"],
      meta: { words: "order-working", buttons: ["status"], deadline: "now" },
      invoke: {
        src: "checkPromo",
        input: ({ context }) => ({
          orderId: context.orderId,
          chatId: context.chatId,
          productId: context.productId ?? null,
          code: context.promoTyped ?? "",
        }),
        onDone: [
          {
            guard: { type: "promoAcceptedReadyToPrice", params: promoChecked },
            target: "pricing",
            actions: { type: "recordPromo", params: promoChecked },
          },
          {
            guard: { type: "promoAcceptedAwaitingProduct", params: promoChecked },
            target: "choosing_product",
            actions: { type: "recordPromo", params: promoChecked },
          },
          {
            guard: { type: "promoAccepted", params: promoChecked },
            target: "initial",
            actions: { type: "recordPromo", params: promoChecked },
          },
          { guard: "hasQuote", target: "quoted", actions: { type: "recordPromoRefusal", params: promoChecked } },
          { guard: "awaitingProduct", target: "choosing_product", actions: { type: "recordPromoRefusal", params: promoChecked } },
          { target: "initial", actions: { type: "recordPromoRefusal", params: promoChecked } },
        ],
        onError: [
          { guard: "hasQuote", target: "quoted", actions: "recordPromoCheckFailure" },
          { guard: "awaitingProduct", target: "choosing_product", actions: "recordPromoCheckFailure" },
          { target: "initial", actions: "recordPromoCheckFailure" },
        ],
      },
    },
    pricing: {
      description: "Fixing the exact price of the chosen amount (and checking it can be delivered).",
      tags: ["busy"],
      meta: { words: "order-working", buttons: ["status"], deadline: "now" },
      invoke: {
        src: "priceQuote",
        input: ({ context }) => ({
          orderId: context.orderId,
          chatId: context.chatId,
          productId: context.productId ?? "",
          tokens: context.tokens ?? 0,
          promoCode: context.promoCode ?? null,
        }),
        onDone: [
          {
            guard: { type: "pricingSucceeded", params: priced },
            target: "quoted",
            actions: { type: "recordQuote", params: priced },
          },
          { target: "initial", actions: { type: "recordPricingProblem", params: priced } },
        ],
        onError: {
          target: "initial",
          actions: {
            type: "recordPricingProblem",
            params: () => ({ output: { ok: false, reason: "pricing_unavailable" } satisfies PricingResult }),
          },
        },
      },
    },
    quoted: {
      description: "An exact price is fixed until the quote's deadline; the customer may confirm or change it.",
      tags: ["open"],
      meta: { words: "order-quoted", buttons: ["confirm", "cancel", "adjust"], deadline: "quote_expiry" },
      on: {
        SET_AMOUNT: { guard: "amountWithinLimits", target: "pricing", actions: ["noteActivity", "rememberAmount"] },
        SET_PRODUCT: { guard: "productFitsAmount", target: "pricing", actions: ["noteActivity", "pickProduct"] },
        APPLY_PROMO: { target: "checking_promo", actions: ["noteActivity", "rememberPromoCode"] },
        CONFIRM: [
          { guard: and(["quoteStillValid", "promoUseToSettle"]), target: "reserving_promo", actions: "noteActivity" },
          { guard: "quoteStillValid", target: "creating_payment", actions: "noteActivity" },
          { target: "pricing", actions: ["noteActivity", "recordQuoteRefresh"] },
        ],
        CANCEL: { target: "cancelled", actions: "noteActivity" },
        DEADLINE: { guard: "quoteDeadlinePassed", target: "expired" },
      },
    },
    reserving_promo: {
      description:
        "Reserving a use of the quote's promo code before invoicing, in one atomic step of the store, so max_uses " +
        "holds however many orders race for the last use (a use held for another code is given back).",
      tags: ["busy"],
      meta: { words: "order-working", buttons: ["status"], deadline: "now" },
      invoke: {
        src: "reservePromo",
        input: ({ context }) => ({
          orderId: context.orderId,
          chatId: context.chatId,
          productId: context.productId ?? "",
          code: context.quote?.details?.promoCode ?? null,
          held: context.promoHeld ?? null,
        }),
        onDone: [
          { guard: { type: "promoReserved", params: promoReserved }, target: "creating_payment", actions: "recordPromoHold" },
          // Used up (or used by this customer) since the quote: priced again without it, and the customer told.
          { target: "pricing", actions: { type: "dropPromo", params: promoReserved } },
        ],
        onError: { target: "quoted", actions: "recordPaymentProblem" },
      },
    },
    creating_payment: {
      description: "Asking the payment provider for an invoice, idempotently keyed by the order id.",
      tags: ["busy"],
      meta: { words: "order-working", buttons: ["status"], deadline: "now" },
      invoke: {
        src: "createPayment",
        input: ({ context }) => ({
          orderId: context.orderId,
          chatId: context.chatId,
          productId: context.productId ?? "",
          quote: context.quote!,
        }),
        onDone: [
          {
            guard: { type: "paymentCreated", params: invoiced },
            target: "awaiting_payment",
            actions: { type: "recordPayment", params: invoiced },
          },
          { target: "quoted", actions: "recordPaymentProblem" },
        ],
        onError: { target: "quoted", actions: "recordPaymentProblem" },
      },
    },
    awaiting_payment: {
      description: "An invoice exists; only the provider's verified word that it was paid, in full, moves on.",
      tags: ["open", "accepts_payment"],
      meta: { words: "order-awaiting-payment", buttons: ["pay", "status", "cancel"], refusal: "payment_in_progress" },
      initial: "waiting",
      on: {
        PAYMENT_RECEIVED: [
          { guard: "paysTheInvoice", target: "paid", actions: "recordPaid" },
          { guard: "mismatchesTheInvoice", target: "refunding", actions: "returnMismatched" },
        ],
        PAYMENT_FAILED: { guard: "paymentFailureMatchesOrder", target: "payment_failed", actions: "recordPaymentFailure" },
        INVOICE_CLOSED: { guard: "invoiceClosedForOrder", target: "expired", actions: "markInvoiceClosed" },
        CANCEL: { target: "cancelled", actions: "noteActivity" },
      },
      states: {
        waiting: {
          description: "Waiting for the provider's webhook; at the invoice's deadline (or when the customer asks) the provider is asked.",
          meta: { deadline: "payment_check" },
          on: {
            DEADLINE: { guard: "paymentCheckDue", target: "checking" },
            CHECK_PAYMENT: { target: "checking" },
          },
        },
        checking: {
          description: "Asking the provider whether the invoice was paid: a payment made at the last second still counts.",
          tags: ["busy"],
          meta: { deadline: "now" },
          invoke: {
            src: "checkPayment",
            input: ({ context }) => ({ orderId: context.orderId, paymentId: context.payment!.paymentId }),
            onDone: [
              {
                guard: { type: "checkedPaidInFull", params: checked },
                target: "#purchase.paid",
                actions: { type: "recordPaidFromCheck", params: checked },
              },
              {
                guard: { type: "checkedPaidWrongly", params: checked },
                target: "#purchase.refunding",
                actions: [
                  { type: "recordCheck", params: checked },
                  {
                    type: "returnCheckedPayment",
                    params: (args: { event: { output: PaymentCheckResult } }) => ({ ...checked(args), reason: "mismatch" as const }),
                  },
                ],
              },
              {
                guard: { type: "checkedFailed", params: checked },
                target: "#purchase.payment_failed",
                actions: "recordPaymentFailure",
              },
              {
                guard: { type: "checkedExpired", params: checked },
                target: "#purchase.expired",
                actions: ["markInvoiceClosed", { type: "recordCheck", params: checked }],
              },
              {
                guard: { type: "checkedUnpaidPastDeadline", params: checked },
                target: "#purchase.expired",
                actions: { type: "recordCheck", params: checked },
              },
              {
                target: "waiting",
                actions: [
                  { type: "recordCheck", params: checked },
                  { type: "scheduleRecheckIfUnavailable", params: checked },
                ],
              },
            ],
            onError: { target: "waiting", actions: "scheduleRecheckAfterCrash" },
          },
        },
      },
    },
    paid: {
      description: "Payment verified; the goods are delivered exactly once, retried with backoff.",
      tags: ["paid"],
      meta: { words: "order-paid", buttons: ["status"], refusal: "delivery_in_progress" },
      initial: "recorded",
      states: {
        recorded: {
          description:
            "The verified payment is written down. Nothing is issued until this state is stored: the engine " +
            "sends START_DELIVERY only after the write, and re-sends it after a crash (restore, status, sweeper).",
          tags: ["resume"],
          meta: { deadline: "now" },
          on: { START_DELIVERY: { target: "delivering" } },
        },
        delivering: {
          tags: ["busy"],
          meta: { deadline: "now" },
          invoke: {
            src: "deliverGoods",
            input: ({ context }) => ({
              orderId: context.orderId,
              chatId: context.chatId,
              productId: context.productId ?? "",
              tokens: context.quote!.tokens,
              usd: context.quote!.usd,
              charge: context.payment!.charge,
              credit: context.quote!.details?.credit ?? null,
              attempt: context.delivery.attempts + 1,
            }),
            onDone: [
              {
                guard: { type: "deliverySucceeded", params: handedOver },
                target: "#purchase.delivered",
                actions: { type: "recordDelivery", params: handedOver },
              },
              {
                guard: "deliveryRetriesLeft",
                target: "waiting_retry",
                actions: {
                  type: "scheduleDeliveryRetry",
                  params: ({ event }) => ({ reason: failureReason(event.output), at: event.output.at }),
                },
              },
              {
                target: "#purchase.delivery_failed",
                actions: { type: "recordDeliveryFailure", params: ({ event }) => ({ reason: failureReason(event.output) }) },
              },
            ],
            onError: [
              {
                guard: "deliveryRetriesLeft",
                target: "waiting_retry",
                actions: { type: "scheduleDeliveryRetry", params: () => ({ reason: "unexpected_error" as const, at: null }) },
              },
              {
                target: "#purchase.delivery_failed",
                actions: { type: "recordDeliveryFailure", params: () => ({ reason: "unexpected_error" as const }) },
              },
            ],
          },
        },
        waiting_retry: {
          description: "The last attempt failed; the sweeper retries at the backoff time.",
          meta: { deadline: "delivery_retry" },
          on: { DEADLINE: { guard: "retryDue", target: "delivering" } },
        },
      },
    },
    delivered: {
      description:
        "The goods were issued. Where an interrupted attempt may have left goods live at the provider, they are looked for and revoked.",
      tags: ["paid", "delivered", "ended", "at_rest"],
      meta: { words: "order-delivered", buttons: ["packages"] },
      initial: "announcing",
      states: {
        announcing: {
          description:
            "The goods are issued; the message carrying them is on its way. Until the customer's channel accepts " +
            "it (GOODS_SHOWN), they are announced again at the deadline (a crash came between), a few times.",
          tags: ["announce"],
          meta: { deadline: "announce" },
          on: {
            GOODS_SHOWN: { target: "settling", actions: "stopAnnouncing" },
            DEADLINE: [
              { guard: and(["announceDue", "announceAttemptsLeft"]), target: "announcing", actions: "scheduleNextAnnounce" },
              { guard: "announceDue", target: "settling", actions: "stopAnnouncing" },
            ],
          },
        },
        settling: { always: [{ guard: "strayGoodsPossible", target: "awaiting_goods_check" }, { target: "settled" }] },
        awaiting_goods_check: {
          description: "A minute after delivery (when every earlier attempt has surely finished), the provider is asked.",
          meta: { deadline: "goods_check" },
          on: { DEADLINE: { guard: "goodsCheckDue", target: "checking_goods" }, ...reissueOnRequest },
        },
        checking_goods: {
          description: "Revoking goods of earlier, interrupted attempts: at most one live key per order, the one shown.",
          tags: ["busy"],
          meta: { deadline: "now" },
          invoke: {
            src: "sweepStrayGoods",
            input: ({ context }) => ({ orderId: context.orderId, chatId: context.chatId, keep: context.delivery.ref ?? "" }),
            onDone: { target: "settled", actions: { type: "recordStrayGoodsCheck", params: ({ event }) => ({ output: event.output }) } },
            onError: { target: "awaiting_goods_check", actions: "retryStrayGoodsCheck" },
          },
          on: { ...reissueOnRequest },
        },
        settled: { on: { ...reissueOnRequest } },
      },
    },
    reissuing: {
      description:
        "The customer lost the goods: the old key is disabled at OpenRouter (a voucher's code voided) and new goods " +
        "of what remains are issued, exactly once and never two live at a time; a few times per order at most.",
      tags: ["paid", "delivered", "busy"],
      meta: { words: "order-reissuing", buttons: ["status"], refusal: "delivery_in_progress", deadline: "now" },
      invoke: {
        src: "reissueGoods",
        input: ({ context }) => ({
          orderId: context.orderId,
          chatId: context.chatId,
          productId: context.productId ?? "",
          tokens: context.quote?.tokens ?? 0,
          generation: (context.reissues ?? 0) + 1,
        }),
        onDone: [
          {
            guard: { type: "deliverySucceeded", params: handedOver },
            target: "delivered",
            actions: { type: "recordReissue", params: handedOver },
          },
          // The old goods still work: the customer is told and may ask again.
          { target: "#purchase.delivered.settled", actions: "recordReissueFailure" },
        ],
        onError: { target: "#purchase.delivered.settled", actions: "recordReissueFailure" },
      },
    },
    delivery_failed: {
      description: "Delivery kept failing; the owner retries it or returns the money.",
      tags: ["paid", "needs_owner"],
      meta: { words: "order-delivery-failed", buttons: ["status"], refusal: "delivery_in_progress", ownerTask: "retry_or_refund" },
      on: {
        ADMIN_RETRY_DELIVERY: { target: "paid", actions: "grantFreshDeliveryAttempts" },
        ADMIN_REFUND: { target: "refunding", actions: "returnOrderPayment" },
        REFUND_RECORDED: { guard: "ownRefundRecorded", target: "refunded", actions: ["returnOrderPayment", "recordManualRefund"] },
      },
    },
    cancelled: {
      description:
        "The customer cancelled before paying. The invoice is voided where the provider allows; until it is closed, money that still arrives is handled (late).",
      tags: ["closed", "ended", "at_rest"],
      meta: { words: "order-cancelled", buttons: ["packages"] },
      ...watchTheInvoice,
    },
    expired: {
      description: "The quote or the invoice ran out of time unpaid. As for a cancelled order, an invoice still open is watched.",
      tags: ["closed", "ended", "at_rest"],
      meta: { words: "order-expired", buttons: ["packages"] },
      ...watchTheInvoice,
    },
    payment_failed: {
      description: "The provider reported the payment failed.",
      tags: ["ended", "at_rest"],
      meta: { words: "order-payment-failed", buttons: ["packages"] },
    },
    refunding: {
      description: "The order's money goes back through the provider (a late or mismatched payment, or the owner's decision).",
      tags: ["busy"],
      meta: { words: "order-refunding", buttons: ["status"], deadline: "now" },
      invoke: {
        src: "refundPayment",
        input: ({ context }) => ({
          orderId: context.orderId,
          chatId: context.chatId,
          chargeId: context.refund!.chargeId,
          amount: context.refund!.amount,
        }),
        onDone: [
          {
            guard: { type: "refundSucceeded", params: returned },
            target: "refunded",
            actions: { type: "recordRefunded", params: returned },
          },
          { target: "awaiting_owner_refund" },
        ],
        onError: { target: "awaiting_owner_refund" },
      },
    },
    awaiting_owner_refund: {
      description: "The provider cannot return this money by itself: the owner returns it by hand and records it.",
      tags: ["needs_owner", "ended", "at_rest"],
      meta: { words: "order-awaiting-owner-refund", buttons: ["packages"], ownerTask: "refund_by_hand" },
      on: {
        ADMIN_REFUND: { target: "refunding" },
        REFUND_RECORDED: { guard: "ownRefundOwed", target: "refunded", actions: "recordManualRefund" },
      },
    },
    refunded: {
      description: "The order's money went back to the customer.",
      tags: ["refunded", "ended", "at_rest"],
      meta: { words: "order-refunded", buttons: ["packages"] },
    },
  },
});

export type PurchaseMachine = typeof purchaseMachine;
export type PurchaseSnapshot = SnapshotFrom<PurchaseMachine>;
