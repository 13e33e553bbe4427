export { openBackend, parseStoreUrl } from "./backend.ts";
export type { Backend, BackendKind, Claims, Collection, StoreLocation } from "./backend.ts";
export { createStores } from "./stores.ts";
export type { Stores } from "./stores.ts";
export { readOrder, recordLatePayment, recordRefund } from "./orders.ts";
