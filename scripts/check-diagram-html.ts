/**
 * Manual check (not part of vitest: CI may have no browser) that both pictures of the purchase machine
 * render offline in a real browser and show every stage: the Mermaid page `npm run diagram -- --html`
 * writes (with the npm-installed mermaid inlined), and the owner dashboard's server-drawn SVG. Both are
 * folded from the one walk of the machine (`src/analytics/machine-graph.ts`, issue 23), so a stage
 * missing from either is a bug in that walk. Headless Chromium loads each page from disk with background
 * networking off; the DOM it dumps must hold the drawing and every stage's name.
 * Usage: `npx tsx scripts/check-diagram-html.ts [chromium-path]`.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { purchaseMachine } from "../machines/purchase.machine.ts";
import { STAGES } from "../machines/purchase.reading.ts";
import { machineToMermaid, mermaidHtml } from "../src/cli/mermaid.ts";
import { PURCHASE_GRAPH, diagramSvg } from "../src/dashboard/diagram.ts";
import { DASHBOARD_CSS } from "../src/dashboard/html.ts";

const chromium = process.argv[2] ?? "/usr/bin/chromium";
const work = mkdtempSync(join(tmpdir(), "diagram-check-"));
const flags = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  `--user-data-dir=${join(work, "profile")}`,
  "--virtual-time-budget=5000",
];

/** Loads `file` in Chromium; how many stages its DOM names, whether `drawn` matched, and a screenshot's path. */
function check(name: string, html: string, drawn: RegExp, label: (stage: string) => string): boolean {
  const file = join(work, `${name}.html`);
  writeFileSync(file, html);
  const page = pathToFileURL(file).href;
  const dom = execFileSync(chromium, [...flags, "--dump-dom", page], {
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
    stdio: ["ignore", "pipe", "ignore"],
  });
  const missing = STAGES.filter((stage) => !dom.includes(label(stage)));
  const shot = join(work, `${name}.png`);
  execFileSync(chromium, [...flags, "--window-size=1600,2400", `--screenshot=${shot}`, page], { stdio: "ignore" });
  const ok = drawn.test(dom) && missing.length === 0;
  console.log(
    `${name}: drawn ${drawn.test(dom)}; stages shown ${STAGES.length - missing.length}/${STAGES.length}${missing.length ? ` (missing: ${missing.join(", ")})` : ""}; screenshot taken`,
  );
  return ok;
}

try {
  const mermaid = readFileSync(createRequire(import.meta.url).resolve("mermaid/dist/mermaid.min.js"), "utf8");
  const mermaidOk = check(
    "mermaid",
    mermaidHtml(machineToMermaid(purchaseMachine), mermaid),
    /<svg[^>]*(aria-roledescription="stateDiagram"|id="mermaid-)/,
    (stage) => stage,
  );
  const dashboardPage = `<!doctype html><html><head><meta charset="utf-8"><style>${DASHBOARD_CSS}</style></head><body>${diagramSvg(PURCHASE_GRAPH)}</body></html>`;
  const dashboardOk = check("dashboard", dashboardPage, /<svg class="diagram"/, (stage) => `>${stage.replace(/_/g, " ")}<`);
  process.exitCode = mermaidOk && dashboardOk ? 0 : 1;
} finally {
  rmSync(work, { recursive: true, force: true });
}
