/**
 * The dashboard's pieces without HTTP: the machine as the owner sees it (read from the machine), the
 * mapping of recorded steps onto its edges, the period overview, keyset paging, the CSV export, and
 * the read model staying fresh as orders change.
 */
import { afterEach, describe, expect, it } from "vitest";
import { purchaseMachine } from "../../machines/purchase.machine.ts";
import { csvCell, toCsv } from "../../src/dashboard/csv.ts";
import { PURCHASE_GRAPH, diagramSvg, pathBetween } from "../../src/dashboard/diagram.ts";
import { overview, ordersPage, parseFilter } from "../../src/dashboard/queries.ts";
import { type OrderRow, createReadModel, toRow } from "../../src/dashboard/readmodel.ts";
import type { AuditEntry } from "../../src/domain/records.ts";
import { ADMIN_TOKEN, type Shop, openShop } from "../support/dashboard-shop.ts";

const edge = (from: string, to: string) => PURCHASE_GRAPH.index.get(`${from}>${to}`)!;
const NOW = Date.UTC(2026, 10, 26, 12);

function row(orderId: string, createdAt: number, steps: [string, string][], extra: Partial<OrderRow> = {}): OrderRow {
  const trail: AuditEntry[] = steps.map(([from, to], seq) => ({ v: 1, type: "transition", chatId: "1", orderId, at: createdAt + seq, instance: "t", seq, detail: { from, to } }));
  return { ...toRow(orderId, undefined, trail, undefined, undefined), ...extra };
}

describe("the machine as the owner sees it", () => {
  it("has every top-level state of the purchase machine and its transitions", () => {
    expect(PURCHASE_GRAPH.states).toEqual(Object.keys(purchaseMachine.root.states));
    expect(PURCHASE_GRAPH.edges[edge("delivery_failed", "paid")]!.events).toEqual(["ADMIN_RETRY_DELIVERY"]);
    expect(PURCHASE_GRAPH.edges[edge("quoted", "creating_payment")]!.events).toContain("CONFIRM");
    expect(PURCHASE_GRAPH.edges[edge("paid", "delivery_failed")]!.events).toContain("deliverGoods done");
  });

  it("maps a recorded step through busy states onto the machine's edges", () => {
    expect(pathBetween(PURCHASE_GRAPH, "initial", "quoted")).toEqual([edge("initial", "pricing"), edge("pricing", "quoted")]);
    expect(pathBetween(PURCHASE_GRAPH, "awaiting_payment", "delivered")).toEqual([edge("awaiting_payment", "paid"), edge("paid", "delivered")]);
    expect(pathBetween(PURCHASE_GRAPH, "delivered", "initial")).toEqual([]);
    expect(pathBetween(PURCHASE_GRAPH, "nowhere", "quoted")).toEqual([]);
  });

  it("draws every state, the counts on edges, and one order's numbered path", () => {
    const counts = PURCHASE_GRAPH.edges.map((_, i) => (i === edge("paid", "delivered") ? 42 : 0));
    const svg = diagramSvg(PURCHASE_GRAPH, { edgeCounts: counts });
    for (const state of PURCHASE_GRAPH.states) expect(svg).toContain(`>${state.replace(/_/g, " ")}<`);
    expect(svg).toContain(">42<");
    expect(svg).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);
    const path = diagramSvg(PURCHASE_GRAPH, { path: pathBetween(PURCHASE_GRAPH, "initial", "quoted"), current: "quoted" });
    expect(path).toContain(">#1<");
    expect(path).toContain(">#2<");
    expect(path.match(/class="edge edge-path"/g)).toHaveLength(2);
  });
});

describe("overview and paging", () => {
  it("counts each order once per transition, only for orders started in the period", () => {
    const day = 86_400_000;
    const rows = [
      row("a", NOW - 3 * day, [["initial", "quoted"], ["quoted", "initial"], ["initial", "quoted"], ["quoted", "awaiting_payment"]]),
      row("b", NOW - 3 * day, [["initial", "quoted"], ["quoted", "expired"]]),
      row("old", NOW - 40 * day, [["initial", "quoted"]]),
    ];
    const week = overview(rows, "7d", NOW);
    expect(week.edgeCounts[edge("initial", "pricing")]).toBe(2);
    expect(week.edgeCounts[edge("quoted", "expired")]).toBe(1);
    expect(week.stateCounts.get("initial")).toBe(2);
    expect(week.funnel.find((l) => l.source === "total")).toMatchObject({ started: 2, quoted: 2, invoiced: 1 });
    expect(overview(rows, "all", NOW).funnel.at(-1)?.started).toBe(3);
    expect(overview(rows, "today", NOW).funnel.at(-1)?.started).toBe(0);
  });

  it("pages 100,000 orders by cursor: each page continues exactly where the last one ended", () => {
    const rows = Array.from({ length: 100_000 }, (_, i) => ({ orderId: `ord_${String(i).padStart(6, "0")}`, chatId: String(i % 97), createdAt: NOW - Math.floor(i / 3) * 1000, state: i % 10 === 0 ? "delivered" : "expired" }) as OrderRow);
    let after: string | null = null;
    const seen: string[] = [];
    for (let page = 0; page < 3; page++) {
      const result = ordersPage(rows, parseFilter(new URLSearchParams("state=delivered")), after, 50);
      expect(result.matched).toBe(10_000);
      seen.push(...result.rows.map((r) => r.orderId));
      after = result.next;
    }
    expect(seen).toHaveLength(150);
    expect(new Set(seen).size).toBe(150);
    expect(seen.slice(0, 2)).toEqual(["ord_000000", "ord_000010"]);
    const deep = ordersPage(rows, {}, `${NOW - 20_000_000}.ord_060000`, 5);
    expect(deep.rows[0]!.createdAt).toBeLessThanOrEqual(NOW - 20_000_000);
  });

  it("exports CSV that a spreadsheet cannot run as a formula", () => {
    expect(csvCell("=HYPERLINK(\"http://evil\")")).toBe(`"'=HYPERLINK(""http://evil"")"`);
    expect(csvCell("@SUM(A1)")).toBe("'@SUM(A1)");
    expect(csvCell("-12.5")).toBe("-12.5");
    expect(csvCell("a,b")).toBe('"a,b"');
    expect(toCsv([]).split("\r\n")[0]).toMatch(/^order_id,state,created_at/);
  });
});

describe("read model freshness", () => {
  let shop: Shop | null = null;
  afterEach(async () => {
    await shop?.app.close();
    shop = null;
  });

  it("shows an order made after the first page without a rescan", async () => {
    shop = await openShop();
    const get = async (path: string) =>
      String((await shop!.app.http.dispatch({ method: "GET", path, headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, rawBody: Buffer.alloc(0) })).body);
    expect(await get("/admin/orders")).toContain("0 matching");
    const orderId = await shop.purchase("123", 2000, "button", "paid");
    const page = await get("/admin/orders");
    expect(page).toContain("1 matching");
    expect(page).toContain(orderId);
    expect(await get(`/admin/orders/${orderId}`)).toContain("delivered");
  });

  it("picks up another instance's change at the next full re-read", async () => {
    shop = await openShop();
    const orderId = await shop.purchase("124", 2000, "rules", "quoted");
    const model = createReadModel({ stores: shop.app.stores, audit: shop.app.audit, rescanMs: 0 });
    expect((await model.row(orderId))?.state).toBe("quoted");
    // Written behind this process's back, as another instance sharing the store would.
    const record = await shop.app.stores.orders.get(orderId);
    await shop.app.stores.orders.set(orderId, { ...record!, state: "cancelled" });
    await model.rows();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await model.row(orderId))?.state).toBe("cancelled");
    expect(model.lastBuild()?.orders).toBe(1);
  });
});
