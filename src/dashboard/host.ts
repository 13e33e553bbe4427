/**
 * What the dashboard needs of the running product: its parts, not the app module (which registers the
 * dashboard), so the dependency points one way.
 */
import type { AuditLog } from "../audit/index.ts";
import type { Config } from "../config.ts";
import type { Engine } from "../engine/index.ts";
import type { HttpServer } from "../http/server.ts";
import type { Logger } from "../log.ts";
import type { PaymentProvider } from "../payments/provider.ts";
import type { Stores } from "../store/index.ts";

export type DashboardHost = {
  config: Config;
  engine: Engine;
  audit: AuditLog;
  stores: Stores;
  http: HttpServer;
  log: Logger;
  payments: PaymentProvider;
};
