/**
 * The shapes the Redis store's scripts answer with (RESP2: integers, strings, nulls, arrays), checked
 * before use, and the stored JSON read back into records. A reply of another shape means the server
 * runs a script other than ours: a bug, reported as such, never taken for data.
 */
import { z } from "zod";
import { ChatRecord, GoodsEntry, OrderRecord } from "../domain/records.ts";
import { type AppliedUpdates, appliedFrom } from "./applied-updates.ts";
import type { ChatState, GoodsClaim } from "./shop-store.ts";

const Text = z.string();
const MaybeText = z.string().nullable();
const Flag = z.union([z.literal(0), z.literal(1)]);

export const OpenReply = z.union([
  z.tuple([z.literal(0), MaybeText]),
  z.tuple([z.literal(1), MaybeText, MaybeText, MaybeText, MaybeText, MaybeText, MaybeText]),
  z.tuple([z.literal(2), MaybeText, MaybeText, MaybeText]),
]);
export const ReadReply = z.tuple([MaybeText, MaybeText, MaybeText, MaybeText, MaybeText, MaybeText]);
export const FlagReply = Flag;
export const CommitReply = z.union([
  z.tuple([z.literal(0), z.enum(["moved", "lease_lost"])]),
  z.tuple([z.literal(1), z.number().int(), Flag]),
]);
export const AcceptReply = z.tuple([Flag, Flag, Text, MaybeText]);
export const QueuedReply = z.array(MaybeText);
export const GoodsReply = z.union([
  z.tuple([z.literal("exists"), Text, MaybeText, MaybeText]),
  z.tuple([z.literal("claimed")]),
  z.tuple([z.literal("busy")]),
]);

/** Checks a script's reply; throws naming the script when it is not what the script returns. */
export function reply<S extends z.ZodType>(script: string, schema: S, value: unknown): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success)
    throw new Error(
      `the Redis script "${script}" answered ${JSON.stringify(value)}, which this version never returns: is another version's script loaded under its name?`,
    );
  return parsed.data;
}

type Schema<T> = { safeParse(raw: unknown): { success: true; data: T } | { success: false } };

/** A stored record: undefined when absent, "invalid" when it is not JSON or fails its schema. */
export function readJson<T>(schema: Schema<T>, text: string | null | undefined): T | undefined | "invalid" {
  if (text === null || text === undefined) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return "invalid";
  }
  const parsed = schema.safeParse(raw);
  return parsed.success ? parsed.data : "invalid";
}

/** A chat's applied updates as the chat hash keeps them: `last` (the floor), `recent` (the window), `at`. */
export const appliedUpdates = (last: string | null, recent: string | null, at: string | null): AppliedUpdates =>
  appliedFrom(last === null ? 0 : Number(last), recent, at === null ? 0 : Number(at));

/** A chat as the open and read scripts return it. The order is read only through a readable chat. */
export function chatState(
  rev: string | null,
  record: string | null,
  order: string | null,
  last: string | null,
  recent: string | null,
  at: string | null,
): ChatState {
  const chat = readJson(ChatRecord, record);
  return {
    chat,
    rev: rev === null ? 0 : Number(rev),
    order: chat === undefined || chat === "invalid" ? undefined : readJson(OrderRecord, order),
    applied: appliedUpdates(last, recent, at),
  };
}

/**
 * Goods as stored: the entry without its secret (`base`), the secret and the time it was sent apart,
 * so that erasing the secret is a field deletion on the server (no JSON rewriting in Lua).
 */
export function goodsEntry(base: string, secret: string | null, sentAt: string | null, where: string): GoodsEntry {
  const raw: unknown = (() => {
    try {
      return JSON.parse(base);
    } catch {
      return undefined;
    }
  })();
  const parsed = GoodsEntry.safeParse(
    typeof raw === "object" && raw !== null ? { ...raw, secret, sentAt: sentAt === null ? null : Number(sentAt) } : raw,
  );
  // Goods are never reissued over an unreadable entry (the customer may hold them): stop and say where.
  if (!parsed.success)
    throw new Error(`the goods stored at ${where} are unreadable; repair or remove that key by hand before issuing again`);
  return parsed.data;
}

/** The goods claim a script's reply says. */
export function goodsClaim(value: z.infer<typeof GoodsReply>, where: string): GoodsClaim {
  switch (value[0]) {
    case "exists":
      return { kind: "exists", entry: goodsEntry(value[1], value[2], value[3], where) };
    case "claimed":
      return { kind: "claimed" };
    case "busy":
      return { kind: "busy" };
    default: {
      const unhandled: never = value[0];
      throw new Error(`unknown goods claim reply ${String(unhandled)}`);
    }
  }
}

/** The stored form of goods: the entry without its secret, and the two fields kept apart. */
export function goodsFields(entry: GoodsEntry): { base: string; secret: string | null; sentAt: number | null } {
  return { base: JSON.stringify({ ...entry, secret: null, sentAt: null }), secret: entry.secret, sentAt: entry.sentAt };
}
