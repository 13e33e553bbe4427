/**
 * Goods by product (issue 21): a catalog's `voucher` products are issued voucher codes, its
 * `openrouter_key` products whatever DELIVERY_PROVIDER issues (OpenRouter keys, or test vouchers under
 * `sandbox`, so a catalog can be tried without issuing anything real). One provider to the ledger, so
 * delivery stays exactly-once whatever the product.
 */
import type { Delivery, ShopCatalog } from "../domain/products.ts";
import type { DeliveryProvider } from "./provider.ts";
import { createSandboxDelivery } from "./sandbox.ts";

/** `keys` for API-key products, `vouchers` for the rest; `keys` alone when it issues vouchers anyway. */
export function deliveryByProduct(
  shop: ShopCatalog,
  keys: DeliveryProvider,
  vouchers: DeliveryProvider = createSandboxDelivery(),
): DeliveryProvider {
  if (keys.name === "sandbox") return keys;
  const kindOf = (productId: string | undefined): Delivery =>
    shop.products.find((product) => product.id === productId)?.delivery ?? shop.products[0]?.delivery ?? "openrouter_key";
  const forProduct = (productId: string | undefined) => (kindOf(productId) === "voucher" ? vouchers : keys);
  return {
    name: keys.name,
    issue: (request) => forProduct(request.productId).issue(request),
    reissue: (request) => {
      const provider = forProduct(request.productId);
      return provider.reissue
        ? provider.reissue(request)
        : Promise.resolve({ ok: false, reason: "rejected", detail: `${provider.name} cannot reissue` });
    },
    ...(keys.revokeStrays ? { revokeStrays: keys.revokeStrays.bind(keys) } : {}),
    ...(keys.availableUsd ? { availableUsd: keys.availableUsd.bind(keys) } : {}),
  };
}
