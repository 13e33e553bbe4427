export type { DeliveryOutcome, DeliveryProvider, DeliveryRequest, IssuedGoods } from "./provider.ts";
export { createSandboxDelivery } from "./sandbox.ts";
export { createLedger } from "./ledger.ts";
export type { Ledger, DeliverOutcome } from "./ledger.ts";
