/**
 * The dashboard's pages as HTML strings: overview, orders table, one order, login. Numbers and tables
 * are plain server-rendered HTML; charts and the machine diagram are inline SVG. Every value that
 * comes from a customer, a provider or the store passes through {@link esc}.
 */
import { SOURCE_LABELS, formatDuration } from "../analytics/funnel.ts";
import { formatAuditEntry } from "../audit/index.ts";
import type { AuditEntry, ConversationRecord, LedgerEntry, OrderRecord, PaymentRecord } from "../domain/records.ts";
import { PURCHASE_STATE_NAMES } from "../../machines/purchase.machine.ts";
import { STAGES, funnelChart, legend, revenueChart } from "./charts.ts";
import { type OwnerGraph, PURCHASE_GRAPH, diagramSvg } from "./diagram.ts";
import { esc, money, percent, when } from "./html.ts";
import { type OrderFilter, type OrdersPage, type Overview, PERIODS, PERIOD_LABELS, type Period } from "./queries.ts";
import type { OrderRow } from "./readmodel.ts";

const usd = (minor: number) => money({ minor, currency: "USD" });
const stateBadge = (state: string) => `<span class="state state-${esc(state)}">${esc(state.replace(/_/g, " "))}</span>`;
const orderLink = (id: string) => `<a href="/admin/orders/${encodeURIComponent(id)}">${esc(id)}</a>`;
const csrfField = (csrf: string) => `<input type="hidden" name="csrf" value="${esc(csrf)}">`;

/** The buttons for an order that needs the owner (only those that apply to it). */
export function actionButtons(row: Pick<OrderRow, "orderId" | "state" | "refund" | "latePayment">, csrf: string, canRefund: boolean): string {
  if (row.refund) return "";
  const action = (what: string, label: string, extra = "", cls = "") =>
    `<form method="post" action="/admin/orders/${encodeURIComponent(row.orderId)}/${what}" class="inline">${csrfField(csrf)}${extra}<button${cls ? ` class="${cls}"` : ""}>${label}</button></form>`;
  const buttons: string[] = [];
  if (row.state === "delivery_failed") buttons.push(action("retry", "Retry delivery"));
  if (row.state === "delivery_failed" || row.latePayment) {
    if (canRefund) buttons.push(action("refund", "Refund", "", "secondary"));
    buttons.push(action("refund", "Record manual refund", `<input type="hidden" name="manual" value="1">`, "secondary"));
  }
  return buttons.join(" ");
}

function periodPicker(current: Period): string {
  return `<div class="periods">${PERIODS.map((p) => `<a href="/admin?period=${p}"${p === current ? ' aria-current="page"' : ""}>${PERIOD_LABELS[p]}</a>`).join("")}</div>`;
}

function funnelTable(o: Overview): string {
  const head = `<tr><th>how the amount was set</th>${STAGES.map(([, label]) => `<th class="num">${label}</th>`).join("")}<th class="num">conversion</th><th class="num">LLM calls / sale</th><th class="num">LLM tokens / sale</th><th class="num">median quote → delivery</th></tr>`;
  const body = o.funnel
    .map((l) => {
      const stage = (n: number, of: number) => `<td class="num">${n}${of === -1 ? "" : ` <span class="muted">${percent(n, of)}</span>`}</td>`;
      const perSale = (n: number, digits: number) => (l.delivered === 0 ? (n === 0 ? "0" : `${n} (no sales)`) : (n / l.delivered).toFixed(digits));
      const name = l.source === "total" ? "<b>total</b>" : `<i class="swatch s-${l.source}"></i>${esc(SOURCE_LABELS[l.source])}`;
      return `<tr><td>${name}</td>${stage(l.started, -1)}${stage(l.quoted, l.started)}${stage(l.invoiced, l.quoted)}${stage(l.paid, l.invoiced)}${stage(l.delivered, l.paid)}<td class="num"><b>${percent(l.delivered, l.started)}</b></td><td class="num">${perSale(l.llmCalls, 2)}</td><td class="num">${perSale(l.llmTokens, 0)}</td><td class="num">${formatDuration(l.medianQuoteToDeliveryMs)}</td></tr>`;
    })
    .join("");
  return `<div class="scroll"><table>${head}${body}</table></div><p class="muted">Each stage's % is of the stage before; conversion = delivered / started.</p>`;
}

function needsList(o: Overview, csrf: string, canRefund: boolean): string {
  const { failedDeliveries, latePayments } = o.needs;
  if (failedDeliveries.length === 0 && latePayments.length === 0) return `<p class="muted">Nothing needs you now.</p>`;
  const item = (row: OrderRow, what: string) =>
    `<li>${orderLink(row.orderId)} · chat ${esc(row.chatId)} · ${what} ${actionButtons(row, csrf, canRefund)}</li>`;
  const shown = 20;
  const section = (title: string, rows: OrderRow[], what: (r: OrderRow) => string) =>
    rows.length === 0
      ? ""
      : `<h3>${title} (${rows.length})</h3><ul class="needs">${rows.slice(0, shown).map((r) => item(r, what(r))).join("")}</ul>` +
        (rows.length > shown ? `<p class="muted">${rows.length - shown} more${rows === failedDeliveries ? ` — <a href="/admin/orders?state=delivery_failed">all failed deliveries</a>` : ""}</p>` : "");
  return (
    section("Failed deliveries — the customer has paid", failedDeliveries, (r) => `${money(r.charge)} paid ${when(r.paidAt)}`) +
    section("Late or wrong-amount payments to refund", latePayments, (r) => `${money(r.latePayment?.amount)} ${r.paymentProblem === "mismatch" ? "did not match the invoice" : "arrived after the order closed"} (${when(r.latePayment?.at)})`)
  );
}

/** GET /admin. */
export function overviewPage(o: Overview, csrf: string, canRefund: boolean, graph: OwnerGraph = PURCHASE_GRAPH): string {
  const total = o.funnel.find((l) => l.source === "total")!;
  const kpi = (value: string, label: string) => `<div class="kpi"><b>${value}</b><span>${label}</span></div>`;
  const headline = o.funnel
    .filter((l) => l.source !== "total" && l.started > 0)
    .map((l) => `${esc(SOURCE_LABELS[l.source])} <b>${percent(l.delivered, l.started)}</b>`)
    .join(" · ");
  const providers =
    o.providers.length === 0
      ? `<p class="muted">No sales in this period.</p>`
      : `<div class="scroll"><table><tr><th>provider</th><th class="num">sales</th><th class="num">revenue</th><th class="num">charged</th></tr>${o.providers
          .map((p) => `<tr><td>${esc(p.provider)}</td><td class="num">${p.sales}</td><td class="num">${usd(p.usdMinor)}</td><td class="num">${p.charged.map((c) => esc(money(c))).join(", ")}</td></tr>`)
          .join("")}</table></div>`;
  const edgeRows = graph.edges
    .map((edge, i) => ({ edge, count: o.edgeCounts[i] ?? 0 }))
    .filter((e) => e.count > 0)
    .map(({ edge, count }) => {
      const base = o.stateCounts.get(edge.from) ?? 0;
      return `<tr><td>${esc(edge.from)} → ${esc(edge.to)}</td><td class="muted">${esc(edge.events.join(", "))}</td><td class="num">${count}</td><td class="num">${percent(count, base)}</td></tr>`;
    })
    .join("");
  return `<h1>Overview</h1>
${periodPicker(o.period)}
<div class="kpis">
${kpi(usd(o.revenue.totalUsdMinor), `revenue, ${o.revenue.sales} sales`)}
${kpi(String(total.started), "orders started")}
${kpi(percent(total.delivered, total.started), "delivered / started")}
${kpi(total.delivered === 0 ? "–" : (total.llmCalls / total.delivered).toFixed(2), `LLM calls per sale (${total.delivered === 0 ? "–" : Math.round(total.llmTokens / total.delivered)} tokens)`)}
${kpi(formatDuration(total.medianQuoteToDeliveryMs), "median quote → delivery")}
${kpi(String(o.needs.failedDeliveries.length + o.needs.latePayments.length), "need you now")}
</div>
<div class="grid">
<section class="card wide" id="needs"><h2>Needs you now</h2>${needsList(o, csrf, canRefund)}</section>
<section class="card wide"><h2>Do customers who talk to the AI convert better?</h2>
<p>${headline || '<span class="muted">No orders in this period.</span>'}</p>
${funnelChart(o.funnel)}<p>${legend(o.funnel)}</p>${funnelTable(o)}</section>
<section class="card"><h2>Revenue per ${o.revenue.unit} (UTC)</h2>${revenueChart(o.revenue.buckets)}
<p class="muted">${o.revenue.sales} paid orders, ${usd(o.revenue.totalUsdMinor)}${o.revenue.refundedUsdMinor > 0 ? `; refunded ${usd(o.revenue.refundedUsdMinor)}` : ""}.</p></section>
<section class="card"><h2>By payment provider</h2>${providers}</section>
<section class="card wide"><h2>Where orders go in the machine</h2>
<p class="muted">Orders started in this period that took each transition (generated from the purchase machine; dashed: none).</p>
${diagramSvg(graph, { edgeCounts: o.edgeCounts, stateCounts: o.stateCounts })}
<details><summary>As a table</summary><div class="scroll"><table><tr><th>transition</th><th>on</th><th class="num">orders</th><th class="num">of those in the state</th></tr>${edgeRows}</table></div></details>
</section>
</div>
<p class="muted">Updated ${esc(when(o.now))} UTC; this page refreshes itself every 30 seconds.</p>`;
}

function filterForm(filter: OrderFilter): string {
  const options = ["", ...PURCHASE_STATE_NAMES].map((s) => `<option value="${s}"${filter.state === s ? " selected" : ""}>${s === "" ? "any state" : esc(s.replace(/_/g, " "))}</option>`).join("");
  return `<form class="filters" method="get" action="/admin/orders">
<label>state<select name="state">${options}</select></label>
<label>from<input type="date" name="from" value="${esc(filter.from ?? "")}"></label>
<label>to<input type="date" name="to" value="${esc(filter.to ?? "")}"></label>
<label>order id or chat<input type="search" name="q" value="${esc(filter.q ?? "")}" placeholder="ord_… or chat id"></label>
<button>Filter</button></form>`;
}

const filterQuery = (filter: OrderFilter) =>
  new URLSearchParams(Object.entries(filter).filter(([, v]) => v !== undefined) as [string, string][]).toString();

/** GET /admin/orders. */
export function ordersPage(result: OrdersPage, filter: OrderFilter): string {
  const query = filterQuery(filter);
  const rows = result.rows
    .map(
      (r) =>
        `<tr><td>${orderLink(r.orderId)}</td><td>${stateBadge(r.state)}</td><td class="num">${esc(money(r.usd))}</td><td>${esc(r.provider ?? "—")}</td><td>${esc(SOURCE_LABELS[r.source])}</td><td>${esc(r.chatId)}</td><td>${esc(when(r.createdAt))}</td><td>${esc(when(r.paidAt))}</td><td>${esc(when(r.deliveredAt))}</td></tr>`,
    )
    .join("");
  const next = result.next ? `<a href="/admin/orders?${query ? `${query}&` : ""}after=${encodeURIComponent(result.next)}">Older →</a>` : "";
  const first = result.first ? "" : `<a href="/admin/orders${query ? `?${query}` : ""}">← Newest</a>`;
  return `<h1>Orders</h1>
${filterForm(filter)}
<p class="muted">${result.matched} matching, newest first. <a href="/admin/orders.csv${query ? `?${query}` : ""}">Download CSV</a></p>
<div class="card scroll"><table>
<tr><th>order</th><th>state</th><th class="num">amount</th><th>provider</th><th>source</th><th>chat</th><th>created</th><th>paid</th><th>delivered</th></tr>
${rows || `<tr><td colspan="9" class="muted">No orders match.</td></tr>`}
</table></div>
<div class="pager">${first}${next}</div>`;
}

export type OrderDetails = {
  row: OrderRow;
  order: OrderRecord;
  trail: AuditEntry[];
  ledger: LedgerEntry | undefined;
  payment: PaymentRecord | undefined;
  conversation: ConversationRecord | undefined;
};

function timelineRow(entry: AuditEntry): string {
  const d = entry.detail;
  let what: string;
  let source = "";
  switch (entry.type) {
    case "transition":
      what = `${String(d.from)} → ${String(d.to)}`;
      source = "machine";
      break;
    case "command":
      what = `${String(d.command)}${d.accepted === false ? " (refused)" : ""}`;
      source = String(d.source);
      break;
    case "payment":
      what = `payment ${String(d.paymentId)}: ${String(d.outcome)}`;
      source = "payment provider";
      break;
    case "admin":
      what = `${String(d.action).replace(/_/g, " ")}${d.refundId ? ` (refund ${String(d.refundId)})` : ""}`;
      source = `admin ${String(d.by)}`;
      break;
    case "llm":
      what = `LLM call ${String(d.model)}: ${Number(d.promptTokens) + Number(d.completionTokens)} tokens${d.ok === false ? ", failed" : ""}`;
      source = "llm";
      break;
    case "not_understood":
      what = "message not understood";
      source = "customer";
      break;
    default:
      what = formatAuditEntry(entry);
  }
  return `<tr><td>${esc(new Date(entry.at).toISOString().replace("T", " ").slice(0, 23))}</td><td>${esc(entry.type)}</td><td>${esc(what)}</td><td>${esc(source)}</td></tr>`;
}

/** GET /admin/orders/<id>. Shows the delivery's hint, never its secret. */
/** Delivery attempts of the chat's current order, from its machine snapshot (older orders: none kept). */
function deliveryAttempts(d: OrderDetails): string | null {
  const context = d.conversation?.snapshot.context as { orderId?: unknown; delivery?: { attempts?: unknown; lastError?: unknown; nextAttemptAt?: unknown } } | undefined;
  if (!context || context.orderId !== d.order.orderId || !context.delivery || typeof context.delivery.attempts !== "number") return null;
  const { attempts, lastError, nextAttemptAt } = context.delivery;
  if (attempts === 0 && !lastError) return null;
  return `${attempts} failed attempt${attempts === 1 ? "" : "s"}${typeof lastError === "string" ? `, last error ${lastError}` : ""}${typeof nextAttemptAt === "number" ? `, next at ${when(nextAttemptAt)}` : ""}`;
}

/** Delivery facts from the ledger as timeline lines (the audit trail records the machine's side). */
function ledgerRows(ledger: LedgerEntry | undefined): { at: number; html: string }[] {
  if (!ledger) return [];
  const line = (at: number, what: string, detail: string) =>
    ({ at, html: `<tr><td>${esc(new Date(at).toISOString().replace("T", " ").slice(0, 23))}</td><td>delivery</td><td>${esc(what)} ${detail}</td><td>${esc(ledger.provider)}</td></tr>` });
  return [
    line(ledger.issuedAt, "issued", `<code>${esc(ledger.ref)}</code>, hint <code>${esc(ledger.hint)}</code>`),
    ...(ledger.sentAt === null ? [] : [line(ledger.sentAt, "sent to the customer", "")]),
  ];
}

export function orderPage(d: OrderDetails, csrf: string, canRefund: boolean, notice: string | null, graph: OwnerGraph = PURCHASE_GRAPH): string {
  const { row, order } = d;
  const attempts = deliveryAttempts(d);
  const timeline = [...d.trail.map((entry) => ({ at: entry.at, html: timelineRow(entry) })), ...ledgerRows(d.ledger)]
    .sort((a, b) => a.at - b.at)
    .map((line) => line.html)
    .join("");
  const field = (label: string, value: string) => `<tr><th>${label}</th><td>${value}</td></tr>`;
  const facts = [
    field("state", stateBadge(order.state)),
    field("chat", esc(order.chatId)),
    field("tokens", esc(order.tokens?.toLocaleString("en-US") ?? "—")),
    field("price", `${esc(money(order.usd))}, charged ${esc(money(order.charge))}`),
    field("how the amount was set", esc(SOURCE_LABELS[row.source])),
    field("created · paid · delivered", esc(`${when(order.createdAt)} · ${when(order.paidAt)} · ${when(order.deliveredAt)}`)),
    field("payment", order.paymentId ? `${esc(order.provider ?? "")} <code>${esc(order.paymentId)}</code>${d.payment ? ` — ${esc(d.payment.status)}${d.payment.reason ? ` (${esc(d.payment.reason)})` : ""}, ${esc(money(d.payment.amount))}` : ""}` : "—"),
    field("delivery", d.ledger ? `${esc(d.ledger.provider)} <code>${esc(d.ledger.ref)}</code>, hint <code>${esc(d.ledger.hint)}</code>, issued ${esc(when(d.ledger.issuedAt))}, sent ${esc(when(d.ledger.sentAt))}` : order.deliveryRef ? `<code>${esc(order.deliveryRef)}</code>` : "—"),
    ...(attempts ? [field("delivery attempts", esc(attempts))] : []),
    ...(order.latePayment ? [field("late payment", `<code>${esc(order.latePayment.paymentId)}</code> ${esc(money(order.latePayment.amount))} at ${esc(when(order.latePayment.at))}`)] : []),
    ...(order.refund ? [field("refund", `${esc(money(order.refund.amount))} of <code>${esc(order.refund.paymentId)}</code> ${order.refund.manual ? "recorded as manual" : `refund <code>${esc(order.refund.refundId ?? "")}</code>`} at ${esc(when(order.refund.at))}`)] : []),
    field("LLM", `${row.llmCalls} calls, ${row.llmTokens} tokens`),
  ].join("");
  const buttons = actionButtons({ orderId: order.orderId, state: order.state, refund: order.refund, latePayment: order.latePayment }, csrf, canRefund);
  const turns = d.conversation?.turns ?? [];
  const messages =
    turns.length === 0
      ? `<p class="muted">No recent messages kept.</p>`
      : `<ul>${turns.map((t) => `<li>${esc(t)}</li>`).join("")}</ul>`;
  return `<h1>Order <code>${esc(order.orderId)}</code></h1>
${notice ? `<p class="notice" role="status">${esc(notice)}</p>` : ""}
<div class="grid">
<section class="card"><h2>Order</h2><div class="scroll"><table class="facts">${facts}</table></div>${buttons ? `<p>${buttons}</p>` : ""}</section>
<section class="card"><h2>Its path through the machine</h2><p class="muted">Steps numbered in the order taken; the current state outlined.</p>${diagramSvg(graph, { path: row.path, current: order.state })}</section>
<section class="card wide"><h2>Timeline</h2><div class="scroll"><table class="timeline"><tr><th>time (UTC)</th><th>what</th><th>detail</th><th>source</th></tr>${timeline || `<tr><td colspan="4" class="muted">Nothing recorded.</td></tr>`}</table></div></section>
<section class="card wide"><h2>Latest messages in chat ${esc(order.chatId)}</h2>${messages}</section>
</div>`;
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
