import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { STAGES, STATE_WORDS } from "../../../machines/purchase.reading.ts";
import { readResource } from "../../../src/i18n/index.ts";
import { CUSTOMER_COMMANDS } from "../../../src/customer-commands.ts";

const SRC = join(import.meta.dirname, "../../../src");
const sources = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sources(join(dir, entry.name)) : entry.name.endsWith(".ts") ? [join(dir, entry.name)] : [],
  );
const code = sources(SRC)
  .map((file) => readFileSync(file, "utf8"))
  .join("\n");
const english = new Set(
  readResource("en")
    .body.filter((entry) => !entry.id.startsWith("-"))
    .map((entry) => entry.id),
);

describe("message ids in code", () => {
  test("every hyphenated message id the words modules ask for exists in English", () => {
    const words = ["messages", "orders", "notices", "conversation", "phrases", "alerts"].map((name) => `render/${name}.ts`);
    const files = [...words, "web/sandbox-page.ts", "telegram/bot.ts", "telegram/language.ts", "telegram/render.ts", "cli/console.ts"];
    const asked = files.flatMap((file) =>
      [...readFileSync(join(SRC, file), "utf8").matchAll(/"([a-z]+(?:-[a-z0-9]+)+)"/g)].map((m) => m[1]!),
    );
    expect(asked.filter((id) => id !== "utf-8" && !english.has(id))).toEqual([]);
  });

  test("every English message is used by the code (no dead translations)", () => {
    const commands = new Set(CUSTOMER_COMMANDS.map((command) => `command-${command}`));
    // The machine names an order's message in its states' meta.words; the renderer shows `stage-<state>`.
    const named = new Set([...STATE_WORDS, ...STAGES.map((stage) => `stage-${stage}`)]);
    expect([...english].filter((id) => !commands.has(id) && !named.has(id) && !code.includes(`"${id}"`))).toEqual([]);
    expect([...commands].filter((id) => !english.has(id))).toEqual([]);
  });
});
