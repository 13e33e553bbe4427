/**
 * The shop's read model as data: one row per order, one per customer, the texts the bot did not
 * understand and the talk before a first order — and the reducer that applies one audit log entry to
 * it ({@link applyEntry}). The reducer never names a state: it reads the order summaries the engine
 * logs with every commit (tags, stage, money) and the commands, LLM calls, replies and texts around
 * them. `projection.ts` keeps it up to date and saved; `projection-codec.ts` is its saved form.
 */
import { CommandSource } from "../domain/commands.ts";
import type { Money } from "../domain/money.ts";
import type { AuditEntry, Json, OrderSummary } from "../domain/records.ts";

/** How an order was driven: the source of the command(s) that set its amount. */
export type FunnelSource = CommandSource | "mixed" | "unattributed";
export const FUNNEL_SOURCES: readonly FunnelSource[] = [...CommandSource.options, "mixed", "unattributed"];

/** What the read model keeps of an order's summary: its pay link, goods hint and deadline are the order's own. */
export type RowSummary = Omit<OrderSummary, "payUrl" | "deliveryHint" | "dueAt">;

/**
 * One order, as the read model knows it. Its lists and money values are replaced when they change,
 * never changed in place (a loaded model shares equal ones between rows).
 */
export type OrderRow = {
  orderId: string;
  chatId: string;
  createdAt: number;
  updatedAt: number;
  /** The order as its last commit left it (state path and tags, money, times, and how its price was made: product, tier, promo code and discount, credit, margin). */
  summary: RowSummary;
  /** When a price was first fixed, an invoice first made, and whether money and goods ever came. */
  quotedAt: number | null;
  invoicedAt: number | null;
  paid: boolean;
  delivered: boolean;
  /** When money first went back to the customer (its amount is `summary.refunded`). */
  refundedAt: number | null;
  /** Since when the order has needed the owner (tagged `needs_owner`, or a stray payment owed); null when it does not. */
  ownerSince: number | null;
  /** Sources of the accepted amount-setting commands, and of the order's first command. */
  quoteSources: CommandSource[];
  firstSource: CommandSource | null;
  llmCalls: number;
  llmTokens: number;
  /** The top-level states the order was committed in, in order (consecutive repeats merged). */
  stages: string[];
};

/** A chat the shop has heard from (a command, an order, a text it did not understand). */
export type CustomerRow = {
  chatId: string;
  /** As Telegram last named the customer (null: never said, or not a Telegram chat). */
  username: string | null;
  firstName: string | null;
  firstSeenAt: number;
  /** When the customer last wrote or pressed something. */
  lastSeenAt: number;
  orders: number;
  paidOrders: number;
  /** What the customer's paid orders were worth, in US cents (list prices). */
  revenueUsdCents: number;
};

/** A text the bot did not understand, with how often it came and where it came last. */
export type NotUnderstoodRow = { text: string; count: number; lastAt: number; chatId: string; orderId: string | null };

/**
 * One line of a conversation before the chat had an order (later lines are in the order's own trail):
 * what the customer wrote (`text`, or the command a button or slash command meant) or what the bot
 * answered (`reply`, the log's note of it).
 */
export type TalkLine =
  | { at: number; from: "customer"; text: string | null; command: string | null; source: string | null }
  | { at: number; from: "bot"; reply: Record<string, Json> };

/** The conversation of one chat before its first order, newest chats last. */
export type EarlyTalk = { chatId: string; lines: TalkLine[] };

/** What the entries before an order's first summary say about it (a commit logs the order last). */
export type OrderFacts = Pick<OrderRow, "quoteSources" | "firstSource" | "llmCalls" | "llmTokens">;

export type ProjectionState = {
  v: 2;
  /** Every order by id, in the order they first appeared (Maps: 100,000 rows iterate in milliseconds). */
  orders: Map<string, OrderRow>;
  /**
   * Facts of orders whose first summary has not come yet: the command that made an order, and the
   * model's calls for it, are logged before the order itself in the same commit.
   */
  awaiting: Record<string, OrderFacts>;
  /** Every chat heard from, by chat id. */
  customers: Map<string, CustomerRow>;
  /** The last texts not understood (most recent last), at most {@link NOT_UNDERSTOOD_KEPT}. */
  notUnderstood: NotUnderstoodRow[];
  /** Conversations before a first order, of the last {@link EARLY_TALK_CHATS} chats, {@link EARLY_TALK_LINES} lines each. */
  earlyTalk: EarlyTalk[];
  /** Log entries applied so far. */
  applied: number;
};

/** How many distinct not-understood texts are kept. */
export const NOT_UNDERSTOOD_KEPT = 100;
/** How many chats' talk before their first order is kept, and how many lines of each. */
export const EARLY_TALK_CHATS = 500;
export const EARLY_TALK_LINES = 12;

export function emptyProjection(): ProjectionState {
  return { v: 2, orders: new Map(), awaiting: {}, customers: new Map(), notUnderstood: [], earlyTalk: [], applied: 0 };
}

const isSource = (value: unknown): value is CommandSource => CommandSource.safeParse(value).success;
const num = (value: unknown) => (typeof value === "number" && Number.isFinite(value) ? value : 0);
const str = (value: unknown) => (typeof value === "string" ? value : null);
/** The top-level state of a summary's path: for grouping and display, never for decisions. */
export const stageOfSummary = (summary: Pick<OrderSummary, "state">): string => {
  const dot = summary.state.indexOf(".");
  return dot < 0 ? summary.state : summary.state.slice(0, dot);
};
/** Texts counted together whatever their case and spacing. */
const normalize = (text: string) => text.trim().replace(/\s+/g, " ").toLowerCase();

/** How the order was driven: its amount's source, "mixed" when several set it, else its first command's. */
export function sourceOf(row: Pick<OrderRow, "quoteSources" | "firstSource">): FunnelSource {
  return row.quoteSources.length > 1 ? "mixed" : (row.quoteSources[0] ?? row.firstSource ?? "unattributed");
}

/** True when the order needs the owner now: its state says so (`needs_owner`), or it holds a stray payment only the owner can return. */
export function needsOwner(summary: Pick<OrderSummary, "tags" | "owedStrays">): boolean {
  return summary.tags.includes("needs_owner") || (summary.owedStrays ?? 0) > 0;
}

/** State paths and tag lists repeat across orders: rows share one copy of each (they are replaced, never changed). */
const shared = new Map<string, string[]>();
function sharedTags(tags: string[]): string[] {
  const key = tags.join(",");
  let found = shared.get(key);
  if (!found) {
    if (shared.size > 10_000) shared.clear();
    shared.set(key, (found = tags));
  }
  return found;
}

function rowSummary(summary: OrderSummary): RowSummary {
  const { payUrl: _payUrl, deliveryHint: _hint, dueAt: _dueAt, ...kept } = summary;
  kept.tags = sharedTags(kept.tags);
  // Summaries logged before catalogs (issue 21) lack how the price was made: none, as the saved form reads it back.
  kept.promoCode ??= null;
  kept.discount ??= null;
  kept.tier ??= null;
  kept.credit ??= null;
  kept.margin ??= null;
  kept.reissues ??= 0;
  return kept;
}

/** At most this many orders wait for their first summary (a commit holds one or two). */
const AWAITING_KEPT = 1_000;

/** The facts of an order: its row, or what waits for its row. */
function factsOf(state: ProjectionState, orderId: string | null): OrderFacts | undefined {
  if (!orderId) return undefined;
  const row = state.orders.get(orderId);
  if (row) return row;
  let waiting = state.awaiting[orderId];
  if (!waiting) {
    const ids = Object.keys(state.awaiting);
    if (ids.length >= AWAITING_KEPT) delete state.awaiting[ids[0]!];
    waiting = state.awaiting[orderId] = { quoteSources: [], firstSource: null, llmCalls: 0, llmTokens: 0 };
  }
  return waiting;
}

/** Adds a line to the chat's talk before its first order (the chat moves to the newest end). */
function talk(state: ProjectionState, chatId: string, line: TalkLine): void {
  const at = state.earlyTalk.findIndex((entry) => entry.chatId === chatId);
  const entry = at >= 0 ? state.earlyTalk.splice(at, 1)[0]! : { chatId, lines: [] };
  entry.lines.push(line);
  if (entry.lines.length > EARLY_TALK_LINES) entry.lines.shift();
  state.earlyTalk.push(entry);
  if (state.earlyTalk.length > EARLY_TALK_CHATS) state.earlyTalk.shift();
}

/** Applies one log entry to the state (in place). Entries must come in log order. */
export function applyEntry(state: ProjectionState, entry: AuditEntry): void {
  state.applied++;
  const d = entry.detail;
  let seen = state.customers.get(entry.chatId);
  if (!seen) {
    seen = {
      chatId: entry.chatId,
      username: null,
      firstName: null,
      firstSeenAt: entry.at,
      lastSeenAt: entry.at,
      orders: 0,
      paidOrders: 0,
      revenueUsdCents: 0,
    };
    state.customers.set(entry.chatId, seen);
  }
  // Seen: when the customer wrote or pressed something (not when the sweeper or a payment moved their order).
  if (entry.type === "command" || entry.type === "not_understood") seen.lastSeenAt = Math.max(seen.lastSeenAt, entry.at);
  const row = entry.orderId ? state.orders.get(entry.orderId) : undefined;
  switch (entry.type) {
    case "order": {
      const logged = d.summary as unknown as OrderSummary;
      if (!logged || typeof logged !== "object" || !entry.orderId) return;
      const summary = rowSummary(logged);
      const createdAt = num(d.createdAt) || entry.at;
      const before = state.awaiting[entry.orderId];
      if (before) delete state.awaiting[entry.orderId];
      const current: OrderRow = row ?? {
        orderId: entry.orderId,
        chatId: entry.chatId,
        createdAt,
        updatedAt: entry.at,
        summary,
        quotedAt: null,
        invoicedAt: null,
        paid: false,
        delivered: false,
        refundedAt: null,
        ownerSince: null,
        quoteSources: before?.quoteSources ?? [],
        firstSource: before?.firstSource ?? null,
        llmCalls: before?.llmCalls ?? 0,
        llmTokens: before?.llmTokens ?? 0,
        stages: [],
      };
      const wasPaid = current.paid;
      current.summary = summary;
      current.updatedAt = entry.at;
      if (summary.usd !== null && current.quotedAt === null) current.quotedAt = entry.at;
      if (summary.paymentId !== null && current.invoicedAt === null) current.invoicedAt = entry.at;
      if (summary.tags.includes("paid")) current.paid = true;
      if (summary.tags.includes("delivered")) current.delivered = true;
      if (summary.refunded !== null && current.refundedAt === null) current.refundedAt = entry.at;
      current.ownerSince = needsOwner(summary) ? (current.ownerSince ?? entry.at) : null;
      const stage = stageOfSummary(summary);
      // Lists are replaced, never grown in place: a loaded model shares equal lists between rows.
      if (current.stages.at(-1) !== stage) current.stages = [...current.stages, stage];
      if (!row) {
        state.orders.set(entry.orderId, current);
        seen.orders++;
      }
      if (current.paid && !wasPaid) {
        seen.paidOrders++;
        seen.revenueUsdCents += usdCents(summary.usd);
      }
      return;
    }
    case "command": {
      if (!entry.orderId)
        talk(state, entry.chatId, { at: entry.at, from: "customer", text: str(d.text), command: str(d.command), source: str(d.source) });
      const facts = factsOf(state, entry.orderId);
      if (!facts || !isSource(d.source)) return;
      facts.firstSource ??= d.source;
      if (d.accepted === true && d.command === "SET_AMOUNT" && !facts.quoteSources.includes(d.source))
        facts.quoteSources = [...facts.quoteSources, d.source];
      return;
    }
    case "reply":
      if (!entry.orderId) talk(state, entry.chatId, { at: entry.at, from: "bot", reply: d });
      return;
    case "profile":
      seen.username = str(d.username);
      seen.firstName = str(d.firstName);
      return;
    case "llm": {
      const facts = factsOf(state, entry.orderId);
      if (facts) {
        facts.llmCalls++;
        facts.llmTokens += num(d.promptTokens) + num(d.completionTokens);
      }
      return;
    }
    case "not_understood": {
      if (typeof d.text !== "string" || d.text.trim() === "") return;
      if (!entry.orderId) talk(state, entry.chatId, { at: entry.at, from: "customer", text: d.text, command: null, source: null });
      const key = normalize(d.text);
      const known = state.notUnderstood.findIndex((seen) => normalize(seen.text) === key);
      const previous = known >= 0 ? state.notUnderstood.splice(known, 1)[0] : undefined;
      state.notUnderstood.push({
        text: d.text,
        count: (previous?.count ?? 0) + 1,
        lastAt: entry.at,
        chatId: entry.chatId,
        orderId: entry.orderId,
      });
      if (state.notUnderstood.length > NOT_UNDERSTOOD_KEPT) state.notUnderstood.shift();
      return;
    }
    case "transition":
    case "payment":
    case "admin":
    case "needs_owner":
    case "secret_undeliverable":
      if (row) row.updatedAt = Math.max(row.updatedAt, entry.at);
      return;
    default: {
      const unhandled: never = entry.type;
      void unhandled;
    }
  }
}

/** USD cents of a money value when it is in dollars (list prices are), else 0. */
export function usdCents(money: Money | null): number {
  return money?.currency === "USD" ? money.minor : 0;
}
