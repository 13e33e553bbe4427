/**
 * The owner's web dashboard, served by the app's own HTTP server under /admin when `ADMIN_TOKEN` is
 * set (unset: no route exists and /admin answers 404). Overview, orders table, one order with its
 * timeline and path through the machine, a CSV export, and the two admin actions (retry a failed
 * delivery, refund) — the same ones the Telegram admin commands offer.
 *
 * Register it with one call, {@link registerDashboard}; everything else here is private.
 */
import { randomBytes } from "node:crypto";
import { createBoundedMap } from "../bounded.ts";
import type { DashboardHost } from "./host.ts";
import { createClientAddress } from "../http/client-address.ts";
import type { HttpRequest, HttpResponse } from "../http/server.ts";
import { type ActionResult, refundOrder, retryDelivery } from "./actions.ts";
import { type Caller, createAuth, fromThisOrigin, readForm } from "./auth.ts";
import { toCsv } from "./csv.ts";
import { DASHBOARD_CSS, PAGE_HEADERS, page } from "./html.ts";
import { loginPage, orderPage, ordersPage, overviewPage } from "./pages.ts";
import { ordersPage as queryOrders, overview, parseFilter, parsePeriod, matcher } from "./queries.ts";
import { type ReadModel, createReadModel } from "./readmodel.ts";

export type DashboardOptions = {
  /** The clock of sessions, failure windows and periods (the app's clock). */
  now?: () => number;
  /** How long a login lasts (default 12 hours). */
  sessionTtlMs?: number;
  /** Full re-read of the store for the read model (default 5 minutes): catches other instances' writes. */
  rescanMs?: number;
  /** How long a client locked out by its wrong tokens waits for each refusal (default 1 s). */
  lockedPauseMs?: number;
};

/** What registering returned: the read model (benchmarks and tests warm it), or null when off. */
export type Dashboard = { readModel: ReadModel } | null;

/** An action's result is shown on the page it redirects to, right away; kept a while for a reload. */
const NOTICE_TTL_MS = 10 * 60_000;

type Authed = Extract<Caller, { ok: true }>;

/** The answer to a wrong token from a client over the limit: what happened and what still works. */
const LOCKED_MESSAGE = "too many wrong tokens from your address; wait 15 minutes before trying again (the right token and a signed-in session still work)\n";

const html = (status: number, body: string, headers: Record<string, string> = {}): HttpResponse => ({ status, body, headers: { ...PAGE_HEADERS, ...headers } });
const redirect = (location: string, headers: Record<string, string> = {}): HttpResponse => ({ status: 303, body: "", headers: { ...PAGE_HEADERS, location, ...headers } });

/** Adds the dashboard's routes to `app.http` when `app.config.adminToken` is set. */
export function registerDashboard(app: DashboardHost, options: DashboardOptions = {}): Dashboard {
  const token = app.config.adminToken;
  if (!token) return null;
  const now = options.now ?? Date.now;
  const publicHost = app.config.http.publicUrl ? new URL(app.config.http.publicUrl).host : undefined;
  const auth = createAuth({
    token,
    now,
    sessionTtlMs: options.sessionTtlMs,
    publicHost,
    // The socket's address; a proxy's X-Forwarded-For only when TRUSTED_PROXY names that proxy.
    clientOf: createClientAddress(app.config.http.trustedProxies),
    ...(options.lockedPauseMs === undefined ? {} : { lockedPauseMs: options.lockedPauseMs }),
  });
  const readModel = createReadModel({ stores: app.stores, audit: app.audit, rescanMs: options.rescanMs, log: app.log });
  app.engine.onEvent((event) => readModel.touch(event.orderId));
  const canRefund = typeof app.payments.refund === "function";
  const https = app.config.http.publicUrl?.startsWith("https:") ?? false;
  const secure = (request: HttpRequest) => https || request.headers["x-forwarded-proto"] === "https";
  /** Results of actions, shown once on the page the action redirects to. */
  const notices = createBoundedMap<string, string>({ maxEntries: 200, ttlMs: NOTICE_TTL_MS, clock: now });
  const notice = (text: string) => {
    const id = randomBytes(6).toString("base64url");
    notices.set(id, text);
    return id;
  };

  const framed = (caller: Authed, title: string, nav: "overview" | "orders" | undefined, body: string, refreshSeconds?: number) =>
    page({ title, nav, refreshSeconds, csrf: caller.csrf, signedIn: true }, body);

  /** Runs `handler` for signed-in callers; sends everyone else to the login form (or refuses). */
  const signedIn =
    (handler: (request: HttpRequest, caller: Authed) => Promise<HttpResponse> | HttpResponse) =>
    async (request: HttpRequest): Promise<HttpResponse> => {
      const caller = auth.caller(request);
      if (caller.ok) return handler(request, caller);
      switch (caller.reason) {
        case "locked":
          await auth.lockedPause();
          return { status: 429, body: LOCKED_MESSAGE, headers: { "retry-after": "900" } };
        case "wrong_token":
          return { status: 401, body: "wrong token\n", headers: { "www-authenticate": 'Bearer realm="admin"' } };
        case "none":
        case "expired":
        case "bad_cookie": {
          const clear: Record<string, string> = caller.reason === "none" ? {} : { "set-cookie": auth.cookieHeader("", secure(request)) };
          if (request.method === "GET") return redirect(caller.reason === "expired" ? "/admin/login?expired=1" : "/admin/login", clear);
          return { status: 401, body: "sign in first\n", headers: clear };
        }
        default: {
          const unhandled: never = caller.reason;
          throw new Error(`unknown refusal ${String(unhandled)}`);
        }
      }
    };

  /** A POST that changes something: also refused when it comes from another site. */
  const action =
    (handler: (request: HttpRequest, caller: Authed, form: URLSearchParams) => Promise<HttpResponse>) =>
    signedIn(async (request, caller) => {
      const form = readForm(request);
      if (!auth.sameSiteWrite(request, caller, form)) return { status: 403, body: "cross-site request refused\n" };
      return handler(request, caller, form);
    });

  const http = app.http;
  http.route("GET", "/admin/dashboard.css", () => ({ status: 200, body: DASHBOARD_CSS, headers: { "content-type": "text/css; charset=utf-8", "cache-control": "max-age=300" } }));

  http.route("GET", "/admin/login", (request) => {
    if (auth.caller(request).ok) return redirect("/admin");
    // Build the read model while the owner types the token: at 100,000 orders the first scan takes seconds.
    readModel.warm();
    return html(200, page({ title: "Sign in" }, loginPage(request.query.get("expired") ? "Your session has expired; sign in again." : null)));
  });
  http.route("POST", "/admin/login", async (request) => {
    if (!fromThisOrigin(request, publicHost)) return { status: 403, body: "cross-site request refused\n" };
    const typed = readForm(request).get("token") ?? "";
    const result = auth.login(request, typed);
    if (result === "ok") return redirect("/admin", { "set-cookie": auth.cookieHeader(auth.newSession(), secure(request)) });
    app.log.warn("dashboard login refused", { result });
    if (result === "locked") await auth.lockedPause();
    const message = result === "locked" ? "Too many wrong tokens from your address. Wait 15 minutes and try again; the right token still works." : "That is not the admin token.";
    return html(result === "locked" ? 429 : 401, page({ title: "Sign in" }, loginPage(message)));
  });
  http.route(
    "POST",
    "/admin/logout",
    action(async (request) => redirect("/admin/login", { "set-cookie": auth.cookieHeader("", secure(request)) })),
  );

  http.route(
    "GET",
    "/admin",
    signedIn(async (request, caller) => {
      const o = overview(await readModel.rows(), parsePeriod(request.query.get("period")), now());
      return html(200, framed(caller, "Overview", "overview", overviewPage(o, caller.csrf, canRefund), 30));
    }),
  );

  http.route(
    "GET",
    "/admin/orders",
    signedIn(async (request, caller) => {
      const filter = parseFilter(request.query);
      const result = queryOrders(await readModel.newestFirst(), filter, request.query.get("after"));
      return html(200, framed(caller, "Orders", "orders", ordersPage(result, filter)));
    }),
  );

  http.route(
    "GET",
    "/admin/orders.csv",
    signedIn(async (request) => {
      const rows = (await readModel.newestFirst()).filter(matcher(parseFilter(request.query)));
      const day = new Date(now()).toISOString().slice(0, 10);
      return {
        status: 200,
        body: toCsv(rows),
        headers: { "content-type": "text/csv; charset=utf-8", "content-disposition": `attachment; filename="orders-${day}.csv"`, "cache-control": "no-store" },
      };
    }),
  );

  http.route(
    "GET",
    "/admin/orders/:orderId",
    signedIn(async (request, caller) => {
      const orderId = request.params.orderId ?? "";
      const [row, order] = await Promise.all([readModel.row(orderId), app.engine.order(orderId)]);
      if (!row || !order) return html(404, framed(caller, "Unknown order", "orders", `<h1>No such order</h1><p><a href="/admin/orders">All orders</a></p>`));
      const [trail, ledger, payment, conversation] = await Promise.all([
        app.audit.forOrder(orderId),
        app.stores.ledger.get(orderId),
        order.provider && order.paymentId ? app.stores.payments.get(`${order.provider}:${order.paymentId}`) : undefined,
        app.stores.conversations.get(order.chatId),
      ]);
      const noticeId = request.query.get("notice");
      const shown = noticeId ? (notices.get(noticeId) ?? null) : null;
      return html(200, framed(caller, `Order ${orderId}`, "orders", orderPage({ row, order, trail, ledger, payment, conversation }, caller.csrf, canRefund, shown)));
    }),
  );

  const orderAction = (run: (orderId: string, form: URLSearchParams) => Promise<ActionResult | null>) =>
    action(async (request, _caller, form) => {
      const orderId = request.params.orderId ?? "";
      const result = await run(orderId, form);
      if (!result) return { status: 404, body: "no such order\n" };
      readModel.touch(orderId);
      app.log.info("dashboard admin action", { orderId, ok: result.ok, path: request.path });
      return redirect(`/admin/orders/${encodeURIComponent(orderId)}?notice=${notice(result.message)}`);
    });
  http.route(
    "POST",
    "/admin/orders/:orderId/retry",
    orderAction(async (orderId) => {
      const order = await app.engine.order(orderId);
      return order ? retryDelivery(app, order) : null;
    }),
  );
  http.route(
    "POST",
    "/admin/orders/:orderId/refund",
    orderAction(async (orderId, form) => {
      const order = await app.engine.order(orderId);
      return order ? refundOrder(app, order, form.get("manual") === "1") : null;
    }),
  );

  return { readModel };
}
