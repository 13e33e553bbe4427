/**
 * The keys and arguments the commit and append scripts take (redis-scripts.ts), built from a step: the
 * order, trail and deadline keys are named here, on the client, so every key a script touches is in
 * its KEYS.
 */
import type { ChatId } from "../domain/ids.ts";
import type { AuditEntry } from "../domain/records.ts";
import { type CommitStep, expectedRevOf } from "./shop-store.ts";
import { dueMember, type RedisKeys } from "./redis-keys.ts";
import type { CommitCall } from "./redis-scripts.ts";

/** The arguments of the audit part of a commit or append (see APPEND_AUDIT in redis-scripts.ts). */
export function pushAudit(keys: RedisKeys, chatId: ChatId, entries: readonly AuditEntry[], call: CommitCall): void {
  const trails = new Map<string, number>();
  call.args.push(String(entries.length));
  for (const entry of entries) {
    let trail = 0;
    if (entry.orderId) {
      trail = trails.get(entry.orderId) ?? call.keys.push(keys.trail(chatId, entry.orderId));
      trails.set(entry.orderId, trail);
    }
    call.args.push(JSON.stringify(entry), String(trail));
  }
}

/** The keys and arguments of the commit script for `step` (see `commitScript`). */
export function commitCall(keys: RedisKeys, step: CommitStep, now: number): CommitCall {
  const chatId = step.chatId;
  const orders = step.orders ?? [];
  const call: CommitCall = {
    keys: [
      keys.chat(chatId),
      keys.lease(chatId),
      keys.dueOf(chatId),
      keys.logOf(chatId),
      keys.queue(chatId),
      keys.inbox(chatId),
      keys.inboxesOf(chatId),
    ],
    args: [
      step.owner,
      String(expectedRevOf(step) ?? ""),
      step.chat ? JSON.stringify(step.chat.record) : "",
      step.chat?.record.currentOrderId ?? "",
      step.appliedUpdateId === undefined ? "" : String(step.appliedUpdateId),
      step.release ? "1" : "",
      chatId,
      String(orders.length),
      String(now),
    ],
  };
  for (const order of orders) {
    call.keys.push(keys.order(chatId, order.orderId));
    call.args.push(
      JSON.stringify(order),
      order.summary.dueAt === null ? "" : String(order.summary.dueAt),
      dueMember(chatId, order.orderId),
    );
  }
  pushAudit(keys, chatId, step.audit ?? [], call);
  return call;
}
