/**
 * The Telegram inbox: every update that belongs to a chat is kept in the chat's inbox in the store
 * before Telegram is told it arrived (a webhook's 200, or the next `getUpdates` offset), and is then
 * applied in `update_id` order by whichever instance holds the chat's lease. So an update is never
 * acknowledged before it is kept, never applied twice (the step that applies it commits its id), and
 * never lost to a chat that is busy elsewhere: it waits in the inbox instead of being refused. One
 * that arrives after newer ones of its chat were applied (a request Telegram gave up on is sent again
 * while the first still runs, instances race) is a late message, not a duplicate: it is kept and applied as it comes
 * (the store remembers which ids a chat applied, src/store/applied-updates.ts).
 *
 * Updates without a chat (a Stars pre-checkout query, which must be answered within seconds) are
 * handled at once.
 *
 * One serialization layer per concern, each named:
 * - the chat inbox (here): a chat's Telegram updates are applied one at a time, in `update_id` order,
 *   by one drain per chat in this process;
 * - the session queue (`inOrder` in engine/session.ts): every engine step on a chat (an update, a
 *   payment webhook, the sweeper, an admin) runs one at a time in this process;
 * - the chat lease (the store's `openChat`/`commit`): one process at a time works on a chat, and a
 *   writer whose lease ran out cannot commit.
 */
import { type Bot, BotError } from "grammy";
import type { Update } from "grammy/types";
import type { App } from "../app.ts";
import { ChatId } from "../domain/ids.ts";
import { ChatBusyError, leaseRenewals } from "../engine/index.ts";
import { describeFailure } from "../failures.ts";
import { StoreUnavailableError } from "../store/index.ts";
import { createBoundedMap } from "../bounded.ts";

/** The chat an update belongs to, if any (the one whose conversation it changes). */
export function chatOfUpdate(update: Update): string | null {
  const chat =
    update.message?.chat ??
    update.edited_message?.chat ??
    update.callback_query?.message?.chat ??
    update.my_chat_member?.chat ??
    update.channel_post?.chat ??
    update.edited_channel_post?.chat;
  if (chat) return String(chat.id);
  if (update.callback_query) return String(update.callback_query.from.id);
  return null;
}

export type Inbox = ReturnType<typeof createInbox>;

export function createInbox(app: App, bot: Bot, options: { leaseMs: number; secrets: readonly string[]; oneMoment?: boolean }) {
  const { store, log } = app;
  const owner = app.engine.instanceId;
  const lease = { owner, ttlMs: options.leaseMs };
  // A drain holds the chat's lease renewed while it works, as a step does: an update answered without
  // a step (a sticker, a language choice, the rate-limit notice) may wait on Telegram (429), and a
  // drain of many updates outlasts a lease; run out under it, another instance's sweeper would take
  // the chat and answer an update again.
  const renewals = leaseRenewals(store, options.leaseMs, owner, log);
  const draining = new Map<string, Promise<void>>();
  // Chats asked to drain while their drain was ending: between its last look at the inbox and leaving
  // `draining`, an update may have arrived whose lease this process took; it must not wait for the sweeper.
  const drainAgain = new Set<string>();
  const inFlight = new Set<Promise<unknown>>();
  let stopped = false;
  // Updates an engine step applied in its own commit, with whether it kept the lease for more: the
  // drain then has nothing to mark (saves a store call per update). Taken by the drain at once.
  const appliedByStep = createBoundedMap<number, boolean>({ maxEntries: 10_000 });
  const unsubscribe = app.engine.onUpdateApplied((_chatId, updateId, pendingUpdates) => appliedByStep.set(updateId, pendingUpdates));

  // Customers told "one moment" during a store outage, by update: told once, however often it comes again.
  const told = createBoundedMap<number, true>({ maxEntries: 10_000 });
  /** "One moment, I'll answer shortly", in the customer's language, without the store (best effort). */
  const tellOnce = (chatId: string, update: Update) => {
    if (told.get(update.update_id) || !options.oneMoment) return;
    told.set(update.update_id, true);
    const language = app.localization.negotiate(update.message?.from?.language_code ?? update.callback_query?.from.language_code ?? "");
    void bot.api
      .sendMessage(chatId, app.localization.translator(language).t("store-unavailable"))
      .catch((error: unknown) =>
        log.debug("could not tell a customer to wait for the store", { chatId, ...describeFailure(error, options.secrets) }),
      );
  };

  const track = <T>(work: Promise<T>): Promise<T> => {
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work)).catch(() => {});
    return work;
  };

  /**
   * Applies one update through the bot. Like grammY's own polling loop, a failure goes to the bot's
   * error handler (`bot.catch`), never the process. `"later"`: it failed for a reason that passes (the
   * store down, the chat busy elsewhere), so the update stays in the inbox to be tried again instead of
   * being marked applied.
   */
  const handle = async (update: Update): Promise<"applied" | "later"> => {
    try {
      await bot.handleUpdate(update);
      return "applied";
    } catch (error) {
      try {
        if (error instanceof BotError) await bot.errorHandler(error);
        else throw error;
      } catch (unreported) {
        log.error("telegram update failed", { updateId: update.update_id, ...describeFailure(unreported, options.secrets) });
      }
      const cause = error instanceof BotError ? error.error : error;
      return cause instanceof StoreUnavailableError || cause instanceof ChatBusyError ? "later" : "applied";
    }
  };

  /**
   * The oldest update waiting in the chat's inbox, as kept (none: an empty array); `update` null when
   * what was kept cannot be read (a damaged store): it is set aside, or it would hold up every later
   * message of the chat.
   */
  const queued = async (chatId: ChatId): Promise<{ updateId: number; update: Update | null }[]> =>
    (await store.queuedUpdates(chatId, 1)).map((kept) => ({ updateId: kept.updateId, update: readKept(kept.raw) }));
  const readKept = (raw: string): Update | null => {
    try {
      const update: unknown = JSON.parse(raw);
      return typeof update === "object" && update !== null && "update_id" in update ? (update as Update) : null;
    } catch {
      return null;
    }
  };

  /**
   * Works off the chat's inbox while this process holds its lease; stops when it is empty or another
   * process took over. `held`: the caller just took the lease (accepting the update), so it is not
   * claimed again.
   */
  const drainChat = async (rawChatId: string, held: boolean, first?: Update): Promise<void> => {
    const chatId = ChatId.parse(rawChatId);
    // Renewed for the whole drain, between its updates too: a commit that keeps the lease for the next
    // update does not extend it, so a drain of many updates would outlast it. (A lease this process no
    // longer holds is not renewed: the store checks the owner.)
    renewals.hold(chatId);
    try {
      await drainHeld(chatId, held, first);
    } finally {
      renewals.letGo(chatId);
    }
  };

  const drainHeld = async (chatId: ChatId, held: boolean, first?: Update): Promise<void> => {
    let holding = held;
    // The update just kept, when the store said it is the oldest waiting: not read back from the store.
    let known = first;
    while (!stopped) {
      if (!holding) {
        const opened = await store.openChat(chatId, lease);
        if (!opened.held) return; // another instance holds the chat: it works the inbox off
      }
      const [next] = known ? [{ updateId: known.update_id, update: known }] : await queued(chatId);
      known = undefined;
      if (!next) {
        const released = await store.releaseLease(chatId, owner);
        if (!released.pendingUpdates) return;
        holding = true; // one arrived meanwhile: the lease was kept for it
        continue;
      }
      appliedByStep.delete(next.updateId);
      if (next.update === null) log.error("a kept telegram update cannot be read; it is set aside", { chatId, updateId: next.updateId });
      const outcome = next.update === null ? "applied" : await handle(next.update);
      const byStep = appliedByStep.get(next.updateId);
      appliedByStep.delete(next.updateId);
      if (byStep !== undefined) {
        // The step's commit applied it and let go of the lease, unless more updates wait (then it is ours).
        if (!byStep) return;
        holding = true;
        continue;
      }
      if (outcome === "later") {
        // Kept for later: the sweeper hands waiting inboxes back to a drain.
        await store.releaseLease(chatId, owner);
        return;
      }
      // One commit marks the update applied (a handler that changed nothing, a sticker or a language
      // choice, committed no step of its own) and lets go of the lease unless more updates wait.
      // Refused as `lease_lost` when the engine's step already applied it and let go: then nothing
      // waited at that commit, and an update that came after took the lease for a drain of its own.
      const applied = await store.commit({ chatId, owner, appliedUpdateId: next.updateId, release: true });
      if (!applied.ok || !applied.pendingUpdates) return;
      holding = true;
    }
  };

  const inbox = {
    /**
     * Keeps an update (or handles a chat-less one) and starts working it off. Resolves once the update
     * is kept, so the caller may acknowledge it; rejects when it could not be kept (the store is down):
     * then Telegram must send it again.
     */
    async accept(update: Update): Promise<void> {
      const chatId = chatOfUpdate(update);
      if (chatId === null) {
        await track(handle(update));
        return;
      }
      const chat = ChatId.parse(chatId);
      let kept;
      try {
        kept = await store.acceptUpdate(chat, update.update_id, JSON.stringify(update), lease);
      } catch (error) {
        // The store is down: the update is not kept (Telegram sends it again), but the customer hears at once.
        if (error instanceof StoreUnavailableError) tellOnce(chatId, update);
        throw error;
      }
      const { accepted, held, next, rev } = kept;
      if (!accepted) log.info("telegram update delivered again; already kept or applied", { updateId: update.update_id });
      if (!held) return;
      const first = next === update.update_id;
      // The step applying it need not open the chat again when this process holds it at that revision
      // (only for an update kept just now: one sent again takes the usual way).
      if (first && accepted && rev !== null) app.engine.leaseTakenFor(chat, update.update_id, rev);
      inbox.drain(chatId, true, first ? update : undefined);
    },

    /**
     * Works off a chat's inbox in the background (at most one drain per chat in this process).
     * `held`: the caller has just taken the chat's lease for this process; `first`: the update the inbox
     * starts with, when the caller has it at hand (it was just kept, and nothing older waits).
     */
    drain(chatId: string, held = false, first?: Update): void {
      if (stopped) return;
      if (draining.has(chatId)) {
        drainAgain.add(chatId);
        return;
      }
      const run = track(
        drainChat(chatId, held, first)
          .catch((error: unknown) =>
            log.warn("telegram inbox not worked off now; it is retried later", { chatId, ...describeFailure(error, options.secrets) }),
          )
          .finally(() => {
            draining.delete(chatId);
            if (drainAgain.delete(chatId)) inbox.drain(chatId);
          }),
      );
      draining.set(chatId, run);
    },

    /** Stops taking on new work and waits for what is in flight. */
    async stop(): Promise<void> {
      stopped = true;
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
      unsubscribe();
    },
  };
  return inbox;
}
