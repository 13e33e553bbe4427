/**
 * The purchase machine: the business specification of one order, from a first amount to delivered
 * goods. It holds no I/O. The three things that touch the world (pricing, creating a payment,
 * delivering the goods) are declared here by name as actors and attached by the engine with
 * `.provide()`; tests attach fakes the same way.
 *
 * Time is data: every event carries `at` (ms since epoch) and deadlines live in context, because XState
 * `after` timers are lost when a snapshot is restored. The engine's sweeper sends the deadline events.
 *
 * Only the payment layer may send `PAYMENT_*` events and only the sweeper or an admin may send the
 * delivery-retry and refund events; the engine's user-facing door accepts none of them.
 */
import { type SnapshotFrom, assign, fromPromise, setup } from "xstate";
import type {
  DeliveryFailure,
  DeliveryInput,
  DeliveryResult,
  PaymentCreationInput,
  PaymentCreationResult,
  PricingInput,
  PricingResult,
  Problem,
  PurchaseContext,
  PurchaseEvent,
  PurchaseInput,
  PurchaseTag,
} from "./purchase.types.ts";
import { withinLimits } from "./purchase.types.ts";

export * from "./purchase.types.ts";

function failureReason(result: DeliveryResult): DeliveryFailure {
  return result.ok ? "unexpected_error" : result.reason;
}

const notProvided = (name: string) => async (): Promise<never> => {
  throw new Error(`actor "${name}" is not provided: attach it with machine.provide()`);
};

/** Payloads of actor completions, narrowed once so guards and actions stay one-liners. */
type DoneWith<T> = { output: T };

export const purchaseMachine = setup({
  types: {
    context: {} as PurchaseContext,
    events: {} as PurchaseEvent,
    input: {} as PurchaseInput,
    tags: {} as PurchaseTag,
  },
  actors: {
    priceQuote: fromPromise<PricingResult, PricingInput>(notProvided("priceQuote")),
    createPayment: fromPromise<PaymentCreationResult, PaymentCreationInput>(notProvided("createPayment")),
    deliverGoods: fromPromise<DeliveryResult, DeliveryInput>(notProvided("deliverGoods")),
  },
  guards: {
    amountWithinLimits: ({ context, event }) =>
      (event.type === "QUOTE" || event.type === "CHANGE_AMOUNT") && withinLimits(context.limits, event.tokens),
    quoteStillValid: ({ context, event }) => context.quote !== null && event.at < context.quote.expiresAt,
    quoteDeadlinePassed: ({ context, event }) => context.quote !== null && event.at >= context.quote.expiresAt,
    paymentMatchesOrder: ({ context, event }) =>
      event.type === "PAYMENT_CONFIRMED" &&
      context.payment !== null &&
      event.paymentId === context.payment.paymentId &&
      event.amount.currency === context.payment.charge.currency &&
      event.amount.minor === context.payment.charge.minor,
    paymentFailureMatchesOrder: ({ context, event }) =>
      event.type === "PAYMENT_FAILED" && context.payment !== null && event.paymentId === context.payment.paymentId,
    retryDue: ({ context, event }) =>
      context.delivery.nextAttemptAt === null || event.at >= context.delivery.nextAttemptAt,
    pricingSucceeded: (_, params: DoneWith<PricingResult>) => params.output.ok,
    paymentCreated: (_, params: DoneWith<PaymentCreationResult>) => params.output.ok,
    deliverySucceeded: (_, params: DoneWith<DeliveryResult>) => params.output.ok,
    /** True while the attempt that just failed was not the last one allowed. */
    deliveryRetriesLeft: ({ context }) => context.delivery.attempts + 1 < context.maxDeliveryAttempts,
  },
  actions: {
    noteActivity: assign(({ event }) => ({ lastActivityAt: event.at, problem: null })),
    rememberAmount: assign(({ event }) =>
      event.type === "QUOTE" || event.type === "CHANGE_AMOUNT" ? { tokens: event.tokens } : {},
    ),
    forgetQuote: assign({ tokens: null, quote: null }),
    recordQuote: assign((_, params: DoneWith<PricingResult>) =>
      params.output.ok ? { quote: params.output.quote, tokens: params.output.quote.tokens } : {},
    ),
    recordPricingProblem: assign((_, params: DoneWith<PricingResult>) => ({
      problem: params.output.ok ? null : params.output.reason,
      quote: null,
      tokens: null,
    })),
    recordPayment: assign((_, params: DoneWith<PaymentCreationResult>) =>
      params.output.ok ? { payment: params.output.payment } : {},
    ),
    recordPaymentProblem: assign({ problem: "payment_unavailable" satisfies Problem }),
    recordQuoteRefresh: assign({ problem: "quote_refreshed" satisfies Problem }),
    recordPaid: assign(({ event }) => ({ paidAt: event.at })),
    recordPaymentFailure: assign({ problem: "payment_failed" satisfies Problem }),
    recordDelivery: assign(({ context }, params: DoneWith<DeliveryResult>) =>
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
            },
          }
        : {},
    ),
    scheduleDeliveryRetry: assign(({ context }, params: { reason: DeliveryFailure; at: number | null }) => {
      const attempts = context.delivery.attempts + 1;
      // Exponential backoff from the failure time: base, 2×base, 4×base… A bug (no time known) retries at once.
      const nextAttemptAt = params.at === null ? null : params.at + context.retryBackoffMs * 2 ** (attempts - 1);
      return {
        problem: "delivery_retrying" satisfies Problem,
        delivery: { ...context.delivery, attempts, nextAttemptAt, lastError: params.reason },
      };
    }),
    recordDeliveryFailure: assign(({ context }, params: { reason: DeliveryFailure }) => ({
      problem: "delivery_failed" satisfies Problem,
      delivery: { ...context.delivery, attempts: context.delivery.attempts + 1, nextAttemptAt: null, lastError: params.reason },
    })),
    grantFreshDeliveryAttempts: assign(({ context }) => ({
      problem: null,
      delivery: { ...context.delivery, attempts: 0, nextAttemptAt: null },
    })),
  },
}).createMachine({
  id: "purchase",
  description: "One customer order: quote, payment, verified confirmation, exactly-once delivery.",
  context: ({ input }) => ({
    orderId: input.orderId,
    chatId: input.chatId,
    limits: { minTokens: input.minTokens, maxTokens: input.maxTokens },
    maxDeliveryAttempts: input.maxDeliveryAttempts,
    retryBackoffMs: input.retryBackoffMs,
    tokens: null,
    quote: null,
    payment: null,
    paidAt: null,
    delivery: { attempts: 0, nextAttemptAt: null, lastError: null, ref: null, hint: null, deliveredAt: null },
    problem: null,
    createdAt: input.at,
    lastActivityAt: input.at,
  }),
  initial: "initial",
  on: {
    HELP: { actions: "noteActivity" },
    STATUS: { actions: "noteActivity" },
  },
  states: {
    initial: {
      description: "Browsing: no amount chosen yet.",
      tags: ["open"],
      on: {
        QUOTE: { guard: "amountWithinLimits", target: "pricing", actions: ["noteActivity", "rememberAmount"] },
        CHANGE_AMOUNT: { guard: "amountWithinLimits", target: "pricing", actions: ["noteActivity", "rememberAmount"] },
        RESTART: { actions: "noteActivity" },
      },
    },
    pricing: {
      description: "Fixing the exact price of the chosen amount (and checking it can be delivered).",
      tags: ["busy"],
      invoke: {
        src: "priceQuote",
        input: ({ context }) => ({ orderId: context.orderId, tokens: context.tokens ?? 0 }),
        onDone: [
          {
            guard: { type: "pricingSucceeded", params: ({ event }) => ({ output: event.output }) },
            target: "quoted",
            actions: { type: "recordQuote", params: ({ event }) => ({ output: event.output }) },
          },
          {
            target: "initial",
            actions: { type: "recordPricingProblem", params: ({ event }) => ({ output: event.output }) },
          },
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
      on: {
        QUOTE: { guard: "amountWithinLimits", target: "pricing", actions: ["noteActivity", "rememberAmount"] },
        CHANGE_AMOUNT: { guard: "amountWithinLimits", target: "pricing", actions: ["noteActivity", "rememberAmount"] },
        CONFIRM: [
          { guard: "quoteStillValid", target: "creating_payment", actions: "noteActivity" },
          { target: "pricing", actions: ["noteActivity", "recordQuoteRefresh"] },
        ],
        CANCEL: { target: "cancelled", actions: "noteActivity" },
        RESTART: { target: "initial", actions: ["noteActivity", "forgetQuote"] },
        QUOTE_EXPIRED: { guard: "quoteDeadlinePassed", target: "expired" },
      },
    },
    creating_payment: {
      description: "Asking the payment provider for an invoice, idempotently keyed by the order id.",
      tags: ["busy"],
      invoke: {
        src: "createPayment",
        input: ({ context }) => ({ orderId: context.orderId, chatId: context.chatId, quote: context.quote! }),
        onDone: [
          {
            guard: { type: "paymentCreated", params: ({ event }) => ({ output: event.output }) },
            target: "awaiting_payment",
            actions: { type: "recordPayment", params: ({ event }) => ({ output: event.output }) },
          },
          { target: "quoted", actions: "recordPaymentProblem" },
        ],
        onError: { target: "quoted", actions: "recordPaymentProblem" },
      },
    },
    awaiting_payment: {
      description: "An invoice exists; only a verified provider confirmation that matches it moves on.",
      tags: ["open"],
      on: {
        PAYMENT_CONFIRMED: { guard: "paymentMatchesOrder", target: "paid", actions: "recordPaid" },
        PAYMENT_FAILED: { guard: "paymentFailureMatchesOrder", target: "payment_failed", actions: "recordPaymentFailure" },
        PAYMENT_EXPIRED: { target: "expired" },
        CANCEL: { target: "cancelled", actions: "noteActivity" },
      },
    },
    paid: {
      description: "Payment verified; the goods are delivered exactly once, retried with backoff.",
      initial: "recorded",
      states: {
        recorded: {
          description:
            "The verified payment is written down. Nothing is issued until this state is stored: the engine " +
            "sends START_DELIVERY only after the write, and re-sends it after a crash (restore, status, sweeper).",
          tags: ["resume"],
          on: { START_DELIVERY: { target: "delivering" } },
        },
        delivering: {
          tags: ["busy"],
          invoke: {
            src: "deliverGoods",
            input: ({ context }) => ({
              orderId: context.orderId,
              chatId: context.chatId,
              tokens: context.quote!.tokens,
              usd: context.quote!.usd,
              charge: context.payment!.charge,
              attempt: context.delivery.attempts + 1,
            }),
            onDone: [
              {
                guard: { type: "deliverySucceeded", params: ({ event }) => ({ output: event.output }) },
                target: "done",
                actions: { type: "recordDelivery", params: ({ event }) => ({ output: event.output }) },
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
          tags: ["open"],
          on: { RETRY_DELIVERY: { guard: "retryDue", target: "delivering" } },
        },
        done: { type: "final" },
      },
      onDone: { target: "delivered" },
    },
    delivered: {
      description: "The goods reached the customer. Final for this order.",
      tags: ["terminal"],
      type: "final",
    },
    delivery_failed: {
      description: "Delivery kept failing; an admin retries it or refunds the payment.",
      tags: ["open"],
      on: {
        ADMIN_RETRY_DELIVERY: { target: "paid", actions: "grantFreshDeliveryAttempts" },
        REFUND_RECORDED: { target: "refunded" },
      },
    },
    refunded: { description: "The payment was returned to the customer.", tags: ["terminal"], type: "final" },
    cancelled: { description: "The customer cancelled before paying.", tags: ["terminal"], type: "final" },
    expired: { description: "The quote or the invoice ran out of time unpaid.", tags: ["terminal"], type: "final" },
    payment_failed: { description: "The provider reported the payment failed.", tags: ["terminal"], type: "final" },
  },
});

export type PurchaseMachine = typeof purchaseMachine;

type TopStateOf<V> = V extends string ? V : keyof V & string;

/** The names of the machine's top-level states, derived from the machine itself. */
export type PurchaseStateName = TopStateOf<SnapshotFrom<PurchaseMachine>["value"]>;

/** Every top-level state name, read from the machine definition (the one list the product has). */
export const PURCHASE_STATE_NAMES = Object.keys(purchaseMachine.root.states) as PurchaseStateName[];
