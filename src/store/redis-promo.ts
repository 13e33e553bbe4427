/**
 * Promo code uses on Redis: one script per operation on the code's two sets (its holders, and one
 * customer's), which share the code's hash tag, so each runs whole on one node of a cluster and no
 * other instance's use can come between a count and an add. `max_uses` therefore holds exactly however
 * many instances race for the last use.
 */
import { type CommandParser, defineScript } from "@redis/client";
import { z } from "zod";

const raw = (reply: unknown): unknown => reply;

/**
 * usePromo. KEYS: the code's holders, this customer's holders. ARGV: order id, max uses ("" none),
 * once per customer ("1" or ""). Returns "ok" (also for an order already holding one), "used_up" or
 * "already_used_by_you".
 */
export const usePromoScript = defineScript({
  SCRIPT: `
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then return 'ok' end
if ARGV[2] ~= '' and redis.call('SCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 'used_up' end
if ARGV[3] == '1' and redis.call('SCARD', KEYS[2]) > 0 then return 'already_used_by_you' end
redis.call('SADD', KEYS[1], ARGV[1])
redis.call('SADD', KEYS[2], ARGV[1])
return 'ok'`,
  NUMBER_OF_KEYS: 2,
  parseCommand(
    parser: CommandParser,
    holders: string,
    customer: string,
    orderId: string,
    maxUses: number | null,
    oncePerCustomer: boolean,
  ) {
    parser.pushKey(holders);
    parser.pushKey(customer);
    parser.push(orderId, maxUses === null ? "" : String(maxUses), oncePerCustomer ? "1" : "");
  },
  transformReply: raw,
});

/** releasePromo. KEYS: the code's holders, the customer's. ARGV: order id. */
export const releasePromoScript = defineScript({
  SCRIPT: `
redis.call('SREM', KEYS[1], ARGV[1])
redis.call('SREM', KEYS[2], ARGV[1])
return 1`,
  NUMBER_OF_KEYS: 2,
  parseCommand(parser: CommandParser, holders: string, customer: string, orderId: string) {
    parser.pushKey(holders);
    parser.pushKey(customer);
    parser.push(orderId);
  },
  transformReply: raw,
});

/** promoUses. KEYS: the code's holders, the customer's. ARGV: order id ("" none). Returns {uses, by customer, held (0/1)}. */
export const promoUsesScript = defineScript({
  SCRIPT: `
local held = 0
if ARGV[1] ~= '' then held = redis.call('SISMEMBER', KEYS[1], ARGV[1]) end
return {redis.call('SCARD', KEYS[1]), redis.call('SCARD', KEYS[2]), held}`,
  NUMBER_OF_KEYS: 2,
  parseCommand(parser: CommandParser, holders: string, customer: string, orderId: string | undefined) {
    parser.pushKey(holders);
    parser.pushKey(customer);
    parser.push(orderId ?? "");
  },
  transformReply: raw,
});

/** The promo scripts, merged into the store's (`STORE_SCRIPTS`). */
export const PROMO_SCRIPTS = { usePromo: usePromoScript, releasePromo: releasePromoScript, promoUses: promoUsesScript };

/** What the use script answers. */
export const PromoUseReply = z.enum(["ok", "used_up", "already_used_by_you"]);
/** What the count script answers. */
export const PromoUsesReply = z.tuple([z.number().int(), z.number().int(), z.union([z.literal(0), z.literal(1)])]);
