export { openBackend, parseStoreUrl } from "./backend.ts";
export type { Backend, BackendKind, Claims, Collection, StoreLocation, VersionedCollection, VersionedRead } from "./backend.ts";
export { createStores } from "./stores.ts";
export type { Stores } from "./stores.ts";
export { readOrder, recordLatePayment, recordRefund } from "./orders.ts";
export { ChatBusyError, createChatLock } from "./chat-lock.ts";
export type { ChatLock, ChatLockOptions, Lease } from "./chat-lock.ts";
