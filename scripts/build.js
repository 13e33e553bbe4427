// @ts-check
/**
 * `npm run build` (also run by `npm install`/`npm ci` through `prepare`, and by `npm start` whenever
 * the sources changed): compiles src/main.ts and everything it imports into dist/ once, so a start runs
 * plain JavaScript instead of transpiling TypeScript (tsx) every time.
 *
 * - One ES module bundle per load path (esbuild `splitting`): what a configuration imports lazily
 *   (the Telegram bot, the LLM understander, the Crypto Pay and Stars providers, the inspector) lands
 *   in its own file and is read only when used.
 * - npm packages stay in node_modules (`packages: "external"`) and are loaded by Node as usual.
 * - Each module keeps its own `import.meta.url` (rewritten to its source file's location relative to
 *   dist/), so paths like `new URL("../../locales/", import.meta.url)` mean what they mean under tsx.
 * - Files are written beside their final name and renamed into place, so a start running at the same
 *   moment sees the old build or the new one, never half of one.
 *
 * `node scripts/build.js --if-stale` builds only when dist/ does not match the sources.
 */
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { CONFIG_INPUTS, DIST, FORMAT, INFO, ROOT, fingerprint, staleReason } from "./dist.js";

/** Output files older than this that the new build no longer lists are deleted (a start may still read them). */
const KEEP_OLD_OUTPUTS_MS = 10 * 60_000;

/**
 * Rewrites `import.meta.url` in a source module to its own location: after bundling, every module of
 * a chunk shares the chunk's `import.meta`. Every output file must sit directly in `outdir`.
 * @param {string} outdir absolute path of the output directory
 * @returns {import("esbuild").Plugin}
 */
export const ownImportMeta = (outdir) => ({
  name: "own-import-meta",
  setup(build) {
    build.onLoad({ filter: /\.[cm]?ts$/ }, (args) => {
      if (args.path.includes(`${sep}node_modules${sep}`)) return undefined;
      const source = readFileSync(args.path, "utf8");
      if (/\bimport\.meta\.(dirname|filename)\b/.test(source)) {
        return { errors: [{ text: "use import.meta.url (import.meta.dirname/filename would name the bundle, not this module)" }] };
      }
      if (!source.includes("import.meta.url")) return { contents: source, loader: "ts" };
      const fromOutdir = relative(outdir, args.path).split(sep).join("/");
      return {
        contents: source.replaceAll("import.meta.url", `new URL(${JSON.stringify(fromOutdir)}, import.meta.url).href`),
        loader: "ts",
      };
    });
  },
});

/**
 * How the product is compiled, for an entry point and an output directory (absolute): `npm run bench`
 * compiles its harness the same way, so it measures the code as it ships.
 * @param {string} entry relative to the checkout
 * @param {string} outdir absolute
 * @returns {import("esbuild").BuildOptions & { outdir: string }}
 */
export const productBuildOptions = (entry, outdir) => ({
  absWorkingDir: ROOT,
  entryPoints: [entry],
  outdir,
  // Chunks beside the entry: one directory depth for every output, which the import.meta rewrite assumes.
  chunkNames: "chunk-[hash]",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  packages: "external",
  sourcemap: "linked",
  // Stack traces need only the mappings: a start reads every loaded module's map, and the sources
  // inside them (the whole of src/ again) cost the running shop about 2 MB of memory for nothing.
  sourcesContent: false,
  legalComments: "none",
  logLevel: "warning",
  plugins: [ownImportMeta(outdir)],
});

/** Compiles into dist/ and records what it read. Returns the number of output files. */
export async function build() {
  const esbuild = await import("esbuild");
  const result = await esbuild.build({ ...productBuildOptions("src/main.ts", DIST), metafile: true, write: false });
  mkdirSync(DIST, { recursive: true });
  const written = new Set();
  for (const file of result.outputFiles) {
    const temporary = `${file.path}.${process.pid}.tmp`;
    writeFileSync(temporary, file.contents);
    renameSync(temporary, file.path);
    written.add(basename(file.path));
  }
  /** @type {Record<string, [number, number]>} */
  const inputs = {};
  for (const path of [...Object.keys(result.metafile.inputs), ...CONFIG_INPUTS]) {
    const print = fingerprint(path);
    if (print) inputs[path] = print;
  }
  const info = `${JSON.stringify({ format: FORMAT, builtAt: new Date().toISOString(), inputs }, null, 1)}\n`;
  writeFileSync(`${INFO}.${process.pid}.tmp`, info);
  renameSync(`${INFO}.${process.pid}.tmp`, INFO);
  written.add(basename(INFO));
  for (const name of readdirSync(DIST)) {
    const path = join(DIST, name);
    if (!written.has(name) && Date.now() - statSync(path).mtimeMs > KEEP_OLD_OUTPUTS_MS) rmSync(path, { force: true, recursive: true });
  }
  return result.outputFiles.length;
}

/** Builds when dist/ is stale; returns why it rebuilt, or null. */
export async function buildIfStale() {
  const reason = staleReason();
  if (reason !== null) await build();
  return reason;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const onlyIfStale = process.argv.includes("--if-stale");
  const started = performance.now();
  try {
    const reason = onlyIfStale ? await buildIfStale() : (await build(), "requested");
    const took = `${Math.round(performance.now() - started)} ms`;
    if (reason) console.error(`compiled src/ into ${relative(ROOT, DIST)}/ in ${took} (${reason})`);
  } catch (error) {
    console.error(`Build failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  }
}
