// @ts-check
/**
 * Where the compiled product lives and whether it still matches the sources. Plain JavaScript with no
 * dependencies: `npm start` runs this check at every start, so it has to cost nothing (a few dozen
 * `stat` calls) and must not load the compiler.
 *
 * `dist/build-info.json` lists every file the last build read (from esbuild's metafile: each source
 * module, static or lazily imported, plus package.json, tsconfig.json and the build scripts) with its
 * modification time and size. The build is fresh only while all of them are unchanged, so an edit, a
 * `git checkout` or a deleted file means a rebuild, never stale code.
 */
import { readFileSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const DIST = join(ROOT, "dist");
export const ENTRY = join(DIST, "main.js");
export const INFO = join(DIST, "build-info.json");
/** Files every build depends on besides the modules esbuild reads. */
export const CONFIG_INPUTS = ["package.json", "tsconfig.json", "scripts/build.js", "scripts/dist.js"];

/** Bump when build-info.json's shape or the build's options change in a way old builds must not survive. */
export const FORMAT = 1;

/**
 * @param {string} path relative to `root`
 * @param {string} [root] the checkout (tests pass a temp directory)
 * @returns {[number, number] | null} modification time (ms) and size, or null when missing
 */
export function fingerprint(path, root = ROOT) {
  try {
    const stat = statSync(join(root, path));
    return [Math.trunc(stat.mtimeMs), stat.size];
  } catch {
    return null;
  }
}

/**
 * Why dist/ must be rebuilt, or null when it matches the sources.
 * @param {string} [root] the checkout (tests pass a temp directory)
 * @returns {string | null}
 */
export function staleReason(root = ROOT) {
  /** @type {{ format?: number; inputs?: Record<string, [number, number]> }} */
  let info;
  try {
    info = JSON.parse(readFileSync(join(root, "dist", "build-info.json"), "utf8"));
  } catch {
    return "not built yet";
  }
  if (info.format !== FORMAT || !info.inputs) return "built by an older build script";
  if (fingerprint("dist/main.js", root) === null) return "dist/main.js is missing";
  for (const [path, recorded] of Object.entries(info.inputs)) {
    const now = fingerprint(path, root);
    if (now === null) return `${path} was removed`;
    if (now[0] !== recorded[0] || now[1] !== recorded[1]) return `${path} changed`;
  }
  return null;
}
