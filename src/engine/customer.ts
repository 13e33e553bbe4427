/**
 * The customer door: what a customer can cause, by typed text, a button or a slash command. It takes
 * only {@link Command}s; no command produces a payment or a delivery. A status question (STATUS, "I have
 * paid") may only ask the provider, through the same verified path as a webhook: a payment the provider
 * vouches for then moves its order on as that webhook would have.
 * Every reply is computed from the orders as they stand after the step, never from a snapshot before it.
 */
import { MAX_REISSUES } from "../../machines/purchase.types.ts";
import { allowedCommands, conversationPhase, startsNewOrder, startsOrders } from "../domain/allowed.ts";
import { type ButtonAction, buttonCommand, buttonOrderId, buttonShownAmount } from "../domain/buttons.ts";
import {
  type AmountChoice,
  type Command,
  type CommandSource,
  type Understander,
  type UnderstandContext,
  type UnderstoodNote,
  isConversationCommand,
} from "../domain/commands.ts";
import { ChatId, OrderId } from "../domain/ids.ts";
import type { CustomerProfile } from "../domain/records.ts";
import type { Ledger } from "../delivery/index.ts";
import type { ShopStore } from "../store/shop-store.ts";
import { askedBy, choicePicked, ordersOf, rememberTurn, withNote } from "./conversation.ts";
import type { OrderActor } from "./orders.ts";
import { refusalFor } from "./refusals.ts";
import { type EngineReply, type OrderView, type PaymentCheck, hasTag, orderView, replyNote } from "./reply.ts";
import type { Session, Sessions } from "./session.ts";

/** What the understander reports of one model call (see {@link UnderstandContext.onLlmCall}). */
type LlmCallNote = Parameters<NonNullable<UnderstandContext["onLlmCall"]>>[0];

export type CustomerDoorOptions = {
  sessions: Sessions;
  store: ShopStore;
  ledger: Ledger;
  /** The message carrying an order's goods was accepted by the customer's channel. */
  goodsShown: (chatId: ChatId, orderId: OrderId) => Promise<void>;
  understand: Understander;
  maxMessageLength: number;
  clock: () => number;
};

/**
 * Which Telegram update a call applies (so a redelivered update is applied once), and who sent it as
 * Telegram names them (kept on the chat, and logged when it changed, for the owner's customer list).
 */
export type UpdateRef = {
  updateId?: number;
  profile?: CustomerProfile;
  /**
   * The answer is waiting on work that may be slow (the model is asked, an order's invoked work runs):
   * the channel may show after a moment that it is coming ("typing…"); the function it returns is
   * called when that work is over. Not called while a message only waits its turn (the store, a busy
   * process), nor for the commit after the work.
   */
  onSlowAnswer?: () => () => void;
};

export type CustomerDoor = ReturnType<typeof createCustomerDoor>;

export function createCustomerDoor(options: CustomerDoorOptions) {
  const { sessions, store, ledger, clock } = options;
  /** What the provider said when this session's customer asked about their payment. */
  const checks = new WeakMap<Session, PaymentCheck>();
  const extras = (session: Session) => {
    const check = checks.get(session);
    return { ...(session.notice ? { notice: session.notice } : {}), ...(check ? { check } : {}) };
  };
  const snapshotOf = (order: OrderActor | null) => order?.actor.getSnapshot() ?? null;
  /** The order under way, as shown beside an answer that is not about it; null when there is none. */
  const openOrder = (session: Session): OrderView | null => {
    const snapshot = snapshotOf(session.current());
    return snapshot && !snapshot.hasTag("ended") && !(snapshot.hasTag("at_rest") && snapshot.context.problem === null)
      ? orderView(snapshot)
      : null;
  };

  /**
   * The customer-facing state of one order. Goods delivered but not yet confirmed as seen (the
   * message carrying them failed, or a crash came between) are shown again.
   */
  const replyForOrder = async (session: Session, order: OrderActor): Promise<EngineReply & { kind: "order" }> => {
    const view = orderView(order.actor.getSnapshot());
    const goods = hasTag(view, "delivered") ? await ledger.pendingSecret(view.orderId, session.chatId) : null;
    return goods ? { kind: "order", order: view, secret: goods, ...extras(session) } : { kind: "order", order: view, ...extras(session) };
  };

  /**
   * The customer-visible state of the chat's current order (and any goods still to be shown). Once it
   * has ended, it is shown as the chat's last order, with "how many tokens?" for the next.
   */
  const replyFor = async (session: Session): Promise<EngineReply> => {
    const current = session.current();
    if (!current) return { kind: "no_order", lastOrder: null, ...extras(session) };
    const reply = await replyForOrder(session, current);
    return hasTag(reply.order, "ended") && !reply.secret ? { kind: "no_order", lastOrder: reply.order, ...extras(session) } : reply;
  };

  /** The reply, remembering what it asks the customer, so the next message is read as its answer. */
  const answered = (session: Session, reply: EngineReply, choices: readonly AmountChoice[] = []): EngineReply => {
    session.chat.askedFor = askedBy(reply);
    session.chat.choices = session.chat.askedFor === "choice" ? [...choices] : [];
    return reply;
  };

  /** "Did my payment arrive?": the order asks the provider, through the same verified path as a webhook. */
  const checkPayment = async (session: Session, order: OrderActor): Promise<void> => {
    const event = { type: "CHECK_PAYMENT" as const, at: clock() };
    if (!order.actor.getSnapshot().can(event)) return;
    await session.step(order, event);
    const snapshot = order.actor.getSnapshot();
    const checked = snapshot.context.lastCheck;
    const provider = snapshot.context.payment?.provider;
    if (checked && provider && checked.at >= event.at) checks.set(session, { provider, result: checked.result });
  };

  /** The order a "reissue" is for: the current one once delivered, else the chat's last delivered order. */
  const deliveredOrder = async (session: Session): Promise<OrderActor | null> => {
    const current = session.current();
    if (current?.actor.getSnapshot().hasTag("delivered")) return current;
    for (const orderId of [...session.chat.recentOrderIds].reverse().slice(0, 5)) {
      const order = await session.order(orderId);
      if (order?.actor.getSnapshot().hasTag("delivered")) return order;
    }
    return null;
  };

  /**
   * Replaces a delivered order's lost goods (the order's own machine decides: at most a few times),
   * and shows the new ones once. `order`: the order a button was bound to; else the chat's last delivered.
   */
  const reissue = async (session: Session, source: CommandSource, bound: OrderActor | null, text?: string): Promise<EngineReply> => {
    const order = bound ?? (await deliveredOrder(session));
    // Goods the customer was never shown are not lost: they are shown now instead of being replaced.
    if (order && (await ledger.pendingSecret(order.orderId, session.chatId)) !== null) {
      session.note({
        type: "command",
        chatId: session.chatId,
        orderId: order.orderId,
        command: "REISSUE",
        source,
        accepted: false,
        ...(text !== undefined ? { text } : {}),
        at: clock(),
      });
      return answered(session, await replyForOrder(session, order));
    }
    const accepted = order !== null && (await session.step(order, { type: "REISSUE", at: clock() }));
    session.note({
      type: "command",
      chatId: session.chatId,
      orderId: order?.orderId ?? null,
      command: "REISSUE",
      source,
      accepted,
      ...(text !== undefined ? { text } : {}),
      at: clock(),
    });
    if (!accepted) {
      const context = order?.actor.getSnapshot().context;
      const reason =
        !order || !order.actor.getSnapshot().hasTag("delivered")
          ? "nothing_to_reissue"
          : (context?.reissues ?? 0) >= MAX_REISSUES
            ? "reissue_limit"
            : "not_now";
      return answered(session, { kind: "refused", reason, order: openOrder(session), ...extras(session) });
    }
    // The chat's current order is shown as any status answer shows it (an ended one as the last order, unless its goods are to be shown).
    return answered(session, order === session.current() ? await replyFor(session) : await replyForOrder(session, order));
  };

  const apply = async (
    session: Session,
    command: Command,
    source: CommandSource,
    note?: UnderstoodNote,
    text?: string,
  ): Promise<EngineReply> => {
    let order = session.current();
    if (command.type === "REISSUE") return reissue(session, source, null, text);
    const noted = (accepted: boolean) =>
      session.note({
        type: "command",
        chatId: session.chatId,
        orderId: order?.orderId ?? null,
        command: command.type,
        source,
        accepted,
        ...(text !== undefined ? { text } : {}),
        at: clock(),
      });
    if (isConversationCommand(command)) {
      noted(true);
      const beside = openOrder(session);
      switch (command.type) {
        case "HELP":
          return answered(session, withNote({ kind: "help", order: beside, ...extras(session) }, note));
        case "ASK":
          return answered(session, { kind: "answer", topic: command.topic, order: beside, ...extras(session) });
        case "ORDERS":
          return answered(session, { kind: "orders", orders: await ordersOf(store, session), order: beside, ...extras(session) });
        case "THANKS":
          return answered(session, { kind: "thanks", ...extras(session) });
        default: {
          const unhandled: never = command;
          throw new Error(`unknown command ${JSON.stringify(unhandled)}`);
        }
      }
    }
    if (command.type === "STATUS") {
      noted(true);
      if (order) await checkPayment(session, order);
      return answered(session, await replyFor(session));
    }
    // A new amount (a product, a promo code) after the last order ended starts the next order.
    const started = startsOrders(command.type) && startsNewOrder(snapshotOf(order)) ? session.startOrder() : null;
    if (started) order = started;
    const accepted =
      order !== null && !order.actor.getSnapshot().hasTag("ended") && (await session.step(order, { ...command, at: clock() }));
    if (!accepted) {
      const refused = refusalFor(snapshotOf(order), command);
      // An amount the new order refused leaves no order behind: the chat keeps the one it had.
      if (started) order = session.abandon(started);
      noted(false);
      const shown = openOrder(session);
      return answered(session, { kind: "refused", ...refused, order: shown, ...extras(session) });
    }
    noted(true);
    return answered(session, withNote(await replyFor(session), note));
  };

  /**
   * A quote button (confirm, change amount) from a message of this order that no longer shows its
   * current quote: it must never act on a different amount than its message showed.
   */
  const outdatedButton = (order: OrderActor, button: ButtonAction): boolean => {
    const shown = buttonShownAmount(button);
    if (shown === undefined) return false;
    const snapshot = order.actor.getSnapshot();
    return shown === null || !snapshot.can({ type: "CONFIRM", at: clock() }) || snapshot.context.quote?.tokens !== shown;
  };

  /** Understands a typed message and acts on it; `onLlmCall` hears of every model call made for it. */
  const understandAndApply = async (
    session: Session,
    text: string,
    onLlmCall: (call: LlmCallNote) => void,
    onModelAsked?: () => () => void,
  ): Promise<EngineReply> => {
    session.chat.lastActivityAt = clock();
    const snapshot = snapshotOf(session.current());
    const view = snapshot ? orderView(snapshot) : null;
    const askedFor = session.chat.askedFor;
    // "the first", «второй»: one of the amounts just offered, picked without the understander.
    const picked = askedFor === "choice" ? choicePicked(text, session.chat.choices) : null;
    if (picked) {
      rememberTurn(session, text);
      return apply(session, picked.command, "rules", picked.note, text);
    }
    const understood = await options.understand(text, {
      phase: conversationPhase(snapshot, clock()),
      state: view?.path ?? "none",
      order: { orderId: view?.orderId ?? "", tokens: view?.tokens ?? null },
      allowed: allowedCommands(snapshot, clock()),
      turns: session.chat.turns,
      chatId: session.chatId,
      askedHowMany: askedFor === "amount",
      onLlmCall,
      ...(onModelAsked ? { onModelAsked } : {}),
    });
    rememberTurn(session, text);
    if (!understood) {
      session.note({ type: "not_understood", chatId: session.chatId, orderId: view?.orderId ?? null, text, at: clock() });
      return answered(session, { kind: "not_understood", order: openOrder(session), ...extras(session) });
    }
    if ("choices" in understood) {
      return answered(
        session,
        { kind: "clarify", choices: understood.choices, order: openOrder(session), ...extras(session) },
        understood.choices,
      );
    }
    // A "yes" never picks one of the amounts the customer was just asked to choose from: ask again
    // (budgets and all). Nor does it accept the quote on the table instead, even with the choice lost.
    if (understood.command.type === "CONFIRM" && askedFor === "choice") {
      const choices = session.chat.choices;
      if (choices.length > 1)
        return answered(session, { kind: "clarify", choices, order: openOrder(session), ...extras(session) }, choices);
      return answered(session, { kind: "not_understood", order: openOrder(session), ...extras(session) });
    }
    return apply(session, understood.command, understood.source, understood.note, text);
  };

  /** Keeps who the customer is when their channel says something new about it (committed with the step). */
  const noteProfile = (session: Session, profile: CustomerProfile | undefined) => {
    const known = session.chat.profile;
    if (!profile || (known.username === profile.username && known.firstName === profile.firstName)) return;
    session.chat.profile = { username: profile.username, firstName: profile.firstName };
    session.note({
      type: "profile",
      chatId: session.chatId,
      orderId: null,
      username: profile.username,
      firstName: profile.firstName,
      at: clock(),
    });
  };

  /**
   * Runs `work` on the chat, or answers with where the chat stands when the Telegram update was applied
   * before. The answer is logged beside what the customer wrote (a look, `readOnly`, is no turn of the
   * conversation and writes nothing).
   */
  const onChat = (rawChatId: string, ref: UpdateRef, work: (session: Session) => Promise<EngineReply>, readOnly = false) =>
    sessions.withChat(
      ChatId.parse(rawChatId),
      async (session) => {
        if (session.duplicateUpdate) return replyFor(session);
        if (readOnly) return work(session);
        noteProfile(session, ref.profile);
        const reply = await work(session);
        session.note({
          type: "reply",
          chatId: session.chatId,
          orderId: session.current()?.orderId ?? null,
          reply: replyNote(reply),
          at: clock(),
        });
        return reply;
      },
      {
        ...(readOnly ? { readOnly } : {}),
        ...(ref.updateId !== undefined ? { updateId: ref.updateId } : {}),
        ...(ref.onSlowAnswer ? { onWaiting: ref.onSlowAnswer } : {}),
      },
    );

  return {
    /** The customer-visible state of the chat's current order (and any goods still to be shown). */
    replyFor,
    /** The customer-visible state of one of the chat's orders. */
    replyForOrder,

    /** A message the customer typed. */
    async handleText(rawChatId: string, text: string, ref: UpdateRef = {}): Promise<EngineReply> {
      if (text.length > options.maxMessageLength) return { kind: "too_long", limit: options.maxMessageLength };
      return onChat(rawChatId, ref, async (session) => {
        // The model's calls for this message count for the order it ended up acting on: a first amount
        // starts an order only after it was understood, and that purchase paid for the call.
        const llmCalls: LlmCallNote[] = [];
        const reply = await understandAndApply(session, text, (call) => llmCalls.push(call), ref.onSlowAnswer);
        const orderId = session.current()?.orderId ?? null;
        for (const call of llmCalls) session.note({ type: "llm", chatId: session.chatId, orderId, ...call });
        return reply;
      });
    },

    /** A slash command or other structured input that needs no understanding. */
    handleCommand(chatId: string, command: Command, source: CommandSource = "command", ref: UpdateRef = {}): Promise<EngineReply> {
      return onChat(chatId, ref, (session) => apply(session, command, source));
    },

    /** The customer opened the chat (`/start`, the console): a welcome beside the order, then "how many tokens?". */
    greet(chatId: string, ref: UpdateRef = {}): Promise<EngineReply> {
      return onChat(chatId, ref, (session) => apply(session, { type: "HELP" }, "command", { kind: "greeting" }));
    },

    /** A button press. Buttons bound to an order other than the current one do nothing (but show it, for status). */
    handleButton(chatId: string, button: ButtonAction, ref: UpdateRef = {}): Promise<EngineReply> {
      return onChat(chatId, ref, async (session): Promise<EngineReply> => {
        const current = session.current();
        const bound = buttonOrderId(button);
        const live = current !== null && !current.actor.getSnapshot().hasTag("ended");
        if (button.action === "reissue") {
          const parsed = OrderId.safeParse(button.orderId);
          const order = parsed.success ? await session.order(parsed.data) : null;
          return order ? reissue(session, "button", order) : { kind: "stale_button", order: openOrder(session) };
        }
        if (bound !== null && (bound !== current?.orderId || !live)) {
          const parsed = OrderId.safeParse(bound);
          const order = button.action === "status" && parsed.success ? await session.order(parsed.data) : null;
          if (order) return answered(session, order === current ? await replyFor(session) : await replyForOrder(session, order));
          return { kind: "stale_button", order: openOrder(session) };
        }
        if (current && outdatedButton(current, button))
          return { kind: "stale_button", outdated: true, order: openOrder(session), ...extras(session) };
        return apply(session, buttonCommand(button), "button");
      });
    },

    /** The customer-visible state of a chat's order, changing nothing (unless opening it resumed work). */
    view(chatId: string, ref: UpdateRef = {}): Promise<EngineReply> {
      return onChat(chatId, ref, async (session) => answered(session, await replyFor(session)), true);
    },

    /**
     * The adapter confirms that the message carrying an order's goods was accepted by the customer's
     * channel. Only now is the secret erased; until then every status answer shows it again.
     */
    async secretShown(orderId: string, chatId: string): Promise<void> {
      await options.goodsShown(ChatId.parse(chatId), OrderId.parse(orderId));
    },
  };
}
