/**
 * One order's page and one customer's page. The order is read from its own record (its snapshot: the
 * facts, its delivery attempts, its refund and extra payments, what the owner can do) and its trail
 * from the audit log (both sides of the conversation, the timeline, its path through the machine).
 * The goods' reference and hint are shown, never their secret.
 */
import { snapshotOf } from "../../machines/purchase.reading.ts";
import { SOURCE_LABELS } from "../analytics/funnel.ts";
import { type CustomerRow, type OrderRow, sourceOf } from "../analytics/projection.ts";
import { formatAuditEntry } from "../audit/index.ts";
import type { AuditEntry, GoodsEntry, OrderRecord } from "../domain/records.ts";
import type { OrderView } from "../engine/reply.ts";
import type { Turn } from "./conversation.ts";
import { type OwnerGraph, PURCHASE_GRAPH, diagramSvg } from "./diagram.ts";
import { esc, money, when } from "./html.ts";
import { chatLink, customerName, orderLink, stageBadge } from "./pages.ts";
import { edgesOf } from "./queries.ts";

export type OrderDetails = {
  record: OrderRecord;
  view: OrderView;
  /** The read model's row (how the amount was set, LLM use, the stages it went through); absent while it catches up. */
  row: OrderRow | undefined;
  customer: CustomerRow | undefined;
  trail: AuditEntry[];
  goods: GoodsEntry | undefined;
  turns: Turn[];
  /** The forms of what the owner can do now (see `actions.ts`). */
  buttons: string;
};

const time = (at: number) => new Date(at).toISOString().replace("T", " ").slice(0, 19);

/** One audit entry as a timeline row: when, what, and who or what caused it. */
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
      what = `payment ${String(d.paymentId)}${d.chargeId && d.chargeId !== d.paymentId ? ` (charge ${String(d.chargeId)})` : ""}: ${String(d.outcome)}`;
      source = "payment provider";
      break;
    case "admin":
      what = String(d.action).replace(/_/g, " ");
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
    case "reply":
      what = `answered: ${String(d.kind).replace(/_/g, " ")}`;
      source = "bot";
      break;
    case "order": {
      const summary = d.summary as { state?: unknown; tags?: unknown } | null;
      what = `order now ${String(summary?.state)}${Array.isArray(summary?.tags) && summary.tags.length > 0 ? ` [${summary.tags.join(", ")}]` : ""}`;
      source = "commit";
      break;
    }
    case "needs_owner":
      what = `needs the owner: ${String(d.task).replace(/_/g, " ")}`;
      source = "machine";
      break;
    case "secret_undeliverable":
      what = "the goods could not be sent to the customer";
      source = "channel";
      break;
    case "profile":
      what = `customer is ${[d.username ? `@${String(d.username)}` : "", d.firstName ? String(d.firstName) : ""].filter(Boolean).join(" ") || "unnamed"}`;
      source = "telegram";
      break;
    default: {
      const unhandled: never = entry.type;
      void unhandled;
      what = formatAuditEntry(entry);
    }
  }
  return `<tr><td>${esc(time(entry.at))}</td><td>${esc(entry.type)}</td><td>${esc(what)}</td><td>${esc(source)}</td></tr>`;
}

/** The turns of a conversation as chat bubbles. */
export function talk(turns: readonly Turn[]): string {
  if (turns.length === 0) return `<p class="muted">No messages in this conversation.</p>`;
  return `<div class="talk">${turns
    .map((turn) =>
      turn.from === "customer"
        ? `<div class="turn customer"><small>customer · ${esc(time(turn.at))}${turn.note ? ` · ${esc(turn.note)}` : ""}</small>${esc(turn.text)}</div>`
        : `<div class="turn bot"><small>bot · ${esc(time(turn.at))}</small>${esc(turn.text)}</div>`,
    )
    .join("")}</div>`;
}

const paidText = (paid: { amount: Parameters<typeof money>[0]; foreign: { amount: string; unit: string } | null }) =>
  paid.amount ? money(paid.amount) : paid.foreign ? `${paid.foreign.amount} ${paid.foreign.unit}` : "—";

/** GET /admin/orders/<id>. */
export function orderPage(d: OrderDetails, notice: string | null, graph: OwnerGraph = PURCHASE_GRAPH): string {
  const { record, view, row } = d;
  const s = record.summary;
  const context = snapshotOf(record.snapshot).context;
  const delivery = context.delivery;
  const field = (label: string, value: string) => `<tr><th>${label}</th><td>${value}</td></tr>`;
  const refund = view.refund
    ? `${esc(view.refund.reason)}: ${esc(paidText(view.refund))}, ${view.refund.refunded ? (view.refund.manual ? "returned by hand" : "refunded") : "to be returned"}${context.refund?.refundId ? ` (<code>${esc(context.refund.refundId)}</code>)` : ""}`
    : "";
  const facts = [
    field("stage", `${stageBadge({ summary: s })} <span class="muted">${esc(s.state)}</span>`),
    field("tags", esc(s.tags.join(", ") || "—")),
    field("customer", chatLink(record.chatId, customerName(d.customer, record.chatId))),
    field("tokens", esc(s.tokens?.toLocaleString("en-US") ?? "—")),
    field("price", `${esc(money(s.usd))}, charged ${esc(money(s.charge))}`),
    field("how the amount was set", esc(row ? SOURCE_LABELS[sourceOf(row)] : "—")),
    field(
      "created · paid · delivered",
      esc(`${when(record.createdAt)} · ${when(s.paidAt)}${s.late ? " (late)" : ""} · ${when(s.deliveredAt)}`),
    ),
    field("payment", s.paymentId ? `${esc(s.provider ?? "")} <code>${esc(s.paymentId)}</code>` : "—"),
    field(
      "goods",
      d.goods
        ? `${esc(d.goods.provider)} <code>${esc(d.goods.ref)}</code>, hint <code>${esc(d.goods.hint)}</code>, issued ${esc(when(d.goods.issuedAt))}, sent ${esc(when(d.goods.sentAt))}${d.goods.revoked.length > 0 ? `, ${d.goods.revoked.length} earlier revoked` : ""}`
        : "—",
    ),
    ...(delivery.attempts > 0 || delivery.lastError
      ? [
          field(
            "delivery attempts",
            esc(
              `${delivery.attempts}${delivery.lastError ? `, last error ${delivery.lastError}` : ""}${delivery.nextAttemptAt ? `, next at ${when(delivery.nextAttemptAt)}` : ""}`,
            ),
          ),
        ]
      : []),
    ...(refund ? [field("refund", refund)] : []),
    ...context.strays.map((stray) =>
      field("extra payment", `<code>${esc(stray.chargeId)}</code> ${esc(paidText(stray))}, ${esc(stray.status)}`),
    ),
    field("LLM", row ? `${row.llmCalls} calls, ${row.llmTokens} tokens` : "—"),
  ].join("");
  const timeline = d.trail.map(timelineRow).join("");
  const path = row ? edgesOf(row, graph) : [];
  return `<h1>Order <code>${esc(record.orderId)}</code></h1>
${notice ? `<p class="notice" role="status">${esc(notice)}</p>` : ""}
<div class="grid">
<section class="card"><h2>Order</h2><div class="scroll"><table class="facts">${facts}</table></div>${d.buttons ? `<p class="actions">${d.buttons}</p>` : ""}</section>
<section class="card" id="conversation"><h2>Conversation</h2>${talk(d.turns)}</section>
<section class="card wide"><h2>Its path through the machine</h2><p class="muted">Steps numbered in the order taken; the current stage outlined.</p>${diagramSvg(graph, { path, current: view.stage })}</section>
<section class="card wide"><h2>Timeline</h2><div class="scroll"><table class="timeline"><tr><th>time (UTC)</th><th>what</th><th>detail</th><th>source</th></tr>${timeline || `<tr><td colspan="4" class="muted">Nothing recorded.</td></tr>`}</table></div></section>
</div>`;
}

export type ChatDetails = {
  chatId: string;
  customer: CustomerRow | undefined;
  /** The chat's orders, newest first. */
  orders: readonly OrderRow[];
  /** Its conversation: before its first order, then in its latest orders. */
  turns: Turn[];
  /** How many of its orders the conversation covers. */
  ordersInTalk: number;
};

/** GET /admin/chats/<chatId>: one customer, their orders and their conversation. */
export function chatPage(d: ChatDetails): string {
  const c = d.customer;
  const rows = d.orders
    .map(
      (r) =>
        `<tr><td>${orderLink(r.orderId)}</td><td>${stageBadge(r)}</td><td class="num">${esc(money(r.summary.usd))}</td><td>${esc(when(r.createdAt))}</td><td>${esc(when(r.summary.paidAt))}</td></tr>`,
    )
    .join("");
  const name = customerName(c, d.chatId);
  const facts = c
    ? `<p>Chat <code>${esc(d.chatId)}</code>${c.username ? ` · <b>@${esc(c.username)}</b>` : ""}${c.firstName ? ` · ${esc(c.firstName)}` : ""} · first seen ${esc(when(c.firstSeenAt))}, last seen ${esc(when(c.lastSeenAt))} · ${c.orders} orders, ${c.paidOrders} paid, ${esc(money({ minor: c.revenueUsdCents, currency: "USD" }))}</p>`
    : `<p class="muted">Chat <code>${esc(d.chatId)}</code>: nothing recorded yet.</p>`;
  const covered =
    d.orders.length > d.ordersInTalk
      ? `<p class="muted">The conversation of its ${d.ordersInTalk} latest orders; older ones are on their order pages.</p>`
      : "";
  return `<h1>${esc(name)}</h1>
${facts}
<div class="grid">
<section class="card"><h2>Orders</h2><div class="scroll"><table><tr><th>order</th><th>stage</th><th class="num">amount</th><th>created</th><th>paid</th></tr>${rows || `<tr><td colspan="5" class="muted">No orders yet.</td></tr>`}</table></div></section>
<section class="card" id="conversation"><h2>Conversation</h2>${covered}${talk(d.turns)}</section>
</div>`;
}
