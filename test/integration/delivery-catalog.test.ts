/**
 * Delivery for a catalog (issue 21), against the OpenRouter stand-in: a key's spending limit is the
 * credit sold (the owner keeps the rest), a lost key is replaced by a new one holding what remained
 * while the old one is disabled (never two usable keys, also when the replacement is interrupted), and
 * a catalog's voucher products get voucher codes whatever DELIVERY_PROVIDER issues for keys.
 */
import { afterEach, describe, expect, test } from "vitest";
import { builtInProduct, DEFAULT_CATALOG } from "../../src/domain/catalog.ts";
import { ChatId, OrderId } from "../../src/domain/ids.ts";
import { money } from "../../src/domain/money.ts";
import type { ShopCatalog } from "../../src/domain/products.ts";
import { createLedger, createOpenRouterDelivery, createSandboxDelivery, deliveryByProduct } from "../../src/delivery/index.ts";
import { memoryStore } from "../../src/store/memory.ts";
import { type OpenRouterStub, startOpenRouterStub } from "../support/openrouter-stub.ts";

const stubs: OpenRouterStub[] = [];
afterEach(async () => {
  while (stubs.length > 0) await stubs.pop()!.close();
});

const ORDER = OrderId.parse("ord_catalog1");
const CHAT = ChatId.parse("c1");

async function openRouter() {
  const stub = await startOpenRouterStub();
  stubs.push(stub);
  return { stub, keys: createOpenRouterDelivery({ apiUrl: stub.url, provisioningKey: stub.provisioningKey }) };
}

function ledgerOver(provider: ReturnType<typeof createSandboxDelivery>) {
  let now = 1_000;
  const store = memoryStore({ clock: () => now });
  return { store, ledger: createLedger({ store, provider, instanceId: "test", clock: () => (now += 1) }) };
}

describe("an OpenRouter key's limit", () => {
  test("is the credit sold, not the price paid: $25.00 paid for $20.00 of credit makes a $20 key", async () => {
    const { stub, keys } = await openRouter();
    const issued = await keys.issue({ orderId: ORDER, chatId: CHAT, tokens: 2_000, usd: money(2_500, "USD"), credit: money(2_000, "USD") });
    expect(issued.ok).toBe(true);
    expect(stub.usableKeysFor(ORDER).map((k) => k.limit)).toEqual([20]);
  });

  test("of an order priced before catalogs (no credit) is its price, as before", async () => {
    const { stub, keys } = await openRouter();
    await keys.issue({ orderId: ORDER, chatId: CHAT, tokens: 2_000, usd: money(4_000, "USD") });
    expect(stub.usableKeysFor(ORDER).map((k) => k.limit)).toEqual([40]);
  });
});

describe("a lost OpenRouter key is reissued", () => {
  test("the old key is disabled and a new one holds exactly what remained on it", async () => {
    const { stub, keys } = await openRouter();
    const { store, ledger } = ledgerOver(keys);
    const first = await ledger.deliver({
      orderId: ORDER,
      chatId: CHAT,
      tokens: 2_000,
      usd: money(2_500, "USD"),
      credit: money(2_000, "USD"),
    });
    expect(first.ok).toBe(true);
    const oldSecret = first.ok ? first.entry.secret! : "";
    stub.spend(oldSecret, 7.5);

    const again = await ledger.reissue({ orderId: ORDER, chatId: CHAT, tokens: 2_000, generation: 1 });
    expect(again.ok).toBe(true);
    const usable = stub.usableKeysFor(ORDER);
    expect(usable.map((k) => [k.limit, k.secret === oldSecret])).toEqual([[12.5, false]]);
    expect(stub.liveKeysFor(ORDER).find((k) => k.secret === oldSecret)?.disabled).toBe(true);
    // The ledger keeps the new key until shown, and the old one's reference as revoked.
    const goods = await store.goods(ORDER, CHAT);
    expect(goods).toMatchObject({ secret: usable[0]!.secret, sentAt: null, revoked: [{ ref: first.ok ? first.entry.ref : "" }] });
    // Asked again for the same replacement (a retry after a crash), nothing new is made.
    const retry = await ledger.reissue({ orderId: ORDER, chatId: CHAT, tokens: 2_000, generation: 1 });
    expect(retry).toMatchObject({ ok: true, fresh: false, entry: { secret: usable[0]!.secret } });
    expect(stub.created).toHaveLength(2);
  });

  test("a replacement whose answer was lost is made again from what the old key held: one usable key", async () => {
    const { stub, keys } = await openRouter();
    const { ledger } = ledgerOver(keys);
    const first = await ledger.deliver({
      orderId: ORDER,
      chatId: CHAT,
      tokens: 2_000,
      usd: money(2_500, "USD"),
      credit: money(2_000, "USD"),
    });
    stub.spend(first.ok ? first.entry.secret! : "", 5);
    stub.failCreates(1, "lost");
    expect((await ledger.reissue({ orderId: ORDER, chatId: CHAT, tokens: 2_000, generation: 1 })).ok).toBe(false);
    // The lost key exists at OpenRouter, usable, never shown; the old one is disabled already.
    expect(stub.usableKeysFor(ORDER)).toHaveLength(1);
    const again = await ledger.reissue({ orderId: ORDER, chatId: CHAT, tokens: 2_000, generation: 1 });
    expect(again.ok).toBe(true);
    const usable = stub.usableKeysFor(ORDER);
    expect(usable.map((k) => k.limit)).toEqual([15]);
    expect(again.ok && again.entry.secret).toBe(usable[0]!.secret);
  });

  test("a key with nothing left is not replaced, and keeps working as it was", async () => {
    const { stub, keys } = await openRouter();
    const { ledger } = ledgerOver(keys);
    const first = await ledger.deliver({
      orderId: ORDER,
      chatId: CHAT,
      tokens: 2_000,
      usd: money(2_500, "USD"),
      credit: money(2_000, "USD"),
    });
    stub.spend(first.ok ? first.entry.secret! : "", 20);
    expect(await ledger.reissue({ orderId: ORDER, chatId: CHAT, tokens: 2_000, generation: 1 })).toMatchObject({
      ok: false,
      reason: "provider_rejected",
    });
    expect(stub.usableKeysFor(ORDER)).toHaveLength(1);
  });
});

describe("vouchers", () => {
  test("a reissued voucher is a new code of the same order; the old one's reference is voided", async () => {
    const { store, ledger } = ledgerOver(createSandboxDelivery());
    const first = await ledger.deliver({ orderId: ORDER, chatId: CHAT, tokens: 2_000, usd: money(4_000, "USD") });
    await ledger.markSent(ORDER, CHAT, 5);
    const again = await ledger.reissue({ orderId: ORDER, chatId: CHAT, tokens: 2_000, generation: 1 });
    expect(again.ok && again.entry.secret).toMatch(/^TG-/);
    expect(again.ok && again.entry.secret).not.toBe(first.ok && first.entry.secret);
    expect((await store.goods(ORDER, CHAT))?.revoked.map((r) => r.ref)).toEqual([first.ok ? first.entry.ref : ""]);
  });

  test("a catalog's voucher product gets voucher codes when keys come from OpenRouter; its key product gets a key", async () => {
    const { stub, keys } = await openRouter();
    const shop: ShopCatalog = {
      products: [
        builtInProduct(DEFAULT_CATALOG, "voucher"),
        { ...builtInProduct(DEFAULT_CATALOG, "openrouter_key"), id: "or-credit", creditUsdCents: 1_600 },
      ],
      promos: [],
      starsPerUsd: 50,
    };
    const routed = deliveryByProduct(shop, keys);
    const voucher = await routed.issue({ orderId: ORDER, chatId: CHAT, tokens: 1_000, usd: money(2_000, "USD"), productId: "tokens" });
    expect(voucher.ok && voucher.goods.secret).toMatch(/^TG-/);
    expect(stub.created).toHaveLength(0);
    const key = await routed.issue({
      orderId: ORDER,
      chatId: CHAT,
      tokens: 1_000,
      usd: money(2_000, "USD"),
      credit: money(1_600, "USD"),
      productId: "or-credit",
    });
    expect(key.ok && key.goods.secret).toMatch(/^sk-or-v1-/);
    expect(stub.usableKeysFor(ORDER).map((k) => k.limit)).toEqual([16]);
  });
});
