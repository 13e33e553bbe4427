/**
 * The purchase machine's rules for what is bought: which product (a shop may sell several; an amount
 * without one asks which) and which promo code (checked when given, re-checked when priced, its use
 * reserved at Confirm and given back when the order closes unpaid). Guards and context updates as
 * plain functions, named in `purchase.machine.ts` through `purchase.logic.ts`. No I/O, nothing from `src/`.
 */
import type {
  PricingResult,
  Problem,
  ProductLimits,
  PromoCheckResult,
  PromoReserveResult,
  PurchaseContext,
  PurchaseEvent,
  TokenLimits,
} from "./purchase.types.ts";
import { withinLimits } from "./purchase.types.ts";

type Args = { context: PurchaseContext; event: PurchaseEvent };
type DoneWith<T> = { output: T };

/** The products an order may be for (an order stored before catalogs knew only its own, within its limits). */
export function productsOf(context: Pick<PurchaseContext, "products" | "productId" | "limits">): ProductLimits[] {
  return context.products ?? (context.productId ? [{ id: context.productId, ...context.limits }] : []);
}

/** The limits of one of the order's products; null for a product the order cannot be for. */
export function limitsFor(
  context: Pick<PurchaseContext, "products" | "productId" | "limits">,
  productId: string | null | undefined,
): TokenLimits | null {
  const product = productId ? productsOf(context).find((p) => p.id === productId) : undefined;
  return product ? { minTokens: product.minTokens, maxTokens: product.maxTokens } : null;
}

/** The amounts an order of no chosen product may be for: from the smallest any product sells to the largest. */
export function spanOf(products: readonly ProductLimits[]): TokenLimits {
  return { minTokens: Math.min(...products.map((p) => p.minTokens)), maxTokens: Math.max(...products.map((p) => p.maxTokens)) };
}

/** The product an amount is for: the one the customer named with it, else the order's own. */
const productForAmount = (context: PurchaseContext, event: PurchaseEvent) =>
  event.type === "SET_AMOUNT" ? (event.product ?? context.productId ?? null) : null;

/** The machine's guards about products and promo codes, by name. */
export const offerGuards = {
  /** An amount of a known product (named with it, or the order's), within that product's limits. */
  amountWithinLimits: ({ context, event }: Args) => {
    const limits = event.type === "SET_AMOUNT" ? limitsFor(context, productForAmount(context, event)) : null;
    return limits !== null && event.type === "SET_AMOUNT" && withinLimits(limits, event.tokens);
  },
  /** An amount with no product yet, in a shop of several: some product sells it, so the customer is asked which. */
  amountNeedsProduct: ({ context, event }: Args) =>
    event.type === "SET_AMOUNT" &&
    event.product === undefined &&
    (context.productId ?? null) === null &&
    productsOf(context).some((product) => withinLimits(product, event.tokens)),
  /** A product this order may be for. */
  productKnown: ({ context, event }: Args) => event.type === "SET_PRODUCT" && limitsFor(context, event.product) !== null,
  /** A product that sells the amount the order already has. */
  productFitsAmount: ({ context, event }: Args) => {
    const limits = event.type === "SET_PRODUCT" ? limitsFor(context, event.product) : null;
    return limits !== null && context.tokens !== null && withinLimits(limits, context.tokens);
  },
  /** An amount and a product: the order can be priced. */
  readyToPrice: ({ context }: Args) => context.tokens !== null && (context.productId ?? null) !== null,
  /** An amount still waiting for its product. */
  awaitingProduct: ({ context }: Args) => context.tokens !== null && (context.productId ?? null) === null,
  hasQuote: ({ context }: Args) => context.quote !== null,
  promoAccepted: (_: Args, params: DoneWith<PromoCheckResult>) => params.output.ok,
  /** The code may be used, and the order has what it needs to be priced with it. */
  promoAcceptedReadyToPrice: (args: Args, params: DoneWith<PromoCheckResult>) => params.output.ok && offerGuards.readyToPrice(args),
  /** The code may be used; the order's amount still waits for its product. */
  promoAcceptedAwaitingProduct: (args: Args, params: DoneWith<PromoCheckResult>) => params.output.ok && offerGuards.awaitingProduct(args),
  promoReserved: (_: Args, params: DoneWith<PromoReserveResult>) => params.output.ok,
  /** The quote's promo code is not the one whose use the order holds: the use is settled before invoicing. */
  promoUseToSettle: ({ context }: Args) => (context.quote?.details?.promoCode ?? null) !== (context.promoHeld ?? null),
  /** The order holds a promo code's use (to be given back when it closes unpaid). */
  promoUseHeld: ({ context }: Args) => (context.promoHeld ?? null) !== null,
};

/** The context updates about products and promo codes, by name. */
export const offerUpdates = {
  /** The amount, and the product named with it (its limits become the order's). */
  rememberAmount: ({ context, event }: Args) => {
    if (event.type !== "SET_AMOUNT") return {};
    const productId = productForAmount(context, event);
    const limits = limitsFor(context, productId);
    return productId !== null && limits !== null ? { tokens: event.tokens, productId, limits } : { tokens: event.tokens };
  },
  /** The product the customer chose: its limits become the order's. */
  pickProduct: ({ context, event }: Args) => {
    const limits = event.type === "SET_PRODUCT" ? limitsFor(context, event.product) : null;
    return event.type === "SET_PRODUCT" && limits !== null ? { productId: event.product, limits } : {};
  },
  /** The code the customer gave, kept while it is checked. */
  rememberPromoCode: ({ event }: Args) => (event.type === "APPLY_PROMO" ? { promoTyped: event.code } : {}),
  recordQuote: (_: Args, params: DoneWith<PricingResult>) => {
    if (!params.output.ok) return {};
    const { quote, promoRefused } = params.output;
    // A code that could not be used any more (used up meanwhile, another product) is dropped, and the customer told.
    return promoRefused
      ? { quote, tokens: quote.tokens, promoCode: null, promoRefusal: promoRefused, problem: "promo_refused" satisfies Problem }
      : { quote, tokens: quote.tokens };
  },
  recordPromo: (_: Args, params: DoneWith<PromoCheckResult>) =>
    params.output.ok ? { promoCode: params.output.code, promoTyped: null, promoRefusal: null, problem: null } : {},
  recordPromoRefusal: (_: Args, params: DoneWith<PromoCheckResult>) =>
    params.output.ok ? {} : { promoTyped: null, promoRefusal: params.output.reason, problem: "promo_refused" satisfies Problem },
  recordPromoCheckFailure: (): Partial<PurchaseContext> => ({ promoTyped: null, problem: "pricing_unavailable" satisfies Problem }),
  /** The order now holds the use of its quote's code (or of none, having given back another). */
  recordPromoHold: ({ context }: Args) => ({ promoHeld: context.quote?.details?.promoCode ?? null }),
  /** The quote's code could not be reserved: the order holds none, and is priced again without it. */
  dropPromo: (_: Args, params: DoneWith<PromoReserveResult>) => ({
    promoCode: null,
    promoHeld: null,
    promoRefusal: params.output.ok ? null : params.output.reason,
    problem: "promo_refused" satisfies Problem,
  }),
  forgetPromoUse: (): Partial<PurchaseContext> => ({ promoHeld: null }),
} satisfies Record<string, (args: Args, params: never) => Partial<PurchaseContext>>;
