/**
 * The dashboard's pieces without HTTP: the machine as the owner sees it (folded from the one walk of
 * the machine that the Mermaid export shares), the mapping of committed stages onto its edges, the
 * funnel page's counts, keyset paging, the CSV export, and the pages staying fresh as orders change.
 */
import { afterEach, describe, expect, it } from "vitest";
import { purchaseMachine } from "../../machines/purchase.machine.ts";
import { STAGES } from "../../machines/purchase.reading.ts";
import { machineGraph } from "../../src/analytics/machine-graph.ts";
import { type OrderRow, emptyProjection } from "../../src/analytics/projection.ts";
import { createDashboardModel } from "../../src/dashboard/model.ts";
import { machineToMermaid } from "../../src/cli/mermaid.ts";
import { csvCell, toCsv } from "../../src/dashboard/csv.ts";
import { PURCHASE_GRAPH, diagramSvg, pathBetween } from "../../src/dashboard/diagram.ts";
import { matcher, newerFirst, ordersPage, parseFilter } from "../../src/dashboard/orders-query.ts";
import { edgesOf, funnelPage } from "../../src/dashboard/queries.ts";
import { type Shop, openShop } from "../support/dashboard-shop.ts";

const edge = (from: string, to: string) => PURCHASE_GRAPH.index.get(`${from}>${to}`)!;
const NOW = Date.UTC(2026, 10, 26, 12);
const DAY = 86_400_000;

/** A row as the read model keeps it, for an order committed in `stages` and now in the last. */
function row(orderId: string, createdAt: number, stages: string[], extra: Partial<OrderRow> = {}): OrderRow {
  const last = stages.at(-1) ?? "initial";
  return {
    orderId,
    chatId: "1",
    createdAt,
    updatedAt: createdAt,
    summary: {
      state: last,
      tags: [],
      productId: "tokens",
      tokens: 1000,
      usd: { minor: 2000, currency: "USD" },
      charge: null,
      provider: null,
      paymentId: null,
      late: false,
      paidAt: null,
      deliveredAt: null,
      refunded: null,
    },
    quotedAt: createdAt,
    invoicedAt: stages.includes("awaiting_payment") ? createdAt : null,
    paid: false,
    delivered: false,
    refundedAt: null,
    ownerSince: null,
    quoteSources: ["rules"],
    firstSource: "rules",
    llmCalls: 0,
    llmTokens: 0,
    stages,
    ...extra,
  };
}

describe("the machine as the owner sees it", () => {
  it("has every stage of the purchase machine and its transitions, named as the Mermaid export names them", () => {
    expect(PURCHASE_GRAPH.states).toEqual(Object.keys(purchaseMachine.root.states));
    expect(PURCHASE_GRAPH.states).toEqual(STAGES);
    expect(PURCHASE_GRAPH.edges[edge("delivery_failed", "paid")]!.events).toEqual(["ADMIN_RETRY_DELIVERY"]);
    expect(PURCHASE_GRAPH.edges[edge("quoted", "creating_payment")]!.events).toContain("CONFIRM");
    expect(PURCHASE_GRAPH.edges[edge("paid", "delivery_failed")]!.events).toContain("done: deliverGoods");
    expect(PURCHASE_GRAPH.edges[edge("refunding", "awaiting_owner_refund")]!.events).toContain("error: refundPayment");
    // One walk, two pictures: every top-level transition of the Mermaid source is an owner edge, and back.
    const mermaid = machineToMermaid(purchaseMachine);
    for (const e of machineGraph(purchaseMachine).edges) {
      const [from, to] = [e.from.split(".")[0]!, e.to.split(".")[0]!];
      expect(mermaid).toContain(`${e.from.replace(/\./g, "_")} --> ${e.to.replace(/\./g, "_")} : ${e.event}`);
      if (from !== to) expect(PURCHASE_GRAPH.edges[edge(from, to)]!.events).toContain(e.event);
    }
  });

  it("maps committed stages through busy states onto the machine's edges, from the initial stage", () => {
    expect(pathBetween(PURCHASE_GRAPH, "initial", "quoted")).toEqual([edge("initial", "pricing"), edge("pricing", "quoted")]);
    expect(pathBetween(PURCHASE_GRAPH, "paid", "delivered")).toEqual([edge("paid", "delivered")]);
    expect(pathBetween(PURCHASE_GRAPH, "delivered", "initial")).toEqual([]);
    expect(pathBetween(PURCHASE_GRAPH, "nowhere", "quoted")).toEqual([]);
    // An order's first commit finds it quoted already; its path still starts where every order starts.
    expect(edgesOf(row("a", NOW, ["quoted", "awaiting_payment"]))).toEqual([
      edge("initial", "pricing"),
      edge("pricing", "quoted"),
      edge("quoted", "creating_payment"),
      edge("creating_payment", "awaiting_payment"),
    ]);
  });

  it("draws every stage with its counts, the counts on edges, and one order's numbered path", () => {
    const counts = PURCHASE_GRAPH.edges.map((_, i) => (i === edge("paid", "delivered") ? 42 : 0));
    const svg = diagramSvg(PURCHASE_GRAPH, {
      edgeCounts: counts,
      stateCounts: new Map([["delivered", 42]]),
      nowCounts: new Map([["delivered", 40]]),
    });
    for (const state of PURCHASE_GRAPH.states) expect(svg).toContain(`>${state.replace(/_/g, " ")}<`);
    expect(svg).toContain(">42<");
    expect(svg).toContain(">42 · 40 now<");
    expect(svg).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);
    const path = diagramSvg(PURCHASE_GRAPH, { path: pathBetween(PURCHASE_GRAPH, "initial", "quoted"), current: "quoted" });
    expect(path).toContain(">#1<");
    expect(path).toContain(">#2<");
    expect(path.match(/class="edge edge-path"/g)).toHaveLength(2);
  });
});

describe("funnel page and paging", () => {
  it("counts each order once per transition and per stage, only for orders started in the period", () => {
    const rows = [
      row("a", NOW - 3 * DAY, ["quoted", "initial", "quoted", "awaiting_payment"]),
      row("b", NOW - 3 * DAY, ["quoted", "expired"]),
      row("old", NOW - 40 * DAY, ["quoted"]),
    ];
    const week = funnelPage(rows, "7d", NOW);
    expect(week.edgeCounts[edge("initial", "pricing")]).toBe(2);
    expect(week.edgeCounts[edge("quoted", "expired")]).toBe(1);
    expect(week.stageCounts.get("initial")).toBe(2);
    expect(week.stageCounts.get("pricing")).toBe(2);
    expect(week.nowCounts.get("awaiting_payment")).toBe(1);
    expect(week.funnel.rows.find((l) => l.source === "total")).toMatchObject({ started: 2, quoted: 2, invoiced: 1 });
    expect(funnelPage(rows, "all", NOW).funnel.rows.at(-1)?.started).toBe(3);
    expect(funnelPage(rows, "today", NOW).funnel.rows.at(-1)?.started).toBe(0);
  });

  it("pages 100,000 orders by cursor: each page continues exactly where the last one ended", () => {
    const rows = Array.from({ length: 100_000 }, (_, i) =>
      row(`ord_${String(i).padStart(6, "0")}`, NOW - Math.floor(i / 3) * 1000, [i % 10 === 0 ? "delivered" : "expired"]),
    ).sort(newerFirst);
    let after: string | null = null;
    const seen: string[] = [];
    const delivered = matcher(parseFilter(new URLSearchParams("stage=delivered")));
    for (let page = 0; page < 3; page++) {
      const result = ordersPage(rows, delivered, after, 50);
      expect(result.matched).toBe(10_000);
      seen.push(...result.rows.map((r) => r.orderId));
      after = result.next;
    }
    expect(seen).toHaveLength(150);
    expect(new Set(seen).size).toBe(150);
    expect(seen.slice(0, 2)).toEqual(["ord_000000", "ord_000010"]);
    const deep = ordersPage(rows, () => true, `${NOW - 20_000_000}.ord_060000`, 5);
    expect(deep.rows[0]!.createdAt).toBeLessThanOrEqual(NOW - 20_000_000);
  });

  it("ignores a filter naming no stage of the machine", () => {
    expect(parseFilter(new URLSearchParams("stage=delivered"))).toEqual({ stage: "delivered" });
    expect(parseFilter(new URLSearchParams("stage=hacked&needs=1"))).toEqual({ needs: true });
  });

  it("exports CSV that a spreadsheet cannot run as a formula", () => {
    expect(csvCell('=HYPERLINK("http://evil")')).toBe(`"'=HYPERLINK(""http://evil"")"`);
    expect(csvCell("@SUM(A1)")).toBe("'@SUM(A1)");
    expect(csvCell("-12.5")).toBe("-12.5");
    expect(csvCell("a,b")).toBe('"a,b"');
    const csv = toCsv(
      [row("ord_1", NOW, ["quoted"])],
      new Map([
        [
          "1",
          {
            chatId: "1",
            username: "=cmd|calc",
            firstName: null,
            firstSeenAt: 0,
            lastSeenAt: 0,
            orders: 1,
            paidOrders: 0,
            revenueUsdCents: 0,
          },
        ],
      ]),
    );
    expect(csv.split("\r\n")[0]).toMatch(/^order_id,stage,state,created_at/);
    expect(csv.split("\r\n")[1]).toContain(",'=cmd|calc,");
  });
});

describe("pages stay fresh", () => {
  it("keeps the newest-first index in order as orders arrive out of creation order", () => {
    const state = emptyProjection();
    const add = (id: string, createdAt: number) => state.orders.set(id, row(id, createdAt, ["quoted"]));
    const model = createDashboardModel({ state: () => state, refresh: async () => 0, save: async () => {}, start: () => async () => {} });
    add("b", 3);
    add("a", 1);
    expect(model.newestFirst(state).map((r) => r.orderId)).toEqual(["b", "a"]);
    add("c", 2);
    add("d", 4);
    add("e", 3);
    expect(model.newestFirst(state).map((r) => r.orderId)).toEqual(["d", "e", "b", "c", "a"]);
  });

  let shop: Shop | null = null;
  afterEach(async () => {
    await shop?.app.close();
    shop = null;
  });

  it("shows an order made after the first page, and its new stage, on the next page", async () => {
    shop = await openShop();
    const body = async (path: string, query = "") => String((await shop!.get(path, query)).body);
    expect(await body("/admin/orders")).toContain("0 matching");
    const orderId = await shop.purchase("123", 2000, "button", "quoted");
    const page = await body("/admin/orders");
    expect(page).toContain("1 matching");
    expect(page).toContain(orderId);
    await shop.app.engine.handleButton("123", { action: "confirm", orderId, shown: 2000 });
    expect(await body("/admin/orders", "stage=awaiting_payment")).toContain(orderId);
    expect(await body(`/admin/orders/${orderId}`)).toContain("awaiting payment");
  });
});
