/**
 * The dashboard's list pages as HTML strings: the owner's front page (today, what needs them, sales
 * by product and promo code, the customers, what the bot did not understand, the funnel), the funnel
 * by source with the machine's picture, the orders table and the login form. One order and one customer are in `order-page.ts`.
 * Numbers and tables are plain server-rendered HTML; charts and the machine are inline SVG. Every value
 * that comes from a customer, a provider or the store passes through {@link esc}.
 */
import { STAGES } from "../../machines/purchase.reading.ts";
import { type Funnel, type FunnelRow, SOURCE_LABELS, formatDuration } from "../analytics/funnel.ts";
import type { CustomerRow, OrderRow } from "../analytics/projection.ts";
import { stageOfSummary } from "../analytics/projection.ts";
import { type SalesByProduct, type SalesSums, hasTiers, keyNumbers, tierLabel, usdText } from "../analytics/sales.ts";
import { FUNNEL_STEPS, funnelChart, legend, revenueChart } from "./charts.ts";
import { type OwnerGraph, PURCHASE_GRAPH, diagramSvg } from "./diagram.ts";
import { esc, money, percent, when } from "./html.ts";
import { type OrderFilter, type OrdersPage } from "./orders-query.ts";
import { type FrontPage, type FunnelPage, PERIODS, PERIOD_LABELS, type Period, sourceOf } from "./queries.ts";

const usd = (minor: number) => money({ minor, currency: "USD" });
export const orderLink = (id: string) => `<a href="/admin/orders/${encodeURIComponent(id)}">${esc(id)}</a>`;
export const chatLink = (chatId: string, label: string) => `<a href="/admin/chats/${encodeURIComponent(chatId)}">${esc(label)}</a>`;

/** How the dashboard names a customer: "@user (First)", else the first name, else "chat <id>". */
export function customerName(customer: Pick<CustomerRow, "chatId" | "username" | "firstName"> | undefined, chatId: string): string {
  if (customer?.username) return customer.firstName ? `@${customer.username} (${customer.firstName})` : `@${customer.username}`;
  return customer?.firstName ?? `chat ${chatId}`;
}

/** The order's stage as a badge, coloured by what its tags say. */
export function stageBadge(row: Pick<OrderRow, "summary">): string {
  const tags = row.summary.tags;
  const tone = tags.includes("needs_owner")
    ? "tag-needs_owner"
    : tags.includes("refunded")
      ? "tag-refunded"
      : tags.includes("delivered")
        ? "tag-delivered"
        : "";
  return `<span class="state ${tone}">${esc(stageOfSummary(row.summary).replace(/_/g, " "))}</span>`;
}

const kpi = (value: string, label: string) => `<div class="kpi"><b>${value}</b><span>${label}</span></div>`;

/** What an order needs from the owner, in a few words. */
function needText(row: OrderRow): string {
  const owed = row.summary.owedStrays ?? 0;
  const parts: string[] = [];
  if (row.summary.tags.includes("needs_owner")) parts.push(`${stageOfSummary(row.summary).replace(/_/g, " ")}`);
  if (owed > 0) parts.push(`${owed} extra payment${owed === 1 ? "" : "s"} to return by hand`);
  const paid = row.paid
    ? `, ${money(row.summary.charge)} paid ${when(row.summary.paidAt)}`
    : row.summary.charge
      ? `, ${money(row.summary.charge)}`
      : "";
  return `${parts.join("; ")}${paid} — waiting since ${when(row.ownerSince)}`;
}

function needsList(page: FrontPage, customers: ReadonlyMap<string, CustomerRow>, buttons: ReadonlyMap<string, string>): string {
  if (page.needs.length === 0) return `<p class="muted">Nothing needs you now.</p>`;
  const shown = page.needs.slice(0, buttons.size || 20);
  const items = shown
    .map(
      (row) =>
        `<li>${orderLink(row.orderId)} · ${chatLink(row.chatId, customerName(customers.get(row.chatId), row.chatId))} · ${esc(needText(row))}<br>${buttons.get(row.orderId) ?? ""}</li>`,
    )
    .join("");
  const more =
    page.needs.length > shown.length
      ? `<p class="muted">${page.needs.length - shown.length} more — <a href="/admin/orders?needs=1">all orders that need you</a></p>`
      : "";
  return `<ul class="needs">${items}</ul>${more}`;
}

function customersCard(page: FrontPage): string {
  const c = page.customers;
  const share = c.revenueUsdMinor === 0 ? "–" : percent(c.repeatRevenueUsdMinor, c.revenueUsdMinor);
  const rows = c.recent
    .map(
      (r) =>
        `<tr><td class="wrap">${chatLink(r.chatId, customerName(r, r.chatId))}</td><td>${esc(r.chatId)}</td><td class="num">${r.orders}</td><td class="num">${r.paidOrders}</td><td class="num">${usd(r.revenueUsdCents)}</td><td>${esc(when(r.lastSeenAt))}</td></tr>`,
    )
    .join("");
  return `<p><b>${c.total}</b> customers, <b>${c.buyers}</b> bought; <b>${c.repeatBuyers}</b> repeat buyers brought <b>${share}</b> of revenue (${usd(c.repeatRevenueUsdMinor)} of ${usd(c.revenueUsdMinor)}, all time).</p>
<div class="scroll"><table><tr><th>customer</th><th>chat id</th><th class="num">orders</th><th class="num">paid</th><th class="num">revenue</th><th>last seen</th></tr>${rows || `<tr><td colspan="6" class="muted">No customers yet.</td></tr>`}</table></div>`;
}

function notUnderstoodList(page: FrontPage): string {
  if (page.notUnderstood.length === 0) return `<p class="muted">The bot understood everything so far.</p>`;
  const items = page.notUnderstood
    .slice(0, 20)
    .map((r) => {
      const where = r.orderId
        ? `/admin/orders/${encodeURIComponent(r.orderId)}#conversation`
        : `/admin/chats/${encodeURIComponent(r.chatId)}#conversation`;
      return `<li>“${esc(r.text)}”${r.count > 1 ? ` <b>×${r.count}</b>` : ""} <span class="muted">${esc(when(r.lastAt))}</span> · <a href="${where}">conversation</a></li>`;
    })
    .join("");
  const more =
    page.notUnderstood.length > 20 ? `<p class="muted">The last ${page.notUnderstood.length} distinct texts are kept; 20 shown.</p>` : "";
  return `<ul class="asked">${items}</ul>${more}`;
}

/** The funnel as a table: one row per source (or only the total), each stage with its share of the one before. */
function funnelTable(rows: readonly FunnelRow[]): string {
  const head = `<tr><th>how the amount was set</th>${FUNNEL_STEPS.map(([, label]) => `<th class="num">${label}</th>`).join("")}<th class="num">conversion</th><th class="num">LLM calls / sale</th><th class="num">median quote → delivery</th></tr>`;
  const body = rows
    .map((l) => {
      const stage = (n: number, of: number) =>
        `<td class="num">${n}${of === -1 ? "" : ` <span class="muted">${percent(n, of)}</span>`}</td>`;
      const perSale = l.delivered === 0 ? (l.llmCalls === 0 ? "0" : `${l.llmCalls} (no sales)`) : (l.llmCalls / l.delivered).toFixed(2);
      const name = l.source === "total" ? "<b>total</b>" : `<i class="swatch s-${l.source}"></i>${esc(SOURCE_LABELS[l.source])}`;
      return `<tr><td>${name}</td>${stage(l.started, -1)}${stage(l.quoted, l.started)}${stage(l.invoiced, l.quoted)}${stage(l.paid, l.invoiced)}${stage(l.delivered, l.paid)}<td class="num"><b>${percent(l.delivered, l.started)}</b></td><td class="num">${perSale}</td><td class="num">${formatDuration(l.medianQuoteToDeliveryMs)}</td></tr>`;
    })
    .join("");
  return `<div class="scroll"><table>${head}${body}</table></div><p class="muted">Each stage's % is of the stage before; conversion = delivered / started. A started order is one where an amount was asked for.</p>`;
}

/** The "By product" card: each product's sales, revenue, credit given and margin, its tiers under it, then the promo codes. */
function salesCard(sales: SalesByProduct): string {
  if (sales.products.length === 0) return `<p class="muted">No sales yet.</p>`;
  const cells = (sums: SalesSums) => {
    const { credit, margin } = keyNumbers(sums);
    return `<td class="num">${sums.sales}</td><td class="num">${usdText(sums.revenueUsdMinor)}</td><td class="num">${credit}</td><td class="num">${margin}</td>`;
  };
  const refunded = (n: number, minor: number) => (n === 0 ? "" : `${n} (${usdText(minor)})`);
  const rows = sales.products
    .map((p) => {
      const tiers = hasTiers(p)
        ? p.tiers
            .map((t) => `<tr class="tier"><td class="muted">&nbsp;&nbsp;${esc(tierLabel(t.tier))}</td>${cells(t)}<td></td></tr>`)
            .join("")
        : "";
      return `<tr data-product="${esc(p.productId)}"><td><b>${esc(p.productId)}</b></td>${cells(p)}<td class="num">${refunded(p.refunds, p.refundedUsdMinor)}</td></tr>${tiers}`;
    })
    .join("");
  const total = `<tr><td><b>total</b></td>${cells(sales.total)}<td class="num">${refunded(sales.total.refunds, sales.total.refundedUsdMinor)}</td></tr>`;
  const promos =
    sales.promos.length === 0
      ? `<p class="muted">Promo codes: none used yet.</p>`
      : `<h3>Promo codes</h3><div class="scroll"><table><tr><th>code</th><th class="num">uses</th><th class="num">discount given</th></tr>${sales.promos
          .map(
            (p) =>
              `<tr data-promo="${esc(p.code)}"><td>${esc(p.code)}</td><td class="num">${p.uses}</td><td class="num">${usdText(p.discountUsdMinor)}</td></tr>`,
          )
          .join("")}</table></div>`;
  return `<div class="scroll"><table><tr><th>product</th><th class="num">sales</th><th class="num">revenue</th><th class="num">credit given</th><th class="num">margin</th><th class="num">refunded</th></tr>${rows}${total}</table></div>
${promos}
<p class="muted">All time. Sales are paid orders not refunded (refunded ones are counted apart, at list price); revenue is the price paid, after promo discounts. Credit given is the OpenRouter credit sold; margin = price − credit. Vouchers have no credit: — for both.</p>`;
}

const totalOf = (funnel: Funnel) => funnel.rows.find((r) => r.source === "total")!;

/** GET /admin: the owner's front page. `buttons`: the action forms of the needs shown, by order id. */
export function frontPage(page: FrontPage, customers: ReadonlyMap<string, CustomerRow>, buttons: ReadonlyMap<string, string>): string {
  const t = page.today;
  const total = totalOf(page.funnel);
  return `<h1>Today, ${esc(new Date(page.now).toISOString().slice(0, 10))}</h1>
<div class="kpis">
${kpi(usd(t.usdMinor), `revenue today, ${t.sales} sale${t.sales === 1 ? "" : "s"}`)}
${kpi(String(t.orders), "orders started today")}
${kpi(String(page.needs.length), "need you now")}
${t.refunds > 0 ? kpi(usd(t.refundedUsdMinor), `refunded today, ${t.refunds} order${t.refunds === 1 ? "" : "s"}`) : ""}
${kpi(percent(total.delivered, total.started), "delivered / started, 7 days")}
</div>
<div class="grid">
<section class="card wide" id="needs"><h2>Needs you now</h2>${needsList(page, customers, buttons)}</section>
<section class="card wide" id="by-product"><h2>By product</h2>${salesCard(page.sales)}</section>
<section class="card wide" id="customers"><h2>Customers</h2>${customersCard(page)}</section>
<section class="card wide" id="not-understood"><h2>What customers asked that the bot did not understand</h2>${notUnderstoodList(page)}</section>
<section class="card wide" id="funnel"><h2>Funnel, last 7 days</h2>${funnelTable([total])}<p><a href="/admin/funnel">By how the amount was set, with the machine →</a></p></section>
</div>
<p class="muted">Updated ${esc(when(page.now))} UTC; this page refreshes itself every 30 seconds.</p>`;
}

function periodPicker(current: Period): string {
  return `<div class="periods">${PERIODS.map((p) => `<a href="/admin/funnel?period=${p}"${p === current ? ' aria-current="page"' : ""}>${PERIOD_LABELS[p]}</a>`).join("")}</div>`;
}

/** GET /admin/funnel: the funnel by source, revenue, providers and where orders went in the machine. */
export function funnelPage(o: FunnelPage, graph: OwnerGraph = PURCHASE_GRAPH): string {
  const total = totalOf(o.funnel);
  const sources = o.funnel.rows.filter((l) => l.source !== "total" && l.started > 0);
  const headline = sources.map((l) => `${esc(SOURCE_LABELS[l.source])} <b>${percent(l.delivered, l.started)}</b>`).join(" · ");
  const providers =
    o.providers.length === 0
      ? `<p class="muted">No sales in this period.</p>`
      : `<div class="scroll"><table><tr><th>provider</th><th class="num">sales</th><th class="num">revenue</th><th class="num">charged</th></tr>${o.providers
          .map(
            (p) =>
              `<tr><td>${esc(p.provider)}</td><td class="num">${p.sales}</td><td class="num">${usd(p.usdMinor)}</td><td class="num">${p.charged.map((c) => esc(money(c))).join(", ")}</td></tr>`,
          )
          .join("")}</table></div>`;
  const edgeRows = graph.edges
    .map((edge, i) => ({ edge, count: o.edgeCounts[i] ?? 0 }))
    .filter((e) => e.count > 0)
    .map(
      ({ edge, count }) =>
        `<tr><td>${esc(edge.from)} → ${esc(edge.to)}</td><td class="muted">${esc(edge.events.join(", "))}</td><td class="num">${count}</td><td class="num">${percent(count, o.stageCounts.get(edge.from) ?? 0)}</td></tr>`,
    )
    .join("");
  return `<h1>Funnel</h1>
${periodPicker(o.period)}
<div class="kpis">
${kpi(usd(o.revenue.usdMinor), `revenue, ${o.revenue.sales} sales`)}
${kpi(String(total.started), "orders started")}
${kpi(percent(total.delivered, total.started), "delivered / started")}
${kpi(total.delivered === 0 ? "–" : (total.llmCalls / total.delivered).toFixed(2), `LLM calls per sale (${total.delivered === 0 ? "–" : Math.round(total.llmTokens / total.delivered)} tokens)`)}
${kpi(formatDuration(total.medianQuoteToDeliveryMs), "median quote → delivery")}
</div>
<div class="grid">
<section class="card wide"><h2>Do customers who talk to the AI convert better?</h2>
<p>${headline || '<span class="muted">No orders in this period.</span>'}</p>
${funnelChart(o.funnel.rows)}<p>${legend(o.funnel.rows)}</p>${funnelTable(o.funnel.rows)}</section>
<section class="card"><h2>Revenue per ${o.revenue.unit} (UTC)</h2>${revenueChart(o.revenue.buckets)}
<p class="muted">${o.revenue.sales} paid orders, ${usd(o.revenue.usdMinor)}${o.revenue.refunds > 0 ? `; ${o.revenue.refunds} refunded (${usd(o.revenue.refundedUsdMinor)} at list price)` : ""}.</p></section>
<section class="card"><h2>By payment provider</h2>${providers}</section>
<section class="card wide"><h2>Where orders go in the machine</h2>
<p class="muted">Orders started in this period: on each transition, how many took it; in each stage, how many went through it and how many are there now (drawn from the purchase machine; dashed: none).</p>
${diagramSvg(graph, { edgeCounts: o.edgeCounts, stateCounts: o.stageCounts, nowCounts: o.nowCounts })}
<details><summary>As a table</summary><div class="scroll"><table><tr><th>transition</th><th>on</th><th class="num">orders</th><th class="num">of those in the stage</th></tr>${edgeRows}</table></div></details>
</section>
</div>`;
}

function filterForm(filter: OrderFilter): string {
  const options = ["", ...STAGES]
    .map(
      (s) =>
        `<option value="${esc(s)}"${filter.stage === s ? " selected" : ""}>${s === "" ? "any stage" : esc(s.replace(/_/g, " "))}</option>`,
    )
    .join("");
  return `<form class="filters" method="get" action="/admin/orders">
<label>stage<select name="stage">${options}</select></label>
<label>from<input type="date" name="from" value="${esc(filter.from ?? "")}"></label>
<label>to<input type="date" name="to" value="${esc(filter.to ?? "")}"></label>
<label>order, chat, payment or @user<input type="search" name="q" value="${esc(filter.q ?? "")}" placeholder="ord_… or chat id"></label>
<label class="check"><span>needs you</span><input type="checkbox" name="needs" value="1"${filter.needs ? " checked" : ""}></label>
<button>Filter</button></form>`;
}

export const filterQuery = (filter: OrderFilter): string =>
  new URLSearchParams(
    Object.entries(filter).map(([key, value]): [string, string] => [key, value === true ? "1" : String(value)]),
  ).toString();

/** GET /admin/orders. */
export function ordersPage(result: OrdersPage, filter: OrderFilter, customers: ReadonlyMap<string, CustomerRow>): string {
  const query = filterQuery(filter);
  const rows = result.rows
    .map(
      (r) =>
        `<tr><td>${orderLink(r.orderId)}</td><td>${stageBadge(r)}</td><td class="num">${esc(money(r.summary.usd))}</td><td>${esc(r.summary.provider ?? "—")}</td><td>${esc(SOURCE_LABELS[sourceOf(r)])}</td><td class="wrap">${chatLink(r.chatId, customerName(customers.get(r.chatId), r.chatId))}</td><td>${esc(when(r.createdAt))}</td><td>${esc(when(r.summary.paidAt))}</td><td>${esc(when(r.summary.deliveredAt))}</td></tr>`,
    )
    .join("");
  const next = result.next ? `<a href="/admin/orders?${query ? `${query}&` : ""}after=${encodeURIComponent(result.next)}">Older →</a>` : "";
  const first = result.first ? "" : `<a href="/admin/orders${query ? `?${query}` : ""}">← Newest</a>`;
  return `<h1>Orders</h1>
${filterForm(filter)}
<p class="muted">${result.matched} matching, newest first. <a href="/admin/orders.csv${query ? `?${query}` : ""}">Download CSV</a></p>
<div class="card scroll"><table>
<tr><th>order</th><th>stage</th><th class="num">amount</th><th>provider</th><th>source</th><th>customer</th><th>created</th><th>paid</th><th>delivered</th></tr>
${rows || `<tr><td colspan="9" class="muted">No orders match.</td></tr>`}
</table></div>
<div class="pager">${first}${next}</div>`;
}

/** GET /admin/login. */
export function loginPage(message: string | null): string {
  return `<section class="card login"><h1>Sign in</h1>
${message ? `<p class="notice bad" role="alert">${esc(message)}</p>` : ""}
<form method="post" action="/admin/login"><label for="token">Admin token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
<button>Sign in</button></form>
<p class="muted">The token is the server's <code>ADMIN_TOKEN</code>.</p></section>`;
}

/** A banner for a page drawn while the read model is still reading the log. */
export function behindBanner(behind: boolean): string {
  return behind
    ? `<p class="notice" role="status">The numbers are still catching up with the log; reload in a few seconds for the rest.</p>`
    : "";
}
