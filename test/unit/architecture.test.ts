/**
 * The dependency rules of issue 12, checked on the source: the machine and the domain at the bottom,
 * the engine above them, adapters on top; providers never import the engine, the words or grammY; and
 * no import cycle, type-only imports included. And the rule of issue 19: the machine is the one source
 * of what states exist, so nothing outside it decides by an order's state name.
 */
import { readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import { describe, expect, test } from "vitest";
import { STAGES, STATE_PATHS } from "../../machines/purchase.reading.ts";

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
const layer = (file: string) =>
  file
    .split("/")
    .slice(0, file.startsWith("src/") ? 2 : 1)
    .join("/");

function offenders(from: (file: string) => boolean, forbidden: (target: string) => boolean): string[] {
  return [...graph].flatMap(([file, targets]) => (from(file) ? targets.filter(forbidden).map((target) => `${file} → ${target}`) : []));
}

describe("dependencies point one way", () => {
  test("the machine imports nothing from src/", () => {
    expect(
      offenders(
        (f) => f.startsWith("machines/"),
        (t) => t.startsWith("src/"),
      ),
    ).toEqual([]);
  });

  test("the domain imports only the machine and itself", () => {
    expect(
      offenders(
        (f) => f.startsWith("src/domain/"),
        (t) => t.startsWith("src/") && !t.startsWith("src/domain/"),
      ),
    ).toEqual([]);
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
    expect(
      offenders(
        (f) => f.startsWith("src/engine/"),
        (t) => adapters.some((prefix) => t.startsWith(prefix)) || t === "grammy",
      ),
    ).toEqual([]);
  });

  test("the words and the console import nothing from Telegram (button codes are Telegram's own)", () => {
    expect(
      offenders(
        (f) => f.startsWith("src/render/") || f.startsWith("src/cli/"),
        (t) => t.startsWith("src/telegram/") || t === "grammy" || t.startsWith("grammy/"),
      ),
    ).toEqual([]);
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
    for (const expected of [
      "machines",
      "src/domain",
      "src/engine",
      "src/store",
      "src/payments",
      "src/delivery",
      "src/understand",
      "src/telegram",
      "src/http",
    ]) {
      expect(layers.has(expected), expected).toBe(true);
    }
  });
});

/**
 * Issue 19: code outside `machines/` (and tests) asks what an order is through tags, `can()` and state
 * meta, never by comparing its state with a name. Showing a stage or using it as a lookup key is fine;
 * deciding on it is not. A payment provider's own statuses ("paid", "expired") are not machine states,
 * so comparisons only count on what names an order's state (`state`, `stage`, `path`, `value`, or what
 * `statePath`/`stageOf` return), and a `case` counts when it switches on one — or when its label is a
 * state name no other vocabulary uses (`case "awaiting_payment":` is always about the machine).
 */
describe("the machine is the single source of states", () => {
  /** Every state name: full paths ("paid.delivering") and each of their parts. */
  const names = new Set(STATE_PATHS.flatMap((path) => [path, ...path.split(".")]));
  const quoted = [...names]
    .sort((a, b) => b.length - a.length)
    .map((name) => name.replace(".", "\\."))
    .join("|");
  /** State names that are also words of another vocabulary (problem codes, provider and refund statuses). */
  const shared = new Set(
    [...names].filter((name) =>
      ["machines/purchase.types.ts", ...sources("src/payments")].some((file) => {
        const text = readFileSync(join(ROOT, file), "utf8");
        return text.includes(`"${name}"`);
      }),
    ),
  );
  /** An expression naming an order's state: `x.state`, `x?.stage`, `path`, `statePath(s)`, `stageOf(s)`. */
  const STATEISH = String.raw`(?:[\w$]+(?:\??\.[\w$]+|\([^()]*\))*\??\.(?:state|stage|path|value)\b|\b(?:state|stage|path)\b|\b(?:statePath|stateName|stageOf|pathOf|topState)\([^()]*\))`;
  const LITERAL = `["'\`](?:${quoted})["'\`]`;
  const rules: { name: string; pattern: RegExp }[] = [
    {
      name: "compares a state with a name",
      pattern: new RegExp(`${STATEISH}\\s*[!=]==?\\s*${LITERAL}|${LITERAL}\\s*[!=]==?\\s*${STATEISH}`),
    },
    {
      name: "looks a state up in a list of names",
      pattern: new RegExp(`${LITERAL}\\s*\\]\\s*\\)?\\s*\\.(?:includes|has)\\(\\s*${STATEISH}\\s*\\)`),
    },
    { name: "matches a state value", pattern: /\.matches\(\s*["'`{]/ },
  ];
  /** Source without comments (prose may name states), line breaks kept so offenders keep their line. */
  const code = (text: string) =>
    text.replace(/\/\*[\s\S]*?\*\//g, (block) => block.replace(/[^\n]/g, " ")).replace(/(^|[^:"'`])\/\/.*$/gm, "$1");

  /** `switch (x) { case "…": }` blocks: the discriminant and each case label, with its line. */
  function switches(text: string): { discriminant: string; label: string; line: number }[] {
    const found: { discriminant: string; label: string; line: number }[] = [];
    for (const match of text.matchAll(/\bswitch\s*\(([^)]*(?:\([^)]*\)[^)]*)*)\)\s*\{/g)) {
      let depth = 0;
      let end = match.index + match[0].length - 1;
      for (; end < text.length; end++) {
        if (text[end] === "{") depth++;
        else if (text[end] === "}" && --depth === 0) break;
      }
      const body = text.slice(match.index, end);
      for (const label of body.matchAll(/\bcase\s+["'`]([^"'`]+)["'`]\s*:/g)) {
        found.push({ discriminant: match[1]!, label: label[1]!, line: text.slice(0, match.index + label.index).split("\n").length });
      }
    }
    return found;
  }

  function offenders(file: string, text: string): string[] {
    const source = code(text);
    const out: string[] = [];
    source.split("\n").forEach((line, i) => {
      for (const rule of rules) if (rule.pattern.test(line)) out.push(`${file}:${i + 1}: ${rule.name}: ${line.trim()}`);
    });
    for (const { discriminant, label, line } of switches(source)) {
      if (!names.has(label)) continue;
      if (new RegExp(`^\\s*${STATEISH}\\s*$`).test(discriminant) || !shared.has(label))
        out.push(`${file}:${line}: switches on a state name: case "${label}" (switch (${discriminant.trim()}))`);
    }
    return out;
  }

  /** Files whose state names are not this machine's: they read something else by its own names. */
  const OTHER_STATES: Record<string, string> = {
    "src/upgrade/from-schema-2.ts":
      "reads orders stored by the schema-2 machine: their state names are old data it translates, not this machine's states",
  };
  /**
   * Code being rewritten on another branch, with why; an entry nothing needs any more must go
   * (the last test below fails on it).
   */
  const PENDING: Record<string, string> = {};
  const scanned = sources("src").filter(
    (file) => !file.startsWith("src/payments/") && file !== "src/web/sandbox-page.ts" && !(file in OTHER_STATES),
  );
  const found = scanned.flatMap((file) => offenders(file, readFileSync(join(ROOT, file), "utf8")));

  test("the state names come from the machine", () => {
    expect(STAGES).toContain("awaiting_payment");
    expect(STATE_PATHS).toContain("paid.delivering");
    expect(shared.has("expired") && shared.has("paid")).toBe(true);
    expect(shared.has("awaiting_payment") || shared.has("quoted")).toBe(false);
  });

  test("no code outside machines/ decides by an order's state name (tags, can() and meta instead)", () => {
    expect(found.filter((line) => !Object.keys(PENDING).some((prefix) => line.startsWith(prefix)))).toEqual([]);
  });

  test("the rule sees each way of deciding by a state name, and not a provider's status", () => {
    const sample = [
      'if (view.stage === "quoted") return;',
      'if ("delivered" !== record?.state) return;',
      'const busy = stageOf(snapshot) === "pricing";',
      'if (statePath(s) === "paid.delivering") go();',
      'if (["cancelled", "expired"].includes(row.stage)) skip();',
      'if (snapshot.matches("awaiting_payment")) wait();',
      'if (snapshot.matches({ paid: "delivering" })) wait();',
      'switch (view.stage) {\n  case "expired":\n    break;\n}',
      'switch (kind) {\n  case "awaiting_payment":\n    break;\n}',
      // Not decisions on a state: a provider's status, a problem code, a stage shown or used as a key.
      'if (status.status === "expired") close();',
      'switch (order.problem) {\n  case "delivery_failed":\n    break;\n}',
      "const words = t(`stage-${view.stage}`);",
      '// if (view.stage === "quoted") is how it was done before',
    ].join("\n");
    expect(offenders("sample.ts", sample).map((line) => Number(line.split(":")[1]))).toEqual([1, 2, 3, 4, 5, 6, 7, 9, 13]);
  });

  test("every exception is still needed", () => {
    for (const prefix of Object.keys(PENDING))
      expect(
        found.some((line) => line.startsWith(prefix)),
        `${prefix}: ${PENDING[prefix]}`,
      ).toBe(true);
    for (const file of Object.keys(OTHER_STATES))
      expect(offenders(file, readFileSync(join(ROOT, file), "utf8")).length, `${file}: ${OTHER_STATES[file]}`).toBeGreaterThan(0);
  });
});
