/**
 * What every store backend must do (src/store/shop-store.ts), as tests each backend runs against
 * itself: memory, SQLite, Redis and Redis Cluster. A fixture opens handles on one set of data (two
 * handles are two processes for SQLite and Redis) and moves time on (a fake clock where the backend
 * takes one; real time for Redis, whose leases expire on the server).
 */
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { ChatId, OrderId } from "../../src/domain/ids.ts";
import type { AuditEntry, ChatRecord, GoodsEntry, OrderRecord } from "../../src/domain/records.ts";
import { StoreNotEmptyError, type StoreItem } from "../../src/store/dump.ts";
import { memoryStore } from "../../src/store/memory.ts";
import type { ShopStore } from "../../src/store/shop-store.ts";
import { FORGET_APPLIED_AFTER_MS, RECENT_UPDATES } from "../../src/store/applied-updates.ts";
import { orderSummary } from "./order-summary.ts";

export type StoreFixture = {
  /** A handle on the fixture's data; each call may be a new connection ("another process"). */
  open(): Promise<ShopStore>;
  /** Moves time on by `ms` for leases and claims. */
  advance(ms: number): Promise<void>;
  /** The time the store sees now. */
  now(): number;
  /**
   * Moves the store's own clock on by `ms` at once: what a store times by the calling instance's clock
   * (how long a chat remembers the Telegram updates it applied). On Redis leases and claims stay on the
   * server's clock; elsewhere this is {@link StoreFixture.advance}.
   */
  jump(ms: number): Promise<void>;
  cleanup(): Promise<void>;
};

/** Lease and claim lengths the tests use: short, because Redis fixtures wait for them in real time. */
const TTL = 300;

const chatId = (n: number) => ChatId.parse(`chat-${n}`);
const orderId = (n: number) => OrderId.parse(`ord_contract${n}`);

/** A chat record as the engine writes one, for store tests. */
export function chatRecord(id: ChatId, currentOrderId: OrderId | null, turns: string[] = []): ChatRecord {
  return {
    v: 3,
    chatId: id,
    currentOrderId,
    recentOrderIds: [],
    turns,
    askedFor: null,
    choices: [],
    profile: { username: null, firstName: null },
    lastActivityAt: 1,
    updatedAt: 1,
  };
}

/** A quoted order record (or in `state`) as the engine writes one, for store tests. */
export function orderRecord(id: OrderId, chat: ChatId, options: { state?: string; dueAt?: number | null } = {}): OrderRecord {
  return {
    v: 2,
    orderId: id,
    chatId: chat,
    snapshot: { status: "active", value: options.state ?? "quoted", context: { orderId: id }, children: {} } as never,
    summary: orderSummary({ state: options.state ?? "quoted", dueAt: options.dueAt === undefined ? null : options.dueAt }),
    createdAt: 1,
    updatedAt: 1,
  };
}

function entry(chat: ChatId, order: OrderId | null, type: AuditEntry["type"], detail: AuditEntry["detail"] = {}): AuditEntry {
  return { v: 2, type, chatId: chat, orderId: order, at: 1, instance: "test", detail };
}

function goodsEntry(order: OrderId, chat: ChatId, secret = "SECRET-1"): GoodsEntry {
  return {
    v: 1,
    orderId: order,
    chatId: chat,
    provider: "sandbox",
    ref: `ref-${secret}`,
    hint: "…T-1",
    secret,
    issuedAt: 1,
    sentAt: null,
    revoked: [],
  };
}

export function describeStoreContract(name: string, makeFixture: () => Promise<StoreFixture>): void {
  describe(`${name} store: the contract every backend keeps`, () => {
    let fixture: StoreFixture;
    let store: ShopStore;
    let other: ShopStore;
    beforeEach(async () => {
      fixture = await makeFixture();
      store = await fixture.open();
      other = await fixture.open();
    });
    afterEach(async () => {
      await fixture.cleanup();
    });

    const A = { owner: "instance-a", ttlMs: TTL };
    const B = { owner: "instance-b", ttlMs: TTL };

    test("a chat never written opens empty, with the lease", async () => {
      const opened = await store.openChat(chatId(1), A);
      expect(opened).toEqual({ held: true, state: { chat: undefined, rev: 0, order: undefined, applied: { upTo: 0, recent: [], at: 0 } } });
    });

    test("a chat's lease belongs to one owner at a time, is re-entrant, and frees itself when it runs out", async () => {
      expect((await store.openChat(chatId(1), A)).held).toBe(true);
      expect(await other.openChat(chatId(1), B)).toEqual({ held: false, holder: "instance-a" });
      expect((await store.openChat(chatId(1), A)).held).toBe(true);
      await fixture.advance(TTL + 100);
      expect((await other.openChat(chatId(1), B)).held).toBe(true);
      expect(await store.renewLease(chatId(1), A)).toBe(false);
      expect(await other.renewLease(chatId(1), B)).toBe(true);
    });

    test("renewing a lease the owner does not hold takes nothing: not a free, released or run-out lease, nor extends another's", async () => {
      // Never taken: a renewal does not take it.
      expect(await store.renewLease(chatId(1), A)).toBe(false);
      expect((await other.openChat(chatId(1), B)).held).toBe(true);
      // Released: a renewal after it does not take it back.
      await store.openChat(chatId(2), A);
      await store.releaseLease(chatId(2), "instance-a");
      expect(await store.renewLease(chatId(2), A)).toBe(false);
      expect((await other.openChat(chatId(2), B)).held).toBe(true);
      // Run out and taken by nobody: a renewal does not bring it back.
      await store.openChat(chatId(3), A);
      await fixture.advance(TTL + 100);
      expect(await store.renewLease(chatId(3), A)).toBe(false);
      expect((await other.openChat(chatId(3), B)).held).toBe(true);
      // Another owner's: a renewal neither takes nor extends it, so it runs out when it would.
      await other.openChat(chatId(4), B);
      await fixture.advance(TTL / 2);
      expect(await store.renewLease(chatId(4), A)).toBe(false);
      expect(await store.openChat(chatId(4), A)).toEqual({ held: false, holder: "instance-b" });
      await fixture.advance(TTL / 2 + 100);
      expect((await store.openChat(chatId(4), A)).held).toBe(true);
    });

    test("a released lease can be taken by another owner at once", async () => {
      await store.openChat(chatId(1), A);
      expect(await store.releaseLease(chatId(1), "instance-a")).toEqual({ pendingUpdates: false });
      expect((await other.openChat(chatId(1), B)).held).toBe(true);
    });

    test("a commit writes the chat and its orders, and the next open reads them back with the current order", async () => {
      await store.openChat(chatId(1), A);
      await store.indexOrder(orderId(1), chatId(1));
      const committed = await store.commit({
        chatId: chatId(1),
        owner: "instance-a",
        chat: { record: chatRecord(chatId(1), orderId(1), ["hello"]), expectedRev: 0 },
        orders: [orderRecord(orderId(1), chatId(1))],
        release: true,
      });
      expect(committed).toEqual({ ok: true, rev: 1, pendingUpdates: false });
      const opened = await other.openChat(chatId(1), B);
      expect(opened.held && opened.state.rev).toBe(1);
      expect(opened.held && opened.state.chat).toEqual(chatRecord(chatId(1), orderId(1), ["hello"]));
      expect(opened.held && opened.state.order).toEqual(orderRecord(orderId(1), chatId(1)));
      expect(await other.readOrder(orderId(1))).toEqual(orderRecord(orderId(1), chatId(1)));
      expect((await other.readChat(chatId(1))).rev).toBe(1);
    });

    /** Chat 1 written by instance-a at revision 1, with its current order 1; the lease let go. */
    const writeChatWithOrder = async () => {
      await store.openChat(chatId(1), A);
      await store.indexOrder(orderId(1), chatId(1));
      const chat = { record: chatRecord(chatId(1), orderId(1), ["hello"]), expectedRev: 0 };
      await store.commit({ chatId: chatId(1), owner: "instance-a", chat, orders: [orderRecord(orderId(1), chatId(1))], release: true });
    };

    test("openChatSince reads nothing again while the chat is still at the caller's revision, and everything once it moved", async () => {
      await writeChatWithOrder();
      expect(await store.openChatSince(chatId(1), A, 1)).toEqual({ held: true, unchanged: true, applied: { upTo: 0, recent: [], at: 0 } });
      // The lease is taken as openChat takes it: another owner is refused while this one holds it.
      expect(await other.openChatSince(chatId(1), B, 1)).toEqual({ held: false, holder: "instance-a" });
      // Another writer moves the chat (and applies an update): the caller's revision no longer holds.
      await store.releaseLease(chatId(1), "instance-a");
      await other.acceptUpdate(chatId(1), 5, "{}", B);
      await other.commit({
        chatId: chatId(1),
        owner: "instance-b",
        chat: { record: chatRecord(chatId(1), orderId(1), ["moved"]), expectedRev: 1 },
        orders: [{ ...orderRecord(orderId(1), chatId(1)), updatedAt: 2_000 }],
        appliedUpdateId: 5,
        release: true,
      });
      const reopened = await store.openChatSince(chatId(1), A, 1);
      expect(reopened.held && "state" in reopened && reopened.state.rev).toBe(2);
      expect(reopened.held && "state" in reopened && reopened.state.chat).toEqual(chatRecord(chatId(1), orderId(1), ["moved"]));
      expect(reopened.held && "state" in reopened && reopened.state.order).toMatchObject({ updatedAt: 2_000 });
      expect(reopened.held && "state" in reopened && reopened.state.applied).toMatchObject({ upTo: 0, recent: [5] });
      // Unchanged again at the new revision, with the applied updates read fresh.
      expect(await store.openChatSince(chatId(1), A, 2)).toMatchObject({ held: true, unchanged: true, applied: { upTo: 0, recent: [5] } });
      // Revision 0 (nothing held) always reads.
      expect((await store.openChatSince(chatId(2), A, 0)).held && "state" in (await store.openChatSince(chatId(2), A, 0))).toBe(true);
    });

    test("a commit that writes only an order still moves the chat's revision, so a warm reader reads it again", async () => {
      await writeChatWithOrder();
      await other.openChat(chatId(1), B);
      const orderOnly = await other.commit({
        chatId: chatId(1),
        owner: "instance-b",
        orders: [orderRecord(orderId(1), chatId(1), { state: "awaiting_payment" })],
        release: true,
      });
      expect(orderOnly).toEqual({ ok: true, rev: 2, pendingUpdates: false });
      const reopened = await store.openChatSince(chatId(1), A, 1);
      expect(reopened.held && "state" in reopened && reopened.state.order).toMatchObject({ summary: { state: "awaiting_payment" } });
      // An audit entry alone changes nothing of the chat: the revision stays.
      await store.commit({ chatId: chatId(1), owner: "instance-a", audit: [entry(chatId(1), orderId(1), "command")] });
      expect(await store.openChatSince(chatId(1), A, 2)).toEqual({ held: true, unchanged: true, applied: { upTo: 0, recent: [], at: 0 } });
    });

    test("a stale writer's commit is refused: the chat moved under it", async () => {
      await store.openChat(chatId(1), A);
      expect(
        (
          await store.commit({
            chatId: chatId(1),
            owner: "instance-a",
            chat: { record: chatRecord(chatId(1), null, ["one"]), expectedRev: 0 },
          })
        ).ok,
      ).toBe(true);
      const stale = await store.commit({
        chatId: chatId(1),
        owner: "instance-a",
        chat: { record: chatRecord(chatId(1), null, ["stale"]), expectedRev: 0 },
        orders: [orderRecord(orderId(2), chatId(1))],
        audit: [entry(chatId(1), orderId(2), "command")],
      });
      expect(stale).toEqual({ ok: false, reason: "moved" });
      // Nothing of the refused commit was written: not the chat, not the order, not the audit entry.
      const read = await other.readChat(chatId(1));
      expect(read.chat !== "invalid" && read.chat?.turns).toEqual(["one"]);
      expect(await other.readOrders(chatId(1), [orderId(2)])).toEqual([]);
      expect(await other.auditOf(orderId(2))).toEqual([]);
      expect((await other.readLog(null, 10)).entries).toEqual([]);
    });

    test("a writer that lost its lease cannot commit, even with the right revision", async () => {
      await store.openChat(chatId(1), A);
      await fixture.advance(TTL + 100);
      await other.openChat(chatId(1), B);
      const late = await store.commit({
        chatId: chatId(1),
        owner: "instance-a",
        chat: { record: chatRecord(chatId(1), null), expectedRev: 0 },
      });
      expect(late).toEqual({ ok: false, reason: "lease_lost" });
      expect((await other.readChat(chatId(1))).chat).toBeUndefined();
    });

    test("a writer whose lease ran out and was taken again by its own owner cannot write orders over a chat that moved meanwhile", async () => {
      await writeChatWithOrder();
      // Instance A reads the chat at revision 1 and works on its order; its lease runs out meanwhile.
      await store.openChat(chatId(1), A);
      await fixture.advance(TTL + 100);
      await other.openChat(chatId(1), B);
      const paid = orderRecord(orderId(1), chatId(1), { state: "paid" });
      expect(await other.commit({ chatId: chatId(1), owner: "instance-b", orders: [paid], release: true })).toMatchObject({
        ok: true,
        rev: 2,
      });
      // A's process takes the chat's lease again (a Telegram update for it arrived there)…
      expect(await store.acceptUpdate(chatId(1), 9, '{"update_id":9}', A)).toMatchObject({ held: true });
      // …and the step that read revision 1 commits its order, and only its order: refused.
      const stale = await store.commit({
        chatId: chatId(1),
        owner: "instance-a",
        expectedRev: 1,
        orders: [orderRecord(orderId(1), chatId(1), { state: "expired" })],
      });
      expect(stale).toEqual({ ok: false, reason: "moved" });
      expect(await other.readOrder(orderId(1))).toMatchObject({ summary: { state: "paid" } });
      // At the revision it holds, a writer's order-only commit goes through.
      expect(
        await store.commit({ chatId: chatId(1), owner: "instance-a", expectedRev: 2, orders: [{ ...paid, updatedAt: 5 }] }),
      ).toMatchObject({ ok: true, rev: 3 });
    });

    test("two writers racing on one revision: exactly one commit wins", async () => {
      await store.openChat(chatId(1), A);
      const results = await Promise.all(
        ["x", "y", "z"].map((turn, i) =>
          (i % 2 === 0 ? store : other).commit({
            chatId: chatId(1),
            owner: "instance-a",
            chat: { record: chatRecord(chatId(1), null, [turn]), expectedRev: 0 },
          }),
        ),
      );
      expect(results.filter((r) => r.ok)).toHaveLength(1);
      expect(results.filter((r) => !r.ok)).toEqual([
        { ok: false, reason: "moved" },
        { ok: false, reason: "moved" },
      ]);
    });

    test("deadlines come from an index: due orders earliest first, a cleared deadline leaves it", async () => {
      await store.openChat(chatId(1), A);
      await store.openChat(chatId(2), A);
      await store.commit({
        chatId: chatId(1),
        owner: "instance-a",
        orders: [orderRecord(orderId(1), chatId(1), { dueAt: 300 }), orderRecord(orderId(2), chatId(1), { dueAt: 100 })],
      });
      await store.commit({
        chatId: chatId(2),
        owner: "instance-a",
        orders: [orderRecord(orderId(3), chatId(2), { dueAt: 200 }), orderRecord(orderId(4), chatId(2), { dueAt: 5_000 })],
      });
      expect(await other.dueOrders(1_000, 10)).toEqual([
        { orderId: orderId(2), chatId: chatId(1), dueAt: 100 },
        { orderId: orderId(3), chatId: chatId(2), dueAt: 200 },
        { orderId: orderId(1), chatId: chatId(1), dueAt: 300 },
      ]);
      expect(await other.dueOrders(1_000, 2)).toHaveLength(2);
      await store.commit({
        chatId: chatId(1),
        owner: "instance-a",
        orders: [orderRecord(orderId(2), chatId(1), { dueAt: null }), orderRecord(orderId(1), chatId(1), { dueAt: 4_000 })],
      });
      expect(await other.dueOrders(1_000, 10)).toEqual([{ orderId: orderId(3), chatId: chatId(2), dueAt: 200 }]);
    });

    test("the audit log keeps every entry of every commit in order, per order and as one log read in batches", async () => {
      await store.openChat(chatId(1), A);
      await store.openChat(chatId(2), A);
      await store.commit({
        chatId: chatId(1),
        owner: "instance-a",
        audit: [entry(chatId(1), orderId(1), "command", { n: 1 }), entry(chatId(1), orderId(1), "transition", { n: 2 })],
      });
      await store.commit({ chatId: chatId(2), owner: "instance-a", audit: [entry(chatId(2), orderId(3), "command", { n: 3 })] });
      await store.appendAudit(chatId(1), [
        entry(chatId(1), orderId(1), "secret_undeliverable", { n: 4 }),
        entry(chatId(1), null, "not_understood", { n: 5 }),
      ]);
      expect((await other.auditOf(orderId(1))).map((e) => e.detail.n)).toEqual([1, 2, 4]);
      const seen: number[] = [];
      let position: string | null = null;
      for (let i = 0; i < 10; i++) {
        const batch = await other.readLog(position, 2);
        seen.push(...batch.entries.map((e) => e.detail.n as number));
        position = batch.position;
        if (batch.entries.length === 0) break;
      }
      expect(seen.sort()).toEqual([1, 2, 3, 4, 5]);
      // Entries of one chat keep their order in the log.
      expect(seen.filter((n) => n !== 3)).toEqual([1, 2, 4, 5]);
      const after = await other.readLog(position, 10);
      expect(after.entries).toEqual([]);
      await store.commit({ chatId: chatId(1), owner: "instance-a", audit: [entry(chatId(1), orderId(1), "command", { n: 6 })] });
      expect((await other.readLog(position, 10)).entries.map((e) => e.detail.n)).toEqual([6]);
    });

    test("orders are found by id from any chat once indexed, and a chat's orders are read in one call", async () => {
      await store.openChat(chatId(1), A);
      await store.indexOrder(orderId(1), chatId(1));
      await store.indexOrder(orderId(2), chatId(1));
      await store.commit({
        chatId: chatId(1),
        owner: "instance-a",
        orders: [orderRecord(orderId(1), chatId(1)), orderRecord(orderId(2), chatId(1), { state: "delivered" })],
      });
      expect((await other.readOrder(orderId(2)))?.summary.state).toBe("delivered");
      expect(await other.readOrder(orderId(9))).toBeUndefined();
      expect((await other.readOrders(chatId(1), [orderId(2), orderId(9), orderId(1)])).map((o) => o.orderId)).toEqual([
        orderId(2),
        orderId(1),
      ]);
    });

    test("a payment id leads to its order", async () => {
      await store.indexPayment("sandbox:sbx_1", { orderId: orderId(1), chatId: chatId(1) });
      expect(await other.findPayment("sandbox:sbx_1")).toEqual({ orderId: orderId(1), chatId: chatId(1) });
      expect(await other.findPayment("sandbox:sbx_2")).toBeUndefined();
    });

    test("goods are issued once: one claim at a time, then the entry; the secret is erased once sent", async () => {
      expect(await store.claimGoods(orderId(1), chatId(1), "instance-a", TTL)).toEqual({ kind: "claimed" });
      expect(await other.claimGoods(orderId(1), chatId(1), "instance-b", TTL)).toEqual({ kind: "busy" });
      await store.putGoods(goodsEntry(orderId(1), chatId(1)), "instance-a");
      expect(await other.claimGoods(orderId(1), chatId(1), "instance-b", TTL)).toEqual({
        kind: "exists",
        entry: goodsEntry(orderId(1), chatId(1)),
      });
      await other.markGoodsSent(orderId(1), chatId(1), 99);
      expect(await store.goods(orderId(1), chatId(1))).toEqual({ ...goodsEntry(orderId(1), chatId(1)), secret: null, sentAt: 99 });
      await other.markGoodsSent(orderId(1), chatId(1), 150);
      expect((await store.goods(orderId(1), chatId(1)))?.sentAt).toBe(99);
    });

    test("a goods claim whose holder died frees itself", async () => {
      expect((await store.claimGoods(orderId(1), chatId(1), "instance-a", TTL)).kind).toBe("claimed");
      await fixture.advance(TTL + 100);
      expect((await other.claimGoods(orderId(1), chatId(1), "instance-b", TTL)).kind).toBe("claimed");
    });

    test("a Telegram update is kept before it is applied, applied in order, and never twice", async () => {
      expect(await store.acceptUpdate(chatId(1), 11, '{"update_id":11}', A)).toMatchObject({ accepted: true, held: true, next: 11 });
      expect(await other.acceptUpdate(chatId(1), 12, '{"update_id":12}', B)).toMatchObject({ accepted: true, held: false, next: null });
      expect(await other.acceptUpdate(chatId(1), 11, '{"update_id":11}', B)).toMatchObject({ accepted: false, held: false, next: null });
      expect(await store.queuedUpdates(chatId(1), 10)).toEqual([
        { updateId: 11, raw: '{"update_id":11}' },
        { updateId: 12, raw: '{"update_id":12}' },
      ]);
      const first = await store.commit({ chatId: chatId(1), owner: "instance-a", appliedUpdateId: 11, release: true });
      // 12 still waits: the lease is kept for its holder to work it off.
      expect(first).toMatchObject({ ok: true, pendingUpdates: true });
      expect((await other.openChat(chatId(1), B)).held).toBe(false);
      expect(await store.queuedUpdates(chatId(1), 10)).toEqual([{ updateId: 12, raw: '{"update_id":12}' }]);
      expect(await store.commit({ chatId: chatId(1), owner: "instance-a", appliedUpdateId: 12, release: true })).toMatchObject({
        ok: true,
        pendingUpdates: false,
      });
      expect((await other.readChat(chatId(1))).applied).toMatchObject({ upTo: 0, recent: [11, 12] });
      expect(await other.acceptUpdate(chatId(1), 12, '{"update_id":12}', B)).toMatchObject({ accepted: false, held: false, next: null });
      expect(await other.acceptUpdate(chatId(1), 11, '{"update_id":11}', B)).toMatchObject({ accepted: false, held: false, next: null });
      expect((await other.openChat(chatId(1), B)).held).toBe(true);
    });

    test("the owner that takes a chat's lease with an update is told the chat's revision (to apply it from memory when it has that one)", async () => {
      await writeChatWithOrder();
      expect(await store.acceptUpdate(chatId(1), 21, '{"update_id":21}', A)).toEqual({ accepted: true, held: true, next: 21, rev: 1 });
      expect(await other.acceptUpdate(chatId(1), 22, '{"update_id":22}', B)).toEqual({
        accepted: true,
        held: false,
        next: null,
        rev: null,
      });
      expect(await store.acceptUpdate(chatId(2), 23, '{"update_id":23}', A)).toEqual({ accepted: true, held: true, next: 23, rev: 0 });
    });

    test("an update older than one already applied is a message that came late: kept, applied, and only then a duplicate", async () => {
      await store.acceptUpdate(chatId(1), 12, '{"update_id":12}', A);
      await store.commit({ chatId: chatId(1), owner: "instance-a", appliedUpdateId: 12, release: true });
      // Telegram sent 10 and 11 before 12, but they reach the shop after it (or a refused 10 comes again).
      expect(await other.acceptUpdate(chatId(1), 10, '{"update_id":10}', B)).toMatchObject({ accepted: true, held: true, next: 10 });
      expect(await store.acceptUpdate(chatId(1), 11, '{"update_id":11}', A)).toMatchObject({ accepted: true, held: false, next: null });
      expect(await other.queuedUpdates(chatId(1), 10)).toEqual([
        { updateId: 10, raw: '{"update_id":10}' },
        { updateId: 11, raw: '{"update_id":11}' },
      ]);
      // Applying the late 10 leaves 11 waiting (it is older than 12, but not applied): the lease stays for it.
      expect(await other.commit({ chatId: chatId(1), owner: "instance-b", appliedUpdateId: 10, release: true })).toMatchObject({
        ok: true,
        pendingUpdates: true,
      });
      expect(await other.queuedUpdates(chatId(1), 10)).toEqual([{ updateId: 11, raw: '{"update_id":11}' }]);
      expect(await other.commit({ chatId: chatId(1), owner: "instance-b", appliedUpdateId: 11, release: true })).toMatchObject({
        ok: true,
        pendingUpdates: false,
      });
      expect((await store.readChat(chatId(1))).applied).toMatchObject({ upTo: 0, recent: [10, 11, 12] });
      for (const id of [10, 11, 12])
        expect(await store.acceptUpdate(chatId(1), id, `{"update_id":${id}}`, A)).toMatchObject({
          accepted: false,
          held: false,
          next: null,
        });
      expect(await store.queuedUpdates(chatId(1), 10)).toEqual([]);
    });

    test(`a chat remembers its newest ${RECENT_UPDATES} applied updates; older ones count as applied up to the oldest it let go`, async () => {
      await store.openChat(chatId(1), A);
      // Applied out of order: every even id first, then the odd ones (late), 2 .. 2 * (RECENT_UPDATES + 5).
      const ids = Array.from({ length: RECENT_UPDATES + 5 }, (_, i) => 2 * (i + 1));
      for (const id of [...ids, ...ids.slice(-3).map((id) => id - 1)])
        await store.commit({ chatId: chatId(1), owner: "instance-a", appliedUpdateId: id });
      const { applied } = await store.readChat(chatId(1));
      const all = [...ids, ...ids.slice(-3).map((id) => id - 1)].sort((a, b) => a - b);
      expect(applied).toMatchObject({ upTo: all[all.length - RECENT_UPDATES - 1], recent: all.slice(-RECENT_UPDATES) });
      await store.releaseLease(chatId(1), "instance-a");
      // Below the floor: a duplicate (Telegram keeps an update a day; the window spans that many messages of one chat).
      expect(await other.acceptUpdate(chatId(1), 3, "{}", B)).toMatchObject({ accepted: false });
      // Above the floor and not in the window: a late message, kept.
      const late = all[all.length - RECENT_UPDATES]! + 1;
      expect(all).not.toContain(late);
      expect(await other.acceptUpdate(chatId(1), late, "{}", B)).toMatchObject({ accepted: true, held: true, next: late });
    });

    test("the holder that accepts an update is told which waiting update comes first: an older one kept before, or this one", async () => {
      await other.openChat(chatId(1), B);
      // Ids 9 and 10: the order is by number, not by text ("10" < "9").
      expect(await store.acceptUpdate(chatId(1), 9, '{"update_id":9}', A)).toMatchObject({ accepted: true, held: false, next: null });
      // Instance B let go without working the inbox off (it died, or its lease ran out).
      await fixture.advance(TTL + 100);
      expect(await store.acceptUpdate(chatId(1), 10, '{"update_id":10}', A)).toMatchObject({ accepted: true, held: true, next: 9 });
      await store.commit({ chatId: chatId(1), owner: "instance-a", appliedUpdateId: 9, release: true });
      // Telegram sends 10 again before it was applied: still first in line, and the lease is this owner's.
      expect(await store.acceptUpdate(chatId(1), 10, '{"update_id":10}', A)).toMatchObject({ accepted: false, held: true, next: 10 });
      await store.commit({ chatId: chatId(1), owner: "instance-a", appliedUpdateId: 10, release: true });
      expect(await store.acceptUpdate(chatId(1), 11, '{"update_id":11}', A)).toMatchObject({ accepted: true, held: true, next: 11 });
    });

    test("a lease is not released while updates wait, so none is stranded", async () => {
      await store.openChat(chatId(1), A);
      expect(await other.acceptUpdate(chatId(1), 5, "{}", B)).toMatchObject({ accepted: true, held: false, next: null });
      expect(await store.releaseLease(chatId(1), "instance-a")).toEqual({ pendingUpdates: true });
      expect((await other.openChat(chatId(1), B)).held).toBe(false);
    });

    test("two days after a chat last applied an update it forgets which ones: after a quiet week Telegram numbers them afresh from a random id", async () => {
      await store.openChat(chatId(1), A);
      const ids = Array.from({ length: RECENT_UPDATES + 10 }, (_, i) => 5_000 + i);
      for (const id of ids) await store.commit({ chatId: chatId(1), owner: "instance-a", appliedUpdateId: id });
      await store.releaseLease(chatId(1), "instance-a");
      // Below the floor, and in the window: both repeats while the chat remembers.
      expect(await other.acceptUpdate(chatId(1), 4_000, "{}", B)).toMatchObject({ accepted: false });
      expect(await other.acceptUpdate(chatId(1), ids.at(-1)!, "{}", B)).toMatchObject({ accepted: false });
      await fixture.jump(FORGET_APPLIED_AFTER_MS - 60_000);
      expect(await other.acceptUpdate(chatId(1), 4_000, "{}", B)).toMatchObject({ accepted: false });
      await fixture.jump(120_000);
      // The first update after the quiet spell, numbered below everything the chat applied: a new message.
      expect(await other.acceptUpdate(chatId(1), 4_000, '{"update_id":4000}', B)).toMatchObject({
        accepted: true,
        held: true,
        next: 4_000,
      });
      await other.commit({ chatId: chatId(1), owner: "instance-b", appliedUpdateId: 4_000, release: true });
      expect((await store.readChat(chatId(1))).applied).toMatchObject({ upTo: 0, recent: [4_000] });
      expect(await store.acceptUpdate(chatId(1), 4_000, "{}", A)).toMatchObject({ accepted: false });
      expect(await store.acceptUpdate(chatId(1), ids.at(-1)!, "{}", A)).toMatchObject({ accepted: true });
    });

    test("a backup of a version that kept only a chat's newest applied update restores it as the floor, remembered two days from the restore", async () => {
      const old: StoreItem[] = [
        { kind: "chat", chatId: chatId(4), rev: 0, record: null, currentOrderId: null, lastUpdateId: 40 },
        { kind: "update", chatId: chatId(4), updateId: 42, raw: '{"update_id":42}', receivedAt: fixture.now() },
      ];
      await store.importAll(
        (async function* () {
          yield* old;
        })(),
      );
      expect((await store.readChat(chatId(4))).applied).toMatchObject({ upTo: 40, recent: [] });
      expect((await store.readChat(chatId(4))).applied.at).toBeGreaterThan(0);
      expect(await store.acceptUpdate(chatId(4), 40, "{}", A)).toMatchObject({ accepted: false, held: true, next: 42 });
      expect(await store.acceptUpdate(chatId(4), 41, '{"update_id":41}', A)).toMatchObject({ accepted: true, next: 41 });
      await store.releaseLease(chatId(4), "instance-a");
      await fixture.jump(FORGET_APPLIED_AFTER_MS + 60_000);
      expect(await other.acceptUpdate(chatId(4), 39, '{"update_id":39}', B)).toMatchObject({ accepted: true });
    });

    test("an update waiting in the inbox never falls under the floor of applied ones, however many newer ones are applied meanwhile", async () => {
      await store.openChat(chatId(5), A);
      for (const id of [10, ...Array.from({ length: RECENT_UPDATES - 1 }, (_, i) => 1_000 + i)])
        await store.commit({ chatId: chatId(5), owner: "instance-a", appliedUpdateId: id });
      // 5 came late and waits while the step of 2,000 (already under way) commits.
      expect(await store.acceptUpdate(chatId(5), 5, '{"update_id":5}', A)).toMatchObject({ accepted: true });
      await store.commit({ chatId: chatId(5), owner: "instance-a", appliedUpdateId: 2_000 });
      const meanwhile = (await store.readChat(chatId(5))).applied;
      expect(meanwhile.upTo).toBeLessThan(5);
      expect(meanwhile.recent).not.toContain(5);
      expect(await store.queuedUpdates(chatId(5), 5)).toEqual([{ updateId: 5, raw: '{"update_id":5}' }]);
      await store.commit({ chatId: chatId(5), owner: "instance-a", appliedUpdateId: 5, release: true });
      const after = (await store.readChat(chatId(5))).applied;
      expect(after.recent).toHaveLength(RECENT_UPDATES);
      expect(after.upTo).toBe(10);
    });

    test("inboxes nobody works off are found for the sweeper", async () => {
      await store.acceptUpdate(chatId(1), 7, "{}", A);
      const before = fixture.now();
      await fixture.advance(TTL + 100);
      expect(await other.waitingInboxes(before, 10)).toEqual([chatId(1)]);
      expect(await other.waitingInboxes(before - 1_000, 10)).toEqual([]);
      expect((await other.openChat(chatId(1), B)).held).toBe(true);
      await other.commit({ chatId: chatId(1), owner: "instance-b", appliedUpdateId: 7, release: true });
      expect(await other.waitingInboxes(fixture.now(), 10)).toEqual([]);
    });

    test("a read model is saved with its log position and loaded back", async () => {
      expect(await other.loadProjection("dashboard")).toBeUndefined();
      await store.saveProjection("dashboard", { position: "0", state: '{"rows":[]}' });
      expect(await other.loadProjection("dashboard")).toEqual({ position: "0", state: '{"rows":[]}' });
    });

    test("claims are exclusive until released or expired", async () => {
      expect(await store.claims.tryClaim("job", "a", TTL)).toBe(true);
      expect(await other.claims.tryClaim("job", "b", TTL)).toBe(false);
      await store.claims.release("job", "a");
      expect(await other.claims.tryClaim("job", "b", TTL)).toBe(true);
      await fixture.advance(TTL + 100);
      expect(await store.claims.tryClaim("job", "a", null)).toBe(true);
      expect(await other.claims.tryClaim("job", "b", TTL)).toBe(false);
    });

    test("plain key-value keeps what it is given", async () => {
      await store.kv("preferences").set("42", { language: "ru" });
      expect(await other.kv("preferences").get("42")).toEqual({ language: "ru" });
      expect(await other.kv("other").get("42")).toBeUndefined();
    });

    describe("exportAll and importAll (backup, restore and moving a shop, issue 22)", () => {
      /** Fills `store` with one of everything a shop keeps; returns what the checks need. */
      const fillShop = async () => {
        await store.openChat(chatId(1), A);
        await store.indexOrder(orderId(1), chatId(1));
        await store.indexOrder(orderId(2), chatId(1));
        await store.commit({
          chatId: chatId(1),
          owner: "instance-a",
          chat: { record: { ...chatRecord(chatId(1), orderId(2), ["hi"]), recentOrderIds: [orderId(1)] }, expectedRev: 0 },
          orders: [
            orderRecord(orderId(1), chatId(1), { state: "delivered.settled" }),
            orderRecord(orderId(2), chatId(1), { dueAt: 5_000 }),
          ],
          audit: [
            entry(chatId(1), orderId(1), "command", { n: 1 }),
            entry(chatId(1), orderId(1), "transition", { n: 2 }),
            entry(chatId(1), orderId(2), "order", { n: 3 }),
          ],
          release: true,
        });
        await store.openChat(chatId(2), A);
        await store.commit({
          chatId: chatId(2),
          owner: "instance-a",
          chat: { record: { ...chatRecord(chatId(2), null), v: 99 } as unknown as ChatRecord, expectedRev: 0 },
          audit: [entry(chatId(2), null, "not_understood", { n: 4 })],
          release: true,
        });
        await store.appendAudit(chatId(1), [entry(chatId(1), orderId(2), "payment", { n: 5 })]);
        await store.indexPayment("sandbox:sbx_2", { orderId: orderId(2), chatId: chatId(1) });
        await store.claimGoods(orderId(1), chatId(1), "instance-a", TTL);
        await store.putGoods(goodsEntry(orderId(1), chatId(1), "CODE-1"), "instance-a");
        await store.markGoodsSent(orderId(1), chatId(1), 77);
        await store.claimGoods(orderId(3), chatId(1), "instance-a", TTL);
        await store.putGoods(goodsEntry(orderId(3), chatId(1), "CODE-3"), "instance-a");
        // A chat whose only trace is its Telegram bookkeeping: two updates applied (38 came late), one waiting.
        await store.acceptUpdate(chatId(3), 40, '{"update_id":40}', A);
        await store.commit({ chatId: chatId(3), owner: "instance-a", appliedUpdateId: 40, release: true });
        await store.acceptUpdate(chatId(3), 38, '{"update_id":38}', A);
        await store.commit({ chatId: chatId(3), owner: "instance-a", appliedUpdateId: 38, release: true });
        await store.acceptUpdate(chatId(3), 41, '{"update_id":41}', B);
        // A read model that applied the first two log entries.
        const firstTwo = await store.readLog(null, 2);
        await store.saveProjection("dashboard", { position: firstTwo.position, state: '{"applied":2}' });
        await store.kv("preferences").set("1", { language: "ru" });
        await store.kv("sandbox_invoices").set("sbx_2", { orderId: orderId(2), amount: 4000 }, 3_600_000);
        // Promo code uses held by two orders of two customers.
        await store.usePromo("SPRING10", orderId(1), chatId(1), { maxUses: 2, oncePerCustomer: true });
        await store.usePromo("SPRING10", orderId(7), chatId(2), { maxUses: 2, oncePerCustomer: true });
      };
      const wholeLog = async (target: ShopStore, from: string | null = null) => {
        const entries: AuditEntry[] = [];
        let position = from;
        for (;;) {
          const batch = await target.readLog(position, 2);
          if (batch.entries.length === 0) return entries;
          entries.push(...batch.entries);
          position = batch.position;
        }
      };
      /** The log in its order; everything else in any order (backends list keys differently); kv left out (expiry moves). */
      const canonical = (items: StoreItem[]) => ({
        log: items.filter((item) => item.kind === "audit"),
        rest: items
          .filter((item) => item.kind !== "audit" && item.kind !== "kv")
          .map((item) => JSON.stringify(item))
          .sort(),
      });
      const collect = async (items: AsyncIterable<StoreItem>) => {
        const all: StoreItem[] = [];
        for await (const item of items) all.push(item);
        return all;
      };

      test("everything a store holds is copied into an empty store and reads back the same", async () => {
        await fillShop();
        const empty = await makeFixture();
        try {
          const target = await empty.open();
          const report = await target.importAll(store.exportAll());
          expect(report.counts).toMatchObject({
            chat: 3,
            order: 2,
            audit: 5,
            payment: 1,
            goods: 2,
            update: 1,
            projection: 1,
            promo_use: 2,
            kv: 2,
          });
          expect(report.projectionsLeftToRebuild).toBe(0);

          for (const id of [chatId(1), chatId(2), chatId(3)]) expect(await target.readChat(id)).toEqual(await store.readChat(id));
          expect((await target.readChat(chatId(2))).chat).toBe("invalid");
          expect(await target.readOrders(chatId(1), [orderId(1), orderId(2)])).toEqual(
            await store.readOrders(chatId(1), [orderId(1), orderId(2)]),
          );
          expect(await target.readOrder(orderId(2))).toEqual(orderRecord(orderId(2), chatId(1), { dueAt: 5_000 }));
          expect(await target.dueOrders(1_000_000, 10)).toEqual([{ orderId: orderId(2), chatId: chatId(1), dueAt: 5_000 }]);
          for (const id of [orderId(1), orderId(2)]) expect(await target.auditOf(id)).toEqual(await store.auditOf(id));
          expect((await wholeLog(target)).map((e) => e.detail.n)).toEqual((await wholeLog(store)).map((e) => e.detail.n));
          expect(await target.findPayment("sandbox:sbx_2")).toEqual({ orderId: orderId(2), chatId: chatId(1) });
          expect(await target.goods(orderId(1), chatId(1))).toEqual({
            ...goodsEntry(orderId(1), chatId(1), "CODE-1"),
            secret: null,
            sentAt: 77,
          });
          expect(await target.goods(orderId(3), chatId(1))).toEqual(goodsEntry(orderId(3), chatId(1), "CODE-3"));
          expect(await target.claimGoods(orderId(3), chatId(1), "instance-b", TTL)).toEqual({
            kind: "exists",
            entry: goodsEntry(orderId(3), chatId(1), "CODE-3"),
          });
          expect(await target.queuedUpdates(chatId(3), 10)).toEqual([{ updateId: 41, raw: '{"update_id":41}' }]);
          expect((await target.readChat(chatId(3))).applied).toMatchObject({ upTo: 0, recent: [38, 40] });
          expect(await target.acceptUpdate(chatId(3), 40, '{"update_id":40}', B)).toMatchObject({ accepted: false });
          expect(await target.acceptUpdate(chatId(3), 38, '{"update_id":38}', B)).toMatchObject({ accepted: false });
          expect(await target.kv("preferences").get("1")).toEqual({ language: "ru" });
          expect(await target.kv("sandbox_invoices").get("sbx_2")).toEqual({ orderId: orderId(2), amount: 4000 });
          // Promo uses keep counting where they were: the code is used up, and each customer has used it.
          expect(await target.promoUses("SPRING10", chatId(1), orderId(1))).toEqual({ uses: 2, byCustomer: 1, heldByOrder: true });
          expect(await target.usePromo("SPRING10", orderId(8), chatId(3), { maxUses: 2, oncePerCustomer: true })).toBe("used_up");

          // The read model goes on from its own position in the new log: after the same two entries.
          const saved = await target.loadProjection("dashboard");
          expect(saved?.state).toBe('{"applied":2}');
          expect((await wholeLog(target, saved!.position)).map((e) => e.detail.n)).toEqual(
            (await wholeLog(store)).slice(2).map((e) => e.detail.n),
          );

          // Leases and claims belong to running processes: none is copied.
          expect((await target.openChat(chatId(1), B)).held).toBe(true);
          // And the copy is a store like any other: it exports what it was given.
          const [again, original] = [await collect(target.exportAll()), await collect(store.exportAll())];
          expect(canonical(again)).toEqual(canonical(original));
        } finally {
          await empty.cleanup();
        }
      });

      test("what is written while an export runs is in the copy whole or not at all", async () => {
        // chat-2 is read first on Redis (shard 0); chat-7 and chat-8 last (shards 15 and 14).
        const write = async (target: ShopStore, owner: typeof A, id: ChatId, order: OrderRecord, rev: number | null) => {
          await target.openChat(id, owner);
          const chat = rev === null ? {} : { chat: { record: chatRecord(id, order.orderId), expectedRev: rev } };
          const done = await target.commit({
            chatId: id,
            owner: owner.owner,
            ...chat,
            orders: [order],
            audit: [entry(id, order.orderId, "order", { state: order.summary.state })],
            release: true,
          });
          expect(done.ok).toBe(true);
        };
        const paid = orderRecord(orderId(80), chatId(8), { state: "paid.delivering" });
        paid.summary.paidAt = 10;
        await write(store, A, chatId(2), orderRecord(orderId(20), chatId(2)), 0);
        await write(store, A, chatId(8), paid, 0);

        const reading = store.exportAll()[Symbol.asyncIterator]();
        const first = await reading.next();
        // While it runs: a new chat's first order, and a paid order's goods issued and the order delivered.
        await write(other, B, chatId(7), orderRecord(orderId(70), chatId(7)), 0);
        await other.claimGoods(orderId(80), chatId(8), "instance-b", TTL);
        await other.putGoods(goodsEntry(orderId(80), chatId(8)), "instance-b");
        await write(other, B, chatId(8), { ...paid, summary: { ...paid.summary, state: "delivered.settled", deliveredAt: 20 } }, null);
        const items: StoreItem[] = first.done ? [] : [first.value];
        for (let next = await reading.next(); !next.done; next = await reading.next()) items.push(next.value);

        const copy = memoryStore();
        await copy.importAll(
          (async function* () {
            yield* items;
          })(),
        );
        const log = await wholeLog(copy);
        for (const logged of log) {
          expect(await copy.readOrder(logged.orderId!), `the order of ${JSON.stringify(logged.detail)}`).toBeDefined();
          expect((await copy.readChat(logged.chatId)).chat, `the chat of ${JSON.stringify(logged.detail)}`).toBeDefined();
        }
        const delivered = await copy.readOrder(orderId(80));
        expect(delivered?.summary.state).toBe(log.filter((e) => e.orderId === orderId(80)).at(-1)?.detail.state);
        if (delivered?.summary.deliveredAt !== null) expect(await copy.goods(orderId(80), chatId(8))).toBeDefined();
        const newChat = await copy.readChat(chatId(7));
        expect([
          newChat.chat === undefined,
          (await copy.readOrder(orderId(70))) === undefined,
          log.every((e) => e.chatId !== chatId(7)),
        ]).toEqual(newChat.chat === undefined ? [true, true, true] : [false, false, false]);
      });

      test("a store that holds a shop's data refuses an import and keeps what it has", async () => {
        await fillShop();
        const other = await makeFixture();
        try {
          const target = await other.open();
          await target.kv("preferences").set("9", { language: "en" });
          await expect(target.importAll(store.exportAll())).rejects.toBeInstanceOf(StoreNotEmptyError);
          expect((await target.readChat(chatId(1))).chat).toBeUndefined();
          expect(await target.kv("preferences").get("9")).toEqual({ language: "en" });
        } finally {
          await other.cleanup();
        }
      });
    });

    test("an order holds a promo code's use once however often it asks; max_uses holds; a use given back frees its place", async () => {
      const limits = { maxUses: 2, oncePerCustomer: false };
      expect(await store.usePromo("SPRING10", orderId(1), chatId(1), limits)).toBe("ok");
      expect(await other.usePromo("SPRING10", orderId(1), chatId(1), limits)).toBe("ok");
      expect(await other.usePromo("SPRING10", orderId(2), chatId(2), limits)).toBe("ok");
      expect(await store.usePromo("SPRING10", orderId(3), chatId(3), limits)).toBe("used_up");
      // Another code has its own count; an order already holding one is told ok even at the limit.
      expect(await store.usePromo("WELCOME5", orderId(3), chatId(3), limits)).toBe("ok");
      expect(await store.usePromo("SPRING10", orderId(2), chatId(2), limits)).toBe("ok");
      await other.releasePromo("SPRING10", orderId(1), chatId(1));
      await other.releasePromo("SPRING10", orderId(9), chatId(9));
      expect(await store.usePromo("SPRING10", orderId(3), chatId(3), limits)).toBe("ok");
      expect(await other.promoUses("SPRING10", chatId(3), orderId(3))).toEqual({ uses: 2, byCustomer: 1, heldByOrder: true });
      expect(await other.promoUses("SPRING10", chatId(1), orderId(1))).toEqual({ uses: 2, byCustomer: 0, heldByOrder: false });
      expect(await other.promoUses("NEVER", chatId(1))).toEqual({ uses: 0, byCustomer: 0, heldByOrder: false });
    });

    test("a once-per-customer code: a second order of the same chat is refused, another chat's is not, unlimited uses", async () => {
      const limits = { maxUses: null, oncePerCustomer: true };
      expect(await store.usePromo("WELCOME5", orderId(1), chatId(1), limits)).toBe("ok");
      expect(await other.usePromo("WELCOME5", orderId(2), chatId(1), limits)).toBe("already_used_by_you");
      expect(await other.usePromo("WELCOME5", orderId(3), chatId(2), limits)).toBe("ok");
      expect(await store.usePromo("WELCOME5", orderId(1), chatId(1), limits)).toBe("ok");
      await store.releasePromo("WELCOME5", orderId(1), chatId(1));
      expect(await other.usePromo("WELCOME5", orderId(2), chatId(1), limits)).toBe("ok");
      expect(await store.promoUses("WELCOME5", chatId(1))).toMatchObject({ uses: 2, byCustomer: 1 });
    });

    test("the last uses of a promo code raced from two processes go to exactly max_uses orders", async () => {
      const limits = { maxUses: 3, oncePerCustomer: false };
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? store : other).usePromo("RACE", orderId(100 + i), chatId(100 + i), limits)),
      );
      expect(results.filter((r) => r === "ok")).toHaveLength(3);
      expect(results.filter((r) => r === "used_up")).toHaveLength(9);
      expect((await store.promoUses("RACE", chatId(1))).uses).toBe(3);
    });

    test("a record that fails its schema reads as invalid, not as absent", async () => {
      await store.openChat(chatId(1), A);
      const broken = { ...chatRecord(chatId(1), null), v: 99 } as unknown as ChatRecord;
      await store.commit({ chatId: chatId(1), owner: "instance-a", chat: { record: broken, expectedRev: 0 } });
      const read = await other.readChat(chatId(1));
      expect(read).toMatchObject({ chat: "invalid", rev: 1 });
    });
  });
}
