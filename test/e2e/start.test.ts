/**
 * `npm start` runs a build of src/ compiled once (scripts/build.js into dist/) instead of transpiling
 * at every start (issue 12). These tests hold it to two promises: it behaves like the sources, and it
 * never runs code older than the sources.
 */
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { ownImportMeta, productBuildOptions } from "../../scripts/build.js";
import { FORMAT, fingerprint, staleReason } from "../../scripts/dist.js";
import { runProcess } from "../support/run-process.ts";

const temps: string[] = [];
afterEach(() => {
  while (temps.length > 0) rmSync(temps.pop() as string, { recursive: true, force: true });
});
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "tokengoblin-start-"));
  temps.push(dir);
  return dir;
};

function run(command: string, args: string[], input: string, env: Record<string, string> = {}) {
  return runProcess(command, args, {
    env: { ...process.env, STORE_URL: "memory://", HTTP_PORT: "0", TELEGRAM_BOT_TOKEN: "", TOKENGOBLIN_LOG: "warn", ...env },
    input,
  });
}

describe("npm start (compiled)", () => {
  test("sells like the sources do: a piped purchase prints the quote and a pay link", async () => {
    const { code, stdout, stderr } = await run(process.execPath, ["scripts/start.js"], "I need 2000 tokens\nyes\n");
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(stdout).toContain("2,000 tokens for $40.00 (you pay 40.00 USDT)");
    expect(stdout).toMatch(/Pay here: http:\/\/localhost:\d+\/pay\/sandbox\/sbx_ord_/);
  });
});

describe("a build is used only while it matches the sources", () => {
  function builtCheckout() {
    const root = tempDir();
    mkdirSync(join(root, "src"));
    mkdirSync(join(root, "dist"));
    writeFileSync(join(root, "src", "main.ts"), "console.log(1);\n");
    writeFileSync(join(root, "src", "helper.ts"), "export const x = 1;\n");
    writeFileSync(join(root, "dist", "main.js"), "console.log(1);\n");
    const inputs = Object.fromEntries(["src/main.ts", "src/helper.ts"].map((path) => [path, fingerprint(path, root)]));
    writeFileSync(join(root, "dist", "build-info.json"), JSON.stringify({ format: FORMAT, inputs }));
    return root;
  }

  test("an untouched checkout is fresh", () => {
    expect(staleReason(builtCheckout())).toBeNull();
  });

  test("an edited source means a rebuild, even when the edit keeps the size", () => {
    const root = builtCheckout();
    writeFileSync(join(root, "src", "main.ts"), "console.log(2);\n");
    utimesSync(join(root, "src", "main.ts"), new Date(), new Date(Date.now() + 5_000));
    expect(staleReason(root)).toBe("src/main.ts changed");
  });

  test("a source put back with an older time (git checkout of another branch) means a rebuild too", () => {
    const root = builtCheckout();
    utimesSync(join(root, "src", "helper.ts"), new Date(0), new Date(0));
    expect(staleReason(root)).toBe("src/helper.ts changed");
  });

  test("a deleted source, a missing bundle or no build at all mean a rebuild", () => {
    const deleted = builtCheckout();
    rmSync(join(deleted, "src", "helper.ts"));
    expect(staleReason(deleted)).toBe("src/helper.ts was removed");
    const noBundle = builtCheckout();
    rmSync(join(noBundle, "dist", "main.js"));
    expect(staleReason(noBundle)).toBe("dist/main.js is missing");
    expect(staleReason(tempDir())).toBe("not built yet");
  });
});

describe("bundling keeps each module's import.meta.url", () => {
  test("a nested module's `new URL('../../locales/', import.meta.url)` still finds the checkout's locales", async () => {
    const root = tempDir();
    mkdirSync(join(root, "src", "i18n"), { recursive: true });
    mkdirSync(join(root, "locales"));
    writeFileSync(
      join(root, "src", "i18n", "where.ts"),
      'export const locales: string = new URL("../../locales/", import.meta.url).pathname;\n',
    );
    writeFileSync(join(root, "src", "main.ts"), 'import { locales } from "./i18n/where.ts";\nconsole.log(locales);\n');
    const { build } = await import("esbuild");
    const outdir = join(root, "dist");
    await build({
      absWorkingDir: root,
      entryPoints: ["src/main.ts"],
      outdir,
      bundle: true,
      format: "esm",
      platform: "node",
      logLevel: "silent",
      plugins: [ownImportMeta(outdir)],
    });
    const { stdout } = await run(process.execPath, [join(outdir, "main.js")], "");
    expect(stdout.trim()).toBe(`${join(root, "locales")}/`);
  });
});

describe("the build's source maps", () => {
  test("a stack trace from the build names the TypeScript line, and its maps hold no second copy of the sources", async () => {
    const root = tempDir();
    mkdirSync(join(root, "src"));
    writeFileSync(join(root, "src", "fail.ts"), 'export function fail(): string {\n  return new Error("where am I").stack ?? "";\n}\n');
    writeFileSync(join(root, "src", "main.ts"), 'import { fail } from "./fail.ts";\nconsole.log(fail());\n');
    const { build } = await import("esbuild");
    const outdir = join(root, "dist");
    await build({ ...productBuildOptions("src/main.ts", outdir), absWorkingDir: root, logLevel: "silent" });
    const { stdout } = await run(process.execPath, ["--enable-source-maps", join(outdir, "main.js")], "");
    expect(stdout).toContain(`${join(root, "src", "fail.ts")}:2:`);
    const maps = readdirSync(outdir).filter((name) => name.endsWith(".map"));
    expect(maps.length).toBeGreaterThan(0);
    for (const name of maps) expect(JSON.parse(readFileSync(join(outdir, name), "utf8"))).not.toHaveProperty("sourcesContent");
  });
});
