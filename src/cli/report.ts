/**
 * `npm run report` — the sales funnel from the configured store (STORE_URL), as a terminal table,
 * then the sales by product, tier and promo code (revenue, credit given, margin).
 * `npm run report -- --order <orderId>` prints that order's audit trail instead.
 * `--since <ISO date or hours like 24h>` limits the funnel to orders started since then, and the sales
 * to orders paid since then.
 */
import { createAuditLog, formatAuditEntry } from "../audit/index.ts";
import { buildFunnel, formatFunnel } from "../analytics/funnel.ts";
import { createProjection } from "../analytics/projection.ts";
import { formatSalesByProduct, salesByProduct } from "../analytics/sales.ts";
import { ConfigError, loadConfig } from "../config.ts";
import { StartupError, openStoreWithin } from "../startup.ts";

function parseSince(text: string | undefined, now: number): number | undefined | "invalid" {
  if (text === undefined) return undefined;
  const hours = /^(\d+)h$/.exec(text);
  if (hours) return now - Number(hours[1]) * 3_600_000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? "invalid" : date;
}

async function main(argv: string[]): Promise<number> {
  const arg = (name: string) => {
    const at = argv.indexOf(name);
    return at >= 0 ? argv[at + 1] : undefined;
  };
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`configuration error: ${error.message}`);
      return 2;
    }
    throw error;
  }
  const since = parseSince(arg("--since"), Date.now());
  if (since === "invalid") {
    console.error("--since takes an ISO date (2026-01-31) or hours (24h)");
    return 2;
  }
  let store;
  try {
    store = await openStoreWithin(config.store, config.startupTimeoutMs);
  } catch (error) {
    if (error instanceof StartupError) {
      console.error(`store error: ${error.message}`);
      return 1;
    }
    throw error;
  }
  try {
    const audit = createAuditLog(store);
    const orderId = arg("--order");
    if (orderId) {
      const trail = await audit.forOrder(orderId);
      console.log(
        trail.length === 0
          ? `no audit entries for order ${orderId}`
          : trail.map((entry) => formatAuditEntry(entry, { verbose: true })).join("\n"),
      );
      return trail.length === 0 ? 1 : 0;
    }
    // The saved read model and whatever the log gained since it was saved.
    const projection = createProjection(store);
    await projection.refresh();
    console.log(`store: ${config.store.kind}`);
    const period = since === undefined ? {} : { since };
    console.log(formatFunnel(buildFunnel(projection.state().orders.values(), period)));
    console.log("");
    console.log(formatSalesByProduct(salesByProduct(projection.state().orders.values(), period)));
    return 0;
  } finally {
    await store.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`report failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  },
);
