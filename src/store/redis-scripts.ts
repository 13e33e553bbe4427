/**
 * The Redis store's server-side scripts: every operation that touches more than one key, or reads and
 * then writes, is one of these, so it is atomic on the server and costs one round trip. Each is
 * defined once with node-redis `defineScript`: it is sent as EVALSHA, and node-redis falls back to
 * EVAL (which loads it) when a server answers NOSCRIPT (a restart, a new cluster node).
 *
 * On Redis Cluster every key of one call carries the same hash tag (see redis-keys.ts), so each call
 * runs on one node. Scripts receive their keys in KEYS, with one exception: the open and read scripts
 * build the current order's key from the order key prefix of the chat's shard and the order id found
 * in the chat hash (`ARGV`): the name is in the same hash tag, hence the same slot, and reading the
 * chat and its order stays one round trip.
 *
 * Numbers cross as strings; absent values as "" (Lua's `false` comes back as null).
 */
import { type CommandParser, defineScript } from "@redis/client";
import { FORGET_APPLIED_AFTER_MS, RECENT_UPDATES } from "./applied-updates.ts";
import { PROMO_SCRIPTS } from "./redis-promo.ts";

/** Whatever the script returned; the store checks its shape (see redis-replies.ts). */
const raw = (reply: unknown): unknown => reply;

/** Milliseconds on the Redis server's clock (the same for every instance talking to it). */
const SERVER_MS = `
local function server_ms()
  local now = redis.call('TIME')
  return tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
end
`;

/**
 * Appends audit entries: from ARGV[at]: the count, then per entry its JSON and the KEYS index of its
 * order's trail (0: no order). Returns the ARGV index after the entries.
 */
const APPEND_AUDIT = `
local function append_audit(log, at)
  local count = tonumber(ARGV[at])
  at = at + 1
  for _ = 1, count do
    redis.call('XADD', log, '*', 'e', ARGV[at])
    local trail = tonumber(ARGV[at + 1])
    if trail > 0 then redis.call('RPUSH', KEYS[trail], ARGV[at]) end
    at = at + 2
  end
  return at
end
`;

/**
 * A chat's applied Telegram updates (src/store/applied-updates.ts, whose rules these follow): the chat
 * hash's \`last\` (every id up to it), \`recent\` (the newest ids above it, ascending, space-separated)
 * and \`at\` (when it last applied one, on the instances' clock, passed in: the server's clock is for
 * leases). \`head\` is {last, recent, at} as HMGET reads them. \`since\` (acceptUpdate's): the time
 * given to applied updates an earlier version kept without one (redis-meta.ts).
 */
const APPLIED_UPDATES = `
local function applied_head(chat, now, since)
  local head = redis.call('HMGET', chat, 'last', 'recent', 'at')
  if since and head[1] and not head[3] then
    redis.call('HSET', chat, 'at', since)
    head[3] = since
  end
  local at = tonumber(head[3] or '0')
  if at > 0 and tonumber(now) - at >= ${FORGET_APPLIED_AFTER_MS} then return {false, false, false} end
  return head
end
local function applied_in(head, id)
  if tonumber(id) <= tonumber(head[1] or '0') then return true end
  return head[2] ~= false and string.find(' ' .. head[2] .. ' ', ' ' .. id .. ' ', 1, true) ~= nil
end
local function add_applied(chat, id, now, waiting)
  local head = applied_head(chat, now)
  if applied_in(head, id) then
    redis.call('HSET', chat, 'at', now)
    return
  end
  local last, recent, n = tonumber(head[1] or '0'), {}, tonumber(id)
  if head[2] then for text in string.gmatch(head[2], '%d+') do recent[#recent + 1] = tonumber(text) end end
  local at = #recent + 1
  while at > 1 and recent[at - 1] > n do at = at - 1 end
  table.insert(recent, at, n)
  local leaving = #recent - ${RECENT_UPDATES}
  while leaving > 0 and waiting and recent[leaving] >= waiting do leaving = leaving - 1 end
  if leaving > 0 then
    last = math.max(last, recent[leaving])
    local kept = {}
    for i = leaving + 1, #recent do kept[#kept + 1] = recent[i] end
    recent = kept
  end
  redis.call('HSET', chat, 'last', string.format('%d', last), 'recent', table.concat(recent, ' '), 'at', now)
end
`;

/** Takes a lease for an owner if it is free or already theirs (re-entrant). */
const TAKE_LEASE = `
local function take_lease(key, owner, ttl)
  local holder = redis.call('GET', key)
  if holder and holder ~= owner then return false end
  redis.call('SET', key, owner, 'PX', ttl)
  return true
end
`;

/**
 * openChat and openChatSince. KEYS: lease, chat. ARGV: owner, ttl ms, order key prefix of the chat's
 * shard, the revision the caller holds (0: none, read the chat whatever its revision). Returns {0,
 * holder}; {2, last, recent, at} (its applied updates) when the chat is still at that revision
 * (nothing more is read); or {1, rev, record, order JSON, last, recent, at}.
 */
export const openChatScript = defineScript({
  SCRIPT: `${TAKE_LEASE}
if not take_lease(KEYS[1], ARGV[1], ARGV[2]) then return {0, redis.call('GET', KEYS[1])} end
if ARGV[4] ~= '0' then
  local known = redis.call('HMGET', KEYS[2], 'rev', 'last', 'recent', 'at')
  if known[1] == ARGV[4] then return {2, known[2], known[3], known[4]} end
end
local chat = redis.call('HMGET', KEYS[2], 'rev', 'record', 'order', 'last', 'recent', 'at')
local order = false
if chat[3] then order = redis.call('GET', ARGV[3] .. chat[3]) end
return {1, chat[1], chat[2], order, chat[4], chat[5], chat[6]}`,
  NUMBER_OF_KEYS: 2,
  parseCommand(parser: CommandParser, lease: string, chat: string, owner: string, ttlMs: number, orderPrefix: string, knownRev: number) {
    parser.pushKey(lease);
    parser.pushKey(chat);
    parser.push(owner, String(ttlMs), orderPrefix, String(knownRev));
  },
  transformReply: raw,
});

/** readChat: openChat without the lease. KEYS: chat. ARGV: order key prefix. Returns {rev, record, order JSON, last, recent, at}. */
export const readChatScript = defineScript({
  SCRIPT: `
local chat = redis.call('HMGET', KEYS[1], 'rev', 'record', 'order', 'last', 'recent', 'at')
local order = false
if chat[3] then order = redis.call('GET', ARGV[1] .. chat[3]) end
return {chat[1], chat[2], order, chat[4], chat[5], chat[6]}`,
  NUMBER_OF_KEYS: 1,
  parseCommand(parser: CommandParser, chat: string, orderPrefix: string) {
    parser.pushKey(chat);
    parser.push(orderPrefix);
  },
  transformReply: raw,
});

/** renewLease. KEYS: lease. ARGV: owner, ttl ms. Returns 1 when renewed, 0 when the owner lost it. */
export const renewLeaseScript = defineScript({
  SCRIPT: `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`,
  NUMBER_OF_KEYS: 1,
  parseCommand(parser: CommandParser, lease: string, owner: string, ttlMs: number) {
    parser.pushKey(lease);
    parser.push(owner, String(ttlMs));
  },
  transformReply: raw,
});

/** releaseLease. KEYS: lease, queue. ARGV: owner. Returns 1 (kept: updates wait) or 0 (released or not held). */
export const releaseLeaseScript = defineScript({
  SCRIPT: `
if redis.call('ZCARD', KEYS[2]) > 0 then return 1 end
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 0`,
  NUMBER_OF_KEYS: 2,
  parseCommand(parser: CommandParser, lease: string, queue: string, owner: string) {
    parser.pushKey(lease);
    parser.pushKey(queue);
    parser.push(owner);
  },
  transformReply: raw,
});

/** The keys and arguments of one commit or append, as redis-calls.ts builds them. */
export type CommitCall = { keys: string[]; args: string[] };

/**
 * commit. KEYS: chat, lease, due, log, queue, inbox, inboxes, then the orders' keys, then the trails'.
 * ARGV: owner, expected rev ("" not checked), record JSON ("" keeps the chat), current order id ("" none), applied update
 * ("" none), release ("1"), chat id, order count, now (ms, the instance's clock), per order {JSON,
 * dueAt ("" none), due member}, then the audit entries (see APPEND_AUDIT). Returns {0, reason} or {1,
 * rev, pending (0/1)}.
 */
export const commitScript = defineScript({
  SCRIPT: `${APPEND_AUDIT}${APPLIED_UPDATES}
local chat, lease, due, log, queue, inbox, inboxes = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]
if redis.call('GET', lease) ~= ARGV[1] then return {0, 'lease_lost'} end
local rev = tonumber(redis.call('HGET', chat, 'rev') or '0')
if ARGV[2] ~= '' and rev ~= tonumber(ARGV[2]) then return {0, 'moved'} end
local orders = tonumber(ARGV[8])
-- The audit is written first: a script that fails part-way keeps what it already wrote (Redis does
-- not roll back), so an entry that cannot be written (no memory, a damaged key) fails the step with
-- nothing of it stored, instead of a step stored without its entries.
append_audit(log, 10 + orders * 3)
if ARGV[3] ~= '' then
  rev = rev + 1
  redis.call('HSET', chat, 'rev', rev, 'record', ARGV[3])
  if ARGV[4] == '' then redis.call('HDEL', chat, 'order') else redis.call('HSET', chat, 'order', ARGV[4]) end
elseif orders > 0 and rev > 0 then
  -- Orders written without the record still move the chat on (openChatSince compares revisions).
  rev = rev + 1
  redis.call('HSET', chat, 'rev', rev)
end
if ARGV[5] ~= '' then
  -- The applied update leaves the inbox; older ones that wait stay (they arrived late: still to apply),
  -- and the floor of applied updates stays below them.
  local removed = redis.call('ZREM', queue, ARGV[5])
  local left = redis.call('ZRANGE', queue, 0, -1)
  add_applied(chat, ARGV[5], ARGV[9], left[1] and tonumber(left[1]))
  if removed > 0 then
    redis.call('HDEL', inbox, ARGV[5], 't' .. ARGV[5])
    if #left == 0 then
      redis.call('DEL', inbox)
      redis.call('ZREM', inboxes, ARGV[7])
    else
      local oldest = false
      for _, id in ipairs(left) do
        local at = tonumber(redis.call('HGET', inbox, 't' .. id))
        if at and (not oldest or at < oldest) then oldest = at end
      end
      if oldest then redis.call('ZADD', inboxes, oldest, ARGV[7]) end
    end
  end
end
local at = 10
for i = 1, orders do
  redis.call('SET', KEYS[7 + i], ARGV[at])
  if ARGV[at + 1] == '' then
    redis.call('ZREM', due, ARGV[at + 2])
  else
    redis.call('ZADD', due, ARGV[at + 1], ARGV[at + 2])
  end
  at = at + 3
end
local pending = redis.call('ZCARD', queue) > 0
if ARGV[6] == '1' and not pending then redis.call('DEL', lease) end
if pending then return {1, rev, 1} end
return {1, rev, 0}`,
  parseCommand(parser: CommandParser, call: CommitCall) {
    parser.pushKeysLength(call.keys);
    parser.push(...call.args);
  },
  transformReply: raw,
});

/** appendAudit. KEYS: log, then the trails. ARGV: the audit entries (see APPEND_AUDIT). */
export const appendAuditScript = defineScript({
  SCRIPT: `${APPEND_AUDIT}
append_audit(KEYS[1], 1)
return 1`,
  parseCommand(parser: CommandParser, call: CommitCall) {
    parser.pushKeysLength(call.keys);
    parser.push(...call.args);
  },
  transformReply: raw,
});

/**
 * acceptUpdate. KEYS: chat, queue, inbox, inboxes, lease. ARGV: update id, raw update, owner, ttl ms,
 * chat id, now (ms, the instance's clock: for the applied updates), since when the store dates applied
 * updates (redis-meta.ts: the time given to those an earlier version kept, which have no \`at\`). The
 * arrival time is the server's. Returns
 * {accepted (0/1), held (0/1), the oldest queued update id when held ("" otherwise), the chat's
 * revision when held (nil otherwise)}.
 */
export const acceptUpdateScript = defineScript({
  SCRIPT: `${SERVER_MS}${TAKE_LEASE}${APPLIED_UPDATES}
local chat, queue, inbox, inboxes, lease = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local id = tonumber(ARGV[1])
local accepted = 0
if not applied_in(applied_head(chat, ARGV[6], ARGV[7]), ARGV[1]) and not redis.call('ZSCORE', queue, ARGV[1]) then
  local now = server_ms()
  if redis.call('ZCARD', queue) == 0 then redis.call('ZADD', inboxes, now, ARGV[5]) end
  redis.call('ZADD', queue, id, ARGV[1])
  redis.call('HSET', inbox, ARGV[1], ARGV[2], 't' .. ARGV[1], now)
  accepted = 1
end
local held, first, rev = 0, '', false
if redis.call('ZCARD', queue) > 0 and take_lease(lease, ARGV[3], ARGV[4]) then
  held = 1
  first = redis.call('ZRANGE', queue, 0, 0)[1]
  rev = redis.call('HGET', chat, 'rev')
end
return {accepted, held, first, rev}`,
  NUMBER_OF_KEYS: 5,
  parseCommand(
    parser: CommandParser,
    keys: readonly [string, string, string, string, string],
    updateId: number,
    update: string,
    owner: string,
    ttlMs: number,
    chatId: string,
    now: number,
    appliedSince: number,
  ) {
    for (const key of keys) parser.pushKey(key);
    parser.push(String(updateId), update, owner, String(ttlMs), chatId, String(now), String(appliedSince));
  },
  transformReply: raw,
});

/** queuedUpdates. KEYS: queue, inbox. ARGV: limit (> 0). Returns {id, raw, id, raw, …}, oldest id first. */
export const queuedUpdatesScript = defineScript({
  SCRIPT: `
local ids = redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)
if #ids == 0 then return {} end
local raws = redis.call('HMGET', KEYS[2], unpack(ids))
local out = {}
for i, id in ipairs(ids) do
  out[#out + 1] = id
  out[#out + 1] = raws[i]
end
return out`,
  NUMBER_OF_KEYS: 2,
  parseCommand(parser: CommandParser, queue: string, inbox: string, limit: number) {
    parser.pushKey(queue);
    parser.pushKey(inbox);
    parser.push(String(limit));
  },
  transformReply: raw,
});

/**
 * claimGoods. KEYS: goods, goods claim. ARGV: owner, ttl ms. Returns {"exists", base, secret, sentAt},
 * {"claimed"} or {"busy"}.
 */
export const claimGoodsScript = defineScript({
  SCRIPT: `${TAKE_LEASE}
local goods = redis.call('HMGET', KEYS[1], 'base', 'secret', 'sentAt')
if goods[1] then return {'exists', goods[1], goods[2], goods[3]} end
if take_lease(KEYS[2], ARGV[1], ARGV[2]) then return {'claimed'} end
return {'busy'}`,
  NUMBER_OF_KEYS: 2,
  parseCommand(parser: CommandParser, goods: string, claim: string, owner: string, ttlMs: number) {
    parser.pushKey(goods);
    parser.pushKey(claim);
    parser.push(owner, String(ttlMs));
  },
  transformReply: raw,
});

/**
 * putGoods. KEYS: goods, goods claim. ARGV: base JSON, has secret ("1"), secret, sentAt ("" none), owner.
 * Replaces the goods and frees the owner's claim.
 */
export const putGoodsScript = defineScript({
  SCRIPT: `
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'base', ARGV[1])
if ARGV[2] == '1' then redis.call('HSET', KEYS[1], 'secret', ARGV[3]) end
if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], 'sentAt', ARGV[4]) end
if redis.call('GET', KEYS[2]) == ARGV[5] then redis.call('DEL', KEYS[2]) end
return 1`,
  NUMBER_OF_KEYS: 2,
  parseCommand(
    parser: CommandParser,
    goods: string,
    claim: string,
    base: string,
    secret: string | null,
    sentAt: number | null,
    owner: string,
  ) {
    parser.pushKey(goods);
    parser.pushKey(claim);
    parser.push(base, secret === null ? "" : "1", secret ?? "", sentAt === null ? "" : String(sentAt), owner);
  },
  transformReply: raw,
});

/** markGoodsSent. KEYS: goods. ARGV: sent at (ms). Erases the secret once; later calls change nothing. */
export const markGoodsSentScript = defineScript({
  SCRIPT: `
if redis.call('HEXISTS', KEYS[1], 'base') == 0 or redis.call('HEXISTS', KEYS[1], 'sentAt') == 1 then return 0 end
redis.call('HDEL', KEYS[1], 'secret')
redis.call('HSET', KEYS[1], 'sentAt', ARGV[1])
return 1`,
  NUMBER_OF_KEYS: 1,
  parseCommand(parser: CommandParser, goods: string, at: number) {
    parser.pushKey(goods);
    parser.push(String(at));
  },
  transformReply: raw,
});

/** claims.tryClaim. KEYS: claim. ARGV: owner, ttl ms ("" never expires). Returns 1 when the owner holds it. */
export const tryClaimScript = defineScript({
  SCRIPT: `
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return 0 end
if ARGV[2] == '' then
  redis.call('SET', KEYS[1], ARGV[1])
else
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
end
return 1`,
  NUMBER_OF_KEYS: 1,
  parseCommand(parser: CommandParser, claim: string, owner: string, ttlMs: number | null) {
    parser.pushKey(claim);
    parser.push(owner, ttlMs === null ? "" : String(ttlMs));
  },
  transformReply: raw,
});

/** claims.release. KEYS: claim. ARGV: owner. Deletes the claim if the owner still holds it. */
export const releaseClaimScript = defineScript({
  SCRIPT: `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1`,
  NUMBER_OF_KEYS: 1,
  parseCommand(parser: CommandParser, claim: string, owner: string) {
    parser.pushKey(claim);
    parser.push(owner);
  },
  transformReply: raw,
});

/** Every script, as node-redis's `scripts` option: each becomes a method of the client. */
export const STORE_SCRIPTS = {
  openChat: openChatScript,
  readChat: readChatScript,
  renewLease: renewLeaseScript,
  releaseLease: releaseLeaseScript,
  commit: commitScript,
  appendAudit: appendAuditScript,
  acceptUpdate: acceptUpdateScript,
  queuedUpdates: queuedUpdatesScript,
  claimGoods: claimGoodsScript,
  putGoods: putGoodsScript,
  markGoodsSent: markGoodsSentScript,
  tryClaim: tryClaimScript,
  releaseClaim: releaseClaimScript,
  ...PROMO_SCRIPTS,
};
export type StoreScripts = typeof STORE_SCRIPTS;
