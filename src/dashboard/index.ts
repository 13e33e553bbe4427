/**
 * The owner's web dashboard, served by the app's own HTTP server under /admin when `ADMIN_TOKEN` is
 * set (unset: no route exists and /admin answers 404). The front page says what happened today, what
 * needs the owner now, who the customers are and what the bot did not understand; the funnel by source
 * with the machine's picture, the orders table, one order (both sides of its conversation, its timeline
 * and path) and one customer are a click away, with a CSV export and the owner's actions (retry a
 * failed delivery, refund) — the same ones the Telegram admin commands offer.
 *
 * Every number comes from the shop's one read model, `app.projection`; an order's own page reads the
 * order and its trail. Register it with one call, {@link registerDashboard}; everything else is private.
 */
import { randomBytes } from "node:crypto";
import { createBoundedMap } from "../bounded.ts";
import { ChatId, OrderId } from "../domain/ids.ts";
import { createClientAddress } from "../http/client-address.ts";
import type { HttpRequest, HttpResponse } from "../http/server.ts";
import { shopOf } from "../domain/catalog.ts";
import { parsePromo } from "../domain/catalog-file.ts";
import { normalizePromoCode } from "../domain/promos.ts";
import { type OwnerCommand, WHO, actionButtons, ownerActions, runOwnerCommand } from "./actions.ts";
import { type Caller, createAuth, fromThisOrigin, readForm } from "./auth.ts";
import { type PromoForm, promoFromForm, promosPage, readPromoForm } from "./promos-page.ts";
import { type Turn, createReplyWords, turnsOf, turnsOfTalk } from "./conversation.ts";
import { toCsv } from "./csv.ts";
import type { DashboardHost } from "./host.ts";
import { DASHBOARD_CSS, PAGE_HEADERS, type Tab, page } from "./html.ts";
import { type DashboardModel, createDashboardModel } from "./model.ts";
import { chatPage, orderPage } from "./order-page.ts";
import { behindBanner, frontPage, funnelPage, loginPage, ordersPage } from "./pages.ts";
import { matcher, ordersPage as queryOrders, parseFilter } from "./orders-query.ts";
import { frontPage as frontPageOf, funnelPage as funnelPageOf, parsePeriod } from "./queries.ts";

export type DashboardOptions = {
  /** The clock of sessions, failure windows and periods (the app's clock). */
  now?: () => number;
  /** How long a login lasts (default 12 hours). */
  sessionTtlMs?: number;
  /** How long a page waits for the read model to read the log before it shows what it has (default 2 s). */
  patienceMs?: number;
  /** How long a client locked out by its wrong tokens waits for each refusal (default 1 s). */
  lockedPauseMs?: number;
};

/** What registering returned: the dashboard's view of the read model (benchmarks and tests warm it), or null when off. */
export type Dashboard = { model: DashboardModel } | null;

/** How many of the needs on the front page get their action buttons (each reads its order). */
const NEEDS_SHOWN = 20;
/** How many of a customer's latest orders their page's conversation covers. */
const ORDERS_IN_TALK = 5;

/** An action's result is shown on the page it redirects to, right away; kept a while for a reload. */
const NOTICE_TTL_MS = 10 * 60_000;

type Authed = Extract<Caller, { ok: true }>;

/** The answer to a wrong token from a client over the limit: what happened and what still works. */
const LOCKED_MESSAGE =
  "too many wrong tokens from your address; wait 15 minutes before trying again (the right token and a signed-in session still work)\n";

const html = (status: number, body: string, headers: Record<string, string> = {}): HttpResponse => ({
  status,
  body,
  headers: { ...PAGE_HEADERS, ...headers },
});
/** Whose uses of a code the promos page asks for beside the total: nobody's (a chat id no customer has). */
const PROMO_PAGE_CHAT = ChatId.parse("dashboard");
const redirect = (location: string, headers: Record<string, string> = {}): HttpResponse => ({
  status: 303,
  body: "",
  headers: { ...PAGE_HEADERS, location, ...headers },
});

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
  const model = createDashboardModel(app.projection, {
    log: app.log,
    ...(options.patienceMs === undefined ? {} : { patienceMs: options.patienceMs }),
  });
  const words = createReplyWords(app.config.catalog, app.localization, app.faq);
  const shop = shopOf(app.config.catalog);
  const providerRefunds = typeof app.payments.refund === "function";
  const https = app.config.http.publicUrl?.startsWith("https:") ?? false;
  const secure = (request: HttpRequest) => https || request.headers["x-forwarded-proto"] === "https";
  /** Results of actions, shown once on the page the action redirects to. */
  const notices = createBoundedMap<string, string>({ maxEntries: 200, ttlMs: NOTICE_TTL_MS, clock: now });
  const notice = (text: string) => {
    const id = randomBytes(6).toString("base64url");
    notices.set(id, text);
    return id;
  };

  const framed = (caller: Authed, title: string, nav: Tab | undefined, body: string, refreshSeconds?: number) =>
    page({ title, nav, refreshSeconds, csrf: caller.csrf, signedIn: true }, body);

  /** The action forms of an order, from its record (empty when it offers nothing or is unknown). */
  const buttonsFor = async (orderId: string, csrf: string) => {
    const record = await app.engine.order(orderId);
    return record ? actionButtons(orderId, ownerActions(record, now(), providerRefunds), csrf) : "";
  };

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
  const action = (handler: (request: HttpRequest, caller: Authed, form: URLSearchParams) => Promise<HttpResponse>) =>
    signedIn(async (request, caller) => {
      const form = readForm(request);
      if (!auth.sameSiteWrite(request, caller, form)) return { status: 403, body: "cross-site request refused\n" };
      return handler(request, caller, form);
    });

  const http = app.http;
  http.route("GET", "/admin/dashboard.css", () => ({
    status: 200,
    body: DASHBOARD_CSS,
    headers: { "content-type": "text/css; charset=utf-8", "cache-control": "max-age=300" },
  }));

  http.route("GET", "/admin/login", (request) => {
    if (auth.caller(request).ok) return redirect("/admin");
    // Read the log's news while the owner types the token (after a restart: everything since the last save).
    model.warm();
    return html(
      200,
      page({ title: "Sign in" }, loginPage(request.query.get("expired") ? "Your session has expired; sign in again." : null)),
    );
  });
  http.route("POST", "/admin/login", async (request) => {
    if (!fromThisOrigin(request, publicHost)) return { status: 403, body: "cross-site request refused\n" };
    const typed = readForm(request).get("token") ?? "";
    const result = auth.login(request, typed);
    if (result === "ok") return redirect("/admin", { "set-cookie": auth.cookieHeader(auth.newSession(), secure(request)) });
    app.log.warn("dashboard login refused", { result });
    if (result === "locked") await auth.lockedPause();
    const message =
      result === "locked"
        ? "Too many wrong tokens from your address. Wait 15 minutes and try again; the right token still works."
        : "That is not the admin token.";
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
    signedIn(async (_request, caller) => {
      const { state, behind } = await model.fresh();
      const front = frontPageOf(state, now());
      const shown = front.needs.slice(0, NEEDS_SHOWN);
      const buttons = new Map(
        await Promise.all(shown.map(async (row) => [row.orderId, await buttonsFor(row.orderId, caller.csrf)] as const)),
      );
      return html(200, framed(caller, "Today", "today", behindBanner(behind) + frontPage(front, state.customers, buttons), 30));
    }),
  );

  http.route(
    "GET",
    "/admin/funnel",
    signedIn(async (request, caller) => {
      const { state, behind } = await model.fresh();
      const funnel = funnelPageOf(model.newestFirst(state), parsePeriod(request.query.get("period")), now());
      return html(200, framed(caller, "Funnel", "funnel", behindBanner(behind) + funnelPage(funnel)));
    }),
  );

  http.route(
    "GET",
    "/admin/orders",
    signedIn(async (request, caller) => {
      const { state, behind } = await model.fresh();
      const filter = parseFilter(request.query);
      const result = queryOrders(model.newestFirst(state), matcher(filter, state.customers), request.query.get("after"));
      return html(200, framed(caller, "Orders", "orders", behindBanner(behind) + ordersPage(result, filter, state.customers)));
    }),
  );

  http.route(
    "GET",
    "/admin/orders.csv",
    signedIn(async (request) => {
      const { state } = await model.fresh();
      const rows = model.newestFirst(state).filter(matcher(parseFilter(request.query), state.customers));
      const day = new Date(now()).toISOString().slice(0, 10);
      return {
        status: 200,
        body: toCsv(rows, state.customers),
        headers: {
          "content-type": "text/csv; charset=utf-8",
          "content-disposition": `attachment; filename="orders-${day}.csv"`,
          "cache-control": "no-store",
        },
      };
    }),
  );

  const notFound = (caller: Authed, what: string, back: string) =>
    html(404, framed(caller, `Unknown ${what}`, "orders", `<h1>No such ${what}</h1><p><a href="${back}">Back</a></p>`));

  http.route(
    "GET",
    "/admin/orders/:orderId",
    signedIn(async (request, caller) => {
      const orderId = request.params.orderId ?? "";
      const [record, view] = await Promise.all([app.engine.order(orderId), app.engine.orderView(orderId)]);
      if (!record || !view) return notFound(caller, "order", "/admin/orders");
      const [{ state }, trail, goods, buttons] = await Promise.all([
        model.fresh(),
        app.audit.forOrder(orderId),
        app.store.goods(record.orderId, record.chatId),
        buttonsFor(orderId, caller.csrf),
      ]);
      const noticeId = request.query.get("notice");
      const shown = noticeId ? (notices.get(noticeId) ?? null) : null;
      const details = {
        record,
        view,
        row: state.orders.get(orderId),
        customer: state.customers.get(record.chatId),
        trail,
        goods,
        turns: turnsOf(trail, words),
        buttons,
      };
      return html(200, framed(caller, `Order ${orderId}`, "orders", orderPage(details, shown)));
    }),
  );

  http.route(
    "GET",
    "/admin/chats/:chatId",
    signedIn(async (request, caller) => {
      const parsed = ChatId.safeParse(request.params.chatId ?? "");
      if (!parsed.success) return notFound(caller, "customer", "/admin");
      const chatId = parsed.data;
      const { state } = await model.fresh();
      const orders = model.newestFirst(state).filter((row) => row.chatId === chatId);
      const latest = orders.slice(0, ORDERS_IN_TALK).reverse();
      const trails = await Promise.all(latest.map((row) => app.audit.forOrder(row.orderId)));
      const early = state.earlyTalk.find((entry) => entry.chatId === chatId)?.lines ?? [];
      const turns: Turn[] = [...turnsOfTalk(early, words), ...trails.flatMap((trail) => turnsOf(trail, words))];
      const customer = state.customers.get(chatId);
      if (!customer && orders.length === 0) return notFound(caller, "customer", "/admin");
      return html(
        200,
        framed(caller, `Customer ${chatId}`, "orders", chatPage({ chatId, customer, orders, turns, ordersInTalk: latest.length })),
      );
    }),
  );

  const orderAction = (command: (form: URLSearchParams) => OwnerCommand) =>
    action(async (request, _caller, form) => {
      const parsed = OrderId.safeParse(request.params.orderId ?? "");
      if (!parsed.success) return { status: 404, body: "no such order\n" };
      const orderId = parsed.data;
      const result = await runOwnerCommand(app, orderId, command(form));
      app.log.info("dashboard admin action", { orderId, ok: result.ok, path: request.path });
      // The action's own commit is in the log now: the next page shows it.
      void app.projection.refresh().catch(() => {});
      return redirect(`/admin/orders/${encodeURIComponent(orderId)}?notice=${notice(result.message)}`);
    });
  http.route(
    "POST",
    "/admin/orders/:orderId/retry",
    orderAction(() => ({ kind: "retry" })),
  );
  http.route(
    "POST",
    "/admin/orders/:orderId/refund",
    orderAction((form) => ({
      kind: "refund",
      manual: form.get("manual") === "1",
      ...(form.get("charge") ? { chargeId: form.get("charge")! } : {}),
    })),
  );

  /** The promo codes page, with the form as posted and its error when adding failed. */
  const promosResponse = async (status: number, caller: Authed, notice: string | null, form?: PromoForm, error?: string) => {
    const rows = await app.promos.rows();
    const counted = await Promise.all(
      rows.map(async (row) => {
        const key = normalizePromoCode(row.promo.code);
        return [key, (await app.store.promoUses(key, PROMO_PAGE_CHAT)).uses] as const;
      }),
    );
    const body = promosPage({
      rows,
      uses: new Map(counted),
      products: shop.products,
      csrf: caller.csrf,
      notice,
      form,
      error: error ?? null,
    });
    return html(status, framed(caller, "Promo codes", "promos", body));
  };

  http.route(
    "GET",
    "/admin/promos",
    signedIn(async (request, caller) => {
      const noticeId = request.query.get("notice");
      return promosResponse(200, caller, noticeId ? (notices.get(noticeId) ?? null) : null);
    }),
  );
  http.route(
    "POST",
    "/admin/promos",
    action(async (_request, caller, body) => {
      const form = readPromoForm(body);
      const parsed = parsePromo(
        promoFromForm(form),
        shop.products.map((product) => product.id),
      );
      if (!parsed.ok) return promosResponse(400, caller, null, form, parsed.error);
      await app.promos.add(parsed.promo, WHO, now());
      app.log.info("dashboard promo code added", { code: parsed.promo.code });
      return redirect(`/admin/promos?notice=${notice(`${parsed.promo.code} added: customers can use it now.`)}`);
    }),
  );
  for (const [path, disabled] of [
    ["disable", true],
    ["enable", false],
  ] as const) {
    http.route(
      "POST",
      `/admin/promos/:code/${path}`,
      action(async (request) => {
        const code = request.params.code ?? "";
        const changed = await app.promos.setDisabled(code, disabled, WHO, now());
        if (!changed) return { status: 404, body: "no such promo code\n" };
        app.log.info(`dashboard promo code switched ${disabled ? "off" : "on"}`, { code });
        const said = disabled ? `${code} is off: customers who give it are told it is unknown.` : `${code} is on again.`;
        return redirect(`/admin/promos?notice=${notice(said)}`);
      }),
    );
  }

  return { model };
}
