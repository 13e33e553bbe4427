/**
 * The saved form of the read model: compact and quick to load, because a restart loads it before the
 * owner's first page (issue 20: under a second at 100,000 orders). Orders and customers are saved by
 * column (one array per field, so parsing makes a few long arrays instead of 100,000 small objects),
 * times after an order's creation as offsets from it, an order's chat as its customer's index,
 * repeated values (state paths, tag lists, currencies, providers, sources, stage lists, amounts) once
 * each, by index, and "none" as 0 rather than `null` (most orders have no payment, delivery or
 * refund). A loaded model shares those repeated values between rows: the projection replaces them
 * when they change, never changes them in place. Saving yields to the event loop between
 * chunks, so a save at 100,000 orders never holds a customer's message up for long.
 */
import type { CommandSource } from "../domain/commands.ts";
import type { PaymentId } from "../domain/ids.ts";
import type { Money } from "../domain/money.ts";
import type { CustomerRow, OrderRow, ProjectionState, RowSummary } from "./read-model.ts";

/** The format this module writes; anything else is not read (the model is rebuilt from the log). */
const FORMAT = "tokengoblin-projection-6";

type Cell = string | number | null;
type Column = Cell[];

/** The order columns, in the saved order. */
const ORDER_COLUMNS = [
  "id",
  "chat",
  "created",
  "updated",
  "state",
  "tags",
  "product",
  "tokens",
  "usd",
  "charge",
  "provider",
  "payment",
  "late",
  "paidAt",
  "deliveredAt",
  "refunded",
  "owed",
  "quotedAt",
  "invoicedAt",
  "flags",
  "refundedAt",
  "ownerSince",
  "sources",
  "first",
  "llmCalls",
  "llmTokens",
  "stages",
  // Format 6 (issue 21): how the price was made, for the sums by product, tier and promo code.
  "promo",
  "discount",
  "tier",
  "credit",
  "margin",
  "reissues",
] as const;
const CUSTOMER_COLUMNS = ["chat", "user", "first", "firstSeen", "lastSeen", "orders", "paid", "revenue"] as const;

type Saved = {
  format: typeof FORMAT;
  /** Repeated strings, and amounts as [minor, currency string index]. */
  strings: string[];
  moneys: [number, number][];
  orders: Record<(typeof ORDER_COLUMNS)[number], Column>;
  customers: Record<(typeof CUSTOMER_COLUMNS)[number], Column>;
  rest: Omit<ProjectionState, "orders" | "customers">;
};

/** Rows encoded between two yields to the event loop. */
const CHUNK = 5_000;
const breathe = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Serialises the read model for {@link decodeState}, letting other work run between chunks. */
export async function encodeState(state: ProjectionState): Promise<string> {
  const strings: string[] = [];
  const stringIndex = new Map<string, number>();
  /** A string's index in the table plus one; 0 for none. */
  const intern = (text: string | null): number => {
    if (text === null) return 0;
    let at = stringIndex.get(text);
    if (at === undefined) stringIndex.set(text, (at = strings.push(text) - 1));
    return at + 1;
  };
  const moneys: [number, number][] = [];
  const moneyIndex = new Map<string, number>();
  /** An amount's index in the table plus one; 0 for none. */
  const money = (value: Money | null): number => {
    if (value === null) return 0;
    const key = `${value.minor} ${value.currency}`;
    let at = moneyIndex.get(key);
    if (at === undefined) moneyIndex.set(key, (at = moneys.push([value.minor, intern(value.currency) - 1]) - 1));
    return at + 1;
  };

  const customers = Object.fromEntries(CUSTOMER_COLUMNS.map((name) => [name, [] as Column])) as Saved["customers"];
  const chatIndex = new Map<string, number>();
  const addCustomer = (c: CustomerRow) => {
    chatIndex.set(c.chatId, customers.chat.length);
    customers.chat.push(c.chatId);
    customers.user.push(c.username);
    customers.first.push(c.firstName);
    customers.firstSeen.push(c.firstSeenAt);
    customers.lastSeen.push(c.lastSeenAt - c.firstSeenAt);
    customers.orders.push(c.orders);
    customers.paid.push(c.paidOrders);
    customers.revenue.push(c.revenueUsdCents);
  };
  for (const c of state.customers.values()) addCustomer(c);

  const o = Object.fromEntries(ORDER_COLUMNS.map((name) => [name, [] as Column])) as Saved["orders"];
  let done = 0;
  for (const row of state.orders.values()) {
    const s = row.summary;
    const base = row.createdAt;
    // 0 for none (most orders have no payment, delivery or refund time); offsets from creation shifted
    // one up, so an offset of 0 stays apart from none (one before creation, from another instance's clock, stays negative).
    const since = (at: number | null) => (at === null ? 0 : at >= base ? at - base + 1 : at - base);
    // Every order's chat is a customer (its first entry made it one); a model from elsewhere may lack it.
    if (!chatIndex.has(row.chatId))
      addCustomer({
        chatId: row.chatId,
        username: null,
        firstName: null,
        firstSeenAt: base,
        lastSeenAt: base,
        orders: 0,
        paidOrders: 0,
        revenueUsdCents: 0,
      });
    o.id.push(row.orderId);
    o.chat.push(chatIndex.get(row.chatId)!);
    o.created.push(base);
    o.updated.push(row.updatedAt - base);
    o.state.push(intern(s.state));
    o.tags.push(intern(s.tags.join(",")));
    o.product.push(intern(s.productId));
    o.tokens.push(s.tokens ?? 0);
    o.usd.push(money(s.usd));
    o.charge.push(money(s.charge));
    o.provider.push(intern(s.provider));
    o.payment.push(s.paymentId ?? 0);
    o.late.push(s.late ? 1 : 0);
    o.paidAt.push(since(s.paidAt));
    o.deliveredAt.push(since(s.deliveredAt));
    o.refunded.push(money(s.refunded));
    o.owed.push(s.owedStrays ?? 0);
    o.quotedAt.push(since(row.quotedAt));
    o.invoicedAt.push(since(row.invoicedAt));
    o.flags.push((row.paid ? 1 : 0) | (row.delivered ? 2 : 0));
    o.refundedAt.push(since(row.refundedAt));
    o.ownerSince.push(since(row.ownerSince));
    o.sources.push(intern(row.quoteSources.join(",")));
    o.first.push(intern(row.firstSource));
    o.llmCalls.push(row.llmCalls);
    o.llmTokens.push(row.llmTokens);
    o.stages.push(intern(row.stages.join(">")));
    o.promo.push(intern(s.promoCode ?? null));
    o.discount.push(money(s.discount ?? null));
    // A tier is named by its `from` threshold, which is never 0 (a tier starts above the product's minimum).
    o.tier.push(s.tier ?? 0);
    o.credit.push(money(s.credit ?? null));
    // A margin may be 0 or negative (a promo sold below cost): none is null here, not 0.
    o.margin.push(s.margin ? s.margin.minor : null);
    o.reissues.push(s.reissues ?? 0);
    if (++done % CHUNK === 0) await breathe();
  }
  // Each column is stringified on its own, with a breath between: no one long pause.
  const columns = async (table: Record<string, Column>) => {
    const parts: string[] = [];
    for (const [name, column] of Object.entries(table)) {
      parts.push(`${JSON.stringify(name)}:${JSON.stringify(column)}`);
      await breathe();
    }
    return `{${parts.join(",")}}`;
  };
  const { orders: _orders, customers: _customers, ...rest } = state;
  return `{"format":${JSON.stringify(FORMAT)},"strings":${JSON.stringify(strings)},"moneys":${JSON.stringify(moneys)},"orders":${await columns(o)},"customers":${await columns(customers)},"rest":${JSON.stringify(rest)}}`;
}

/** The read model saved by {@link encodeState}; null when `text` is in another format (then the log is read again). */
export function decodeState(text: string): ProjectionState | null {
  const saved = JSON.parse(text) as Partial<Saved>;
  if (saved.format !== FORMAT || !saved.strings || !saved.moneys || !saved.orders || !saved.customers || !saved.rest) return null;
  const strings = saved.strings;
  const str = (cell: Cell | undefined) => (cell ? strings[(cell as number) - 1]! : null);
  const moneys: Money[] = saved.moneys.map(([minor, currency]) => ({ minor, currency: strings[currency] }) as Money);
  const money = (cell: Cell | undefined) => (cell ? moneys[(cell as number) - 1]! : null);
  // Repeated lists decoded once and shared (the projection replaces a row's list, never changes it).
  const lists = new Map<string, string[]>();
  const list = (cell: Cell | undefined, separator: string) => {
    const joined = str(cell);
    if (!joined) return [];
    const key = `${separator}${joined}`;
    let found = lists.get(key);
    if (!found) lists.set(key, (found = joined.split(separator)));
    return found;
  };

  const c = saved.customers;
  const customers = new Map<string, CustomerRow>();
  for (let i = 0; i < c.chat.length; i++) {
    const firstSeenAt = c.firstSeen[i] as number;
    customers.set(c.chat[i] as string, {
      chatId: c.chat[i] as string,
      username: c.user[i] as string | null,
      firstName: c.first[i] as string | null,
      firstSeenAt,
      lastSeenAt: firstSeenAt + (c.lastSeen[i] as number),
      orders: c.orders[i] as number,
      paidOrders: c.paid[i] as number,
      revenueUsdCents: c.revenue[i] as number,
    });
  }

  const o = saved.orders;
  const orders = new Map<string, OrderRow>();
  const at = (column: Column, i: number, base: number) => {
    const cell = column[i];
    if (!cell) return null;
    return (cell as number) > 0 ? base + (cell as number) - 1 : base + (cell as number);
  };
  for (let i = 0; i < o.id.length; i++) {
    const base = o.created[i] as number;
    const flags = o.flags[i] as number;
    const summary: RowSummary = {
      state: str(o.state[i])!,
      tags: list(o.tags[i], ","),
      productId: str(o.product[i])!,
      tokens: (o.tokens[i] as number) || null,
      usd: money(o.usd[i]),
      charge: money(o.charge[i]),
      provider: str(o.provider[i]),
      paymentId: (o.payment[i] || null) as PaymentId | null,
      late: o.late[i] === 1,
      paidAt: at(o.paidAt, i, base),
      deliveredAt: at(o.deliveredAt, i, base),
      refunded: money(o.refunded[i]),
      owedStrays: o.owed[i] as number,
      promoCode: str(o.promo[i]),
      discount: money(o.discount[i]),
      tier: (o.tier[i] as number) || null,
      credit: money(o.credit[i]),
      margin: typeof o.margin[i] === "number" ? { minor: o.margin[i] as number, currency: "USD" } : null,
      reissues: o.reissues[i] as number,
    };
    orders.set(o.id[i] as string, {
      orderId: o.id[i] as string,
      chatId: c.chat[o.chat[i] as number] as string,
      createdAt: base,
      updatedAt: base + (o.updated[i] as number),
      summary,
      quotedAt: at(o.quotedAt, i, base),
      invoicedAt: at(o.invoicedAt, i, base),
      paid: (flags & 1) !== 0,
      delivered: (flags & 2) !== 0,
      refundedAt: at(o.refundedAt, i, base),
      ownerSince: at(o.ownerSince, i, base),
      quoteSources: list(o.sources[i], ",") as CommandSource[],
      firstSource: str(o.first[i]) as CommandSource | null,
      llmCalls: o.llmCalls[i] as number,
      llmTokens: o.llmTokens[i] as number,
      stages: list(o.stages[i], ">"),
    });
  }
  return { ...saved.rest, orders, customers };
}
