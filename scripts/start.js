// @ts-check
/**
 * `npm start`: runs the compiled product (dist/main.js) in this process. If the sources changed since
 * the last build (or there is none yet), it compiles first, so it never runs stale code; after
 * `npm install` the build already exists and this costs a few `stat` calls.
 */
import { pathToFileURL } from "node:url";
import { ENTRY, staleReason } from "./dist.js";

const reason = staleReason();
if (reason !== null) {
  const { build } = await import("./build.js");
  const started = performance.now();
  try {
    await build();
  } catch (error) {
    console.error(
      `Start-up failed: could not compile src/ (${error instanceof Error ? error.message : String(error)}); run \`npm run build\` to see the errors.`,
    );
    process.exit(1);
  }
  if (process.stderr.isTTY) console.error(`compiled src/ into dist/ in ${Math.round(performance.now() - started)} ms (${reason})`);
}
// Stack traces name src/… lines, not the bundle's (a few ms: maps are read as modules load).
process.setSourceMapsEnabled(true);
await import(pathToFileURL(ENTRY).href);
