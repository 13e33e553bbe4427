/**
 * The web dashboard over in-process HTTP (issue 15): who gets in (bearer token, login form, session
 * cookie), what cross-site requests are refused, and what the pages show — escaped customer text,
 * the delivery hint but never its secret, the actions going through the engine's admin door.
 */
import { afterEach, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config.ts";
import { SESSION_COOKIE } from "../../src/dashboard/auth.ts";
import type { HttpResponse } from "../../src/http/server.ts";
import { startTestApp } from "../support/app.ts";
import { ADMIN_TOKEN, type Shop, openShop } from "../support/dashboard-shop.ts";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function shop(env: Record<string, string> = {}): Promise<Shop> {
  const opened = await openShop(env);
  cleanups.push(() => opened.app.close());
  return opened;
}

type Request = { headers?: Record<string, string>; body?: string; query?: string };
const HOST = "shop.example";

function client(s: Shop) {
  const send = (method: "GET" | "POST", path: string, request: Request = {}): Promise<HttpResponse> =>
    s.app.http.dispatch({
      method,
      path,
      query: new URLSearchParams(request.query ?? ""),
      headers: { host: HOST, ...(request.body !== undefined ? { "content-type": "application/x-www-form-urlencoded" } : {}), ...request.headers },
      rawBody: Buffer.from(request.body ?? ""),
    });
  return {
    get: (path: string, request?: Request) => send("GET", path, request),
    post: (path: string, request?: Request) => send("POST", path, request),
    bearer: { authorization: `Bearer ${ADMIN_TOKEN}` },
  };
}

const cookieOf = (response: HttpResponse) => {
  const header = response.headers?.["set-cookie"] ?? "";
  return /^tg_admin=([^;]*)/.exec(header)?.[1] ?? "";
};
const csrfOf = (html: string) => /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? "";

async function login(s: Shop) {
  const http = client(s);
  const response = await http.post("/admin/login", { body: `token=${encodeURIComponent(ADMIN_TOKEN)}`, headers: { origin: `https://${HOST}` } });
  expect(response.status).toBe(303);
  const cookie = cookieOf(response);
  const overview = await http.get("/admin", { headers: { cookie: `${SESSION_COOKIE}=${cookie}` } });
  expect(overview.status).toBe(200);
  return { cookie: `${SESSION_COOKIE}=${cookie}`, csrf: csrfOf(String(overview.body)), setCookie: response.headers?.["set-cookie"] ?? "" };
}

describe("dashboard access", () => {
  it("does not exist without ADMIN_TOKEN", async () => {
    const { app } = await startTestApp();
    cleanups.push(() => app.close());
    for (const path of ["/admin", "/admin/login", "/admin/orders", "/admin/orders.csv", "/admin/orders/ord_x"]) {
      expect((await app.http.dispatch({ method: "GET", path, headers: {}, rawBody: Buffer.alloc(0) })).status).toBe(404);
    }
  });

  it("refuses to start with a short ADMIN_TOKEN, naming the variable", () => {
    expect(() => loadConfig({ ADMIN_TOKEN: "hunter2" })).toThrow(ConfigError);
    expect(() => loadConfig({ ADMIN_TOKEN: "hunter2" })).toThrow(/^ADMIN_TOKEN: must be at least 16 characters/);
    expect(loadConfig({ ADMIN_TOKEN }).adminToken).toBe(ADMIN_TOKEN);
    expect(loadConfig({}).adminToken).toBeUndefined();
  });

  it("sends a visitor without a token to the login form and refuses their POSTs", async () => {
    const http = client(await shop());
    for (const path of ["/admin", "/admin/orders", "/admin/orders.csv", "/admin/orders/ord_x"]) {
      const response = await http.get(path);
      expect(response.status).toBe(303);
      expect(response.headers?.location).toBe("/admin/login");
    }
    expect((await http.post("/admin/orders/ord_x/retry", { body: "" })).status).toBe(401);
    const form = await http.get("/admin/login");
    expect(form.status).toBe(200);
    expect(String(form.body)).toContain('name="token"');
  });

  it("answers 401 to a wrong bearer token and 200 to the right one", async () => {
    const http = client(await shop());
    expect((await http.get("/admin", { headers: { authorization: "Bearer not-the-token" } })).status).toBe(401);
    expect((await http.get("/admin", { headers: { authorization: `Bearer ${ADMIN_TOKEN}x` } })).status).toBe(401);
    const ok = await http.get("/admin", { headers: http.bearer });
    expect(ok.status).toBe(200);
    expect(ok.headers?.["content-security-policy"]).toContain("default-src 'none'");
  });

  it("sets an HttpOnly, SameSite=Strict session cookie on login and refuses a wrong token", async () => {
    const s = await shop();
    const http = client(s);
    const wrong = await http.post("/admin/login", { body: "token=guess" });
    expect(wrong.status).toBe(401);
    expect(wrong.headers?.["set-cookie"]).toBeUndefined();
    const { setCookie } = await login(s);
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    expect(setCookie).toMatch(/Path=\/admin/);
    expect(setCookie).not.toContain(ADMIN_TOKEN);
  });

  it("answers wrong tokens 429 after five failures from one client, until the window has passed; the right token still gets in", async () => {
    const s = await shop();
    const http = client(s);
    for (let i = 0; i < 5; i++) expect((await http.post("/admin/login", { body: `token=guess${i}` })).status).toBe(401);
    const locked = await http.post("/admin/login", { body: "token=guess5" });
    expect(locked.status).toBe(429);
    expect(String(locked.body)).toContain("Too many wrong tokens from your address");
    expect((await http.post("/admin/login", { body: `token=${ADMIN_TOKEN}` })).status).toBe(303);
    expect((await http.get("/admin", { headers: http.bearer })).status).toBe(200);
    s.clock.advance(16 * 60_000);
    expect((await http.post("/admin/login", { body: "token=guess6" })).status).toBe(401);
  });

  it("sends an expired or forged session back to the login form", async () => {
    const s = await shop();
    const http = client(s);
    const { cookie } = await login(s);
    const [, expiry, nonce, signature] = cookie.split("=")[1]!.split(".");
    const forged = `${SESSION_COOKIE}=v1.${Number(expiry) + 3_600_000}.${nonce}.${signature}`;
    expect((await http.get("/admin", { headers: { cookie: forged } })).headers?.location).toBe("/admin/login");
    s.clock.advance(13 * 3_600_000);
    const expired = await http.get("/admin", { headers: { cookie } });
    expect(expired.status).toBe(303);
    expect(expired.headers?.location).toBe("/admin/login?expired=1");
    expect(expired.headers?.["set-cookie"]).toMatch(/Max-Age=0/);
  });

  it("refuses cross-site POSTs: no CSRF field, another origin, a cross-site fetch, a cross-site login", async () => {
    const s = await shop();
    const http = client(s);
    const orderId = await s.failedDelivery();
    const { cookie, csrf } = await login(s);
    const path = `/admin/orders/${orderId}/retry`;
    expect((await http.post(path, { headers: { cookie }, body: "" })).status).toBe(403);
    expect((await http.post(path, { headers: { cookie, origin: "https://evil.example" }, body: `csrf=${csrf}` })).status).toBe(403);
    expect((await http.post(path, { headers: { cookie, "sec-fetch-site": "cross-site" }, body: `csrf=${csrf}` })).status).toBe(403);
    expect((await http.post("/admin/login", { headers: { origin: "https://evil.example" }, body: `token=${ADMIN_TOKEN}` })).status).toBe(403);
    expect((await s.app.engine.order(orderId))?.state).toBe("delivery_failed");
    const done = await http.post(path, { headers: { cookie, origin: `https://${HOST}`, "sec-fetch-site": "same-origin" }, body: `csrf=${csrf}` });
    expect(done.status).toBe(303);
    expect((await s.app.engine.order(orderId))?.state).toBe("delivered");
  });

  it("accepts a same-site POST behind a proxy that rewrites Host, by PUBLIC_URL", async () => {
    const s = await shop({ PUBLIC_URL: "https://owner.example" });
    const http = client(s);
    const orderId = await s.failedDelivery();
    const { cookie, csrf } = await login(s);
    const behindProxy = { cookie, host: "127.0.0.1:8080", origin: "https://owner.example" };
    expect((await http.post(`/admin/orders/${orderId}/retry`, { headers: { ...behindProxy, origin: "https://evil.example" }, body: `csrf=${csrf}` })).status).toBe(403);
    expect((await http.post(`/admin/orders/${orderId}/retry`, { headers: behindProxy, body: `csrf=${csrf}` })).status).toBe(303);
    expect((await s.app.engine.order(orderId))?.state).toBe("delivered");
    expect((await http.post("/admin/login", { headers: { host: "127.0.0.1:8080", origin: "https://owner.example" }, body: `token=${ADMIN_TOKEN}` })).headers?.["set-cookie"]).toMatch(/; Secure/);
  });
});

describe("dashboard pages", () => {
  it("escapes what a customer wrote: <script> and <img onerror> stay text", async () => {
    const s = await shop();
    const http = client(s);
    await s.app.engine.handleText("666", "I need 2000 tokens");
    await s.app.engine.handleText("666", `<script>alert("pwned")</script>`);
    await s.app.engine.handleText("666", `<img src=x onerror="alert('pwned')">`);
    const order = await s.app.engine.view("666");
    if (order.kind !== "order") throw new Error("expected an order");
    const html = String((await http.get(`/admin/orders/${order.order.orderId}`, { headers: http.bearer })).body);
    expect(html).toContain("&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;");
    expect(html).toContain("&lt;img src=x onerror=&quot;alert(&#39;pwned&#39;)&quot;&gt;");
    expect(html).not.toContain("<script");
    expect(html).not.toMatch(/<img/i);
  });

  it("shows the sale on the overview, in the orders table and the CSV", async () => {
    const s = await shop();
    const http = client(s);
    const orderId = await s.purchase("501", 2000, "llm", "paid");
    const overview = String((await http.get("/admin", { headers: http.bearer, query: "period=today" })).body);
    expect(overview).toContain("$40.00");
    expect(overview).toMatch(/text \(LLM\) <b>100\.0%<\/b>/);
    const orders = String((await http.get("/admin/orders", { headers: http.bearer })).body);
    expect(orders).toContain(orderId);
    const csv = await http.get("/admin/orders.csv", { headers: http.bearer });
    expect(csv.headers?.["content-type"]).toMatch(/text\/csv/);
    expect(String(csv.body).split("\r\n")[1]).toMatch(new RegExp(`^${orderId},delivered,.*,2000,40\\.00,`));
  });

  it("shows an order's timeline and the delivery hint, never the secret", async () => {
    const s = await shop();
    const http = client(s);
    const orderId = await s.purchase("502", 2000, "rules", "paid");
    const ledger = await s.app.stores.ledger.get(orderId);
    expect(ledger).toBeDefined();
    // As if the customer had not been sent the goods yet: the secret is still in the ledger.
    await s.app.stores.ledger.set(orderId, { ...ledger!, secret: "sk-secret-never-shown", sentAt: null });
    const html = String((await http.get(`/admin/orders/${orderId}`, { headers: http.bearer })).body);
    expect(html).toContain("initial → quoted");
    // The payment is recorded (paid) before the goods go out (delivered): two steps on the timeline.
    expect(html).toContain("awaiting_payment → paid");
    expect(html).toContain("paid → delivered");
    expect(html).toContain(ledger!.hint);
    expect(html).toContain(ledger!.ref);
    expect(html).not.toContain("sk-secret-never-shown");
    expect((await http.get("/admin/orders/ord_nope", { headers: http.bearer })).status).toBe(404);
  });

  it("retries and refunds through the admin door and records them in the audit trail", async () => {
    const s = await shop();
    const http = client(s);
    const retried = await s.failedDelivery("601");
    const refunded = await s.failedDelivery("602");
    const overview = String((await http.get("/admin", { headers: http.bearer })).body);
    expect(overview).toContain(`/admin/orders/${retried}/retry`);
    const retry = await http.post(`/admin/orders/${retried}/retry`, { headers: http.bearer, body: "" });
    expect(retry.status).toBe(303);
    const page = String((await http.get(retry.headers!.location!.split("?")[0]!, { headers: http.bearer, query: retry.headers!.location!.split("?")[1] })).body);
    expect(page).toContain(`Order ${retried} is now delivered.`);
    expect(page).toContain("retry delivery");
    expect((await http.post(`/admin/orders/${refunded}/refund`, { headers: http.bearer, body: "" })).status).toBe(303);
    const order = await s.app.engine.order(refunded);
    expect(order?.state).toBe("refunded");
    expect(order?.refund?.refundId).toMatch(/^sbx_refund_/);
    const trail = await s.app.audit.forOrder(refunded);
    expect(trail.some((e) => e.type === "admin" && e.detail.action === "refund" && e.detail.by === "dashboard")).toBe(true);
    expect(String((await http.get("/admin", { headers: http.bearer })).body)).toContain("Nothing needs you now.");
  });

  it("shows an action's result on the page it leads to, and not after ten minutes", async () => {
    const s = await shop();
    const http = client(s);
    const retried = await s.failedDelivery("611");
    const retry = await http.post(`/admin/orders/${retried}/retry`, { headers: http.bearer, body: "" });
    const [path, query] = retry.headers!.location!.split("?") as [string, string];
    const notice = '<p class="notice" role="status">';
    expect(String((await http.get(path, { headers: http.bearer, query })).body)).toContain(notice);
    s.clock.advance(10 * 60_000);
    expect(String((await http.get(path, { headers: http.bearer, query })).body)).not.toContain(notice);
  });

  it("pages through orders newest first, with a filter by state and a search by chat", async () => {
    const s = await shop();
    const http = client(s);
    const ids: string[] = [];
    for (let i = 0; i < 55; i++) {
      ids.push(await s.purchase(`90${i}`, 1000 + i, "button", i % 5 === 0 ? "paid" : "quoted"));
      s.clock.advance(1_000);
    }
    const first = String((await http.get("/admin/orders", { headers: http.bearer })).body);
    expect(first).toContain("55 matching");
    expect(first.indexOf(ids[54]!)).toBeLessThan(first.indexOf(ids[53]!));
    expect(first).not.toContain(ids[4]!);
    const after = /after=([^"&]+)/.exec(first)?.[1];
    const second = String((await http.get("/admin/orders", { headers: http.bearer, query: `after=${after}` })).body);
    expect(second).toContain(ids[4]!);
    expect(second).not.toContain(ids[5]!);
    const delivered = String((await http.get("/admin/orders", { headers: http.bearer, query: "state=delivered" })).body);
    expect(delivered).toContain("11 matching");
    const byChat = String((await http.get("/admin/orders", { headers: http.bearer, query: "q=907" })).body);
    expect(byChat).toContain("1 matching");
    expect(byChat).toContain(ids[7]!);
  });
});
