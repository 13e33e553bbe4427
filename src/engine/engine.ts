/**
 * The conversation engine: load the chat's snapshot → understand → send one event → wait for invoked
 * work to settle → persist → reply from the snapshot. It is the only place that creates purchase
 * actors, and it keeps three doors apart:
 * - customers (`handleText`, `handleButton`, `handleCommand`) can send only {@link Command}s;
 * - the payment layer (`confirmPayment`) is the only source of `PAYMENT_*` events, and only after
 *   re-fetching the provider's status;
 * - the sweeper (`runDue`) is the only source of deadline events.
 */
import { randomBytes } from "node:crypto";
import { type Actor, type InspectionEvent, createActor, waitFor } from "xstate";
import type { PaymentEvent, PurchaseEvent, SystemEvent } from "../../machines/purchase.machine.ts";
import type { Catalog } from "../domain/catalog.ts";
import { withinLimits } from "../domain/catalog.ts";
import type { Command, CommandSource } from "../domain/commands.ts";
import { sameMoney } from "../domain/money.ts";
import { type ConversationRecord, ORDER_STATES, type OrderProjection, type OrderRecord } from "../domain/records.ts";
import { type Ledger, createLedger } from "../delivery/index.ts";
import type { DeliveryProvider } from "../delivery/index.ts";
import type { PaymentProvider, ProviderName } from "../payments/provider.ts";
import { type Stores, readOrder, recordLatePayment } from "../store/index.ts";
import { providePurchaseMachine } from "./actors.ts";
import { type ButtonAction, buttonCommand, buttonOrderId } from "./buttons.ts";
import { type ChatLock, createChatLock } from "./chat-lock.ts";
import { type EngineReply, type OrderView, type PurchaseSnapshot, type Refusal, orderView, stateName } from "./reply.ts";
import type { Logger } from "../log.ts";

/** What understanding needs to know about the conversation. */
export type UnderstandContext = { state: OrderView["state"]; order: OrderView; turns: readonly string[]; chatId: string };
export type Understood = { command: Command; source: Extract<CommandSource, "rules" | "llm"> } | null;
export type Understander = (text: string, context: UnderstandContext) => Promise<Understood>;

/** Something the engine observed, for the audit log and analytics. */
export type EngineEvent =
  | { type: "command"; chatId: string; orderId: string; command: Command["type"]; source: CommandSource; accepted: boolean; at: number }
  | { type: "transition"; chatId: string; orderId: string; from: string; to: string; at: number }
  | { type: "payment"; chatId: string; orderId: string; paymentId: string; outcome: ConfirmOutcome["outcome"]; at: number }
  | { type: "not_understood"; chatId: string; orderId: string; at: number };

export type EngineOptions = {
  stores: Stores;
  catalog: Catalog;
  deadlines: { quoteTtlMs: number; paymentTtlMs: number; conversationTimeoutMs: number };
  maxMessageLength: number;
  maxDeliveryAttempts: number;
  retryBackoffMs?: number;
  payments: PaymentProvider;
  delivery: DeliveryProvider;
  understand: Understander;
  log: Logger;
  clock?: () => number;
  newOrderId?: () => string;
  instanceId?: string;
  /** How long to wait for pricing, invoicing or delivery before answering "still working". */
  settleTimeoutMs?: number;
  /** Extra hook for every created actor (the Stately inspector attaches here). */
  inspect?: (event: InspectionEvent) => void;
  /** The chat lock's lease and wait across processes (tests shorten them); see chat-lock.ts. */
  chatLock?: { leaseMs?: number; waitMs?: number };
};

/** Where a payment confirmation ended up. Everything but `delivered`/`paid` delivers nothing. */
export type ConfirmOutcome =
  | { outcome: "delivered" | "paid"; orderId: string; chatId: string }
  | { outcome: "duplicate"; orderId: string; chatId: string }
  | { outcome: "unknown_invoice" }
  | { outcome: "not_paid"; orderId: string; chatId: string; status: string }
  | { outcome: "mismatch"; orderId: string; chatId: string }
  | { outcome: "late"; orderId: string; chatId: string }
  | { outcome: "provider_unavailable"; orderId: string; chatId: string };

/** What an admin action did. */
export type AdminOutcome =
  | { ok: true; state: OrderView["state"] }
  | { ok: false; reason: "unknown_order" }
  | { ok: false; reason: "not_current" | "not_allowed"; state: OrderView["state"] };

export type Notifier = (chatId: string, reply: EngineReply) => Promise<void>;

const MAX_TURNS = 6;
const MAX_TURN_LENGTH = 300;

type Session = {
  chatId: string;
  /** The snapshot as restored (or freshly started), before any resumed work: unchanged means nothing to save. */
  loaded: PurchaseSnapshot;
  actor: Actor<ReturnType<typeof providePurchaseMachine>>;
  lastOrderId: string | null;
  turns: string[];
  notice?: "conversation_reset";
  /** The order projection as loaded, to skip writes that change nothing. */
  before: string | null;
  dueBefore: number | null;
};

export type Engine = ReturnType<typeof createEngine>;

export function createEngine(options: EngineOptions) {
  const { stores, log } = options;
  const clock = options.clock ?? Date.now;
  const instanceId = options.instanceId ?? `i-${randomBytes(4).toString("hex")}`;
  const newOrderId = options.newOrderId ?? (() => `ord_${randomBytes(6).toString("base64url")}`);
  const settleTimeoutMs = options.settleTimeoutMs ?? 30_000;
  const ledger: Ledger = createLedger({ stores, provider: options.delivery, instanceId, clock });
  const machine = providePurchaseMachine({
    catalog: options.catalog,
    quoteTtlMs: options.deadlines.quoteTtlMs,
    paymentTtlMs: options.deadlines.paymentTtlMs,
    clock,
    payments: options.payments,
    delivery: options.delivery,
    ledger,
    stores,
  });
  const lock: ChatLock = createChatLock({
    ...options.chatLock,
    owner: instanceId,
    // Any shared store (a Redis server, or one SQLite file opened by several processes) can have other
    // processes working on the same chat; both have atomic claims. Only memory is private to a process.
    claims: stores.backend.kind === "memory" ? undefined : stores.claims,
  });
  const listeners = new Set<(event: EngineEvent) => void>();
  let notifier: Notifier = async () => {};

  const emit = (event: EngineEvent) => {
    for (const listener of listeners) {
      try {
        listener(event);
      } catch (error) {
        log.warn("engine listener failed", { error: String(error) });
      }
    }
  };

  const startActor = (chatId: string, snapshot?: unknown) => {
    const actor = createActor(machine, {
      // Input only seeds a new order; a restored snapshot brings its own context (and needs no fresh
      // order id: generating one per message was measurable on the hot path).
      input: {
        orderId: snapshot ? "" : newOrderId(),
        chatId,
        minTokens: options.catalog.minTokens,
        maxTokens: options.catalog.maxTokens,
        maxDeliveryAttempts: options.maxDeliveryAttempts,
        retryBackoffMs: options.retryBackoffMs ?? 30_000,
        at: clock(),
      },
      ...(snapshot ? { snapshot: snapshot as never } : {}),
      ...(options.inspect ? { inspect: options.inspect } : {}),
    });
    // A failing chat must never take the process down: errors are logged and the chat carries on.
    actor.subscribe({ error: (error) => log.error("purchase actor failed", { chatId, error: String(error) }) });
    actor.start();
    return actor;
  };

  const settle = async (session: Session) => {
    if (!session.actor.getSnapshot().hasTag("busy")) return true;
    try {
      await waitFor(session.actor, (s) => !s.hasTag("busy"), { timeout: settleTimeoutMs });
      return true;
    } catch {
      return false;
    }
  };

  const open = async (chatId: string): Promise<Session> => {
    const loaded = await stores.conversations.read(chatId).catch((error) => {
      log.error("store read failed", { chatId, error: String(error) });
      throw error;
    });
    const record = loaded === "invalid" ? null : (loaded ?? null);
    let notice: Session["notice"] = loaded === "invalid" ? "conversation_reset" : undefined;
    let actor: Session["actor"] | null = null;
    if (record) {
      try {
        actor = startActor(chatId, record.snapshot);
        // XState accepts a snapshot naming states this machine does not have; such a record is corrupt.
        const restored = actor.getSnapshot();
        if (!(ORDER_STATES as readonly string[]).includes(stateName(restored)) || typeof restored.context?.orderId !== "string") {
          actor.stop();
          throw new Error(`unknown state ${JSON.stringify(restored.value)}`);
        }
      } catch (error) {
        log.warn("stored conversation could not be restored; starting fresh", { chatId, error: String(error) });
        notice = "conversation_reset";
        actor = null;
      }
    }
    const fresh = actor === null;
    actor ??= startActor(chatId);
    const session: Session = {
      chatId,
      loaded: actor.getSnapshot(),
      actor,
      lastOrderId: record?.lastOrderId ?? null,
      turns: record && clock() - record.updatedAt < options.deadlines.conversationTimeoutMs ? [...record.turns] : [],
      notice,
      before: fresh ? null : JSON.stringify(projectOrder(actor.getSnapshot())),
      dueBefore: fresh ? null : dueAt(actor.getSnapshot()),
    };
    // A snapshot taken while work was in flight (a crash mid-delivery) resumes that work first.
    await settle(session);
    return session;
  };

  /** Starts the next order once the current one has ended (delivered, cancelled, expired…). */
  const nextOrderIfEnded = (session: Session) => {
    const snapshot = session.actor.getSnapshot();
    if (snapshot.status !== "done") return;
    session.lastOrderId = snapshot.context.orderId;
    session.actor.stop();
    session.actor = startActor(session.chatId);
    session.before = null;
    session.dueBefore = null;
  };

  const persist = async (session: Session) => {
    const snapshot = session.actor.getSnapshot();
    const now = clock();
    const record: ConversationRecord = {
      v: 1,
      chatId: session.chatId,
      snapshot: session.actor.getPersistedSnapshot() as unknown as ConversationRecord["snapshot"],
      lastOrderId: session.lastOrderId,
      turns: session.turns,
      updatedAt: now,
    };
    const writes: Promise<unknown>[] = [stores.conversations.set(session.chatId, record)];
    const projection = projectOrder(snapshot);
    const serialized = JSON.stringify(projection);
    // An order is recorded once it has an amount; after that every change is kept (a restart back to
    // `initial` must not leave the record saying "quoted"). Late payments and refunds live in their own
    // record, so this write needs no read and cannot overwrite them.
    if (serialized !== session.before && (projection.tokens !== null || projection.state !== "initial" || session.before !== null)) {
      writes.push(stores.orders.set(projection.orderId, { ...projection, createdAt: snapshot.context.createdAt, updatedAt: now }));
      session.before = serialized;
    }
    const due = dueAt(snapshot);
    // The stored deadline may stay earlier than the true one (it only wakes the sweeper early, which
    // then rewrites it): that saves a write on every amount change, which pushes the quote's expiry.
    const onlyLater = due !== null && session.dueBefore !== null && due > session.dueBefore;
    if (due !== session.dueBefore && !onlyLater) {
      writes.push(
        due === null
          ? stores.deadlines.delete(session.chatId)
          : stores.deadlines.set(session.chatId, { v: 1, chatId: session.chatId, orderId: snapshot.context.orderId, dueAt: due }),
      );
      session.dueBefore = due;
    }
    await Promise.all(writes);
  };

  /**
   * Runs `work` on the chat's session under the chat lock, persisting afterwards. A `readOnly` look
   * (a status view) saves nothing unless restoring it resumed work that changed the order.
   */
  const withSession = <T>(chatId: string, work: (session: Session) => Promise<T>, options: { readOnly?: boolean } = {}): Promise<T> =>
    lock(chatId, async () => {
      const session = await open(chatId);
      try {
        const result = await work(session);
        if (!options.readOnly || session.actor.getSnapshot() !== session.loaded) await persist(session);
        return result;
      } finally {
        session.actor.stop();
      }
    });

  /** Sends one event and reports the transition; returns false when the machine refused it. */
  const step = async (session: Session, event: PurchaseEvent): Promise<boolean> => {
    const before = session.actor.getSnapshot();
    // A finished order takes no more events (a status check may just have completed it).
    if (before.status !== "active" || !before.can(event)) return false;
    session.actor.send(event);
    await settle(session);
    const after = session.actor.getSnapshot();
    const from = stateName(before);
    const to = stateName(after);
    if (from !== to) emit({ type: "transition", chatId: session.chatId, orderId: before.context.orderId, from, to, at: clock() });
    return true;
  };

  const refusalFor = (snapshot: PurchaseSnapshot, command: Command): Refusal => {
    const state = stateName(snapshot);
    if ((command.type === "QUOTE" || command.type === "CHANGE_AMOUNT") && !withinLimits(options.catalog, command.tokens)) {
      return "amount_out_of_range";
    }
    if (state === "awaiting_payment") return "payment_in_progress";
    if (state === "paid" || state === "delivery_failed") return "delivery_in_progress";
    if (command.type === "CONFIRM") return "nothing_to_confirm";
    if (command.type === "CANCEL") return "nothing_to_cancel";
    return "not_now";
  };

  /** The customer-facing result of the current snapshot, with a pending secret if one must be shown. */
  const replyFor = async (session: Session, kindHint?: "help"): Promise<EngineReply> => {
    const snapshot = session.actor.getSnapshot();
    const view = orderView(snapshot);
    const notice = session.notice ? { notice: session.notice } : {};
    if (kindHint === "help") return { kind: "help", order: view.state === "initial" ? null : view, ...notice };
    if (view.state === "initial") {
      if (view.problem) return { kind: "order", order: view, ...notice };
      const last = session.lastOrderId ? await lastOrderView(session.lastOrderId) : null;
      return { kind: "no_order", lastOrder: last, ...notice };
    }
    if (view.state === "delivered") {
      const secret = await ledger.pendingSecret(view.orderId);
      return secret ? { kind: "order", order: view, secret, ...notice } : { kind: "order", order: view, ...notice };
    }
    return { kind: "order", order: view, ...notice };
  };

  const lastOrderView = async (orderId: string): Promise<OrderView | null> => {
    const order = await stores.orders.get(orderId);
    if (!order) return null;
    const delivered = order.state === "delivered" ? await stores.ledger.get(orderId) : undefined;
    return {
      orderId,
      state: order.state,
      tokens: order.tokens,
      usd: order.usd as OrderView["usd"],
      charge: order.charge as OrderView["charge"],
      payUrl: null,
      quoteExpiresAt: null,
      paymentExpiresAt: null,
      deliveryHint: delivered?.hint ?? null,
      nextDeliveryAttemptAt: null,
      problem: null,
    };
  };

  /** After a reply that showed the secret has been handed over, forget the secret. */
  const secretShown = async (reply: EngineReply) => {
    if (reply.kind === "order" && reply.secret) await ledger.markSent(reply.order.orderId, clock());
  };

  const apply = async (session: Session, command: Command, source: CommandSource): Promise<EngineReply> => {
    nextOrderIfEnded(session);
    const snapshot = session.actor.getSnapshot();
    const orderId = snapshot.context.orderId;
    if (command.type === "STATUS" && stateName(snapshot) === "awaiting_payment") {
      // "Did my payment arrive?" asks the provider, through the same verified path as a webhook.
      await reconcile(session);
      if (session.actor.getSnapshot().status === "done") return replyFor(session);
    }
    const accepted = await step(session, { ...command, at: clock() });
    emit({ type: "command", chatId: session.chatId, orderId, command: command.type, source, accepted, at: clock() });
    if (!accepted) {
      const refusal = refusalFor(snapshot, command);
      const view = stateName(snapshot) === "initial" ? null : orderView(snapshot);
      return {
        kind: "refused",
        reason: refusal,
        order: view,
        ...("tokens" in command ? { tokens: command.tokens } : {}),
        ...(session.notice ? { notice: session.notice } : {}),
      };
    }
    return replyFor(session, command.type === "HELP" ? "help" : undefined);
  };

  const rememberTurn = (session: Session, text: string) => {
    session.turns.push(text.slice(0, MAX_TURN_LENGTH));
    if (session.turns.length > MAX_TURNS) session.turns.splice(0, session.turns.length - MAX_TURNS);
  };

  // ---- the payment door ---------------------------------------------------------------------------

  /** Asks the provider about the session's open invoice and applies what it says. */
  const reconcile = async (session: Session): Promise<ConfirmOutcome["outcome"] | null> => {
    const payment = session.actor.getSnapshot().context.payment;
    if (!payment || payment.provider !== options.payments.name) return null;
    const status = await options.payments.fetchPayment(payment.paymentId);
    if (!status.ok) return "provider_unavailable";
    return (await applyProviderStatus(session, payment.paymentId, status.value)).outcome;
  };

  const applyProviderStatus = async (
    session: Session,
    paymentId: string,
    status: { status: "pending" | "paid" | "expired" | "failed"; amount: { minor: number; currency: string } },
  ): Promise<ConfirmOutcome> => {
    const snapshot = session.actor.getSnapshot();
    const orderId = snapshot.context.orderId;
    const ids = { orderId, chatId: session.chatId };
    const key = `${options.payments.name}:${paymentId}`;
    if (status.status === "expired" || status.status === "failed") {
      const event: PaymentEvent =
        status.status === "expired" ? { type: "PAYMENT_EXPIRED", at: clock() } : { type: "PAYMENT_FAILED", paymentId, at: clock() };
      await step(session, event);
      return { outcome: "not_paid", ...ids, status: status.status };
    }
    if (status.status !== "paid") return { outcome: "not_paid", ...ids, status: status.status };
    const existing = await stores.payments.get(key);
    if (existing && existing.status !== "received") return { outcome: "duplicate", orderId: existing.orderId, chatId: existing.chatId };
    const amount = { minor: status.amount.minor, currency: status.amount.currency };
    const confirmed: PaymentEvent = { type: "PAYMENT_CONFIRMED", paymentId, amount, at: clock() };
    const record = (outcome: "applied" | "rejected" | "late", reason: string | null) =>
      stores.payments.set(key, {
        v: 1,
        provider: options.payments.name,
        paymentId,
        orderId,
        chatId: session.chatId,
        status: outcome,
        amount: amount as never,
        reason,
        receivedAt: existing?.receivedAt ?? clock(),
        appliedAt: clock(),
      });
    const state = stateName(snapshot);
    if (state !== "awaiting_payment" || snapshot.context.payment?.paymentId !== paymentId) {
      await record("late", `order was ${state}`);
      await markLatePayment(orderId, paymentId, amount);
      return { outcome: "late", ...ids };
    }
    const expected = snapshot.context.payment.charge;
    if (!sameMoney(expected as never, amount as never)) {
      await record("rejected", `paid ${amount.minor} ${amount.currency}, expected ${expected.minor} ${expected.currency}`);
      await markLatePayment(orderId, paymentId, amount);
      return { outcome: "mismatch", ...ids };
    }
    // Record first: if we crash after delivering, the replay sees "applied" and does nothing twice.
    await record("applied", null);
    const accepted = await step(session, confirmed);
    if (!accepted) return { outcome: "mismatch", ...ids };
    const after = stateName(session.actor.getSnapshot());
    return { outcome: after === "delivered" ? "delivered" : "paid", ...ids };
  };

  const markLatePayment = (orderId: string, paymentId: string, amount: { minor: number; currency: string }) =>
    recordLatePayment(stores, orderId, { paymentId, amount: amount as never, at: clock() });

  const notifyAfter = async (chatId: string, reply: EngineReply) => {
    try {
      await notifier(chatId, reply);
      await secretShown(reply);
    } catch (error) {
      // The secret stays in the ledger and is shown with the customer's next status request.
      log.warn("could not notify customer", { chatId, error: String(error) });
    }
  };

  return {
    instanceId,
    ledger,
    /** Subscribes to engine events (commands, transitions, payments) for audit and analytics. */
    onEvent(listener: (event: EngineEvent) => void) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    /** Sets how customers are told about things that happen without them writing (payment, expiry). */
    setNotifier(next: Notifier) {
      notifier = next;
    },

    /** A message the customer typed. */
    async handleText(chatId: string, text: string): Promise<EngineReply> {
      if (text.length > options.maxMessageLength) return { kind: "too_long", limit: options.maxMessageLength };
      const reply = await withSession(chatId, async (session) => {
        nextOrderIfEnded(session);
        const snapshot = session.actor.getSnapshot();
        const view = orderView(snapshot);
        const understood = await options.understand(text, { state: view.state, order: view, turns: session.turns, chatId });
        rememberTurn(session, text);
        if (!understood) {
          emit({ type: "not_understood", chatId, orderId: view.orderId, at: clock() });
          return { kind: "not_understood", order: view.state === "initial" ? null : view, ...(session.notice ? { notice: session.notice } : {}) } as EngineReply;
        }
        return apply(session, understood.command, understood.source);
      });
      await secretShown(reply);
      return reply;
    },

    /** A slash command or other structured input that needs no understanding. */
    async handleCommand(chatId: string, command: Command, source: CommandSource = "command"): Promise<EngineReply> {
      const reply = await withSession(chatId, (session) => apply(session, command, source));
      await secretShown(reply);
      return reply;
    },

    /** A button press. Buttons bound to an order other than the current one do nothing. */
    async handleButton(chatId: string, button: ButtonAction): Promise<EngineReply> {
      const reply = await withSession(chatId, async (session) => {
        const snapshot = session.actor.getSnapshot();
        const bound = buttonOrderId(button);
        const current = snapshot.context.orderId;
        if (bound !== null && (bound !== current || snapshot.status === "done")) {
          if (button.action === "status" && bound === session.lastOrderId) {
            return { kind: "no_order", lastOrder: await lastOrderView(bound) } as EngineReply;
          }
          if (button.action === "status" && bound === current) return replyFor(session);
          return { kind: "stale_button", order: snapshot.status === "done" ? null : orderView(snapshot) } as EngineReply;
        }
        return apply(session, buttonCommand(button, stateName(snapshot) === "quoted"), "button");
      });
      await secretShown(reply);
      return reply;
    },

    /** The customer-visible state of a chat's order, without changing anything. */
    async view(chatId: string): Promise<EngineReply> {
      return withSession(chatId, (session) => replyFor(session), { readOnly: true });
    },

    /**
     * The payment door: called by webhook handlers after the signature was verified. Re-fetches the
     * invoice from the provider and moves the order to `paid` only if it is paid, for this order, in
     * the right amount and currency, and was not applied before.
     */
    async confirmPayment(provider: ProviderName, paymentId: string): Promise<ConfirmOutcome> {
      if (provider !== options.payments.name) return { outcome: "unknown_invoice" };
      const index = await stores.paymentIndex.get(`${provider}:${paymentId}`);
      if (!index) return { outcome: "unknown_invoice" };
      const ids = { orderId: index.orderId, chatId: index.chatId };
      const status = await options.payments.fetchPayment(paymentId);
      if (!status.ok) {
        log.warn("payment provider unavailable during re-fetch; will retry", { ...ids, paymentId, reason: status.reason });
        return { outcome: "provider_unavailable", ...ids };
      }
      if (status.value.orderId !== null && status.value.orderId !== index.orderId) return { outcome: "unknown_invoice" };
      const outcome = await withSession(index.chatId, async (session) => {
        const current = session.actor.getSnapshot().context.orderId;
        if (current !== index.orderId) {
          // Not the chat's open order any more (cancelled, expired and replaced): a late payment.
          if (status.value.status !== "paid") return { outcome: "not_paid", ...ids, status: status.value.status } as ConfirmOutcome;
          const key = `${provider}:${paymentId}`;
          const existing = await stores.payments.get(key);
          if (existing) return { outcome: "duplicate", ...ids } as ConfirmOutcome;
          await stores.payments.set(key, {
            v: 1,
            provider,
            paymentId,
            ...ids,
            status: "late",
            amount: status.value.amount,
            reason: "order no longer open",
            receivedAt: clock(),
            appliedAt: clock(),
          });
          await markLatePayment(index.orderId, paymentId, status.value.amount);
          return { outcome: "late", ...ids } as ConfirmOutcome;
        }
        const result = await applyProviderStatus(session, paymentId, status.value);
        return result;
      });
      emit({ type: "payment", ...ids, paymentId, outcome: outcome.outcome, at: clock() });
      const customerShouldKnow =
        outcome.outcome === "delivered" ||
        outcome.outcome === "paid" ||
        outcome.outcome === "late" ||
        outcome.outcome === "mismatch" ||
        (outcome.outcome === "not_paid" && (outcome.status === "failed" || outcome.status === "expired"));
      if (customerShouldKnow) {
        await notifyAfter(index.chatId, await this.view(index.chatId));
      }
      return outcome;
    },

    /**
     * One sweeper pass: expires quotes and invoices whose deadline passed (asking the provider first,
     * so a payment made at the last second still counts) and retries due deliveries.
     */
    async runDue(): Promise<number> {
      const now = clock();
      const due: string[] = [];
      for await (const [, entry] of stores.deadlines.entries()) if (entry.dueAt <= now) due.push(entry.chatId);
      for (const chatId of due) {
        try {
          const changed = await withSession(chatId, async (session) => {
            const before = stateName(session.actor.getSnapshot());
            const snapshot = session.actor.getSnapshot();
            const at = clock();
            const deadline = dueAt(snapshot);
            if (deadline === null || deadline > at) {
              // Woke early on a deadline kept from before a later one replaced it: NaN differs from
              // everything, so persist stores the true one (or deletes the entry when nothing is due).
              session.dueBefore = Number.NaN;
              return false;
            }
            let event: SystemEvent | PaymentEvent | null = null;
            if (before === "quoted") event = { type: "QUOTE_EXPIRED", at };
            if (before === "paid") event = { type: "RETRY_DELIVERY", at };
            if (before === "awaiting_payment") {
              const outcome = await reconcile(session);
              if (outcome === "provider_unavailable") return false;
              if (stateName(session.actor.getSnapshot()) === "awaiting_payment") event = { type: "PAYMENT_EXPIRED", at };
            }
            if (event) await step(session, event);
            const after = session.actor.getSnapshot();
            if (stateName(after) === "expired" && before === "awaiting_payment" && snapshot.context.payment) {
              await options.payments.cancelInvoice?.(snapshot.context.payment.paymentId).catch(() => undefined);
            }
            return stateName(after) !== before;
          });
          if (changed) await notifyAfter(chatId, await this.view(chatId));
        } catch (error) {
          log.error("sweeper failed for chat", { chatId, error: String(error) });
        }
      }
      return due.length;
    },

    /** Starts sweeping every `intervalMs` (and once now); returns a stop function. */
    startSweeper(intervalMs = 5_000): () => void {
      let running = false;
      const tick = async () => {
        if (running) return;
        running = true;
        try {
          await this.runDue();
        } catch (error) {
          log.error("sweeper pass failed", { error: String(error) });
        } finally {
          running = false;
        }
      };
      void tick();
      const timer = setInterval(() => void tick(), intervalMs);
      timer.unref();
      return () => clearInterval(timer);
    },

    /**
     * The admin door: retry a failed delivery with a fresh set of attempts, or record that a payment
     * was refunded (after the provider confirmed the refund). Only orders in `delivery_failed` move;
     * anything else answers why not.
     */
    async adminAction(orderId: string, action: "retry_delivery" | "record_refund"): Promise<AdminOutcome> {
      const order = await stores.orders.get(orderId);
      if (!order) return { ok: false, reason: "unknown_order" };
      const result = await withSession(order.chatId, async (session): Promise<AdminOutcome> => {
        const snapshot = session.actor.getSnapshot();
        if (snapshot.context.orderId !== orderId) return { ok: false, reason: "not_current", state: order.state };
        const event: SystemEvent =
          action === "retry_delivery" ? { type: "ADMIN_RETRY_DELIVERY", at: clock() } : { type: "REFUND_RECORDED", at: clock() };
        if (!(await step(session, event))) return { ok: false, reason: "not_allowed", state: stateName(snapshot) };
        return { ok: true, state: stateName(session.actor.getSnapshot()) };
      });
      if (result.ok) await notifyAfter(order.chatId, await this.view(order.chatId));
      return result;
    },

    /** An order's stored record, for status pages and admins. */
    order(orderId: string): Promise<OrderRecord | undefined> {
      return readOrder(stores, orderId);
    },
  };
}

/** The moment the sweeper must look at this snapshot next, or null when nothing is pending. */
export function dueAt(snapshot: PurchaseSnapshot): number | null {
  const c = snapshot.context;
  switch (stateName(snapshot)) {
    case "quoted":
      return c.quote?.expiresAt ?? null;
    case "awaiting_payment":
      return c.payment?.expiresAt ?? null;
    case "paid":
      // While delivering nothing is due (a restore resumes the work); while waiting, the retry time is.
      return snapshot.matches({ paid: "waiting_retry" }) ? (c.delivery.nextAttemptAt ?? c.paidAt ?? c.lastActivityAt) : null;
    default:
      return null;
  }
}

/** The order record fields derived from a snapshot (creation time and late payments are kept apart). */
function projectOrder(snapshot: PurchaseSnapshot): Omit<OrderProjection, "createdAt" | "updatedAt"> {
  const c = snapshot.context;
  return {
    v: 1,
    orderId: c.orderId,
    chatId: c.chatId,
    state: stateName(snapshot),
    tokens: c.quote?.tokens ?? c.tokens,
    usd: (c.quote?.usd as OrderProjection["usd"]) ?? null,
    charge: (c.payment?.charge ?? c.quote?.charge ?? null) as OrderProjection["charge"],
    provider: c.payment?.provider ?? null,
    paymentId: c.payment?.paymentId ?? null,
    payUrl: c.payment?.payUrl ?? null,
    quotedAt: c.quote?.quotedAt ?? null,
    paidAt: c.paidAt,
    deliveredAt: c.delivery.deliveredAt,
    deliveryRef: c.delivery.ref,
  };
}
