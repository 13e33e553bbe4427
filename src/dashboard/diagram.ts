/**
 * The purchase machine as the owner sees it: its top-level states (stages) and the transitions between
 * them, folded from the one walk of the machine that `npm run diagram` uses too (`machine-graph.ts`),
 * laid out in ranks and drawn as SVG on the server. Edges carry how many orders took them, stages how
 * many orders went through them and how many are there now; one order's path can be drawn on the same
 * picture.
 *
 * The engine commits an order after busy states have settled (a quote goes `initial → quoted` in one
 * step, through `pricing`), so a recorded step is mapped onto the shortest chain of machine edges
 * between its two stages ({@link pathBetween}).
 */
import type { AnyStateMachine } from "xstate";
import { purchaseMachine } from "../../machines/purchase.machine.ts";
import { machineGraph, topOf } from "../analytics/machine-graph.ts";
import { esc } from "./html.ts";

export type OwnerEdge = { from: string; to: string; events: string[] };
export type OwnerGraph = {
  states: string[];
  initial: string;
  edges: OwnerEdge[];
  /** `from>to` → edge index. */
  index: Map<string, number>;
  /** `from>to` → shortest chain of edge indices, filled as steps are looked up. */
  paths: Map<string, readonly number[]>;
};

/** Top-level states and the transitions between them (nested states folded into their stage). */
export function ownerGraph(machine: AnyStateMachine = purchaseMachine): OwnerGraph {
  const graph = machineGraph(machine);
  const edges: OwnerEdge[] = [];
  const index = new Map<string, number>();
  for (const edge of graph.edges) {
    const from = topOf(edge.from);
    const to = topOf(edge.to);
    if (from === to) continue;
    const key = `${from}>${to}`;
    let at = index.get(key);
    if (at === undefined) {
      at = edges.push({ from, to, events: [] }) - 1;
      index.set(key, at);
    }
    if (!edges[at]!.events.includes(edge.event)) edges[at]!.events.push(edge.event);
  }
  return { states: [...graph.root.children], initial: topOf(graph.root.initial ?? ""), edges, index, paths: new Map() };
}

/** The owner graph of the purchase machine, built once. */
export const PURCHASE_GRAPH = ownerGraph();

/**
 * Edge indices of the shortest chain of transitions from `from` to `to` (breadth-first), or [] when
 * there is none (an unknown state, or a step the machine does not allow).
 */
export function pathBetween(graph: OwnerGraph, from: string, to: string): readonly number[] {
  const key = `${from}>${to}`;
  let path = graph.paths.get(key);
  if (!path) graph.paths.set(key, (path = search(graph, from, to)));
  return path;
}

function search(graph: OwnerGraph, from: string, to: string): number[] {
  const direct = graph.index.get(`${from}>${to}`);
  if (direct !== undefined) return [direct];
  const cameBy = new Map<string, number>([[from, -1]]);
  const queue = [from];
  while (queue.length > 0) {
    const state = queue.shift()!;
    for (const [i, edge] of graph.edges.entries()) {
      if (edge.from !== state || cameBy.has(edge.to)) continue;
      cameBy.set(edge.to, i);
      if (edge.to === to) {
        const path: number[] = [];
        for (let at = to; at !== from;) {
          const via = cameBy.get(at)!;
          path.unshift(via);
          at = graph.edges[via]!.from;
        }
        return path;
      }
      queue.push(edge.to);
    }
  }
  return [];
}

type Box = { x: number; y: number; rank: number; col: number };
const BOX_W = 148;
const BOX_H = 40;
const COL_W = 190;
const ROW_H = 78;
const PAD = 24;

/** Ranks by distance from the initial state; within a rank, the machine's own order (main path first). */
function layout(graph: OwnerGraph): { boxes: Map<string, Box>; width: number; height: number } {
  const rank = new Map<string, number>([[graph.initial, 0]]);
  const queue = [graph.initial];
  while (queue.length > 0) {
    const state = queue.shift()!;
    for (const edge of graph.edges) {
      if (edge.from === state && !rank.has(edge.to)) {
        rank.set(edge.to, rank.get(state)! + 1);
        queue.push(edge.to);
      }
    }
  }
  const maxRank = Math.max(...rank.values());
  for (const state of graph.states) if (!rank.has(state)) rank.set(state, maxRank + 1);
  const boxes = new Map<string, Box>();
  const used = new Map<number, number>();
  let cols = 1;
  let ranks = 1;
  for (const state of graph.states) {
    const r = rank.get(state)!;
    const col = used.get(r) ?? 0;
    used.set(r, col + 1);
    cols = Math.max(cols, col + 1);
    ranks = Math.max(ranks, r + 1);
    boxes.set(state, { x: PAD + col * COL_W, y: PAD + r * ROW_H, rank: r, col });
  }
  return { boxes, width: PAD * 2 + (cols - 1) * COL_W + BOX_W, height: PAD * 2 + (ranks - 1) * ROW_H + BOX_H };
}

/** Where the line from a box's centre towards (tx, ty) leaves the box. */
function exitPoint(box: Box, tx: number, ty: number): [number, number] {
  const cx = box.x + BOX_W / 2;
  const cy = box.y + BOX_H / 2;
  const dx = tx - cx;
  const dy = ty - cy;
  if (dx === 0 && dy === 0) return [cx, cy];
  const scale = Math.min(dx === 0 ? Infinity : BOX_W / 2 / Math.abs(dx), dy === 0 ? Infinity : BOX_H / 2 / Math.abs(dy));
  return [cx + dx * scale, cy + dy * scale];
}

export type DiagramData = {
  /** Orders per edge index (distinct orders that took it). */
  edgeCounts?: readonly number[];
  /** Orders per stage (distinct orders that went through it). */
  stateCounts?: ReadonlyMap<string, number>;
  /** Orders in each stage now. */
  nowCounts?: ReadonlyMap<string, number>;
  /** One order's path: edge indices in the order taken. */
  path?: readonly number[];
  /** The state the order is in now (drawn as current). */
  current?: string;
};

const round = (n: number) => Math.round(n * 10) / 10;

/** The machine as an inline SVG (no script, no external resources). */
export function diagramSvg(graph: OwnerGraph, data: DiagramData = {}): string {
  const { boxes, width, height } = layout(graph);
  const counts = data.edgeCounts;
  const max = Math.max(1, ...(counts ?? [0]));
  const steps = new Map<number, number[]>();
  for (const [n, edge] of (data.path ?? []).entries()) steps.set(edge, [...(steps.get(edge) ?? []), n + 1]);
  const visited = new Set<string>(data.path?.length ? [graph.initial] : []);
  for (const edge of data.path ?? []) {
    visited.add(graph.edges[edge]!.from);
    visited.add(graph.edges[edge]!.to);
  }
  const parts: string[] = [];
  for (const [i, edge] of graph.edges.entries()) {
    const a = boxes.get(edge.from)!;
    const b = boxes.get(edge.to)!;
    const [ax, ay] = [a.x + BOX_W / 2, a.y + BOX_H / 2];
    const [bx, by] = [b.x + BOX_W / 2, b.y + BOX_H / 2];
    const len = Math.hypot(bx - ax, by - ay) || 1;
    // Bend pairs apart (each to its own right) and around boxes sitting between two ranks of one column.
    const reverse = graph.index.has(`${edge.to}>${edge.from}`);
    const through = a.col === b.col && Math.abs(a.rank - b.rank) > 1;
    const bend = (reverse ? 16 : 0) + (through ? 36 * Math.abs(a.rank - b.rank) : 0);
    const cx = (ax + bx) / 2 + (-(by - ay) / len) * bend;
    const cy = (ay + by) / 2 + ((bx - ax) / len) * bend;
    const [sx, sy] = exitPoint(a, cx, cy);
    const [ex, ey] = exitPoint(b, cx, cy);
    const mx = 0.25 * sx + 0.5 * cx + 0.25 * ex;
    const my = 0.25 * sy + 0.5 * cy + 0.25 * ey;
    const count = counts?.[i] ?? 0;
    const onPath = steps.has(i);
    const cls = ["edge", onPath ? "edge-path" : "", counts && count === 0 ? "edge-none" : ""].filter(Boolean).join(" ");
    const widthPx = counts ? 1.2 + (5 * count) / max : onPath ? 3 : 1.4;
    const label = onPath ? `#${steps.get(i)!.join(",")}` : counts ? String(count) : "";
    const title = `${edge.from} → ${edge.to}: ${edge.events.join(", ")}${counts ? ` (${count} orders)` : ""}`;
    parts.push(
      `<g class="${cls}"><title>${esc(title)}</title>` +
        `<path d="M${round(sx)} ${round(sy)} Q${round(cx)} ${round(cy)} ${round(ex)} ${round(ey)}" stroke-width="${round(widthPx)}" marker-end="url(#arrow${onPath ? "-path" : ""})"/>` +
        (label ? `<text x="${round(mx)}" y="${round(my + 4)}" text-anchor="middle">${esc(label)}</text>` : "") +
        `</g>`,
    );
  }
  for (const state of graph.states) {
    const box = boxes.get(state)!;
    const through = data.stateCounts?.get(state);
    const now = data.nowCounts?.get(state) ?? 0;
    const count = through === undefined ? undefined : now > 0 ? `${through} · ${now} now` : String(through);
    const cls = ["state", visited.has(state) ? "state-path" : "", data.current === state ? "state-current" : ""].filter(Boolean).join(" ");
    parts.push(
      `<g class="${cls}"><rect x="${box.x}" y="${box.y}" width="${BOX_W}" height="${BOX_H}" rx="8"/>` +
        `<text x="${box.x + BOX_W / 2}" y="${box.y + (count === undefined ? 25 : 18)}" text-anchor="middle">${esc(state.replace(/_/g, " "))}</text>` +
        (count === undefined
          ? ""
          : `<text class="state-count" x="${box.x + BOX_W / 2}" y="${box.y + 33}" text-anchor="middle">${count}</text>`) +
        `</g>`,
    );
  }
  return (
    `<svg class="diagram" viewBox="0 0 ${width} ${height}" role="img" aria-label="The purchase machine" xmlns="http://www.w3.org/2000/svg">` +
    `<defs>` +
    `<marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" markerWidth="9" markerHeight="9" orient="auto-start-reverse"><path d="M0 0L10 5L0 10z" class="arrowhead"/></marker>` +
    `<marker id="arrow-path" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" markerWidth="9" markerHeight="9" orient="auto-start-reverse"><path d="M0 0L10 5L0 10z" class="arrowhead-path"/></marker>` +
    `</defs>${parts.join("")}</svg>`
  );
}
