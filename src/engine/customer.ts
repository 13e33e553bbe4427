/**
 * The customer door: what a customer can cause, by typed text, a button or a slash command. It takes
 * only {@link Command}s; nothing here can produce a payment or a delivery (there is no such command).
 */
import { withinLimits } from "../../machines/purchase.machine.ts";
import { type Command, type CommandSource, type ConversationCommand, type Understander, type UnderstoodNote, isMachineCommand } from "../domain/commands.ts";
import { asksHowMany, ordersOf, withNote } from "./conversation.ts";
import { ChatId, OrderId } from "../domain/ids.ts";
import type { Ledger } from "../delivery/index.ts";
import type { Stores } from "../store/index.ts";
import { allowedCommands } from "../domain/allowed.ts";
import { type ButtonAction, buttonCommand, buttonOrderId, buttonShownAmount } from "../domain/buttons.ts";
import type { EngineEvent } from "./events.ts";
import type { PaymentDoor } from "./payment-door.ts";
import { type EngineReply, type OrderView, type PaymentCheck, type PurchaseSnapshot, type Refusal, orderView, stateName } from "./reply.ts";
import type { Session, Sessions } from "./session.ts";

const MAX_TURNS = 6;
const MAX_TURN_LENGTH = 300;
export type CustomerDoorOptions = {
  sessions: Sessions;
  stores: Stores;
  ledger: Ledger;
  payments: PaymentDoor;
  understand: Understander;
  maxMessageLength: number;
  clock: () => number;
  emit: (event: EngineEvent) => void;
};

export type CustomerDoor = ReturnType<typeof createCustomerDoor>;

export function createCustomerDoor(options: CustomerDoorOptions) {
  const { sessions, stores, ledger, clock, emit } = options;
  /** What the provider said when this session's customer asked about their payment (issue 13). */
  const checks = new WeakMap<Session, PaymentCheck>();
  const withNotice = (session: Session) => ({ ...(session.notice ? { notice: session.notice } : {}), ...liveCheck(session) });
  const liveCheck = (session: Session) => {
    const check = checks.get(session);
    return check ? { check } : {};
  };

  /** Asks the provider about the open invoice right now; remembers the answer for this session's reply. */
  const checkPayment = async (session: Session): Promise<void> => {
    const provider = session.actor.getSnapshot().context.payment?.provider;
    const outcome = await options.payments.reconcile(session);
    if (!provider || outcome === null) return;
    const still = stateName(session.actor.getSnapshot()) === "awaiting_payment";
    const result = outcome === "provider_unavailable" ? "unavailable" : outcome === "paid" || outcome === "delivered" ? "paid" : still ? "not_paid" : null;
    if (result) checks.set(session, { provider, result });
  };

  /** An ended order with the money that arrived after it closed, if any ("nothing was charged" is then untrue). */
  const withLate = async (view: OrderView): Promise<OrderView> => {
    if (view.state !== "cancelled" && view.state !== "expired" && view.state !== "payment_failed") return view;
    const late = await stores.latePayments.get(view.orderId);
    if (!late || late.reason !== "late") return view;
    const next = late.resolution === "kept" ? "owner_refunds" : late.resolution;
    const hint = next === "delivered" ? ((await stores.ledger.get(view.orderId))?.hint ?? null) : view.deliveryHint;
    return { ...view, deliveryHint: hint, late: { paid: late.amount, next } };
  };

  const lastOrderView = async (orderId: OrderId): Promise<OrderView | null> => {
    const order = await stores.orders.get(orderId);
    if (!order) return null;
    const delivered = order.state === "delivered" ? await stores.ledger.get(orderId) : undefined;
    return withLate({
      orderId,
      state: order.state,
      tokens: order.tokens,
      usd: order.usd,
      charge: order.charge,
      provider: order.provider,
      payUrl: null,
      quoteExpiresAt: null,
      paymentExpiresAt: null,
      deliveryHint: delivered?.hint ?? null,
      nextDeliveryAttemptAt: null,
      problem: null,
    });
  };

  /**
   * The customer-facing result of the current snapshot. Goods delivered but not yet confirmed as seen
   * (the message carrying them failed) are shown again, whether the order is current or just ended.
   */
  const replyFor = async (session: Session, kindHint?: "help"): Promise<EngineReply> => {
    const snapshot = session.actor.getSnapshot();
    const view = await withLate(orderView(snapshot));
    const notice = withNotice(session);
    if (kindHint === "help") return { kind: "help", order: view.state === "initial" ? null : view, ...notice };
    if (view.state === "delivered" || view.late?.next === "delivered") {
      const secret = await ledger.pendingSecret(view.orderId);
      return secret ? { kind: "order", order: view, secret, ...notice } : { kind: "order", order: view, ...notice };
    }
    if (view.state !== "initial") return { kind: "order", order: view, ...notice };
    if (view.problem) return { kind: "order", order: view, ...notice };
    const last = session.lastOrderId ? await lastOrderView(session.lastOrderId) : null;
    if (last?.state === "delivered" || last?.late?.next === "delivered") {
      const secret = await ledger.pendingSecret(last.orderId);
      if (secret) return { kind: "order", order: last, secret, ...notice };
    }
    return { kind: "no_order", lastOrder: last, ...notice };
  };

  /** Questions, the order list and thanks: answered beside the order, which the machine never hears about. */
  const converse = async (session: Session, command: ConversationCommand, source: CommandSource): Promise<EngineReply> => {
    const snapshot = session.actor.getSnapshot();
    const view = orderView(snapshot);
    const order = view.state === "initial" ? null : view;
    emit({ type: "command", chatId: session.chatId, orderId: view.orderId, command: command.type, source, accepted: true, at: clock() });
    switch (command.type) {
      case "ASK":
        return { kind: "answer", topic: command.topic, order, ...withNotice(session) };
      case "ORDERS":
        return { kind: "orders", orders: await ordersOf(stores, session), order, ...withNotice(session) };
      case "THANKS":
        return { kind: "thanks", ...withNotice(session) };
      default: {
        const unhandled: never = command;
        throw new Error(`unknown command ${JSON.stringify(unhandled)}`);
      }
    }
  };

  /** The reply, remembering whether it asks "how many tokens?". */
  const answered = (session: Session, reply: EngineReply): EngineReply => {
    session.askedHowMany = asksHowMany(reply);
    return reply;
  };

  const refusalFor = (snapshot: PurchaseSnapshot, command: Command): Refusal => {
    const state = stateName(snapshot);
    if ((command.type === "QUOTE" || command.type === "CHANGE_AMOUNT") && !withinLimits(snapshot.context.limits, command.tokens)) {
      return "amount_out_of_range";
    }
    if (state === "awaiting_payment") return "payment_in_progress";
    if (state === "paid" || state === "delivery_failed") return "delivery_in_progress";
    if (command.type === "CONFIRM") return "nothing_to_confirm";
    if (command.type === "CANCEL") return "nothing_to_cancel";
    return "not_now";
  };

  const apply = async (session: Session, command: Command, source: CommandSource, note?: UnderstoodNote): Promise<EngineReply> => {
    sessions.nextOrderIfEnded(session);
    if (!isMachineCommand(command)) return answered(session, await converse(session, command, source));
    const snapshot = session.actor.getSnapshot();
    const orderId = snapshot.context.orderId;
    if (command.type === "STATUS" && stateName(snapshot) === "awaiting_payment") {
      // "Did my payment arrive?" asks the provider, through the same verified path as a webhook.
      await checkPayment(session);
      if (session.actor.getSnapshot().status === "done") return replyFor(session);
    }
    const accepted = await sessions.step(session, { ...command, at: clock() });
    // A cancelled invoice is voided at the provider, so the pay link stops taking money (issue 13).
    const payment = snapshot.context.payment;
    if (accepted && command.type === "CANCEL" && payment && stateName(snapshot) === "awaiting_payment") await options.payments.voidInvoice(session.chatId, payment);
    emit({ type: "command", chatId: session.chatId, orderId, command: command.type, source, accepted, at: clock() });
    if (!accepted) {
      const view = stateName(snapshot) === "initial" ? null : orderView(snapshot);
      return answered(session, {
        kind: "refused",
        reason: refusalFor(snapshot, command),
        order: view,
        ...("tokens" in command ? { tokens: command.tokens } : {}),
        ...withNotice(session),
      });
    }
    return answered(session, withNote(await replyFor(session, command.type === "HELP" ? "help" : undefined), note));
  };

  /**
   * A quote button (confirm, change amount) from a message of this order that no longer shows its
   * current quote: it must never act on a different amount than its message showed (issue 13).
   */
  const outdatedButton = (snapshot: PurchaseSnapshot, button: ButtonAction): boolean => {
    const shown = buttonShownAmount(button);
    if (shown === undefined) return false;
    return shown === null || stateName(snapshot) !== "quoted" || snapshot.context.quote?.tokens !== shown;
  };

  const rememberTurn = (session: Session, text: string) => {
    session.turns.push(text.slice(0, MAX_TURN_LENGTH));
    if (session.turns.length > MAX_TURNS) session.turns.splice(0, session.turns.length - MAX_TURNS);
  };

  return {
    /** The customer-visible state of a chat's order (and any goods still to be shown). */
    replyFor,
    /** An order that is no longer its chat's current one, as the customer sees it. */
    storedOrderView: lastOrderView,

    /** A message the customer typed. */
    async handleText(rawChatId: string, text: string): Promise<EngineReply> {
      if (text.length > options.maxMessageLength) return { kind: "too_long", limit: options.maxMessageLength };
      const chatId = ChatId.parse(rawChatId);
      return sessions.withSession(chatId, async (session) => {
        sessions.nextOrderIfEnded(session);
        const snapshot = session.actor.getSnapshot();
        const view = orderView(snapshot);
        const allowed = allowedCommands(snapshot, clock());
        const askedHowMany = session.askedHowMany;
        const understood = await options.understand(text, { state: view.state, order: view, allowed, turns: session.turns, chatId, askedHowMany });
        rememberTurn(session, text);
        const order = view.state === "initial" ? null : view;
        if (!understood) {
          emit({ type: "not_understood", chatId, orderId: view.orderId, at: clock() });
          return answered(session, { kind: "not_understood", order, ...withNotice(session) });
        }
        if ("choices" in understood) return answered(session, { kind: "clarify", choices: understood.choices, order, ...withNotice(session) });
        return apply(session, understood.command, understood.source, understood.note);
      });
    },

    /** A slash command or other structured input that needs no understanding. */
    handleCommand(chatId: string, command: Command, source: CommandSource = "command"): Promise<EngineReply> {
      return sessions.withSession(ChatId.parse(chatId), (session) => apply(session, command, source));
    },

    /** The customer opened the chat (`/start`, the console): a welcome beside the order, then "how many tokens?". */
    greet(chatId: string): Promise<EngineReply> {
      return sessions.withSession(ChatId.parse(chatId), (session) => apply(session, { type: "HELP" }, "command", { kind: "greeting" }));
    },

    /** A button press. Buttons bound to an order other than the current one do nothing. */
    handleButton(chatId: string, button: ButtonAction): Promise<EngineReply> {
      return sessions.withSession(ChatId.parse(chatId), async (session): Promise<EngineReply> => {
        const snapshot = session.actor.getSnapshot();
        const bound = buttonOrderId(button);
        const current = snapshot.context.orderId;
        if (bound !== null && (bound !== current || snapshot.status === "done")) {
          if (button.action === "status" && (bound === session.lastOrderId || bound === current)) return replyFor(session);
          return { kind: "stale_button", order: snapshot.status === "done" ? null : orderView(snapshot) };
        }
        if (outdatedButton(snapshot, button)) return { kind: "stale_button", outdated: true, order: orderView(snapshot), ...withNotice(session) };
        return apply(session, buttonCommand(button, stateName(snapshot) === "quoted"), "button");
      });
    },

    /** The customer-visible state of a chat's order, changing nothing (unless opening it resumed work). */
    view(chatId: string): Promise<EngineReply> {
      return sessions.withSession(
        ChatId.parse(chatId),
        async (session) => {
          const reply = await replyFor(session);
          // An empty cart asks "how many tokens?": remember it, so the next number answers it (a chat
          // never written, rev 0, stays unwritten: a look creates nothing).
          if (asksHowMany(reply) && !session.askedHowMany && session.rev > 0) session.remembered = true;
          return answered(session, reply);
        },
        { readOnly: true },
      );
    },

    /**
     * The adapter confirms that the message carrying an order's goods was accepted by the customer's
     * channel. Only now is the secret erased; until then every status answer shows it again.
     */
    async secretShown(orderId: string): Promise<void> {
      await ledger.markSent(OrderId.parse(orderId), clock());
    },
  };
}
