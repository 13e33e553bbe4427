/**
 * The owner's actions on an order, through the engine's admin door exactly as the Telegram admin
 * commands do them: retry a failed delivery, return its money through the provider, or record money
 * returned by hand in the provider's app (the order's own, or an extra payment's). Which of them an
 * order offers is asked of its machine (`snapshot.can`), never read from its state's name; the admin
 * door asks again, so a button pressed on a stale page changes nothing.
 */
import { snapshotOf } from "../../machines/purchase.reading.ts";
import { PaymentId } from "../domain/ids.ts";
import type { Money } from "../domain/money.ts";
import type { OrderRecord } from "../domain/records.ts";
import type { AdminOutcome } from "../engine/index.ts";
import type { DashboardHost } from "./host.ts";
import { csrfField, esc, money } from "./html.ts";

/** Who did it, in the audit trail (the Telegram admin commands log the admin's chat id). */
export const WHO = "web";

/** What an action did, for the page's notice. */
export type ActionResult = { ok: boolean; message: string };

/** An extra payment the owner returns by hand. */
export type OwedStray = { chargeId: string; amount: Money | null; foreign: { amount: string; unit: string } | null };

/** What the owner can do to an order now. */
export type OwnerActions = {
  retry: boolean;
  /** Return the order's money through the provider (only when the provider can refund at all). */
  refund: boolean;
  /** Record that the order's money was returned by hand. */
  recordRefund: boolean;
  /** Extra payments whose return by hand can be recorded. */
  strays: OwedStray[];
};

/** Asks the order's machine which owner events it takes at `at`. */
export function ownerActions(record: OrderRecord, at: number, providerRefunds: boolean): OwnerActions {
  const snapshot = snapshotOf(record.snapshot);
  return {
    retry: snapshot.can({ type: "ADMIN_RETRY_DELIVERY", at }),
    refund: providerRefunds && snapshot.can({ type: "ADMIN_REFUND", at }),
    recordRefund: snapshot.can({ type: "REFUND_RECORDED", at }),
    strays: snapshot.context.strays
      .filter((stray) => snapshot.can({ type: "REFUND_RECORDED", at, chargeId: stray.chargeId }))
      .map((stray) => ({ chargeId: stray.chargeId, amount: stray.amount, foreign: stray.foreign })),
  };
}

/** The forms for what the order offers; empty when it offers nothing. */
export function actionButtons(orderId: string, actions: OwnerActions, csrf: string): string {
  const form = (path: string, label: string, extra = "", cls = "") =>
    `<form method="post" action="/admin/orders/${encodeURIComponent(orderId)}/${path}" class="inline">${csrfField(csrf)}${extra}<button${cls ? ` class="${cls}"` : ""}>${esc(label)}</button></form>`;
  const hidden = (name: string, value: string) => `<input type="hidden" name="${name}" value="${esc(value)}">`;
  const buttons: string[] = [];
  if (actions.retry) buttons.push(form("retry", "Retry delivery"));
  if (actions.refund) buttons.push(form("refund", "Refund through the provider", "", "secondary"));
  if (actions.recordRefund) buttons.push(form("refund", "Record manual refund", hidden("manual", "1"), "secondary"));
  for (const stray of actions.strays) {
    const paid = stray.amount ? money(stray.amount) : stray.foreign ? `${stray.foreign.amount} ${stray.foreign.unit}` : "extra payment";
    buttons.push(form("refund", `Record manual refund of ${paid}`, hidden("manual", "1") + hidden("charge", stray.chargeId), "secondary"));
  }
  return buttons.join(" ");
}

const stageOfPath = (path: string) => (path.split(".")[0] ?? path).replace(/_/g, " ");

function outcomeText(orderId: string, outcome: AdminOutcome, after: string): string {
  if (outcome.ok) return `Order ${orderId} is now ${stageOfPath(outcome.state)}.${after}`;
  switch (outcome.reason) {
    case "unknown_order":
      return `There is no order ${orderId}.`;
    case "not_allowed":
      return `Order ${orderId} is ${stageOfPath(outcome.state)} and cannot take that now; nothing was changed. The page shows what it can take.`;
    default: {
      const unhandled: never = outcome;
      return String(unhandled);
    }
  }
}

/** What to tell the owner beyond the new state: the provider could not return the money. */
async function afterwards(app: DashboardHost, orderId: string, outcome: AdminOutcome): Promise<string> {
  if (!outcome.ok) return "";
  const view = await app.engine.orderView(orderId);
  return view?.tags.includes("needs_owner")
    ? " It still needs you: the provider could not return the money; return it in the provider's app, then record the manual refund."
    : "";
}

export type OwnerCommand = { kind: "retry" } | { kind: "refund"; manual: boolean; chargeId?: string };

/** Carries out one owner command through the admin door. */
export async function runOwnerCommand(app: DashboardHost, orderId: string, command: OwnerCommand): Promise<ActionResult> {
  let outcome: AdminOutcome;
  if (command.kind === "retry") outcome = await app.engine.admin.retryDelivery(orderId, WHO);
  else {
    const charge = command.chargeId === undefined ? undefined : PaymentId.safeParse(command.chargeId);
    if (charge && !charge.success) return { ok: false, message: `That is not a payment id; nothing was changed.` };
    outcome = await app.engine.admin.refund(orderId, {
      manual: command.manual,
      by: WHO,
      ...(charge?.success ? { chargeId: charge.data } : {}),
    });
  }
  return { ok: outcome.ok, message: outcomeText(orderId, outcome, await afterwards(app, orderId, outcome)) };
}
