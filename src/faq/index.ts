/**
 * The shop owner's FAQ: one Fluent file per language (`faq/en.ftl`, `faq/ru.ftl`, or the folder named by
 * `FAQ_DIR`), one answer per {@link FaqTopic}. Rules and the LLM only pick a topic; these are the words
 * the customer reads. An answer the owner's file lacks falls back to the shipped one, then to English.
 */
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { FluentBundle, FluentResource } from "@fluent/bundle";
import { FaqTopic } from "../domain/faq.ts";
import type { MessageArgs } from "../i18n/index.ts";

/** The answers shipped with the product: the defaults, and the fallback for any missing topic. */
export const SHIPPED_FAQ_DIR = fileURLToPath(new URL("../../faq/", import.meta.url));
const REFERENCE = "en";

export type Faq = {
  /** The owner's answer to `topic` in `language` (or the nearest fallback); `args` fill `{ $price }` and the like. */
  answer(language: string, topic: FaqTopic, args?: MessageArgs): string;
};

/** A FAQ file that does not parse: start-up stops and names the file. */
export class FaqError extends Error {
  constructor(file: string, detail: string) {
    super(`${file}: ${detail}; fix it, or unset FAQ_DIR to use the shipped answers`);
    this.name = "FaqError";
  }
}

function bundlesIn(dir: string): Map<string, FluentBundle> {
  const bundles = new Map<string, FluentBundle>();
  if (!existsSync(dir)) throw new FaqError(dir, "no such folder");
  for (const name of readdirSync(dir).filter((n) => n.endsWith(".ftl"))) {
    const file = join(dir, name);
    const text = readFileSync(file, "utf8");
    const resource = new FluentResource(text);
    // Fluent skips an entry it cannot parse; an owner should hear about it, not get the shipped answer.
    const parsed = new Set(resource.body.map((entry) => entry.id));
    const broken = [...text.matchAll(/^([a-zA-Z][\w-]*)\s*=/gm)].map((m) => m[1]!).filter((id) => !parsed.has(id));
    if (broken.length > 0) throw new FaqError(file, `could not read the answer ${broken.join(", ")} (check its braces and indentation)`);
    const bundle = new FluentBundle(name.slice(0, -".ftl".length), { useIsolating: false });
    const errors = bundle.addResource(resource);
    if (errors.length > 0) throw new FaqError(file, errors.map(String).join("; "));
    const unknown = resource.body.map((entry) => entry.id).filter((id) => !id.startsWith("-") && !FaqTopic.safeParse(id).success);
    if (unknown.length > 0) throw new FaqError(file, `unknown topic ${unknown.join(", ")} (topics: ${FaqTopic.options.join(", ")})`);
    bundles.set(bundle.locales[0]!, bundle);
  }
  return bundles;
}

/** What is wrong with an owner's FAQ folder (missing, a file that does not parse, an unknown topic); null when it loads. */
export function faqProblem(dir: string): string | null {
  try {
    bundlesIn(dir);
    return null;
  } catch (error) {
    if (error instanceof FaqError) return error.message;
    throw error;
  }
}

const cache = new Map<string, Faq>();

/** Loads the FAQ from `dir` (default: the shipped one) over the shipped answers. Throws {@link FaqError}. */
export function loadFaq(options: { dir?: string } = {}): Faq {
  const dir = options.dir ?? SHIPPED_FAQ_DIR;
  const cached = cache.get(dir);
  if (cached) return cached;
  const shipped = bundlesIn(SHIPPED_FAQ_DIR);
  const owner = dir === SHIPPED_FAQ_DIR ? shipped : bundlesIn(dir);
  const faq: Faq = {
    answer(language, topic, args) {
      for (const bundle of [owner.get(language), shipped.get(language), owner.get(REFERENCE), shipped.get(REFERENCE)]) {
        const message = bundle?.getMessage(topic);
        if (bundle && message?.value) return bundle.formatPattern(message.value, args, []);
      }
      throw new Error(`no FAQ answer for "${topic}" in ${join(SHIPPED_FAQ_DIR, `${REFERENCE}.ftl`)}`);
    },
  };
  cache.set(dir, faq);
  return faq;
}
