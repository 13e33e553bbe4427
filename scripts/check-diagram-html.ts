/**
 * Manual check (not part of vitest: CI may have no browser) that docs/purchase.html renders offline:
 * headless Chromium loads the page from disk with background networking off and the DOM it dumps
 * must contain the SVG mermaid drew. Usage: `npx tsx scripts/check-diagram-html.ts [chromium-path]`.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

const chromium = process.argv[2] ?? "/usr/bin/chromium";
const page = pathToFileURL(resolve("docs/purchase.html")).href;
const profile = mkdtempSync(join(tmpdir(), "diagram-check-"));
const flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", `--user-data-dir=${profile}`, "--virtual-time-budget=5000"];
try {
  const dom = execFileSync(chromium, [...flags, "--dump-dom", page], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024, stdio: ["ignore", "pipe", "ignore"] });
  const svg = /<svg[^>]*aria-roledescription="stateDiagram"/.test(dom) || /<svg[^>]*id="mermaid-/.test(dom);
  const states = ["awaiting_payment", "delivery_failed", "waiting_retry"].filter((name) => dom.includes(name));
  const shot = join(profile, "purchase.png");
  execFileSync(chromium, [...flags, "--window-size=1600,2400", `--screenshot=${shot}`, page], { stdio: "ignore" });
  console.log(`rendered svg: ${svg}; state labels found: ${states.length}/3; screenshot taken`);
  process.exitCode = svg && states.length === 3 ? 0 : 1;
} finally {
  rmSync(profile, { recursive: true, force: true });
}
