/**
 * A state machine as a graph, read from its definition in one walk: every state node (its path, kind,
 * children, initial child and invoked actors) and every transition that changes state (from, to, the
 * event as people say it, its guard). `npm run diagram` (Mermaid, `src/cli/mermaid.ts`) and the owner's
 * dashboard picture (`src/dashboard/diagram.ts`) both fold this one list (issue 23), so the two
 * pictures cannot disagree about what the machine does.
 */
import type { AnyStateMachine, AnyStateNode } from "xstate";

/** One state node. `id` is its dotted path ("paid.delivering"); the root's is "". */
export type GraphNode = {
  id: string;
  key: string;
  path: readonly string[];
  /** Dotted ids of its children, in the machine's order; its initial child's id, if it has children. */
  children: readonly string[];
  initial: string | null;
  final: boolean;
  /** The actors it invokes, by source name. */
  invokes: readonly string[];
};

/** One transition that names a target. */
export type GraphEdge = {
  /** Dotted ids of the node that declares it and of its target. */
  from: string;
  to: string;
  /** The event as people say it: `CONFIRM`, `done: priceQuote`, `error: priceQuote`, `done`. */
  event: string;
  /** The guard's name, if the transition has one. */
  guard: string | null;
};

export type MachineGraph = {
  root: GraphNode;
  /** Every node by dotted id, parents before children, siblings in the machine's order. */
  nodes: ReadonlyMap<string, GraphNode>;
  /** Every transition with a target, grouped by the node that declares it, in the machine's order. */
  edges: readonly GraphEdge[];
  /** Events the root answers in every state without changing it (`HELP`, a stray payment). */
  anywhere: readonly string[];
};

const idOf = (node: AnyStateNode) => node.path.join(".");

/** A guard's name; `and`/`or`/`not` of named guards read as such ("announceDue and announceAttemptsLeft"). */
const guardName = (guard: unknown): string | null => {
  if (!guard) return null;
  if (typeof guard === "string") return guard;
  const composite = guard as { guards?: unknown[]; name?: string };
  if (typeof guard === "function" && Array.isArray(composite.guards)) {
    const parts = composite.guards.map((g) => guardName(g) ?? "guard");
    return composite.name === "not" ? `not ${parts[0]}` : parts.join(` ${composite.name ?? "and"} `);
  }
  const type = (guard as { type?: unknown }).type;
  return typeof type === "string" ? type : "guard";
};

/** An event as people say it: a busy state's actor finishing (`done: src`) or failing (`error: src`), or its name. */
function eventName(eventType: string, node: AnyStateNode): string {
  for (const invoke of node.invoke) {
    if (eventType === `xstate.done.actor.${invoke.id}`) return `done: ${String(invoke.src)}`;
    if (eventType === `xstate.error.actor.${invoke.id}`) return `error: ${String(invoke.src)}`;
  }
  return eventType.startsWith("xstate.done.state.") ? "done" : eventType;
}

/** Walks `machine` once. */
export function machineGraph(machine: AnyStateMachine): MachineGraph {
  const nodes = new Map<string, GraphNode>();
  const edges: GraphEdge[] = [];
  const visit = (node: AnyStateNode): GraphNode => {
    const children = Object.values(node.states) as AnyStateNode[];
    const initial = node.initial?.target[0] as AnyStateNode | undefined;
    const entry: GraphNode = {
      id: idOf(node),
      key: node.key,
      path: node.path,
      children: children.map(idOf),
      initial: initial ? idOf(initial) : null,
      final: node.type === "final",
      invokes: node.invoke.map((invoke: { src: unknown }) => String(invoke.src)),
    };
    nodes.set(entry.id, entry);
    if (node.path.length > 0) {
      // Eventless (`always`) transitions too: a transient state leaves through them as soon as it is entered.
      const all: [string, readonly { target?: readonly AnyStateNode[] | undefined; guard?: unknown }[]][] = [
        ...node.transitions,
        ["always", node.always ?? []],
      ];
      for (const [eventType, definitions] of all) {
        for (const definition of definitions) {
          for (const target of definition.target ?? []) {
            edges.push({ from: entry.id, to: idOf(target), event: eventName(eventType, node), guard: guardName(definition.guard) });
          }
        }
      }
    }
    for (const child of children) visit(child);
    return entry;
  };
  const rootNode = machine.root as AnyStateNode;
  const root = visit(rootNode);
  const anywhere = [...rootNode.transitions.keys()].filter((type) => !(rootNode.transitions.get(type) ?? []).some((t) => t.target?.length));
  return { root, nodes, edges, anywhere };
}

/** The top-level state a dotted id lies in ("paid.delivering" → "paid"). */
export const topOf = (id: string): string => id.split(".")[0] ?? id;
