/**
 * CHANGELOG.md and package.json tell the same version (issue 22): an owner reads the changelog from
 * the version their checkout reports, so the newest entry must be package.json's version, and the
 * entries must go newest first with one heading each.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), "utf8");
const versions = [...read("CHANGELOG.md").matchAll(/^## (\d+)\.(\d+)\.(\d+) — (unreleased|\d{4}-\d{2}-\d{2})$/gm)].map((m) => ({
  version: `${m[1]}.${m[2]}.${m[3]}`,
  parts: [Number(m[1]), Number(m[2]), Number(m[3])],
  date: m[4],
}));

describe("CHANGELOG.md", () => {
  it("starts with package.json's version", () => {
    const { version } = JSON.parse(read("package.json")) as { version: string };
    expect(versions[0]?.version).toBe(version);
  });

  it("lists each version once, newest first, and only the newest may be unreleased", () => {
    expect(versions.length).toBeGreaterThan(1);
    for (const [newer, older] of versions.slice(0, -1).map((v, i) => [v, versions[i + 1]!] as const)) {
      const [a, b] = [newer.parts, older.parts];
      const cmp = a[0]! - b[0]! || a[1]! - b[1]! || a[2]! - b[2]!;
      expect(cmp, `${newer.version} must be above ${older.version}`).toBeGreaterThan(0);
      expect(older.date, `${older.version} is below another version, so it was released`).not.toBe("unreleased");
    }
  });
});
