/**
 * Renders a state machine's definition as a Mermaid `stateDiagram-v2`, read from the machine itself
 * (its state nodes, transitions, guards and invokes), so the picture cannot drift from the code.
 */
import type { AnyStateMachine, AnyStateNode } from "xstate";

/** Mermaid ids must be unique across nesting levels: `paid.delivering` becomes `paid_delivering`. */
const mermaidId = (node: AnyStateNode) => node.path.join("_");

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

/** The label of a transition: the event as people say it, plus the guard when there is one. */
function label(eventType: string, node: AnyStateNode, guard: unknown): string {
  let event = eventType;
  for (const invoke of node.invoke) {
    if (eventType === `xstate.done.actor.${invoke.id}`) event = `done: ${String(invoke.src)}`;
    if (eventType === `xstate.error.actor.${invoke.id}`) event = `error: ${String(invoke.src)}`;
  }
  if (eventType.startsWith("xstate.done.state.")) event = "done";
  const name = guardName(guard);
  return name ? `${event} [${name}]` : event;
}

/**
 * One line per transition of `node` that changes state (targetless ones such as HELP are listed apart),
 * eventless ones (`always`, taken as soon as the state is entered) included.
 */
function edges(node: AnyStateNode, indent: string): string[] {
  const lines: string[] = [];
  const all: [string, readonly { target?: readonly AnyStateNode[] | undefined; guard?: unknown }[]][] = [...node.transitions, ["always", node.always ?? []]];
  for (const [eventType, definitions] of all) {
    for (const definition of definitions) {
      for (const target of definition.target ?? []) {
        lines.push(`${indent}${mermaidId(node)} --> ${mermaidId(target)} : ${label(eventType, node, definition.guard)}`);
      }
    }
  }
  return lines;
}

function block(node: AnyStateNode, indent: string): string[] {
  const lines: string[] = [];
  const children = Object.values(node.states) as AnyStateNode[];
  if (node.initial) lines.push(`${indent}[*] --> ${mermaidId(node.initial.target[0] as AnyStateNode)}`);
  for (const child of children) {
    const id = mermaidId(child);
    if (Object.keys(child.states).length > 0) {
      lines.push(`${indent}state "${child.key}" as ${id} {`, ...block(child, `${indent}  `), `${indent}}`);
    } else if (id !== child.key) {
      lines.push(`${indent}state "${child.key}" as ${id}`);
    }
    if (child.invoke.length > 0) lines.push(`${indent}${id} : ${child.key} (invokes ${child.invoke.map((i: { src: unknown }) => String(i.src)).join(", ")})`);
  }
  for (const child of children) {
    lines.push(...edges(child, indent));
    if (child.type === "final") lines.push(`${indent}${mermaidId(child)} --> [*]`);
  }
  return lines;
}

/** The machine as Mermaid source (no fences). */
export function machineToMermaid(machine: AnyStateMachine): string {
  const root = machine.root as AnyStateNode;
  const anywhere = [...root.transitions.keys()].filter((type) => !(root.transitions.get(type) ?? []).some((t) => t.target?.length));
  const lines = ["stateDiagram-v2", ...block(root, "  ")];
  if (anywhere.length > 0) lines.push(`  note right of ${mermaidId(root.initial!.target[0] as AnyStateNode)}`, `    In every state: ${anywhere.join(", ")} (no state change)`, "  end note");
  return `${lines.join("\n")}\n`;
}

/** The markdown page committed as docs/purchase.md. */
export function mermaidMarkdown(machine: AnyStateMachine, source: string): string {
  return `# The purchase machine

Generated from \`machines/purchase.machine.ts\` by \`npm run diagram -- --out docs/purchase.md\`; do not edit by hand
(a test fails when this file is out of date). Labels read \`EVENT [guard]\`; \`done:\`/\`error:\` edges are the
outcomes of the invoked actor of a busy state; \`always\` edges are taken as soon as their state is entered.

\`\`\`mermaid
${source}\`\`\`

${String(machine.root.description ?? "")}
`;
}

/** A self-contained page that renders the diagram offline, with the mermaid script inlined. */
export function mermaidHtml(source: string, mermaidScript: string): string {
  const escaped = source.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  // A literal "</script" inside the inlined library would end the script element early.
  const script = mermaidScript.replace(/<\/script/gi, "<\\/script");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>TokenGoblin purchase machine</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem}</style></head>
<body>
<h1>TokenGoblin purchase machine</h1>
<p>Generated by <code>npm run diagram -- --html</code> from <code>machines/purchase.machine.ts</code>.</p>
<pre class="mermaid">
${escaped}</pre>
<script>${script}</script>
<script>mermaid.initialize({ startOnLoad: true, securityLevel: "strict" });</script>
</body></html>
`;
}
