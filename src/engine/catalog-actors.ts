/**
 * The purchase machine's actors about what is bought (issue 21): pricing an amount of a catalog product
 * (its tier, the order's promo code, the charge currency and the OpenRouter credit it buys), checking a
 * promo code the customer gave, reserving and giving back a code's use in the store, and replacing lost
 * goods. Each is idempotent by order id: XState re-runs an actor whose snapshot was stored mid-work.
 */
import { fromPromise } from "xstate";
import type {
  DeliveryResult,
  PricingInput,
  PricingResult,
  PromoCheckInput,
  PromoCheckResult,
  PromoReleaseInput,
  PromoReleaseResult,
  PromoReserveInput,
  PromoReserveResult,
  ReissueInput,
} from "../../machines/purchase.machine.ts";
import { type Catalog, shopOf } from "../domain/catalog.ts";
import type { ChatId, OrderId } from "../domain/ids.ts";
import { priceOrder, promoAppliesTo } from "../domain/pricing.ts";
import { type Promo, findProduct } from "../domain/products.ts";
import { type PromoCheck, type PromoRefusal, checkPromo, findPromo, normalizePromoCode, promoCountsNeeded } from "../domain/promos.ts";
import type { DeliveryProvider, Ledger } from "../delivery/index.ts";
import type { Logger } from "../log.ts";
import type { PaymentProvider } from "../payments/provider.ts";
import type { ShopStore } from "../store/shop-store.ts";
import { type PromoBook, filePromoBook } from "./promo-book.ts";

export type CatalogActorDeps = {
  catalog: Catalog;
  quoteTtlMs: number;
  clock: () => number;
  payments: PaymentProvider;
  delivery: DeliveryProvider;
  ledger: Ledger;
  store: ShopStore;
  log: Logger;
  /** The promo codes in force (the file's and the owner's dashboard changes); default: the file's alone. */
  promos?: PromoBook;
};

/** The key a promo code's uses are counted under: the code as compared (trimmed, upper case). */
export const promoKey = (promo: Pick<Promo, "code">) => normalizePromoCode(promo.code);

export function createCatalogActors(deps: CatalogActorDeps) {
  const { log, store } = deps;
  const shop = shopOf(deps.catalog);
  const promos = deps.promos ?? filePromoBook(shop.promos);

  /**
   * Whether `text` names a code this order may use now. Uses held by the order itself do not count
   * against it (its own reservation, made at an earlier Confirm). `productId` null: not chosen yet, so
   * whether the code fits the product is decided when the order is priced.
   */
  const judge = async (text: string, order: { orderId: OrderId; chatId: ChatId; productId: string | null }): Promise<PromoCheck> => {
    const promo = findPromo({ promos: await promos.inForce() }, text);
    if (!promo) return { ok: false, reason: "unknown" };
    const needed = promoCountsNeeded(promo);
    const usage =
      needed.usesSoFar || needed.usedByThisCustomer ? await store.promoUses(promoKey(promo), order.chatId, order.orderId) : null;
    const own = usage?.heldByOrder ? 1 : 0;
    return checkPromo(promo, {
      productId: order.productId ?? promo.products?.[0] ?? "",
      now: deps.clock(),
      usesSoFar: (usage?.uses ?? 0) - own,
      usedByThisCustomer: (usage?.byCustomer ?? 0) - own,
      customer: order.chatId,
    });
  };

  return {
    // The amount was checked by the machine's `amountWithinLimits` guard before pricing starts.
    priceQuote: fromPromise(async ({ input }: { input: PricingInput }): Promise<PricingResult> => {
      const product = findProduct(shop, input.productId);
      if (!product) {
        log.warn("an order names a product the catalog no longer has", { orderId: input.orderId, productId: input.productId });
        return { ok: false, reason: "pricing_unavailable" };
      }
      let promo: Promo | null = null;
      let refused: PromoRefusal | undefined;
      let available;
      try {
        if (input.promoCode !== null) {
          const check = await judge(input.promoCode, input);
          if (check.ok) promo = check.promo;
          else refused = check.reason;
        }
        // Refuse to sell credit the provisioning account cannot cover (vouchers need none).
        available = deps.delivery.availableUsd ? await deps.delivery.availableUsd() : null;
      } catch (err) {
        log.warn("pricing could not ask the store or the provider; the customer is asked to try again", { orderId: input.orderId, err });
        return { ok: false, reason: "pricing_unavailable" };
      }
      // The view's limits are authoritative for a one-product shop (tests narrow them by hand).
      const limits = shop.products.length === 1 ? { min: deps.catalog.minTokens, max: deps.catalog.maxTokens } : {};
      const price = priceOrder({ ...product, ...limits }, input.tokens, {
        currency: deps.payments.currency,
        starsPerUsd: shop.starsPerUsd,
        promo,
      });
      if (available !== null && price.credit !== null && available.minor < price.credit.minor) return { ok: false, reason: "out_of_stock" };
      const now = deps.clock();
      const quote = {
        tokens: input.tokens,
        usd: price.final,
        charge: price.charge,
        quotedAt: now,
        expiresAt: now + deps.quoteTtlMs,
        details: {
          unitPrice: price.unitPrice,
          pricePer: price.pricePer,
          tier: price.tier ? { from: price.tier.from } : null,
          baseList: price.baseList,
          list: price.list,
          promoCode: price.promoCode,
          discount: price.discount,
          credit: price.credit,
        },
      };
      return refused ? { ok: true, quote, promoRefused: refused } : { ok: true, quote };
    }),

    checkPromo: fromPromise(async ({ input }: { input: PromoCheckInput }): Promise<PromoCheckResult> => {
      const check = await judge(input.code, input);
      return check.ok ? { ok: true, code: check.promo.code } : { ok: false, reason: check.reason };
    }),

    /** Gives back a use held for another code, then holds the quote's, atomically in the store. */
    reservePromo: fromPromise(async ({ input }: { input: PromoReserveInput }): Promise<PromoReserveResult> => {
      if (input.held !== null && (input.code === null || normalizePromoCode(input.held) !== normalizePromoCode(input.code))) {
        await store.releasePromo(normalizePromoCode(input.held), input.orderId, input.chatId);
      }
      if (input.code === null) return { ok: true };
      const promo = findPromo({ promos: await promos.inForce() }, input.code);
      if (!promo) return { ok: false, reason: "unknown" };
      if (promo.expiresAt !== null && deps.clock() >= promo.expiresAt) return { ok: false, reason: "expired" };
      if (!promoAppliesTo(promo, input.productId)) return { ok: false, reason: "wrong_product" };
      const used = await store.usePromo(promoKey(promo), input.orderId, input.chatId, {
        maxUses: promo.maxUses,
        oncePerCustomer: promo.oncePerCustomer,
      });
      if (used !== "ok")
        log.info("a promo code's use could not be reserved at Confirm", { orderId: input.orderId, code: promo.code, reason: used });
      return used === "ok" ? { ok: true } : { ok: false, reason: used };
    }),

    releasePromo: fromPromise(async ({ input }: { input: PromoReleaseInput }): Promise<PromoReleaseResult> => {
      await store.releasePromo(normalizePromoCode(input.code), input.orderId, input.chatId);
      return { at: deps.clock() };
    }),

    reissueGoods: fromPromise(async ({ input }: { input: ReissueInput }): Promise<DeliveryResult> => {
      const outcome = await deps.ledger.reissue({
        orderId: input.orderId,
        chatId: input.chatId,
        tokens: input.tokens,
        productId: input.productId,
        generation: input.generation,
      });
      const at = deps.clock();
      if (outcome.ok) {
        log.info("goods reissued", { orderId: input.orderId, generation: input.generation, fresh: outcome.fresh });
        return { ok: true, ref: outcome.entry.ref, hint: outcome.entry.hint, at, mayLeaveStrays: deps.ledger.mayLeaveStrays };
      }
      log.warn("reissue failed; the old goods still work", { orderId: input.orderId, reason: outcome.reason, detail: outcome.detail });
      return { ok: false, reason: outcome.reason, at };
    }),
  };
}
