/**
 * Exactly-once delivery. The goods entry keyed by order id is the truth: once it exists the goods were
 * issued and are never issued again. Issuing itself is guarded by the store's goods claim, so two
 * processes, or a retry racing a slow first attempt, cannot both call the provider; the entry is
 * written the moment the provider answers, before the order's next commit, so goods that exist are
 * never forgotten by a crash.
 *
 * A reissue replaces the entry's goods the same way: under a claim of its own, the provider makes the
 * old goods unusable and issues new ones, and the entry is rewritten with the old reference in its
 * `revoked` list the moment the provider answers. The n-th reissue is done once: the entry's `revoked`
 * count says whether it was (a retry after a crash returns it, its secret still to be shown).
 */
import type { DeliveryFailure } from "../../machines/purchase.machine.ts";
import type { ChatId, OrderId } from "../domain/ids.ts";
import type { GoodsEntry } from "../domain/records.ts";
import { createBoundedMap } from "../bounded.ts";
import type { ShopStore } from "../store/shop-store.ts";
import type { DeliveryOutcome, DeliveryProvider, DeliveryRequest } from "./provider.ts";

/** The `generation`-th replacement of an order's goods (1 for the first). */
export type ReissueGoodsRequest = { orderId: OrderId; chatId: ChatId; tokens: number; productId?: string; generation: number };

/** A delivery attempt's result; a failure carries a code for the machine and a detail for the log. */
export type DeliverOutcome = { ok: true; entry: GoodsEntry; fresh: boolean } | { ok: false; reason: DeliveryFailure; detail: string };

/**
 * How long one process holds the right to issue an order's goods without renewing it. It is renewed
 * while the provider call runs, so a crashed issuer blocks a retry for this long at most.
 */
const ISSUE_CLAIM_MS = 30_000;

export type Ledger = {
  deliver(request: DeliveryRequest): Promise<DeliverOutcome>;
  /** Replaces the order's delivered goods (its `generation`-th time), exactly once; the old ones stop working. */
  reissue(request: ReissueGoodsRequest): Promise<DeliverOutcome>;
  /** The secret not yet confirmed as handed to the customer, if any. */
  pendingSecret(orderId: OrderId, chatId: ChatId): Promise<string | null>;
  /** The goods' harmless hint (last characters), once issued. */
  hint(orderId: OrderId, chatId: ChatId): Promise<string | null>;
  /**
   * Called once the message carrying the secret was accepted by the customer's channel (Telegram said
   * ok, the console printed it): from then on only its reference and hint are kept.
   */
  markSent(orderId: OrderId, chatId: ChatId, at: number): Promise<void>;
  /** Whether goods of this provider can be left live by an interrupted attempt (see `revokeStrays`). */
  readonly mayLeaveStrays: boolean;
  /**
   * Revokes the order's goods other than the ones it holds at the provider; how many. What it holds is
   * the ledger's entry (a reissue the order has not heard of yet included), else `keepRef`.
   */
  revokeStrays(orderId: OrderId, chatId: ChatId, keepRef: string): Promise<number>;
};

const detailOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * How long goods this process just issued are remembered for the reply that shows them. That reply is
 * built in the same step, under the chat's lease, a moment after the goods entry was written; the
 * memory only spares it reading the entry back. Real time: it is a cache, not a deadline.
 */
const JUST_ISSUED_MS = 5_000;

export function createLedger(deps: { store: ShopStore; provider: DeliveryProvider; instanceId: string; clock: () => number }): Ledger {
  const { store, provider, instanceId: owner } = deps;
  // Read once, by the reply of the step that issued them: later readers ask the store, which knows
  // whether the secret was sent meanwhile (by this process or another).
  const justIssued = createBoundedMap<OrderId, string>({ maxEntries: 1_000, ttlMs: JUST_ISSUED_MS });
  /** The provider's answer as a ledger failure, or null when it issued goods. */
  const failureOf = (outcome: DeliveryOutcome): DeliverOutcome | null =>
    outcome.ok
      ? null
      : { ok: false, reason: outcome.reason === "unavailable" ? "provider_unavailable" : "provider_rejected", detail: outcome.detail };
  return {
    async deliver(request) {
      let claim;
      try {
        claim = await store.claimGoods(request.orderId, request.chatId, owner, ISSUE_CLAIM_MS);
      } catch (error) {
        // The store is down: a failed attempt, retried later, not a crashed actor.
        return { ok: false, reason: "store_unavailable", detail: detailOf(error) };
      }
      if (claim.kind === "exists") return { ok: true, entry: claim.entry, fresh: false };
      if (claim.kind === "busy") return { ok: false, reason: "issuing_elsewhere", detail: "another process holds the goods claim" };
      const renewal = setInterval(() => {
        store.claimGoods(request.orderId, request.chatId, owner, ISSUE_CLAIM_MS).catch(() => {});
      }, ISSUE_CLAIM_MS / 3);
      renewal.unref();
      try {
        const outcome = await provider.issue(request).finally(() => clearInterval(renewal));
        const failed = failureOf(outcome);
        if (failed || !outcome.ok) return failed ?? { ok: false, reason: "unexpected_error", detail: "no goods" };
        const entry: GoodsEntry = {
          v: 1,
          orderId: request.orderId,
          chatId: request.chatId,
          provider: provider.name,
          ref: outcome.goods.ref,
          hint: outcome.goods.hint,
          secret: outcome.goods.secret,
          issuedAt: deps.clock(),
          sentAt: null,
          revoked: [],
        };
        await store.putGoods(entry, owner);
        justIssued.set(request.orderId, outcome.goods.secret);
        return { ok: true, entry, fresh: true };
      } catch (error) {
        // The provider's call or the store's write threw: worth a retry. The claim stays this owner's
        // (a retry here re-takes it at once); a key the provider made anyway is revoked after delivery.
        return { ok: false, reason: "store_unavailable", detail: detailOf(error) };
      }
    },
    async reissue(request) {
      let entry: GoodsEntry | undefined;
      try {
        entry = await store.goods(request.orderId, request.chatId);
      } catch (error) {
        return { ok: false, reason: "store_unavailable", detail: detailOf(error) };
      }
      if (!entry) return { ok: false, reason: "provider_rejected", detail: "no goods were delivered to replace" };
      // Done before (a retry after a crash): the new goods stand, their secret still to be shown if it was not.
      if (entry.revoked.length >= request.generation) return { ok: true, entry, fresh: false };
      if (!provider.reissue) return { ok: false, reason: "provider_rejected", detail: `${provider.name} cannot reissue goods` };
      const claim = `reissue:${request.orderId}`;
      if (!(await store.claims.tryClaim(claim, owner, ISSUE_CLAIM_MS).catch(() => false))) {
        return { ok: false, reason: "issuing_elsewhere", detail: "another process is replacing these goods" };
      }
      const renewal = setInterval(() => void store.claims.tryClaim(claim, owner, ISSUE_CLAIM_MS).catch(() => {}), ISSUE_CLAIM_MS / 3);
      renewal.unref();
      try {
        const outcome = await provider.reissue({
          orderId: request.orderId,
          chatId: request.chatId,
          tokens: request.tokens,
          oldRef: entry.ref,
          ...(request.productId ? { productId: request.productId } : {}),
        });
        const failed = failureOf(outcome);
        if (failed || !outcome.ok) return failed ?? { ok: false, reason: "unexpected_error", detail: "no goods" };
        const at = deps.clock();
        const next: GoodsEntry = {
          ...entry,
          ref: outcome.goods.ref,
          hint: outcome.goods.hint,
          secret: outcome.goods.secret,
          issuedAt: at,
          sentAt: null,
          revoked: [...entry.revoked, { ref: entry.ref, at }],
        };
        await store.putGoods(next, owner);
        // The replaced goods' secret must never be shown again, also not from this process's memory.
        justIssued.delete(request.orderId);
        return { ok: true, entry: next, fresh: true };
      } catch (error) {
        return { ok: false, reason: "store_unavailable", detail: detailOf(error) };
      } finally {
        clearInterval(renewal);
        await store.claims.release(claim, owner).catch(() => {});
      }
    },
    async pendingSecret(orderId, chatId) {
      const issued = justIssued.get(orderId);
      if (issued !== undefined) {
        justIssued.delete(orderId);
        return issued;
      }
      const entry = await store.goods(orderId, chatId);
      return entry && entry.sentAt === null ? entry.secret : null;
    },
    async hint(orderId, chatId) {
      return (await store.goods(orderId, chatId))?.hint ?? null;
    },
    async markSent(orderId, chatId, at) {
      justIssued.delete(orderId);
      await store.markGoodsSent(orderId, chatId, at);
    },
    mayLeaveStrays: provider.revokeStrays !== undefined,
    async revokeStrays(orderId, chatId, keepRef) {
      if (!provider.revokeStrays) return 0;
      const held = (await store.goods(orderId, chatId))?.ref ?? keepRef;
      const result = await provider.revokeStrays(orderId, held);
      if (!result.ok) throw new Error(result.detail);
      return result.revoked;
    },
  };
}
