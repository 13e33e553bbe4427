/** An order's summary (what the store indexes and the audit log's `order` entries carry), for tests. */
import type { OrderSummary } from "../../src/domain/records.ts";

/**
 * The summary of a 2,000-token order of the built-in product at $40.00, quoted (no payment yet), with
 * `overrides` on top.
 */
export function orderSummary(overrides: Partial<OrderSummary> = {}): OrderSummary {
  return {
    state: "quoted",
    tags: ["open"],
    productId: "tokens",
    tokens: 2000,
    usd: { minor: 4000, currency: "USD" },
    charge: { minor: 4000, currency: "USDT" },
    provider: null,
    paymentId: null,
    payUrl: null,
    late: false,
    paidAt: null,
    deliveredAt: null,
    deliveryHint: null,
    refunded: null,
    dueAt: null,
    owedStrays: 0,
    ...overrides,
  };
}
