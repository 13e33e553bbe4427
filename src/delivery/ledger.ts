/**
 * Exactly-once delivery. The ledger entry keyed by order id is the truth: once it exists the goods
 * were issued and are never issued again. Issuing itself is guarded by an atomic claim (SQLite
 * `INSERT … ON CONFLICT`, Redis `SET NX PX`), so two processes or a retry racing a slow first attempt
 * cannot both call the provider.
 */
import type { DeliveryFailure } from "../../machines/purchase.machine.ts";
import type { OrderId } from "../domain/ids.ts";
import type { LedgerEntry } from "../domain/records.ts";
import type { Stores } from "../store/index.ts";
import type { DeliveryProvider, DeliveryRequest } from "./provider.ts";

/** A delivery attempt's result; a failure carries a code for the machine and a detail for the log. */
export type DeliverOutcome =
  | { ok: true; entry: LedgerEntry; fresh: boolean }
  | { ok: false; reason: DeliveryFailure; detail: string };

/**
 * How long one process holds the right to issue an order's goods without renewing it. It is renewed
 * while the provider call runs, so a crashed issuer blocks a retry for this long at most.
 */
const ISSUE_CLAIM_MS = 30_000;

export type Ledger = {
  deliver(request: DeliveryRequest): Promise<DeliverOutcome>;
  /** The secret not yet confirmed as handed to the customer, if any. */
  pendingSecret(orderId: OrderId): Promise<string | null>;
  /**
   * Called once the message carrying the secret was accepted by the customer's channel (Telegram said
   * ok, the console printed it): from then on only its reference and hint are kept.
   */
  markSent(orderId: OrderId, at: number): Promise<void>;
};

export function createLedger(deps: {
  stores: Stores;
  provider: DeliveryProvider;
  instanceId: string;
  clock: () => number;
}): Ledger {
  const { stores, provider } = deps;
  return {
    async deliver(request) {
      // Reading and claiming can fail too (store down): that is a failed attempt, not a crashed actor.
      let existing: LedgerEntry | undefined;
      try {
        existing = await stores.ledger.get(request.orderId);
      } catch (error) {
        return { ok: false, reason: "store_unavailable", detail: error instanceof Error ? error.message : String(error) };
      }
      if (existing) return { ok: true, entry: existing, fresh: false };
      const claimKey = `issue:${request.orderId}`;
      if (!(await stores.claims.tryClaim(claimKey, deps.instanceId, ISSUE_CLAIM_MS))) {
        return { ok: false, reason: "issuing_elsewhere", detail: "another process holds the issue claim" };
      }
      try {
        // Re-check under the claim: another process may have finished between our read and our claim.
        const raced = await stores.ledger.get(request.orderId);
        if (raced) return { ok: true, entry: raced, fresh: false };
        const renewal = setInterval(() => {
          stores.claims.tryClaim(claimKey, deps.instanceId, ISSUE_CLAIM_MS).catch(() => {});
        }, ISSUE_CLAIM_MS / 3);
        renewal.unref();
        const outcome = await provider.issue(request).finally(() => clearInterval(renewal));
        if (!outcome.ok) return { ok: false, reason: outcome.reason === "unavailable" ? "provider_unavailable" : "provider_rejected", detail: outcome.detail };
        const entry: LedgerEntry = {
          v: 1,
          orderId: request.orderId,
          chatId: request.chatId,
          provider: provider.name,
          ref: outcome.goods.ref,
          hint: outcome.goods.hint,
          secret: outcome.goods.secret,
          issuedAt: deps.clock(),
          sentAt: null,
        };
        await stores.ledger.set(request.orderId, entry);
        return { ok: true, entry, fresh: true };
      } catch (error) {
        // The provider's call or a store write threw: a bug or an unreachable store, worth a retry.
        return { ok: false, reason: "store_unavailable", detail: error instanceof Error ? error.message : String(error) };
      } finally {
        await stores.claims.release(claimKey, deps.instanceId).catch(() => {});
      }
    },
    async pendingSecret(orderId) {
      const entry = await stores.ledger.get(orderId);
      return entry && entry.sentAt === null ? entry.secret : null;
    },
    async markSent(orderId, at) {
      const entry = await stores.ledger.get(orderId);
      if (!entry || entry.sentAt !== null) return;
      await stores.ledger.set(orderId, { ...entry, secret: null, sentAt: at });
    },
  };
}
