/**
 * Issue 22 (2): the README is for owners and stays short, and every relative link in it and in the
 * documents (docs/*.md, CHANGELOG.md) leads somewhere: the file or folder exists and an #anchor names
 * a heading of the target (as GitHub makes anchors from headings).
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = join(import.meta.dirname, "..", "..");
const DOCUMENTS = [
  "README.md",
  "CHANGELOG.md",
  ...readdirSync(join(ROOT, "docs"))
    .filter((name) => name.endsWith(".md"))
    .map((name) => `docs/${name}`),
];

/** The text outside fenced code blocks and inline code, where links are links. */
function prose(markdown: string): string {
  return markdown.replace(/^(```|~~~)[\s\S]*?^\1[^\n]*$/gm, "").replace(/`[^`\n]*`/g, "");
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, each space a hyphen. */
export function anchorOf(heading: string): string {
  return heading
    .trim()
    .replace(/`/g, "")
    .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

/** Every anchor a markdown file offers (a repeated heading gets -1, -2…). */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const [, heading] of prose(markdown).matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = anchorOf(heading!);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

/** The relative link targets of a markdown file: `[text](target)` and `![alt](target)`, titles dropped. */
function linksOf(markdown: string): string[] {
  return [...prose(markdown).matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)]
    .map((match) => match[1]!)
    .filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target));
}

describe("the README and the documents", () => {
  it("the README is for owners: at most 160 lines", () => {
    expect(readFileSync(join(ROOT, "README.md"), "utf8").split("\n").length).toBeLessThanOrEqual(160);
  });

  it("every relative link in README.md, CHANGELOG.md and docs/*.md leads to a file or folder that exists, and to a heading there", () => {
    const broken: string[] = [];
    let checked = 0;
    for (const document of DOCUMENTS) {
      const text = readFileSync(join(ROOT, document), "utf8");
      for (const target of linksOf(text)) {
        checked++;
        const [path = "", anchor] = target.split("#");
        const file = path === "" ? join(ROOT, document) : join(ROOT, dirname(document), decodeURIComponent(path));
        if (!existsSync(file)) {
          broken.push(`${document}: ${target} (no ${relative(ROOT, file)})`);
          continue;
        }
        if (anchor !== undefined && !anchorsOf(readFileSync(file, "utf8")).has(decodeURIComponent(anchor))) {
          broken.push(`${document}: ${target} (no heading "#${anchor}" in ${relative(ROOT, file)})`);
        }
      }
    }
    expect(broken).toEqual([]);
    expect(checked).toBeGreaterThan(20);
  });

  it("anchors are made the way GitHub makes them", () => {
    expect(anchorOf("Questions: the owner's FAQ")).toBe("questions-the-owners-faq");
    expect(anchorOf("10. Backups")).toBe("10-backups");
    expect(anchorOf("Delivery and `DELIVERY_PROVIDER`")).toBe("delivery-and-delivery_provider");
    expect(anchorOf("Leases: one chat at a time, across instances")).toBe("leases-one-chat-at-a-time-across-instances");
    expect(anchorsOf("# A\n## A\n```\n# not a heading\n```\n")).toEqual(new Set(["a", "a-1"]));
  });
});
