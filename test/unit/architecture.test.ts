/**
 * The dependency rules of issue 12, checked on the source: the machine and the domain at the bottom,
 * the engine above them, adapters on top; providers never import the engine, the words or grammY; and
 * no import cycle, type-only imports included.
 */
import { readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import { describe, expect, test } from "vitest";

const ROOT = join(import.meta.dirname, "..", "..");

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const path = join(dir, name);
    return statSync(join(ROOT, path)).isDirectory() ? sources(path) : path.endsWith(".ts") ? [path] : [];
  });
}

const files = [...sources("machines"), ...sources("src")];
const IMPORT = /(?:import|export)\s+(?:type\s+)?(?:[^'"]*?\sfrom\s+)?["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;

/** Every module a file imports: relative ones as repository paths, packages by name. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), "utf8");
  return [...text.matchAll(IMPORT)].map((match) => {
    const target = match[1] ?? match[2] ?? "";
    return target.startsWith(".") ? relative(ROOT, normalize(join(ROOT, dirname(file), target))) : target;
  });
}

const graph = new Map(files.map((file) => [file, importsOf(file)]));
const layer = (file: string) => file.split("/").slice(0, file.startsWith("src/") ? 2 : 1).join("/");

function offenders(from: (file: string) => boolean, forbidden: (target: string) => boolean): string[] {
  return [...graph].flatMap(([file, targets]) => (from(file) ? targets.filter(forbidden).map((target) => `${file} → ${target}`) : []));
}

describe("dependencies point one way", () => {
  test("the machine imports nothing from src/", () => {
    expect(offenders((f) => f.startsWith("machines/"), (t) => t.startsWith("src/"))).toEqual([]);
  });

  test("the domain imports only the machine and itself", () => {
    expect(offenders((f) => f.startsWith("src/domain/"), (t) => t.startsWith("src/") && !t.startsWith("src/domain/"))).toEqual([]);
  });

  test("payment and delivery providers import neither the engine, the words nor grammY", () => {
    const adapters = ["src/engine/", "src/render/", "src/telegram/", "src/i18n/", "src/web/", "src/dashboard/"];
    expect(
      offenders(
        (f) => f.startsWith("src/payments/") || f.startsWith("src/delivery/"),
        (t) => adapters.some((prefix) => t.startsWith(prefix)) || t === "grammy" || t.startsWith("@grammyjs/"),
      ),
    ).toEqual([]);
  });

  test("the engine imports no adapter (Telegram, HTTP, console, dashboard, words)", () => {
    const adapters = ["src/telegram/", "src/http/", "src/cli/", "src/dashboard/", "src/render/", "src/web/", "src/app.ts", "src/main.ts"];
    expect(offenders((f) => f.startsWith("src/engine/"), (t) => adapters.some((prefix) => t.startsWith(prefix)) || t === "grammy")).toEqual([]);
  });

  test("the words and the console import nothing from Telegram (button codes are Telegram's own)", () => {
    expect(offenders((f) => f.startsWith("src/render/") || f.startsWith("src/cli/"), (t) => t.startsWith("src/telegram/") || t === "grammy" || t.startsWith("grammy/"))).toEqual([]);
  });

  test("no import cycle, type-only imports included", () => {
    const cycles: string[] = [];
    const state = new Map<string, "open" | "done">();
    const walk = (file: string, path: string[]) => {
      state.set(file, "open");
      for (const target of graph.get(file) ?? []) {
        if (!graph.has(target)) continue;
        if (state.get(target) === "open") cycles.push([...path.slice(path.indexOf(target)), target].join(" → "));
        else if (!state.has(target)) walk(target, [...path, target]);
      }
      state.set(file, "done");
    };
    for (const file of files) if (!state.has(file)) walk(file, [file]);
    expect(cycles).toEqual([]);
  });

  test("every layer named in the layout exists", () => {
    const layers = new Set(files.map(layer));
    for (const expected of ["machines", "src/domain", "src/engine", "src/store", "src/payments", "src/delivery", "src/understand", "src/telegram", "src/http"]) {
      expect(layers.has(expected), expected).toBe(true);
    }
  });
});
