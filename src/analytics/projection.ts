/**
 * The one read model of the shop: a reducer over the audit log, applied entry by entry and saved
 * with the log position it has applied everything up to. `npm run report`, `/stats`, `/broadcast`
 * and the dashboard all read it, so they say the same thing in the same words.
 *
 * After a restart it loads the saved state and reads only what came after the saved position; a
 * running instance reads new entries every few seconds, so an order changed by another instance
 * shows within seconds. The reducer never names a state: it reads the order summaries the engine
 * logs with every commit (tags, stage, money) and the commands, LLM calls and texts around them.
 */
import { CommandSource } from "../domain/commands.ts";
import type { Money } from "../domain/money.ts";
import type { AuditEntry, OrderSummary } from "../domain/records.ts";
import type { Logger } from "../log.ts";
import type { LogPosition, ShopStore } from "../store/shop-store.ts";

/** How an order was driven: the source of the command(s) that set its amount. */
export type FunnelSource = CommandSource | "mixed" | "unattributed";
export const FUNNEL_SOURCES: readonly FunnelSource[] = [...CommandSource.options, "mixed", "unattributed"];

/** One order, as the read model knows it. */
export type OrderRow = {
  orderId: string;
  chatId: string;
  createdAt: number;
  updatedAt: number;
  /** The order as its last commit left it. */
  summary: OrderSummary;
  /** When a price was first fixed, an invoice first made, and whether money and goods ever came. */
  quotedAt: number | null;
  invoicedAt: number | null;
  paid: boolean;
  delivered: boolean;
  /** Sources of the accepted amount-setting commands, and of the order's first command. */
  quoteSources: CommandSource[];
  firstSource: CommandSource | null;
  llmCalls: number;
  llmTokens: number;
  /** The top-level states the order went through, in order (consecutive repeats merged). */
  stages: string[];
};

/** A chat the shop has heard from (a command, an order, a text it did not understand). */
export type CustomerRow = {
  chatId: string;
  firstSeenAt: number;
  lastSeenAt: number;
  orders: number;
  paidOrders: number;
  /** What the customer's paid orders were worth, in US cents (list prices). */
  revenueUsdCents: number;
};

/** A text the bot did not understand, with how often it came and where it came last. */
export type NotUnderstoodRow = { text: string; count: number; lastAt: number; chatId: string; orderId: string | null };

export type ProjectionState = {
  v: 1;
  orders: Record<string, OrderRow>;
  customers: Record<string, CustomerRow>;
  /** The last texts not understood (most recent last), at most {@link NOT_UNDERSTOOD_KEPT}. */
  notUnderstood: NotUnderstoodRow[];
  /** Log entries applied so far. */
  applied: number;
};

/** How many distinct not-understood texts are kept. */
export const NOT_UNDERSTOOD_KEPT = 100;

export function emptyProjection(): ProjectionState {
  return { v: 1, orders: {}, customers: {}, notUnderstood: [], applied: 0 };
}

const isSource = (value: unknown): value is CommandSource => CommandSource.safeParse(value).success;
const num = (value: unknown) => (typeof value === "number" && Number.isFinite(value) ? value : 0);
const stageOf = (summary: OrderSummary) => summary.state.split(".")[0] ?? summary.state;
/** Texts counted together whatever their case and spacing. */
const normalize = (text: string) => text.trim().replace(/\s+/g, " ").toLowerCase();

/** How the order was driven: its amount's source, "mixed" when several set it, else its first command's. */
export function sourceOf(row: Pick<OrderRow, "quoteSources" | "firstSource">): FunnelSource {
  return row.quoteSources.length > 1 ? "mixed" : (row.quoteSources[0] ?? row.firstSource ?? "unattributed");
}

/** Applies one log entry to the state (in place). Entries must come in log order. */
export function applyEntry(state: ProjectionState, entry: AuditEntry): void {
  state.applied++;
  const d = entry.detail;
  const seen = (state.customers[entry.chatId] ??= { chatId: entry.chatId, firstSeenAt: entry.at, lastSeenAt: entry.at, orders: 0, paidOrders: 0, revenueUsdCents: 0 });
  seen.lastSeenAt = Math.max(seen.lastSeenAt, entry.at);
  const row = entry.orderId ? state.orders[entry.orderId] : undefined;
  switch (entry.type) {
    case "order": {
      const summary = d.summary as unknown as OrderSummary;
      if (!summary || typeof summary !== "object" || !entry.orderId) return;
      const createdAt = num(d.createdAt) || entry.at;
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
        quoteSources: [],
        firstSource: null,
        llmCalls: 0,
        llmTokens: 0,
        stages: [],
      };
      const wasPaid = current.paid;
      current.summary = summary;
      current.updatedAt = entry.at;
      if (summary.usd !== null && current.quotedAt === null) current.quotedAt = entry.at;
      if (summary.paymentId !== null && current.invoicedAt === null) current.invoicedAt = entry.at;
      if (summary.tags.includes("paid")) current.paid = true;
      if (summary.tags.includes("delivered")) current.delivered = true;
      const stage = stageOf(summary);
      if (current.stages.at(-1) !== stage) current.stages.push(stage);
      if (!row) state.orders[entry.orderId] = current;
      if (!row) seen.orders++;
      if (current.paid && !wasPaid) {
        seen.paidOrders++;
        seen.revenueUsdCents += usdCents(summary.usd);
      }
      return;
    }
    case "command": {
      if (!row || !isSource(d.source)) return;
      row.firstSource ??= d.source;
      if (d.accepted === true && d.command === "SET_AMOUNT" && !row.quoteSources.includes(d.source)) row.quoteSources.push(d.source);
      return;
    }
    case "llm":
      if (row) {
        row.llmCalls++;
        row.llmTokens += num(d.promptTokens) + num(d.completionTokens);
      }
      return;
    case "not_understood": {
      if (typeof d.text !== "string" || d.text.trim() === "") return;
      const key = normalize(d.text);
      const known = state.notUnderstood.findIndex((seen) => normalize(seen.text) === key);
      const previous = known >= 0 ? state.notUnderstood.splice(known, 1)[0] : undefined;
      state.notUnderstood.push({ text: d.text, count: (previous?.count ?? 0) + 1, lastAt: entry.at, chatId: entry.chatId, orderId: entry.orderId });
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

export type Projection = {
  /** The read model as of the last refresh (do not change it). */
  state(): ProjectionState;
  /** Reads and applies what the log gained since the last read; how many entries that was. */
  refresh(): Promise<number>;
  /** Stores the state with its log position (so a restart reads only what came after). */
  save(): Promise<void>;
  /** Refreshes every `intervalMs` and saves every `saveEveryMs` (when changed); returns a stop function that saves once more. */
  start(options?: { intervalMs?: number; saveEveryMs?: number }): () => Promise<void>;
};

/** The saved read model's name in the store. */
const NAME = "shop";

/**
 * The read model over `store`'s audit log: loaded from its last save on first use, then kept up to
 * date by {@link Projection.refresh}.
 */
export function createProjection(store: ShopStore, options: { log?: Logger; batchSize?: number } = {}): Projection {
  const batchSize = options.batchSize ?? 2_000;
  let state: ProjectionState | null = null;
  let position: LogPosition | null = null;
  let savedApplied = -1;
  let loading: Promise<void> | null = null;
  let refreshing: Promise<number> | null = null;

  const load = async () => {
    const saved = await store.loadProjection(NAME).catch((err: unknown) => {
      options.log?.warn("saved read model could not be read; rebuilding it from the log", { err });
      return undefined;
    });
    const parsed = saved ? (JSON.parse(saved.state) as ProjectionState) : null;
    state = parsed?.v === 1 ? parsed : emptyProjection();
    position = parsed?.v === 1 && saved ? saved.position : null;
    savedApplied = state.applied;
  };

  const readNew = async (): Promise<number> => {
    loading ??= load();
    await loading;
    let applied = 0;
    for (;;) {
      const batch = await store.readLog(position, batchSize);
      for (const entry of batch.entries) applyEntry(state!, entry);
      position = batch.position;
      applied += batch.entries.length;
      if (batch.entries.length === 0) return applied;
      // Let customers' messages through while a long backlog is read.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  };

  const projection: Projection = {
    state: () => state ?? emptyProjection(),
    refresh() {
      // One read at a time; a caller arriving meanwhile waits for it.
      refreshing ??= readNew().finally(() => (refreshing = null));
      return refreshing;
    },
    async save() {
      if (!state || position === null || state.applied === savedApplied) return;
      const applied = state.applied;
      await store.saveProjection(NAME, { position, state: JSON.stringify(state) });
      savedApplied = applied;
    },
    start(startOptions = {}) {
      const intervalMs = startOptions.intervalMs ?? 3_000;
      const saveEveryMs = startOptions.saveEveryMs ?? 60_000;
      let lastSave = Date.now();
      const timer = setInterval(() => {
        void projection
          .refresh()
          .then(() => (Date.now() - lastSave >= saveEveryMs ? projection.save().then(() => (lastSave = Date.now())) : undefined))
          .catch((err: unknown) => options.log?.warn("read model refresh failed; retrying", { err }));
      }, intervalMs);
      timer.unref();
      return async () => {
        clearInterval(timer);
        await projection.save().catch((err: unknown) => options.log?.warn("read model could not be saved", { err }));
      };
    },
  };
  return projection;
}

/** USD cents of a money value when it is in dollars (list prices are), else 0. */
export function usdCents(money: Money | null): number {
  return money?.currency === "USD" ? money.minor : 0;
}
