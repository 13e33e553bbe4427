import {
  AuditBucket,
  AuditIndex,
  ConversationRecord,
  DeadlineEntry,
  LedgerEntry,
  LatePayment,
  OrderProjection,
  PaymentIndexEntry,
  PaymentRecord,
  Refund,
} from "../domain/records.ts";
import { LanguagePreference } from "../domain/preferences.ts";
import type { Backend, Claims, Collection, VersionedCollection } from "./types.ts";

/** The product's collections on one backend. */
export type Stores = {
  /** One record per chat; writes are compare-and-set on the record's revision. */
  conversations: VersionedCollection<ConversationRecord>;
  /** The machine's view of each order, written by the engine only. */
  orders: Collection<OrderProjection>;
  /** The first late or wrong-amount payment of an order, kept for a refund (see src/store/orders.ts). */
  latePayments: Collection<LatePayment>;
  /** Admin refunds by order id. */
  refunds: Collection<Refund>;
  ledger: Collection<LedgerEntry>;
  payments: Collection<PaymentRecord>;
  paymentIndex: Collection<PaymentIndexEntry>;
  deadlines: Collection<DeadlineEntry>;
  /** Audit trail chunks keyed `${orderId}/${writer}/${n}` (see src/audit). */
  audit: Collection<AuditBucket>;
  /** Audit index keyed by order id: which writers hold chunks for it. */
  auditIndex: Collection<AuditIndex>;
  /** Each chat's language, keyed by chat id (see src/i18n/preferences.ts). */
  preferences: Collection<LanguagePreference>;
  claims: Claims;
  backend: Backend;
};

/** Binds every collection to `backend` with its schema. */
export function createStores(backend: Backend): Stores {
  return {
    conversations: backend.versioned("conversations", ConversationRecord),
    orders: backend.collection("orders", OrderProjection),
    latePayments: backend.collection("late_payments", LatePayment),
    refunds: backend.collection("refunds", Refund),
    ledger: backend.collection("ledger", LedgerEntry),
    payments: backend.collection("payments", PaymentRecord),
    paymentIndex: backend.collection("payment_index", PaymentIndexEntry),
    deadlines: backend.collection("deadlines", DeadlineEntry),
    audit: backend.collection("audit", AuditBucket),
    auditIndex: backend.collection("audit_index", AuditIndex),
    preferences: backend.collection("preferences", LanguagePreference),
    claims: backend.claims,
    backend,
  };
}
