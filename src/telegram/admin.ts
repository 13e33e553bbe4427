/**
 * Admin commands in Telegram, for the chats in `ADMIN_CHAT_IDS` only: `/stats` (the sales funnel and
 * sales by product),
 * `/order <id>` (record and audit trail), `/refund <id>` (through the provider, or recorded after a
 * manual refund), `/retry <id>` (a failed delivery) and `/broadcast <text>` (confirmed with buttons,
 * rate limited). Admins are also told when an order's delivery fails or a payment arrives late or
 * with the wrong amount.
 *
 * In any other chat these commands do not exist: the updates fall through to the customer handlers,
 * so a customer typing `/stats` gets exactly what any unknown command gets and learns nothing.
 */
import { randomBytes } from "node:crypto";
import { type Bot, Composer, type Context } from "grammy";
import { buildFunnel, formatFunnel } from "../analytics/funnel.ts";
import type { ProjectionState } from "../analytics/projection.ts";
import { formatSalesShort, salesByProduct } from "../analytics/sales.ts";
import { createBoundedMap } from "../bounded.ts";
import type { App } from "../app.ts";
import { formatAuditEntry } from "../audit/index.ts";
import type { AuditEntry, OrderRecord } from "../domain/records.ts";
import { formatMoney, groupThousands } from "../domain/money.ts";
import type { AdminOutcome, EngineEvent } from "../engine/index.ts";
import { snapshotOf } from "../../machines/purchase.reading.ts";
import { type AdminAlert, formatAdminAlert } from "../render/alerts.ts";
import { escapeHtml } from "../render/html.ts";
import { REFERENCE_LANGUAGE } from "../i18n/index.ts";
import { commandMenu } from "./language.ts";

export type AdminOptions = {
  /** Broadcast pace; Telegram allows about 30 messages a second to different chats. */
  broadcastPerSecond?: number;
  /** Times how long a broadcast waits for Send or Cancel (default `Date.now`). */
  clock?: () => number;
};

/** A broadcast not confirmed within this is dropped; so are the oldest beyond {@link PENDING_BROADCASTS}. */
const BROADCAST_CONFIRM_MS = 60 * 60_000;
const PENDING_BROADCASTS = 20;

/** The admin menu, shown only in admin chats (next to the customer commands). */
export const ADMIN_COMMANDS = [
  { command: "stats", description: "Sales funnel and sales by product" },
  { command: "order", description: "Order record and audit trail: /order <id>" },
  { command: "refund", description: "Refund an order: /refund <id> (or /refund <id> done)" },
  { command: "retry", description: "Retry a failed delivery: /retry <id>" },
  { command: "broadcast", description: "Message every customer: /broadcast <text>" },
] as const;

/** Callback data prefix of admin buttons; `decodeButton` returns null for it, so customers can't use them. */
const BROADCAST_BUTTON = /^adm\|bc\|([0-9a-f]{8})\|([yn])$/;
const ORDER_ID = /^[A-Za-z0-9_-]{1,40}$/;
/** Telegram's message limit is 4096 characters; the trail is cut to its newest lines to stay below. */
const MAX_TRAIL_CHARS = 3_000;

const escape = escapeHtml;
const code = (text: string) => `<code>${escape(text)}</code>`;
const iso = (at: number | null | undefined) => (at === null || at === undefined ? "—" : new Date(at).toISOString().replace(".000Z", "Z"));
const amount = (value: Parameters<typeof formatMoney>[0] | null) => (value ? formatMoney(value) : "—");
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** `/stats`: the funnel, then each product's sales, revenue, credit and margin and the promo codes' uses (all time). */
export function statsMessage(state: ProjectionState): string {
  const funnel = formatFunnel(buildFunnel(state.orders.values()));
  return `<pre>${escape(funnel)}</pre>\n${escape(formatSalesShort(salesByProduct(state.orders.values())))}`;
}

/** The order as an admin needs it. Never shows secrets: the record holds none, and the goods are not read. */
export function formatOrder(order: OrderRecord, trail: AuditEntry[]): string {
  const o = order.summary;
  const c = snapshotOf(order.snapshot).context;
  const paidText = (money: { amount: Parameters<typeof formatMoney>[0] | null; foreign: { amount: string; unit: string } | null }) =>
    money.amount ? amount(money.amount) : money.foreign ? `${money.foreign.amount} ${money.foreign.unit}` : "—";
  const lines = [
    `<b>Order</b> ${code(order.orderId)}`,
    `State: <b>${escape(o.state)}</b>${o.tags.includes("needs_owner") ? " ⚠️ needs you" : ""}`,
    `Chat: ${code(order.chatId)}`,
    `Tokens: ${o.tokens === null ? "—" : groupThousands(String(o.tokens))}`,
    `Price: ${escape(amount(o.usd))}, charge ${escape(amount(o.charge))}`,
    `Payment: ${o.provider ? escape(o.provider) : "—"} ${o.paymentId ? code(o.paymentId) : ""}`.trimEnd(),
    `Created ${iso(order.createdAt)}, paid ${iso(o.paidAt)}${o.late ? " (late)" : ""}, delivered ${iso(o.deliveredAt)}`,
  ];
  if (c.delivery.ref) lines.push(`Delivery ref: ${code(c.delivery.ref)}`);
  if (c.refund) {
    const how =
      c.refund.refundedAt === null
        ? "to be returned"
        : c.refund.manual
          ? "returned by hand"
          : `refunded (${code(c.refund.refundId ?? "")})`;
    lines.push(
      `↩️ ${escape(c.refund.reason)} payment ${code(c.refund.chargeId)}: ${escape(paidText(c.refund))}, ${how}${c.refund.refundedAt ? ` at ${iso(c.refund.refundedAt)}` : ""}`,
    );
  }
  for (const stray of c.strays) lines.push(`↩️ extra payment ${code(stray.chargeId)}: ${escape(paidText(stray))}, ${escape(stray.status)}`);
  const trailLines = trail.map((entry) => formatAuditEntry(entry));
  let shown = trailLines;
  while (shown.join("\n").length > MAX_TRAIL_CHARS && shown.length > 1) shown = shown.slice(1);
  const cut = trailLines.length - shown.length;
  lines.push("", `<b>Audit trail</b> (${trail.length} entries${cut > 0 ? `, oldest ${cut} not shown` : ""}):`);
  lines.push(trail.length === 0 ? "none recorded" : `<pre>${escape(shown.join("\n"))}</pre>`);
  return lines.join("\n");
}

/** The admin's answer to an action on an order (retry, refund), from the engine's outcome. */
const outcomeText = (orderId: string, outcome: AdminOutcome, action: string): string => {
  if (outcome.ok) return `Done: order ${code(orderId)} is now <b>${escape(outcome.state)}</b>.`;
  switch (outcome.reason) {
    case "unknown_order":
      return `There is no order ${code(orderId)}.`;
    case "not_allowed":
      return `Order ${code(orderId)} is <b>${escape(outcome.state)}</b>: it cannot be ${escape(action)} in that state.`;
    default: {
      const unhandled: never = outcome;
      return String(unhandled);
    }
  }
};

/**
 * Tells admins about orders that need them: a delivery that kept failing, and a payment that came late
 * or in the wrong amount. Subscribed once per running bot; returns the unsubscribe function.
 */
export function watchForAdminAlerts(app: App, api: Bot["api"]): () => void {
  const admins = new Set(app.config.adminChatIds);
  if (admins.size === 0) return () => {};
  // Each admin reads alerts in their own chat's language.
  const notifyAdmins = (alert: AdminAlert) => {
    for (const chatId of admins) {
      void app.languages
        .of(chatId)
        .then((language) => api.sendMessage(chatId, formatAdminAlert(app.localization.translator(language), alert), { parse_mode: "HTML" }))
        .catch((error: unknown) => {
          app.log.warn("admin notification failed", { chatId, err: error });
        });
    }
  };
  const unsubscribe = app.engine.onEvent((event: EngineEvent) => {
    if (event.type === "needs_owner")
      notifyAdmins({
        kind: event.task === "retry_or_refund" ? "delivery_failed" : "refund_by_hand",
        orderId: event.orderId,
        chatId: event.chatId,
      });
    else if (event.type === "secret_undeliverable")
      notifyAdmins({ kind: "goods_undeliverable", orderId: event.orderId, chatId: event.chatId });
  });
  return () => {
    unsubscribe();
  };
}

/**
 * Builds the admin command handlers. Mount the returned composer before the customer commands; the
 * alerts to admins are started separately, once per running bot ({@link watchForAdminAlerts}).
 */
export function createAdmin(app: App, options: AdminOptions = {}): Composer<Context> {
  const admins = new Set(app.config.adminChatIds);
  const perSecond = options.broadcastPerSecond ?? 20;
  const log = app.log;
  const composer = new Composer<Context>();
  const html = (ctx: Context, text: string) => ctx.reply(text, { parse_mode: "HTML", link_preview_options: { is_disabled: true } });
  /** Broadcasts waiting for Send or Cancel, by id. Kept in memory: a restart simply forgets them. */
  const pendingBroadcasts = createBoundedMap<string, { text: string; chatId: string }>({
    maxEntries: PENDING_BROADCASTS,
    ttlMs: BROADCAST_CONFIRM_MS,
    ...(options.clock ? { clock: options.clock } : {}),
  });

  /** The order id argument, or null (and the admin was told how to use the command). */
  const orderArgument = async (ctx: Context, usage: string): Promise<{ order: OrderRecord; rest: string } | null> => {
    const [id = "", ...rest] = String(ctx.match ?? "")
      .trim()
      .split(/\s+/);
    if (!ORDER_ID.test(id)) {
      await html(ctx, `Usage: ${escape(usage)}`);
      return null;
    }
    const order = await app.engine.order(id);
    if (!order) {
      await html(ctx, `There is no order ${code(id)}.`);
      return null;
    }
    return { order, rest: rest.join(" ") };
  };

  /** Refunds through the engine's admin door and words the outcome for the admin. */
  const refund = async (ctx: Context, order: OrderRecord, manual: boolean): Promise<string> => {
    const outcome = await app.engine.admin.refund(order.orderId, { manual, by: String(ctx.chat?.id ?? "") });
    return outcomeText(order.orderId, outcome, manual ? "marked refunded by hand" : "refunded through the provider");
  };

  const broadcast = async (api: Bot["api"], adminChat: string, text: string) => {
    // Every chat that ever placed an order (from the read model: no scan of the store).
    const chats = [...app.projection.state().customers.keys()];
    const gapMs = 1_000 / perSecond;
    let sent = 0;
    let failed = 0;
    for (const [i, chatId] of chats.entries()) {
      if (i > 0) await sleep(gapMs);
      try {
        await api.sendMessage(chatId, escape(text), { parse_mode: "HTML" });
        sent++;
      } catch (error) {
        failed++;
        log.debug("broadcast message failed", { chatId, err: error });
      }
    }
    log.info("broadcast finished", { sent, failed });
    await api.sendMessage(adminChat, `Broadcast finished: sent ${sent}, failed ${failed}.`);
  };

  const admin = composer.filter((ctx) => ctx.chat !== undefined && admins.has(String(ctx.chat.id)));

  admin.command("stats", async (ctx) => {
    await app.projection.refresh();
    await html(ctx, statsMessage(app.projection.state()));
  });

  admin.command("order", async (ctx) => {
    const found = await orderArgument(ctx, "/order <id>");
    if (!found) return;
    await html(ctx, formatOrder(found.order, await app.audit.forOrder(found.order.orderId)));
  });

  admin.command("refund", async (ctx) => {
    const found = await orderArgument(ctx, "/refund <id>, or /refund <id> done after refunding in the provider's app");
    if (!found) return;
    if (found.rest !== "" && found.rest !== "done") {
      await html(ctx, "Usage: /refund &lt;id&gt;, or /refund &lt;id&gt; done after refunding in the provider's app");
      return;
    }
    await html(ctx, await refund(ctx, found.order, found.rest === "done"));
  });

  admin.command("retry", async (ctx) => {
    const found = await orderArgument(ctx, "/retry <id>");
    if (!found) return;
    const outcome = await app.engine.admin.retryDelivery(found.order.orderId, String(ctx.chat.id));
    await html(ctx, outcomeText(found.order.orderId, outcome, "retried"));
  });

  admin.command("broadcast", async (ctx) => {
    const text = String(ctx.match ?? "").trim();
    if (text === "") {
      await html(ctx, "Usage: /broadcast &lt;text&gt;");
      return;
    }
    await app.projection.refresh();
    const chats = app.projection.state().customers.size;
    const id = randomBytes(4).toString("hex");
    pendingBroadcasts.set(id, { text, chatId: String(ctx.chat.id) });
    await ctx.reply(`Send this to ${chats} chats?\n\n${escape(text)}`, {
      parse_mode: "HTML",
      reply_markup: {
        inline_keyboard: [
          [
            { text: "Send", callback_data: `adm|bc|${id}|y` },
            { text: "Cancel", callback_data: `adm|bc|${id}|n` },
          ],
        ],
      },
    });
  });

  admin.on("callback_query:data", async (ctx, next) => {
    const match = BROADCAST_BUTTON.exec(ctx.callbackQuery.data);
    if (!match) return next();
    const [, id = "", choice] = match;
    const pending = pendingBroadcasts.get(id);
    pendingBroadcasts.delete(id);
    if (!pending) {
      await ctx
        .answerCallbackQuery({ text: "This broadcast was already sent, cancelled or left unconfirmed for an hour; send /broadcast again." })
        .catch(() => {});
      return;
    }
    await ctx.answerCallbackQuery().catch(() => {});
    const status = choice === "y" ? "Sending…" : "Broadcast cancelled.";
    await ctx.editMessageText(`${status}\n\n${escape(pending.text)}`, { parse_mode: "HTML" }).catch(() => {});
    if (choice !== "y") return;
    // In the background: a long broadcast must not hold up the admin chat's queue.
    void broadcast(ctx.api, pending.chatId, pending.text).catch((error: unknown) => log.error("broadcast failed", { err: error }));
  });

  return composer;
}

/** Shows the admin commands in admin chats' menus. Best effort: a failure only leaves the menu shorter. */
export async function registerAdminCommands(app: App, api: Bot["api"]): Promise<void> {
  for (const chatId of app.config.adminChatIds) {
    await api
      .setMyCommands([...commandMenu(app.localization, REFERENCE_LANGUAGE), ...ADMIN_COMMANDS], {
        scope: { type: "chat", chat_id: chatId },
      })
      .catch((error: unknown) => app.log.warn("could not register admin commands", { chatId, err: error }));
  }
}
