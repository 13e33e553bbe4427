/**
 * Engine events as audit log entries: only fields that are safe and useful to keep (never payment
 * secrets or goods). Customers' own words are kept, shortened, where the owner needs them (a message
 * the bot did not understand, a command typed as text).
 */
import type { AuditEntry, Json } from "../domain/records.ts";
import type { EngineEvent } from "./events.ts";

/** Every event the engine audits. */
export type AuditedEvent = EngineEvent;

/** How much of a customer's message the log keeps. */
export const MAX_AUDITED_TEXT = 500;

const clip = (text: string) => (text.length > MAX_AUDITED_TEXT ? `${text.slice(0, MAX_AUDITED_TEXT)}…` : text);

/** The detail an event keeps in the log. */
function detailOf(event: AuditedEvent): Record<string, Json> {
  switch (event.type) {
    case "command":
      return {
        command: event.command,
        source: event.source,
        accepted: event.accepted,
        ...(event.text !== undefined ? { text: clip(event.text) } : {}),
      };
    case "transition":
      return { from: event.from, to: event.to };
    case "order":
      return { summary: event.summary as unknown as Json, createdAt: event.createdAt };
    case "payment":
      return { paymentId: event.paymentId, chargeId: event.chargeId, outcome: event.outcome };
    case "not_understood":
      return { text: clip(event.text) };
    case "llm":
      return { model: event.model, promptTokens: event.promptTokens, completionTokens: event.completionTokens, ok: event.ok };
    case "admin":
      return { action: event.action, by: event.by };
    case "needs_owner":
      return { task: event.task };
    case "secret_undeliverable":
      return {};
    case "profile":
      return { username: event.username, firstName: event.firstName };
    case "reply":
      // Plain data by construction (codes, numbers, money); every store writes it as JSON at once, which drops absent fields.
      return event.reply as unknown as Record<string, Json>;
    default: {
      const unhandled: never = event;
      throw new Error(`unknown engine event ${JSON.stringify(unhandled)}`);
    }
  }
}

/** The log entry for `event`, written by `instance`. */
export function toAuditEntry(event: AuditedEvent, instance: string): AuditEntry {
  return { v: 2, type: event.type, chatId: event.chatId, orderId: event.orderId, at: event.at, instance, detail: detailOf(event) };
}
