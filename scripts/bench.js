// @ts-check
/**
 * `npm run bench`: compiles bench/run.ts the way `npm run build` compiles the product (one esbuild
 * bundle, npm packages external) and runs that. The bench then measures the code as it ships: through
 * tsx every function would also carry esbuild's `keepNames` wrapper, about a tenth of a message's
 * engine time that no running shop pays.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { productBuildOptions } from "./build.js";
import { ROOT } from "./dist.js";

const outdir = join(ROOT, "node_modules", ".cache", "tokengoblin-bench");
rmSync(outdir, { recursive: true, force: true });
const esbuild = await import("esbuild");
await esbuild.build(productBuildOptions("bench/run.ts", outdir));
process.setSourceMapsEnabled(true);
await import(pathToFileURL(join(outdir, "run.js")).href);
