/**
 * OpenRouter delivery: one API key per order, made with a provisioning (management) key through
 * `POST /keys` with a spending `limit` in USD equal to the credit sold (the catalog's `credit_usd` per
 * `price_per` units: what the owner keeps is the price minus it). The key's secret is in the
 * create answer only — OpenRouter never shows it again — so the ledger keeps it just until the
 * customer was sent it; `data.hash` is the lasting reference.
 *
 * Idempotency: the key's name carries the order id. Before creating, recent keys are listed; a key
 * already named for this order means an earlier attempt created it but its answer (and secret) was
 * lost, because the ledger claim guarantees nobody else is issuing this order right now and the ledger
 * has no entry for it. Such a key was never shown to anyone, so it is deleted and a fresh one created:
 * at most one live key per order, at the cost of one wasted (never usable) key on that rare path.
 *
 * A create call still running at OpenRouter when the caller died can finish after the next attempt
 * listed the keys (issue 18): its key appears later. So after creating, the list is read again and any
 * other key of the order is deleted, and a minute after delivery the order asks once more
 * (`revokeStrays`, run by the purchase machine's `delivered.checking_goods`).
 *
 * Reissue (a customer lost the key): the order's current key is read (its remaining limit), disabled
 * with `PATCH /keys/:hash` (kept, so a retry after a crash still finds what remained), keys of an
 * interrupted earlier reissue are deleted, and a new key with the remaining limit is created.
 */
import { z } from "zod";
import { type Money, centsFromWireDollars, money, toDecimalString } from "../domain/money.ts";
import { fetchJson } from "../http/client.ts";
import type { DeliveryProvider } from "./provider.ts";

export type OpenRouterOptions = {
  /** e.g. `https://openrouter.ai/api/v1`. */
  apiUrl: string;
  provisioningKey: string;
  timeoutMs?: number;
  fetch?: typeof fetch;
  /** Prefix of every key name; the order id follows. */
  namePrefix?: string;
  /** How many pages of 100 keys to scan for an earlier attempt and for outstanding limits. */
  maxListPages?: number;
};

const KeyInfo = z.object({
  hash: z.string(),
  name: z.string().nullish(),
  label: z.string().nullish(),
  limit: z.number().nullish(),
  limit_remaining: z.number().nullish(),
  disabled: z.boolean().nullish(),
});
type KeyInfo = z.infer<typeof KeyInfo>;
const CreateAnswer = z.object({ key: z.string().min(1), data: KeyInfo });
const ListAnswer = z.object({ data: z.array(z.unknown()) });
const CreditsAnswer = z.object({ data: z.object({ total_credits: z.number(), total_usage: z.number() }) });

type Call<T> = { ok: true; value: T } | { ok: false; reason: "unavailable" | "rejected"; detail: string };

export function createOpenRouterDelivery(options: OpenRouterOptions): DeliveryProvider {
  const base = options.apiUrl.replace(/\/+$/, "");
  const timeoutMs = options.timeoutMs ?? 10_000;
  const doFetch = options.fetch ?? fetch;
  const prefix = options.namePrefix ?? "TokenGoblin order";
  const maxPages = options.maxListPages ?? 5;
  const nameFor = (orderId: string) => `${prefix} ${orderId}`;

  const call = async (method: "GET" | "POST" | "PATCH" | "DELETE", path: string, body?: unknown): Promise<Call<unknown>> => {
    const where = `openrouter ${method} ${path}`;
    const answer = await fetchJson(doFetch, `${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${options.provisioningKey}` },
      body,
      timeoutMs,
    });
    if (!answer.ok) return { ok: false, reason: "unavailable", detail: `${where}: ${answer.problem}` };
    if (answer.status < 200 || answer.status >= 300) {
      // 5xx and rate limits pass; any other refusal will not change by asking again.
      const reason = answer.status >= 500 || answer.status === 429 ? "unavailable" : "rejected";
      return { ok: false, reason, detail: `${where}: HTTP ${answer.status}` };
    }
    return { ok: true, value: answer.json };
  };

  /** Our keys among the most recent `maxPages` pages (the API lists 100 per page, newest first). */
  const listKeys = async (): Promise<Call<KeyInfo[]>> => {
    const found: KeyInfo[] = [];
    for (let page = 0; page < maxPages; page++) {
      const listed = await call("GET", `/keys?offset=${page * 100}`);
      if (!listed.ok) return listed;
      const parsed = ListAnswer.safeParse(listed.value);
      if (!parsed.success) return { ok: false, reason: "unavailable", detail: "openrouter GET /keys: unexpected answer" };
      for (const item of parsed.data.data) {
        const key = KeyInfo.safeParse(item);
        if (key.success && key.data.name?.startsWith(`${prefix} `)) found.push(key.data);
      }
      if (parsed.data.data.length < 100) break;
    }
    return { ok: true, value: found };
  };

  /** Deletes the order's keys other than `keepHash` (never shown to anyone); how many. */
  const revokeOthers = async (orderId: string, keepHash: string): Promise<Call<number>> => {
    const listed = await listKeys();
    if (!listed.ok) return listed;
    let revoked = 0;
    for (const stray of listed.value.filter((key) => key.name === nameFor(orderId) && key.hash !== keepHash)) {
      const removed = await call("DELETE", `/keys/${encodeURIComponent(stray.hash)}`);
      if (!removed.ok) return removed;
      revoked++;
    }
    return { ok: true, value: revoked };
  };

  /**
   * Creates the order's key with `limit` (exact cents → dollars) and returns it as goods. `sweep`: delete
   * the order's other keys at once (a first delivery; a reissue keeps the disabled old key, whose
   * remaining limit a retry after a crash must still read, until the order's goods check).
   */
  const createKey = async (orderId: string, limit: Money, sweep: boolean) => {
    // The limit is a JSON number of dollars: exact cents → "40.00" → 40. Number() is used only here,
    // at the wire boundary; two-decimal dollar amounts below 2^53 cents round-trip exactly.
    const created = await call("POST", "/keys", { name: nameFor(orderId), limit: Number(toDecimalString(limit)) });
    if (!created.ok) return created;
    const parsed = CreateAnswer.safeParse(created.value);
    if (!parsed.success)
      return { ok: false as const, reason: "unavailable" as const, detail: "openrouter POST /keys: answer without key or hash" };
    const { key, data } = parsed.data;
    // Best effort now; the order checks again a minute after delivery.
    if (sweep) await revokeOthers(orderId, data.hash).catch(() => undefined);
    return { ok: true as const, goods: { ref: `openrouter:${data.hash}`, hint: `…${key.slice(-4)}`, secret: key } };
  };

  return {
    name: "openrouter",
    async issue(request) {
      // The key's limit is the credit sold; an order priced before catalogs sold its price as credit.
      const limit = request.credit ?? request.usd;
      if (limit.currency !== "USD" || limit.minor <= 0) return { ok: false, reason: "rejected", detail: "nothing to deliver" };
      const name = nameFor(request.orderId);
      const existing = await listKeys();
      if (!existing.ok) return existing;
      for (const orphan of existing.value.filter((key) => key.name === name)) {
        // Created by an attempt whose answer was lost: its secret is unrecoverable, so retire it.
        const removed = await call("DELETE", `/keys/${encodeURIComponent(orphan.hash)}`);
        if (!removed.ok) return removed;
      }
      return createKey(request.orderId, limit, true);
    },

    async reissue(request) {
      const oldHash = request.oldRef.replace(/^openrouter:/, "");
      const listed = await listKeys();
      if (!listed.ok) return listed;
      const mine = listed.value.filter((key) => key.name === nameFor(request.orderId));
      const old = mine.find((key) => key.hash === oldHash);
      if (!old) return { ok: false, reason: "rejected", detail: "the key being replaced is not at OpenRouter any more" };
      // What the customer has not spent yet; rounded down, so the new key never holds more than the old.
      const remaining = money(centsFromWireDollars(Math.max(0, old.limit_remaining ?? old.limit ?? 0), "down"), "USD");
      if (remaining.minor <= 0) return { ok: false, reason: "rejected", detail: "the key being replaced has no credit left" };
      if (!old.disabled) {
        const disabled = await call("PATCH", `/keys/${encodeURIComponent(old.hash)}`, { disabled: true });
        if (!disabled.ok) return disabled;
      }
      // Keys of an earlier reissue that died before it was recorded: never shown to anyone.
      for (const orphan of mine.filter((key) => key.hash !== old.hash && !key.disabled)) {
        const removed = await call("DELETE", `/keys/${encodeURIComponent(orphan.hash)}`);
        if (!removed.ok) return removed;
      }
      return createKey(request.orderId, remaining, false);
    },

    async revokeStrays(orderId, keepRef) {
      const revoked = await revokeOthers(orderId, keepRef.replace(/^openrouter:/, ""));
      return revoked.ok ? { ok: true, revoked: revoked.value } : { ok: false, detail: revoked.detail };
    },

    /**
     * What can still be sold: the account's credit minus usage, minus what keys we sold but whose
     * buyers have not spent yet (their remaining limits are already promised). Rounded down to cents.
     */
    async availableUsd(): Promise<Money | null> {
      const [credits, keys] = await Promise.all([call("GET", "/credits"), listKeys()]);
      if (!credits.ok) throw new Error(credits.detail);
      const parsed = CreditsAnswer.safeParse(credits.value);
      if (!parsed.success) throw new Error("openrouter GET /credits: unexpected answer");
      if (!keys.ok) throw new Error(keys.detail);
      // Dollars arrive as floats: each becomes integer cents once, rounded against selling too much.
      const promised = keys.value
        .filter((k) => !k.disabled)
        .reduce((sum, k) => sum + centsFromWireDollars(Math.max(0, k.limit_remaining ?? k.limit ?? 0), "up"), 0);
      const free =
        centsFromWireDollars(parsed.data.data.total_credits, "down") - centsFromWireDollars(parsed.data.data.total_usage, "up") - promised;
      return money(Math.max(0, free), "USD");
    },
  };
}
