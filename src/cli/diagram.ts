/**
 * `npm run diagram` prints the purchase machine as a Mermaid `stateDiagram-v2`.
 * `npm run diagram -- --out docs/purchase.md` writes it as a markdown page;
 * `npm run diagram -- --html [file]` writes a self-contained page (default docs/purchase.html) that
 * renders it offline with the npm-installed mermaid.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { purchaseMachine } from "../../machines/purchase.machine.ts";
import { machineToMermaid, mermaidHtml, mermaidMarkdown } from "./mermaid.ts";

function main(args: string[]): number {
  const source = machineToMermaid(purchaseMachine);
  const outAt = args.indexOf("--out");
  const htmlAt = args.indexOf("--html");
  if (outAt === -1 && htmlAt === -1) {
    process.stdout.write(source);
    return 0;
  }
  if (outAt !== -1) {
    const file = args[outAt + 1];
    if (!file || file.startsWith("--")) {
      process.stderr.write("usage: npm run diagram -- --out <file.md>\n");
      return 2;
    }
    writeFileSync(file, mermaidMarkdown(purchaseMachine, source));
    process.stdout.write(`wrote ${file}\n`);
  }
  if (htmlAt !== -1) {
    const next = args[htmlAt + 1];
    const file = next && !next.startsWith("--") ? next : "docs/purchase.html";
    const script = readFileSync(createRequire(import.meta.url).resolve("mermaid/dist/mermaid.min.js"), "utf8");
    writeFileSync(file, mermaidHtml(source, script));
    process.stdout.write(`wrote ${file}\n`);
  }
  return 0;
}

process.exitCode = main(process.argv.slice(2));
