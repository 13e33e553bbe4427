/**
 * Upgrading a store written by the previous version (store schema 2: one snapshot per chat, order
 * projections, late-payment and refund records beside them, a ledger, audit chunks) to this one (each
 * order keeps its own machine snapshot for its whole life). Runs on the first start of the new version,
 * before anything is served, and is safe to run again after a crash half-way: chats already moved are
 * skipped, orders and goods are upserted, and the old layout is dropped only once everything is moved.
 *
 * Each old order becomes an order of today's machine in the state that means the same thing:
 * - an order that was being worked on (pricing, creating a payment, delivering) resumes from the last
 *   durable point before that work (a new amount, the quote, the recorded payment), so restoring it
 *   starts nothing half-way;
 * - a cancelled or expired order whose invoice existed keeps watching it (`invoice_open`), so money that
 *   still arrives is handled by the order's LATE_PAYMENT terms;
 * - a late payment the old version kept beside a closed order becomes the order's own: goods delivered
 *   for it → delivered (late); being handled (pending) → paid (late), so the engine delivers it now;
 *   refunded → refunded; kept for the owner → awaiting_owner_refund;
 * - an admin's refund → refunded.
 */
import { purchaseMachine } from "../../machines/purchase.machine.ts";
import type { LatePaymentPolicy, PurchaseContext, RefundDetails } from "../../machines/purchase.types.ts";
import { summarize } from "../engine/orders.ts";
import { toAuditEntry } from "../engine/audit-entries.ts";
import { ChatId, OrderId } from "../domain/ids.ts";
import { type AuditEntry, type ChatRecord, MAX_REMEMBERED_ORDERS, type OrderRecord } from "../domain/records.ts";
import type { Logger } from "../log.ts";
import {
  AuditBucket,
  ConversationRecord as OldConversation,
  LatePayment,
  LedgerEntry,
  OrderProjection,
  PaymentIndexEntry as OldPaymentIndexEntry,
  Refund,
} from "../store/legacy/records.ts";
import type { LegacyData, ShopStore } from "../store/shop-store.ts";

/** Collections the old version kept as plain key-value: copied as they are into the store's `kv`. */
const KEPT_AS_IS = ["preferences", "sandbox_invoices", "cryptopay_invoices", "stars_invoices", "stars_payments"];
const OWNER = "upgrade-from-schema-2";

export type UpgradeOptions = {
  log: Logger;
  clock: () => number;
  /** The shop's LATE_PAYMENT: the terms migrated orders keep for money that still arrives. */
  latePayment: LatePaymentPolicy;
  /** How long after the upgrade work a crash left in flight counts as due (the chat lease's length). */
  workGraceMs: number;
};

/** What the upgrade moved. */
export type UpgradeReport = { chats: number; orders: number; goods: number; payments: number; settings: number };

type OldContext = Omit<
  PurchaseContext,
  | "productId"
  | "products"
  | "promoCode"
  | "promoTyped"
  | "promoHeld"
  | "promoRefusal"
  | "reissues"
  | "latePayment"
  | "paidCharge"
  | "late"
  | "refund"
  | "strays"
  | "invoiceClosed"
  | "nextCheckAt"
  | "lastCheck"
  | "delivery"
> & {
  delivery: Pick<PurchaseContext["delivery"], "attempts" | "nextAttemptAt" | "lastError" | "ref" | "hint" | "deliveredAt">;
};

async function collect<T>(legacy: LegacyData, collection: string, parse: (value: unknown) => T | undefined): Promise<Map<string, T>> {
  const found = new Map<string, T>();
  if (!(await legacy.collections()).includes(collection)) return found;
  for await (const [key, value] of legacy.entries(collection)) {
    const parsed = parse(value);
    if (parsed !== undefined) found.set(key, parsed);
  }
  return found;
}

const parseWith =
  <S extends { safeParse(value: unknown): { success: true; data: unknown } | { success: false } }>(schema: S) =>
  (value: unknown) => {
    const parsed = schema.safeParse(value);
    return parsed.success
      ? (parsed.data as S extends { safeParse(value: unknown): { success: true; data: infer D } | { success: false } } ? D : never)
      : undefined;
  };

/** Today's state value for an old order, and what its context must say about late money and refunds. */
function stateFor(
  old: { state: string; value: unknown; context: OldContext },
  late: LatePayment | undefined,
  refund: Refund | undefined,
  policy: LatePaymentPolicy,
): { value: unknown; late: boolean; refund: RefundDetails | null; invoiceClosed: boolean } {
  const c = old.context;
  const lateRefund = (refundedAt: number | null): RefundDetails | null =>
    late
      ? {
          chargeId: late.paymentId,
          amount: late.amount,
          foreign: late.foreign,
          reason: late.reason === "late" ? "late" : "mismatch",
          refundId: null,
          manual: false,
          refundedAt,
        }
      : null;
  if (refund) {
    return {
      value: "refunded",
      late: false,
      refund: {
        chargeId: refund.paymentId,
        amount: refund.amount,
        foreign: null,
        reason: "owner",
        refundId: refund.refundId,
        manual: refund.manual,
        refundedAt: refund.at,
      },
      invoiceClosed: true,
    };
  }
  if (late && (old.state === "cancelled" || old.state === "expired" || old.state === "payment_failed")) {
    switch (late.resolution) {
      case "delivered":
        return { value: { delivered: "settled" }, late: true, refund: null, invoiceClosed: true };
      case "pending":
        // The old version was carrying the policy out when it stopped: today's machine finishes it.
        return policy === "deliver" && late.reason === "late"
          ? { value: { paid: "recorded" }, late: true, refund: null, invoiceClosed: true }
          : { value: "awaiting_owner_refund", late: false, refund: lateRefund(null), invoiceClosed: true };
      case "refunded":
        return { value: "refunded", late: false, refund: lateRefund(late.at), invoiceClosed: true };
      case "kept":
        return { value: "awaiting_owner_refund", late: false, refund: lateRefund(null), invoiceClosed: true };
      default: {
        const unhandled: never = late.resolution;
        throw new Error(`unknown late payment resolution ${String(unhandled)}`);
      }
    }
  }
  const invoiceOpen = c.payment !== null;
  switch (old.state) {
    case "initial":
    case "pricing": // the price was being fixed: the amount stays, the customer asks again
      return { value: "initial", late: false, refund: null, invoiceClosed: false };
    case "quoted":
    case "creating_payment": // the invoice was being made: the quote stays (confirming makes it, idempotently)
      return { value: c.quote ? "quoted" : "initial", late: false, refund: null, invoiceClosed: false };
    case "awaiting_payment":
      return { value: { awaiting_payment: "waiting" }, late: false, refund: null, invoiceClosed: false };
    case "paid": {
      const sub = typeof old.value === "object" && old.value !== null ? Object.values(old.value)[0] : "recorded";
      // Delivering was cut off: the recorded payment moves on again (delivery is idempotent per order).
      return { value: { paid: sub === "waiting_retry" ? "waiting_retry" : "recorded" }, late: false, refund: null, invoiceClosed: true };
    }
    case "delivered":
      return { value: { delivered: "settled" }, late: false, refund: null, invoiceClosed: true };
    case "delivery_failed":
      return { value: "delivery_failed", late: false, refund: null, invoiceClosed: true };
    case "refunded":
      return { value: "refunded", late: false, refund: null, invoiceClosed: true };
    case "cancelled":
    case "expired":
      return invoiceOpen
        ? { value: { [old.state]: "invoice_open" }, late: false, refund: null, invoiceClosed: false }
        : { value: { [old.state]: "invoice_closed" }, late: false, refund: null, invoiceClosed: true };
    case "payment_failed":
      return { value: "payment_failed", late: false, refund: null, invoiceClosed: true };
    default:
      throw new Error(`a stored order is in a state the previous version did not have: ${JSON.stringify(old.state)}`);
  }
}

/** The persisted snapshot of today's machine for an old order. */
function snapshotFor(
  old: { state: string; value: unknown; context: OldContext },
  late: LatePayment | undefined,
  refund: Refund | undefined,
  options: UpgradeOptions,
) {
  const mapped = stateFor(old, late, refund, options.latePayment);
  const c = old.context;
  const context: PurchaseContext = {
    ...c,
    productId: "tokens",
    // Orders before catalogs sold the one product, within their own limits, with no promo codes.
    products: [{ id: "tokens", ...c.limits }],
    promoCode: null,
    promoTyped: null,
    promoHeld: null,
    promoRefusal: null,
    reissues: 0,
    latePayment: options.latePayment,
    paidCharge: c.paidAt !== null ? (c.payment?.paymentId ?? null) : mapped.late && late ? late.paymentId : null,
    paidAt: c.paidAt ?? (mapped.late && late ? late.at : null),
    late: mapped.late,
    refund: mapped.refund,
    strays: [],
    invoiceClosed: mapped.invoiceClosed,
    nextCheckAt: null,
    lastCheck: null,
    delivery: { ...c.delivery, strayCheckAt: null, straysRevoked: 0, announceAt: null, announceAttempts: 0 },
  };
  const snapshot = purchaseMachine.resolveState({ value: mapped.value as never, context });
  return { snapshot, persisted: purchaseMachine.getPersistedSnapshot(snapshot) };
}

/** The old audit entries of an order, in today's shape (types and details kept; ids checked). */
function auditOf(buckets: AuditBucket[]): AuditEntry[] {
  const entries: AuditEntry[] = [];
  for (const entry of buckets.flatMap((bucket) => bucket.entries).sort((a, b) => a.at - b.at || a.seq - b.seq)) {
    const chatId = ChatId.safeParse(entry.chatId);
    const orderId = OrderId.safeParse(entry.orderId);
    if (!chatId.success) continue;
    entries.push({
      v: 2,
      type: entry.type,
      chatId: chatId.data,
      orderId: orderId.success ? orderId.data : null,
      at: entry.at,
      instance: entry.instance,
      detail: entry.detail,
    });
  }
  return entries;
}

/**
 * Moves everything the previous version stored into this version's layout, then drops the old
 * layout. Does nothing on a store without old data.
 */
export async function upgradeFromSchema2(store: ShopStore, options: UpgradeOptions): Promise<UpgradeReport | null> {
  const legacy = store.legacy;
  if (!legacy || (await legacy.collections()).length === 0) return null;
  const { log } = options;
  log.warn("upgrading the store from the previous version's layout (store schema 2); this runs once");
  const conversations = await collect(legacy, "conversations", parseWith(OldConversation));
  const projections = await collect(legacy, "orders", parseWith(OrderProjection));
  const latePayments = await collect(legacy, "late_payments", parseWith(LatePayment));
  const refunds = await collect(legacy, "refunds", parseWith(Refund));
  const ledger = await collect(legacy, "ledger", parseWith(LedgerEntry));
  const paymentIndex = await collect(legacy, "payment_index", parseWith(OldPaymentIndexEntry));
  const auditByOrder = new Map<string, AuditBucket[]>();
  for (const bucket of (await collect(legacy, "audit", parseWith(AuditBucket))).values()) {
    auditByOrder.set(bucket.orderId, [...(auditByOrder.get(bucket.orderId) ?? []), bucket]);
  }
  const report: UpgradeReport = { chats: 0, orders: 0, goods: 0, payments: 0, settings: 0 };
  const at = options.clock();

  // Settings and providers' records first: nothing refers to them by position.
  for (const namespace of KEPT_AS_IS) {
    if (!(await legacy.collections()).includes(namespace)) continue;
    const kv = store.kv(namespace);
    for await (const [key, value] of legacy.entries(namespace)) {
      await kv.set(key, value);
      report.settings++;
    }
  }
  // Write-first indexes: a webhook finds its order from the moment the order exists.
  for (const [key, entry] of paymentIndex) {
    await store.indexPayment(key, { orderId: entry.orderId, chatId: entry.chatId });
    report.payments++;
  }
  for (const entry of ledger.values()) {
    await store.putGoods({ ...entry, revoked: [] }, OWNER);
    report.goods++;
  }

  // Every order, grouped by chat: the chat's current one from its snapshot, earlier ones from their projections.
  const byChat = new Map<
    string,
    { conversation?: OldConversation; orders: Map<string, { state: string; value: unknown; context: OldContext; createdAt: number }> }
  >();
  const chatOf = (chatId: string) => {
    let chat = byChat.get(chatId);
    if (!chat) byChat.set(chatId, (chat = { orders: new Map() }));
    return chat;
  };
  for (const conversation of conversations.values()) {
    const chat = chatOf(conversation.chatId);
    chat.conversation = conversation;
    const context = conversation.snapshot.context as OldContext;
    const value = conversation.snapshot.value;
    const state = typeof value === "string" ? value : (Object.keys(value as object)[0] ?? "initial");
    // A fresh order without an amount was never an order: nothing to keep.
    if (state !== "initial" || context.tokens !== null)
      chat.orders.set(context.orderId, { state, value, context, createdAt: context.createdAt });
  }
  for (const projection of projections.values()) {
    const chat = chatOf(projection.chatId);
    if (chat.orders.has(projection.orderId)) continue;
    // An ended order the conversation moved on from: its context rebuilt from its projection.
    const usd = projection.usd;
    const charge = projection.charge;
    const quote =
      projection.tokens !== null && usd && charge
        ? {
            tokens: projection.tokens,
            usd,
            charge,
            quotedAt: projection.quotedAt ?? projection.createdAt,
            expiresAt: projection.quotedAt ?? projection.createdAt,
          }
        : null;
    const payment =
      projection.paymentId && charge
        ? {
            provider: projection.provider ?? "sandbox",
            paymentId: projection.paymentId,
            payUrl: projection.payUrl ?? "",
            charge,
            createdAt: projection.createdAt,
            expiresAt: projection.updatedAt,
          }
        : null;
    const goods = ledger.get(projection.orderId);
    const context: OldContext = {
      orderId: projection.orderId,
      chatId: projection.chatId,
      limits: { minTokens: 1, maxTokens: Number.MAX_SAFE_INTEGER },
      maxDeliveryAttempts: 5,
      retryBackoffMs: 30_000,
      tokens: projection.tokens,
      quote,
      payment,
      paidAt: projection.paidAt,
      delivery: {
        attempts: 0,
        nextAttemptAt: null,
        lastError: null,
        ref: projection.deliveryRef,
        hint: goods?.hint ?? null,
        deliveredAt: projection.deliveredAt,
      },
      problem: null,
      createdAt: projection.createdAt,
      lastActivityAt: projection.updatedAt,
    };
    chat.orders.set(projection.orderId, { state: projection.state, value: projection.state, context, createdAt: projection.createdAt });
  }

  for (const [rawChatId, chat] of byChat) {
    const chatId = ChatId.parse(rawChatId);
    const opened = await store.openChat(chatId, { owner: OWNER, ttlMs: 60_000 });
    if (!opened.held) throw new Error(`chat ${chatId} is busy: stop every instance of the previous version before upgrading`);
    // Moved already (an upgrade a crash interrupted after this chat): its orders are in place.
    if (opened.state.chat !== undefined) {
      await store.releaseLease(chatId, OWNER);
      continue;
    }
    const records: OrderRecord[] = [];
    const audit: AuditEntry[] = [];
    for (const [orderId, old] of chat.orders) {
      const { snapshot, persisted } = snapshotFor(old, latePayments.get(orderId), refunds.get(orderId), options);
      const summary = summarize(snapshot, at, options.workGraceMs);
      records.push({
        v: 2,
        orderId: OrderId.parse(orderId),
        chatId,
        snapshot: persisted as OrderRecord["snapshot"],
        summary,
        createdAt: old.createdAt,
        updatedAt: at,
      });
      audit.push(...auditOf(auditByOrder.get(orderId) ?? []));
      audit.push(toAuditEntry({ type: "order", chatId, orderId: OrderId.parse(orderId), summary, createdAt: old.createdAt, at }, OWNER));
      await store.indexOrder(OrderId.parse(orderId), chatId);
    }
    const conversation = chat.conversation;
    const current = conversation ? (conversation.snapshot.context as OldContext).orderId : null;
    const currentOrderId =
      current && chat.orders.has(current) ? current : (conversation?.lastOrderId ?? [...chat.orders.keys()].at(-1) ?? null);
    const record: ChatRecord = {
      v: 3,
      chatId,
      currentOrderId: currentOrderId ? OrderId.parse(currentOrderId) : null,
      recentOrderIds: (conversation?.orderIds ?? [...chat.orders.keys()].map((id) => OrderId.parse(id)))
        .filter((id) => id !== currentOrderId)
        .slice(-MAX_REMEMBERED_ORDERS),
      turns: conversation?.turns ?? [],
      askedFor: conversation?.askedHowMany ? "amount" : null,
      choices: [],
      profile: { username: null, firstName: null },
      lastActivityAt: conversation?.updatedAt ?? at,
      updatedAt: at,
    };
    const committed = await store.commit({ chatId, owner: OWNER, chat: { record, expectedRev: 0 }, orders: records, audit, release: true });
    if (!committed.ok) throw new Error(`chat ${chatId} could not be moved (${committed.reason}); start the upgrade again`);
    report.chats++;
    report.orders += records.length;
  }
  await legacy.drop();
  log.warn("store upgraded", { ...report });
  return report;
}
