import type { Config } from "../config.ts";
import { deliveryByProduct } from "./by-product.ts";
import { createOpenRouterDelivery } from "./openrouter.ts";
import type { DeliveryProvider } from "./provider.ts";
import { createSandboxDelivery } from "./sandbox.ts";

export type { DeliveryOutcome, DeliveryProvider, DeliveryRequest, IssuedGoods, ReissueRequest } from "./provider.ts";
export { deliveryByProduct } from "./by-product.ts";
export { createSandboxDelivery } from "./sandbox.ts";
export { createOpenRouterDelivery } from "./openrouter.ts";
export { createLedger } from "./ledger.ts";
export type { Ledger, DeliverOutcome } from "./ledger.ts";

/** The delivery provider named by `DELIVERY_PROVIDER`, issuing vouchers for the catalog's voucher products. */
export function createDeliveryProvider(config: Config): DeliveryProvider {
  switch (config.delivery.provider) {
    case "sandbox":
      return createSandboxDelivery();
    case "openrouter":
      return deliveryByProduct(
        config.shop,
        createOpenRouterDelivery({ apiUrl: config.delivery.openrouterApiUrl, provisioningKey: config.delivery.provisioningKey }),
      );
    default: {
      const unhandled: never = config.delivery;
      throw new Error(`unknown delivery provider ${JSON.stringify(unhandled)}`);
    }
  }
}
