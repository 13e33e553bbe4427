/**
 * Reading an order's snapshot the way the rest of the product may: through the machine's tags, its
 * state `meta` and its context, never by comparing a state's name with a string. Everything outside
 * `machines/` that asks "what is this order?" asks through these functions, `snapshot.hasTag` or
 * `snapshot.can`.
 */
import type { SnapshotFrom } from "xstate";
import type { PurchaseMachine } from "./purchase.machine.ts";
import { purchaseMachine } from "./purchase.machine.ts";
import type { DeadlineKind, PurchaseMeta } from "./purchase.types.ts";

type Snapshot = SnapshotFrom<PurchaseMachine>;

/**
 * The meta of the snapshot's active states, merged from the root down: a child's fields override its
 * parent's. It depends on the active states alone, so it is merged once per state and shared (frozen).
 */
export function orderMeta(snapshot: Snapshot): Readonly<PurchaseMeta> {
  const path = statePath(snapshot);
  let merged = metaByPath.get(path);
  if (merged === undefined) {
    const fields: PurchaseMeta = {};
    // getMeta() is keyed by state node id ("purchase.paid.delivering"); shorter ids are ancestors.
    const entries = Object.entries(snapshot.getMeta() as Record<string, PurchaseMeta | undefined>).sort(([a], [b]) => a.length - b.length);
    for (const [, meta] of entries) if (meta) Object.assign(fields, meta);
    metaByPath.set(path, (merged = Object.freeze(fields)));
  }
  return merged;
}

/** Merged meta by state path: one entry per state of the machine. */
const metaByPath = new Map<string, Readonly<PurchaseMeta>>();
/** Snapshots are never changed, and every reply and commit asks several times for the same one's path. */
const paths = new WeakMap<Snapshot, string>();

/** The active state as a dotted path ("paid.delivering"): for display, logs and keys, never for decisions. */
export function statePath(snapshot: Snapshot): string {
  let path = paths.get(snapshot);
  if (path === undefined) paths.set(snapshot, (path = pathOf(snapshot)));
  return path;
}

function pathOf(snapshot: Snapshot): string {
  const parts: string[] = [];
  let value: unknown = snapshot.value;
  while (typeof value === "object" && value !== null) {
    const [key, child] = Object.entries(value)[0] ?? [];
    if (key === undefined) break;
    parts.push(key);
    value = child;
  }
  if (typeof value === "string") parts.push(value);
  return parts.join(".");
}

/** The order's top-level state (its first path segment): what reports group orders by. */
export function stageOf(snapshot: Snapshot): string {
  return statePath(snapshot).split(".")[0] ?? "";
}

/** True while work is under way: an actor of the order, or the return of a stray payment. */
export function isWorking(snapshot: Snapshot): boolean {
  return snapshot.hasTag("busy") || snapshot.context.strays.some((stray) => stray.status === "returning");
}

/** The kind of deadline the order's state has, if any (`now`: work a crash may have interrupted). */
export function deadlineKind(snapshot: Snapshot): DeadlineKind | null {
  if (snapshot.hasTag("resume") || isWorking(snapshot)) return "now";
  return orderMeta(snapshot).deadline ?? null;
}

/**
 * The moment the sweeper must send the order `DEADLINE` (or just open it), or null when nothing is
 * pending. `now` deadlines (work in flight) are due `graceMs` after `at`, the time of the write: the
 * process doing the work holds the chat's lease until then, and if it died, the next sweep resumes it.
 */
export function deadlineOf(snapshot: Snapshot, at: number, graceMs: number): number | null {
  const c = snapshot.context;
  const kind = deadlineKind(snapshot);
  switch (kind) {
    case null:
      return null;
    case "now":
      return at + graceMs;
    case "quote_expiry":
      return c.quote?.expiresAt ?? null;
    case "payment_check":
      return c.payment ? (c.nextCheckAt ?? c.payment.expiresAt) : null;
    case "delivery_retry":
      return c.delivery.nextAttemptAt ?? at;
    case "announce":
      return c.delivery.announceAt;
    case "goods_check":
      return c.delivery.strayCheckAt;
    default: {
      const unhandled: never = kind;
      throw new Error(`unknown deadline kind ${String(unhandled)}`);
    }
  }
}

type StateNodeLike = { key: string; states: Record<string, StateNodeLike>; meta?: unknown; tags: readonly string[] };

/** Every state of the machine as a dotted path, parents before children: the one list the product has. */
export const STATE_PATHS: readonly string[] = (() => {
  const paths: string[] = [];
  const walk = (node: StateNodeLike, prefix: string) => {
    for (const [key, child] of Object.entries(node.states)) {
      const path = prefix ? `${prefix}.${key}` : key;
      paths.push(path);
      walk(child, path);
    }
  };
  walk(purchaseMachine.root as unknown as StateNodeLike, "");
  return paths;
})();

/** The top-level states (the stages reports and the dashboard group orders by). */
export const STAGES: readonly string[] = STATE_PATHS.filter((path) => !path.includes("."));

/** Every message id the machine's states name in `meta.words` (each must exist in every language). */
export const STATE_WORDS: readonly string[] = (() => {
  const words = new Set<string>();
  const walk = (node: StateNodeLike) => {
    const meta = node.meta as PurchaseMeta | undefined;
    if (meta?.words) words.add(meta.words);
    for (const child of Object.values(node.states)) walk(child);
  };
  walk(purchaseMachine.root as unknown as StateNodeLike);
  return [...words];
})();

/**
 * The snapshot of a stored order's persisted state, without starting its actor: enough to read its
 * tags, meta and `can()` (a look at an order that is not being worked on).
 */
export function snapshotOf(persisted: { value: unknown; context: unknown }): Snapshot {
  return purchaseMachine.resolveState({ value: persisted.value as Snapshot["value"], context: persisted.context as Snapshot["context"] });
}
