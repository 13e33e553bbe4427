/**
 * A stray payment's return: money that reached an order when the order could not use it (a second
 * charge, money after the order's own was returned) goes back to its payer, through the provider where
 * it can, else the owner is asked. The order spawns one of these per stray payment; it is persisted
 * with the order's snapshot and reports back with `STRAY_SETTLED`.
 */
import { fromPromise, sendParent, setup } from "xstate";
import type { ChatId, OrderId, RefundInput, RefundResult, StrayPayment } from "./purchase.types.ts";

/** What a stray payment's return knows: the payment and whose order it reached. */
export type StrayPaymentInput = StrayPayment & { orderId: OrderId; chatId: ChatId };

const notProvided = async (): Promise<never> => {
  throw new Error('actor "refundPayment" is not provided: attach it with machine.provide()');
};

export const strayPaymentMachine = setup({
  types: { context: {} as StrayPaymentInput, input: {} as StrayPaymentInput },
  actors: { refundPayment: fromPromise<RefundResult, RefundInput>(notProvided) },
}).createMachine({
  id: "stray_payment",
  description: "Money the order could not use goes back to its payer, through the provider where it can.",
  context: ({ input }) => input,
  initial: "returning",
  states: {
    returning: {
      invoke: {
        src: "refundPayment",
        input: ({ context }) => ({ orderId: context.orderId, chatId: context.chatId, chargeId: context.chargeId, amount: context.amount }),
        onDone: {
          target: "settled",
          actions: sendParent(({ context, event }) => ({
            type: "STRAY_SETTLED",
            chargeId: context.chargeId,
            refunded: event.output.ok,
            refundId: event.output.ok ? event.output.refundId : null,
            at: event.output.at,
          })),
        },
        onError: {
          target: "settled",
          actions: sendParent(({ context }) => ({
            type: "STRAY_SETTLED",
            chargeId: context.chargeId,
            refunded: false,
            refundId: null,
            at: context.receivedAt,
          })),
        },
      },
    },
    settled: { type: "final" },
  },
});
