/**
 * Checks a folder of translations against the reference language, for tests and for whoever adds a
 * language: every file must have exactly the reference's message ids, every entry must parse, a
 * translation may only use variables the code passes (those the reference uses), and text may not
 * contain HTML's special characters (Telegram reads replies as HTML; variables arrive escaped).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { FluentResource } from "@fluent/bundle";
import { LOCALES_DIR, REFERENCE_LANGUAGE, availableLanguages, readResource } from "./localization.ts";

type Pattern = NonNullable<FluentResource["body"][number]["value"]>;
type Element = Exclude<Pattern, string>[number];

export type TranslationProblem = {
  language: string;
  problem: "missing" | "extra" | "unparsed" | "unknown_variable" | "markup_in_text";
  /** The message id (or, for `unparsed`, the id found in the file). */
  id: string;
  detail?: string;
};

/** Walks a pattern: calls `text` for literal text and `variable` for each `$variable`. */
function walk(pattern: Pattern | Element, visit: { text(text: string): void; variable(name: string): void }): void {
  if (typeof pattern === "string") return visit.text(pattern);
  if (Array.isArray(pattern)) return pattern.forEach((element) => walk(element, visit));
  switch (pattern.type) {
    case "var":
      return visit.variable(pattern.name);
    case "select":
      walk(pattern.selector, visit);
      return pattern.variants.forEach((variant) => walk(variant.value, visit));
    case "term":
    case "func":
      return pattern.args.forEach((arg) => (arg.type === "narg" ? undefined : walk(arg, visit)));
    default:
      return undefined;
  }
}

function messages(language: string, dir: string) {
  const resource = readResource(language, dir);
  const byId = new Map<string, { variables: Set<string>; texts: string[] }>();
  for (const entry of resource.body) {
    if (entry.id.startsWith("-") || entry.value === null) continue;
    const found = { variables: new Set<string>(), texts: [] as string[] };
    walk(entry.value, { text: (text) => found.texts.push(text), variable: (name) => found.variables.add(name) });
    byId.set(entry.id, found);
  }
  // The parser skips what it cannot read: compare with the ids the file appears to define.
  const written = [...readFileSync(join(dir, `${language}.ftl`), "utf8").matchAll(/^([a-zA-Z][\w-]*)\s*=/gm)].map((match) => match[1]!);
  const unparsed = written.filter((id) => !byId.has(id));
  return { byId, unparsed };
}

/** Every problem of every language in `dir`; empty when all is well. */
export function checkTranslations(dir: string = LOCALES_DIR): TranslationProblem[] {
  const problems: TranslationProblem[] = [];
  const reference = messages(REFERENCE_LANGUAGE, dir);
  for (const language of availableLanguages(dir)) {
    const own = language === REFERENCE_LANGUAGE ? reference : messages(language, dir);
    for (const id of own.unparsed) problems.push({ language, problem: "unparsed", id });
    for (const id of reference.byId.keys())
      if (!own.byId.has(id) && !own.unparsed.includes(id)) problems.push({ language, problem: "missing", id });
    for (const [id, message] of own.byId) {
      const english = reference.byId.get(id);
      if (!english) {
        problems.push({ language, problem: "extra", id });
        continue;
      }
      for (const name of message.variables) {
        if (!english.variables.has(name)) problems.push({ language, problem: "unknown_variable", id, detail: `$${name}` });
      }
      const markup = message.texts.find((text) => /[<>&]/.test(text));
      if (markup !== undefined) problems.push({ language, problem: "markup_in_text", id, detail: markup });
    }
  }
  return problems;
}
