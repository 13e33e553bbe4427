/**
 * What the dashboard needs of the running product: its parts, not the app module (which registers the
 * dashboard), so the dependency points one way.
 */
import type { Projection } from "../analytics/projection.ts";
import type { AuditLog } from "../audit/index.ts";
import type { Config } from "../config.ts";
import type { Engine } from "../engine/index.ts";
import type { PromoBook } from "../engine/promo-book.ts";
import type { Faq } from "../faq/index.ts";
import type { HttpServer } from "../http/server.ts";
import type { Localization } from "../i18n/index.ts";
import type { Logger } from "../log.ts";
import type { PaymentProvider } from "../payments/provider.ts";
import type { ShopStore } from "../store/shop-store.ts";

export type DashboardHost = {
  config: Config;
  engine: Engine;
  audit: AuditLog;
  /** The shop's one read model: every count on the dashboard comes from it. */
  projection: Projection;
  /** For the goods' reference and hint on an order's page (never their secret), and promo codes' uses. */
  store: Pick<ShopStore, "goods" | "promoUses">;
  /** The promo codes the owner manages (the catalog file's, with the dashboard's changes). */
  promos: PromoBook;
  http: HttpServer;
  log: Logger;
  payments: PaymentProvider;
  /** The app's words, to say the bot's replies in the owner's language. */
  localization: Localization;
  faq: Faq;
};
